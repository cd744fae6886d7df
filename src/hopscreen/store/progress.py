"""How far the rounds of a results store have got: counts per stage, read without writing.

``hopscreen status`` prints this while a campaign runs (every stage writes its documents to
the results store when it ends, see :mod:`hopscreen.screening.checkpoint`) or after it ended.
A verification is *pending* when its hop was selected and no verification of it is stored
yet; a hop is *unpredicted* when no model has a prediction of it stored.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pydantic import Field

from hopscreen.schemas.base import Document
from hopscreen.store.folder import ROUND_RECORDS_FOLDER
from hopscreen.store.killed_runs import RUNS_FOLDER, marker_pid, process_alive
from hopscreen.store.results import ResultsStore
from hopscreen.store.stores import open_results_store


class StoreProgress(Document):
    """Counts of one results store, stage by stage."""

    location: str = Field(description="The results folder (or MongoDB address) read.")
    hosts: int = Field(ge=0, description="Candidate hosts accepted.")
    hosts_rejected: int = Field(ge=0, description="Candidate files or entries rejected.")
    hops: int = Field(ge=0, description="Distinct hops enumerated.")
    hosts_failed_hops: int = Field(ge=0, description="Hosts whose hop enumeration failed.")
    hops_predicted: int = Field(ge=0, description="Hops with at least one stored prediction.")
    predictions: int = Field(ge=0, description="Stored predictions (one per hop and model).")
    predictions_by_model: dict[str, int] = Field(
        default_factory=dict, description="Stored predictions per model version."
    )
    prediction_failures: int = Field(ge=0, description="Hops whose prediction failed.")
    selected: int = Field(ge=0, description="Distinct hops selected for verification.")
    verifications_by_status: dict[str, int] = Field(
        default_factory=dict, description="Stored verifications per status (ok, failed, ...)."
    )
    verifications_pending: int = Field(
        ge=0, description="Selected hops with no stored verification yet."
    )
    verdicts: int = Field(ge=0, description="Per-host verdicts stored.")
    rounds_running: int = Field(ge=0, description="Local rounds on this folder still running.")
    rounds_killed: int = Field(
        ge=0, description="Local rounds on this folder that were killed (pruned on the next run)."
    )
    rounds_recorded: int = Field(
        0, ge=0, description="Finished rounds recorded in the folder (re-runs answered from them)."
    )


def _failure_counts(store: ResultsStore) -> Counter[str]:
    counts: Counter[str] = Counter()
    for record in store.read("failures"):
        kind = str(record.get("doc_type", ""))
        if kind == "HopFailure" and record.get("hop_id"):
            counts["prediction"] += 1
        elif kind == "HopFailure":
            counts["hops"] += 1
        else:
            counts["candidates"] += 1
    return counts


def local_rounds(results_dir: str | Path) -> tuple[int, int]:
    """``(running, killed)``: marked local rounds of a results folder, by liveness of their pid.

    Parameters
    ----------
    results_dir : str or Path
        Results folder (see :mod:`hopscreen.store.killed_runs` for the markers).

    Returns
    -------
    tuple of int
        Rounds whose process is alive, and rounds whose process is gone.

    """
    folder = Path(results_dir) / RUNS_FOLDER
    running = killed = 0
    for marker in sorted(folder.glob("*.pid")) if folder.is_dir() else []:
        if process_alive(marker_pid(marker)):
            running += 1
        else:
            killed += 1
    return running, killed


def store_progress(store: ResultsStore) -> dict[str, object]:
    """Stage counts of a connected results store (see :class:`StoreProgress` for the fields).

    Parameters
    ----------
    store : ResultsStore
        A connected store.

    Returns
    -------
    dict
        The :class:`StoreProgress` fields except ``location`` and the round counts.

    """
    failures = _failure_counts(store)
    predictions = store.read("predictions")
    by_model = Counter(str(r.get("model_version")) for r in predictions)
    predicted = {r.get("hop_id") for r in predictions}
    selected = {
        hop["hop_id"] for record in store.read("selections") for hop in record.get("selected", [])
    }
    verifications = store.read("verifications")
    verified = {r.get("hop_id") for r in verifications}
    return {
        "hosts": store.count("candidates"),
        "hosts_rejected": failures["candidates"],
        "hops": store.count("hops"),
        "hosts_failed_hops": failures["hops"],
        "hops_predicted": len(predicted),
        "predictions": len(predictions),
        "predictions_by_model": dict(sorted(by_model.items())),
        "prediction_failures": failures["prediction"],
        "selected": len(selected),
        "verifications_by_status": dict(
            sorted(Counter(r.get("status") for r in verifications).items())
        ),
        "verifications_pending": len(selected - verified),
        "verdicts": store.count("verdicts"),
    }


def read_progress(results_dir: str | Path) -> StoreProgress:
    """Stage counts of a results folder, read without writing into it.

    Parameters
    ----------
    results_dir : str or Path
        Results folder of one or more rounds (running or finished).

    Returns
    -------
    StoreProgress

    Raises
    ------
    NoResultsStoreError
        If the folder is missing, is a file or holds no results store.
    CorruptStoreError
        If the store's files are damaged.

    """
    with open_results_store(results_dir, read_only=True) as store:
        counts = store_progress(store)
    running, killed = local_rounds(results_dir)
    records = Path(results_dir) / ROUND_RECORDS_FOLDER
    recorded = len(list(records.glob("*.json"))) if records.is_dir() else 0
    return StoreProgress(
        location=str(results_dir),
        rounds_running=running,
        rounds_killed=killed,
        rounds_recorded=recorded,
        **counts,
    )
