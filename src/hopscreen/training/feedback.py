"""Verified hops and published records as training records, under an explicit level policy.

Verified barriers come from several levels of theory (a uMLIP NEB, DFT with or without +U);
the published dataset itself mixes GGA, GGA+U, SCAN and LDA. A :class:`LevelPolicy` says which
levels are used as they are, which are corrected by a declared offset, and that everything
else is excluded (and counted) or an error. Offsets between two levels can be measured on hops
computed at both with :func:`learn_level_offset`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from hopscreen.schemas.candidate import CandidateDoc
from hopscreen.schemas.hop import HopDoc, HopFailure
from hopscreen.schemas.structure import Crystal
from hopscreen.schemas.training import BandArrays, FeedbackReport, LevelPolicy, TrainingRecord
from hopscreen.schemas.verification import LevelOfTheory

RebuildBands = Callable[
    [Sequence[HopDoc], Sequence[CandidateDoc]],
    tuple[list[HopDoc], list[Crystal], list[HopFailure]],
]
"""Signature of :func:`hopscreen.jobs.rebuild_bands` (hops, hosts) -> (kept, bands, failures)."""

# Functional names of VASP runs -> the dataset's xc_functional spelling.
_FUNCTIONAL_ALIASES = {"PBE": "GGA", "GGA": "GGA", "PE": "GGA"}


class LevelPolicyError(ValueError):
    """A label's level of theory is neither accepted nor offset, and the policy says 'error'."""


def level_key(level: LevelOfTheory | dict[str, Any] | str) -> str:
    """The level key of a verification's level of theory (see :mod:`hopscreen.schemas.training`).

    Parameters
    ----------
    level
        A :class:`LevelOfTheory`, its dict form, or an already formed key (returned as is).

    Returns
    -------
    str
        ``"<code>[-<version>]/<method>"`` for uMLIP codes, ``"DFT-<functional>[+U]"`` for VASP.

    Examples
    --------
    >>> level_key({"method": "NEB", "code": "CHGNet", "code_version": "0.3.0"})
    'CHGNet-0.3.0/NEB'
    >>> level_key(
    ...     {"method": "CI-NEB", "code": "VASP", "functional": "PBE", "hubbard_u": {"Fe": 5.3}}
    ... )
    'DFT-GGA+U'

    """
    if isinstance(level, str):
        return level
    if isinstance(level, dict):
        level = LevelOfTheory.model_validate(level)
    if level.code == "VASP":
        functional = (level.functional or "unknown").upper()
        functional = _FUNCTIONAL_ALIASES.get(functional, functional)
        if level.hubbard_u and any(u != 0 for u in level.hubbard_u.values()):
            functional += "+U"
        return f"DFT-{functional}"
    code = level.code + (f"-{level.code_version}" if level.code_version else "")
    return f"{code}/{level.method}"


def dataset_level_key(xc_functional: str | None) -> str:
    """Level key of a published label: ``"DFT-" + xc_functional`` (``"DFT-unknown"`` if None)."""
    return f"DFT-{xc_functional or 'unknown'}"


def apply_policy(
    records: Sequence[TrainingRecord], policy: LevelPolicy
) -> tuple[list[TrainingRecord], dict[str, dict[str, int]]]:
    """Keep, correct or exclude records by their level, as ``policy`` says.

    Parameters
    ----------
    records
        Records with their raw labels (``offset_ev`` 0).
    policy
        The level policy.

    Returns
    -------
    tuple
        (records kept, with ``barrier_ev = raw_barrier_ev + offset`` for corrected levels;
        counts ``{"accepted": {level: n}, "corrected": {...}, "excluded": {...}}``).

    Raises
    ------
    LevelPolicyError
        If a level is neither accepted nor offset and ``policy.unknown == "error"``.

    """
    accepted: Counter[str] = Counter()
    corrected: Counter[str] = Counter()
    excluded: Counter[str] = Counter()
    kept: list[TrainingRecord] = []
    for record in records:
        level = record.level_of_theory
        if level in policy.accept:
            accepted[level] += 1
            kept.append(record.model_copy(update={"barrier_ev": record.raw_barrier_ev}))
        elif level in policy.offsets_ev:
            offset = float(policy.offsets_ev[level])
            corrected[level] += 1
            kept.append(
                record.model_copy(
                    update={"offset_ev": offset, "barrier_ev": record.raw_barrier_ev + offset}
                )
            )
        elif policy.unknown == "error":
            raise LevelPolicyError(
                f"record {record.record_id} has a label at level {level!r}, which the policy "
                f"neither accepts ({policy.accept}) nor corrects (offsets for "
                f"{sorted(policy.offsets_ev)})"
            )
        else:
            excluded[level] += 1
    counts = {
        "accepted": dict(accepted),
        "corrected": dict(corrected),
        "excluded": dict(excluded),
    }
    return kept, counts


def _usable(record: dict[str, Any]) -> bool:
    barrier = record.get("barrier_ev")
    return (
        record.get("status") == "ok"
        and bool(record.get("converged"))
        and isinstance(barrier, int | float)
        and math.isfinite(barrier)
    )


def _stamp(record: dict[str, Any]) -> tuple[str, str]:
    stamp = record.get("last_updated")
    text = stamp.replace(tzinfo=None).isoformat() if isinstance(stamp, datetime) else ""
    return text, str(record.get("verification_id", ""))


def _rank(level: str, policy: LevelPolicy) -> int:
    """Preference of a level: accepted levels in policy order, then offset ones, then others."""
    if level in policy.accept:
        return policy.accept.index(level)
    if level in policy.offsets_ev:
        return len(policy.accept)
    return len(policy.accept) + 1


def records_from_verifications(
    store_dir: Path | str,
    policy: LevelPolicy | None = None,
    *,
    rebuild_band: RebuildBands | None = None,
    hop_options: dict[str, Any] | None = None,
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
        :func:`hopscreen.jobs.rebuild_bands` with ``hop_options``.
    hop_options
        The ``HopOptions`` fields the hops were enumerated with (default rebuild only).

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
    from hopscreen.store import open_results_store

    policy = policy or LevelPolicy()
    if rebuild_band is None:
        from hopscreen.jobs import rebuild_bands

        def rebuild_band(
            hops: Sequence[HopDoc], hosts: Sequence[CandidateDoc]
        ) -> tuple[list[HopDoc], list[Crystal], list[HopFailure]]:
            return rebuild_bands(hops, hosts, hop_options)

    with open_results_store(store_dir) as store:
        verifications = store.read("verifications")
        usable = [v for v in verifications if _usable(v)]
        hop_ids = sorted({v["hop_id"] for v in usable})
        hops = store.read_docs("hops", HopDoc, {"hop_id": {"$in": hop_ids}}) if hop_ids else []
        cand_ids = sorted({h.candidate_id for h in hops if h.candidate_id})
        hosts = (
            store.read_docs("candidates", CandidateDoc, {"candidate_id": {"$in": cand_ids}})
            if cand_ids
            else []
        )
        predictions = store.read("predictions", {"hop_id": {"$in": hop_ids}}) if hop_ids else []

    report = FeedbackReport(
        n_verifications=len(verifications), n_not_usable=len(verifications) - len(usable)
    )
    # raw records, one per usable verification (policy applied below, then one per hop)
    latest_model = {p["hop_id"]: p.get("model_version") for p in sorted(predictions, key=_stamp)}
    raw = [
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
        for v in sorted(usable, key=_stamp)
    ]
    kept, counts = apply_policy(raw, policy)
    report.accepted_by_level = counts["accepted"]
    report.corrected_by_level = counts["corrected"]
    report.excluded_by_level = counts["excluded"]

    best: dict[str, TrainingRecord] = {}
    for record in kept:  # time order: a later record of an equally preferred level wins
        old = best.get(record.record_id)
        if old is None or _rank(record.level_of_theory, policy) <= _rank(
            old.level_of_theory, policy
        ):
            best[record.record_id] = record
    report.n_superseded = len(kept) - len(best)

    wanted = [h for h in hops if h.hop_id in best]
    missing = sorted(set(best) - {h.hop_id for h in wanted})
    failures = [f"{hop_id}: hop document not found" for hop_id in missing]
    bands: dict[str, Crystal] = {}
    if wanted:
        kept_hops, built, failed = rebuild_band(wanted, hosts)
        bands = {h.hop_id: b for h, b in zip(kept_hops, built, strict=True)}
        failures += [f"{f.hop_id}: {f.reason}" for f in failed]
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
    report.band_failures = failures
    report.n_band_failures = len(best) - len(records)
    report.n_records = len(records)
    return records, report


def dataset_records(
    data_dir: Path | str | None = None,
    split: str = "train",
    *,
    with_structures: bool = True,
) -> list[TrainingRecord]:
    """Published records as training records (for replay and for mixing with verifications).

    Parameters
    ----------
    data_dir
        Data folder (see :func:`~hopscreen.data.paths.resolve_data_dir`).
    split
        ``"train"`` or ``"test"``.
    with_structures
        Keep the bands inline; otherwise only ``band_ref = "em_dataset:<record_id>"``.

    Returns
    -------
    list of TrainingRecord
        One per record, level ``"DFT-" + xc_functional`` (``"DFT-unknown"`` when the record
        does not join to the spreadsheet). Apply a policy with :func:`apply_policy`.

    """
    from hopscreen.data.em_dataset import load_em_dataset

    out = []
    for rec in load_em_dataset(data_dir, splits=(split,), with_structures=with_structures):
        out.append(
            TrainingRecord(
                record_id=rec.record_id,
                source="dataset",
                band=BandArrays.from_atoms(rec.band) if rec.band is not None else None,
                band_ref=f"em_dataset:{rec.record_id}",
                barrier_ev=rec.barrier_ev,
                raw_barrier_ev=rec.barrier_ev,
                level_of_theory=dataset_level_key(rec.xc_functional),
                working_ion=rec.working_ion,
            )
        )
    return out


def learn_level_offset(
    pairs_ev: Sequence[tuple[float, float]],
    *,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, int, tuple[float, float]]:
    """Systematic offset between two levels from hops computed at both.

    Parameters
    ----------
    pairs_ev
        ``(reference_barrier, other_barrier)`` per hop, in eV; the reference is the level the
        training labels should be at (e.g. DFT-GGA), the other the level to correct.
    n_boot
        Bootstrap resamples of the pairs.
    confidence
        Two-sided confidence of the percentile interval.
    seed
        Seed of the resampling (the result is deterministic).

    Returns
    -------
    tuple
        (offset, n, (low, high)): the median of ``reference - other`` (add it to labels of the
        other level, e.g. as ``LevelPolicy.offsets_ev[other]``), the number of pairs and the
        bootstrap percentile interval of the median.

    Raises
    ------
    ValueError
        If no finite pair is given.

    """
    arr = np.asarray([(float(a), float(b)) for a, b in pairs_ev], dtype=float).reshape(-1, 2)
    arr = arr[np.isfinite(arr).all(axis=1)]
    if len(arr) == 0:
        raise ValueError("no finite (reference, other) barrier pairs to learn an offset from")
    diff = arr[:, 0] - arr[:, 1]
    offset = float(np.median(diff))
    rng = np.random.default_rng(seed)
    samples = diff[rng.integers(0, len(diff), size=(n_boot, len(diff)))]
    medians = np.median(samples, axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(medians, [tail, 1.0 - tail])
    return offset, len(diff), (float(low), float(high))
