"""Stage results in the results store as soon as each stage finishes, and their reuse.

A round writes every document at the end (:mod:`hopscreen.screening.collect`), but the
expensive stages do not wait for it: each prediction batch and each verification upserts its
documents into the results store the moment it finishes (keyed by content ids, so a write
repeated by a re-run changes nothing). A round that is killed keeps what it finished, and the
same round run again reuses it instead of recomputing: a hop already predicted by the same
model version is not predicted again, and a hop already verified at the same level of theory
(status ``ok`` or ``not_converged``) is not verified again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hopscreen.schemas.base import Document
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.schemas.verdict import HostVerdictDoc
from hopscreen.schemas.verification import VerificationDoc
from hopscreen.store import open_results_store
from hopscreen.store.query import USABLE_STATUSES


def write_stage(results_dir: str | Path, collection: str, docs: Sequence[Document]) -> None:
    """Upsert one stage's documents into the results store of ``results_dir`` (none: no-op)."""
    if not docs:
        return
    with open_results_store(results_dir) as store:
        store.write(collection, list(docs))


def stored_predictions(
    results_dir: str | Path, hop_ids: Sequence[str], model_version: str
) -> dict[str, PredictionDoc]:
    """Predictions of ``hop_ids`` by ``model_version`` already in the store, by hop id.

    A folder without a store yet gives an empty dict.
    """
    if not hop_ids or not Path(results_dir).is_dir():
        return {}
    criteria = {"hop_id": {"$in": sorted(set(hop_ids))}, "model_version": model_version}
    with open_results_store(results_dir) as store:
        return {p.hop_id: p for p in store.read_docs("predictions", PredictionDoc, criteria)}


def stored_verification(results_dir: str | Path, verification_id: str) -> VerificationDoc | None:
    """The usable verification (``ok`` or ``not_converged``) with this id, if stored."""
    if not Path(results_dir).is_dir():
        return None
    with open_results_store(results_dir) as store:
        found = store.read_docs(
            "verifications", VerificationDoc, {"verification_id": verification_id}
        )
    usable = [v for v in found if v.status in USABLE_STATUSES and v.barrier_ev is not None]
    return usable[0] if usable else None


def stored_verdicts(results_dir: str | Path, model_version: str) -> dict[str, HostVerdictDoc]:
    """Verdicts from ``model_version``'s predictions already in the store, by host.

    Keyed by ``candidate_id`` (by name for hosts without one), for
    :func:`hopscreen.screening.verdicts.round_verdicts` to reuse those whose inputs match.
    A folder without a store yet gives an empty dict.
    """
    if not Path(results_dir).is_dir():
        return {}
    with open_results_store(results_dir) as store:
        found = store.read_docs("verdicts", HostVerdictDoc, {"model_version": model_version})
    return {v.candidate_id or v.candidate_name: v for v in found}
