"""Training records from a results store: the converged verifications of a round, with bands.

The level policy itself (which levels of theory are used, corrected or excluded) is
:mod:`hopscreen.training.feedback`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hopscreen.hops import HopOptions
from hopscreen.schemas.candidate import CandidateDoc
from hopscreen.schemas.hop import HopDoc, HopFailure
from hopscreen.schemas.structure import Crystal
from hopscreen.schemas.training import BandArrays, FeedbackReport, LevelPolicy, TrainingRecord
from hopscreen.screening.round import RebuildBands, rebuild_bands, stored_hosts
from hopscreen.store import open_results_store
from hopscreen.training.feedback import (
    apply_policy,
    level_key,
    level_rank,
    usable_verification,
    write_stamp,
)


def records_from_verifications(
    store_dir: Path | str,
    policy: LevelPolicy | None = None,
    *,
    rebuild_band: RebuildBands | None = None,
    hop_options: HopOptions | None = None,
) -> tuple[list[TrainingRecord], FeedbackReport]:
    """Training records from the converged verifications of a results folder.

    Parameters
    ----------
    store_dir
        Results folder (``open_results_store``) with candidates, hops, predictions and
        verifications.
    policy
        Level policy; default :class:`LevelPolicy` (published DFT GGA and GGA+U only).
    rebuild_band
        Rebuilds the bands of hops from their hosts; default
        :func:`hopscreen.screening.round.rebuild_bands` with ``hop_options``.
    hop_options
        The options the hops were enumerated with (default rebuild only; None: defaults).

    Returns
    -------
    tuple
        (records, one per verified hop with its band inline; a :class:`FeedbackReport`).
        A hop verified at several levels gives one record: the most preferred level of the
        policy (accepted levels in order, then offset ones), the latest write on a tie.

    Raises
    ------
    LevelPolicyError
        When ``policy.unknown == "error"`` and a usable label has an unknown level.

    """
    policy = policy or LevelPolicy()
    if rebuild_band is None:

        def rebuild_band(
            hops: Sequence[HopDoc], hosts: Sequence[CandidateDoc]
        ) -> tuple[list[HopDoc], list[Crystal], list[HopFailure]]:
            return rebuild_bands(hops, hosts, hop_options)

    docs = _read_feedback_docs(store_dir)
    usable = [v for v in docs.verifications if usable_verification(v)]
    report = FeedbackReport(
        n_verifications=len(docs.verifications),
        n_not_usable=len(docs.verifications) - len(usable),
    )
    kept, counts = apply_policy(_raw_records(usable, docs.predictions), policy)
    report.accepted_by_level = counts["accepted"]
    report.corrected_by_level = counts["corrected"]
    report.excluded_by_level = counts["excluded"]
    best = _preferred_per_hop(kept, policy)
    report.n_superseded = len(kept) - len(best)
    records, failures = _with_bands(best, docs.hops, docs.hosts, rebuild_band)
    report.band_failures = failures
    report.n_band_failures = len(best) - len(records)
    report.n_records = len(records)
    return records, report


@dataclass(frozen=True)
class _FeedbackDocs:
    """The documents of a results store that verification feedback is built from."""

    verifications: list[dict[str, Any]]
    hops: list[HopDoc]
    hosts: list[CandidateDoc]
    predictions: list[dict[str, Any]]


def _read_feedback_docs(store_dir: Path | str) -> _FeedbackDocs:
    """Every verification, and the hops, hosts and predictions of the usable ones."""
    with open_results_store(store_dir) as store:
        verifications = store.read("verifications")
        usable = [v for v in verifications if usable_verification(v)]
        hop_ids = sorted({v["hop_id"] for v in usable})
        hops = store.read_docs("hops", HopDoc, {"hop_id": {"$in": hop_ids}}) if hop_ids else []
        hosts = stored_hosts(store, hops)
        predictions = store.read("predictions", {"hop_id": {"$in": hop_ids}}) if hop_ids else []
    return _FeedbackDocs(verifications, hops, hosts, predictions)


def _raw_records(
    usable: list[dict[str, Any]], predictions: list[dict[str, Any]]
) -> list[TrainingRecord]:
    """One record per usable verification, oldest first (the level policy is applied later)."""
    latest_model = {
        p["hop_id"]: p.get("model_version") for p in sorted(predictions, key=write_stamp)
    }
    return [
        TrainingRecord(
            record_id=v["hop_id"],
            source="verification",
            band_ref=f"hop:{v['hop_id']}",
            barrier_ev=float(v["barrier_ev"]),
            raw_barrier_ev=float(v["barrier_ev"]),
            level_of_theory=level_key(v["level_of_theory"]),
            candidate_id=v.get("candidate_id"),
            verification_id=v.get("verification_id"),
            model_version=latest_model.get(v["hop_id"]),
        )
        for v in sorted(usable, key=write_stamp)
    ]


def _preferred_per_hop(
    kept: list[TrainingRecord], policy: LevelPolicy
) -> dict[str, TrainingRecord]:
    """One record per hop: the most preferred level, the latest write on a tie."""
    best: dict[str, TrainingRecord] = {}
    for record in kept:  # time order: a later record of an equally preferred level wins
        old = best.get(record.record_id)
        if old is None or level_rank(record.level_of_theory, policy) <= level_rank(
            old.level_of_theory, policy
        ):
            best[record.record_id] = record
    return best


def _with_bands(
    best: dict[str, TrainingRecord],
    hops: list[HopDoc],
    hosts: list[CandidateDoc],
    rebuild_band: RebuildBands,
) -> tuple[list[TrainingRecord], list[HopFailure]]:
    """The records with their bands inline; a failure for each hop without one."""
    wanted = [h for h in hops if h.hop_id in best]
    missing = sorted(set(best) - {h.hop_id for h in wanted})
    failures = [
        HopFailure(candidate_name="", reason="no hop document in the results store", hop_id=hop_id)
        for hop_id in missing
    ]
    bands: dict[str, Crystal] = {}
    if wanted:
        kept_hops, built, failed = rebuild_band(wanted, hosts)
        bands = {h.hop_id: b for h, b in zip(kept_hops, built, strict=True)}
        failures += failed
    records = []
    for hop_id, record in best.items():
        band = bands.get(hop_id)
        if band is None:
            continue
        hop = next(h for h in wanted if h.hop_id == hop_id)
        records.append(
            record.model_copy(
                update={
                    "band": BandArrays.from_atoms(band),
                    "working_ion": hop.working_ion,
                    "candidate_id": record.candidate_id or hop.candidate_id,
                }
            )
        )
    return records, failures
