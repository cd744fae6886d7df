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
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from hopscreen.data.em_dataset import load_em_dataset
from hopscreen.schemas.training import BandArrays, LevelPolicy, TrainingRecord
from hopscreen.schemas.verification import LevelOfTheory

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


def usable_verification(record: dict[str, Any]) -> bool:
    """Whether a stored verification is a converged barrier that can become a label."""
    barrier = record.get("barrier_ev")
    return (
        record.get("status") == "ok"
        and bool(record.get("converged"))
        and isinstance(barrier, int | float)
        and math.isfinite(barrier)
    )


def write_stamp(record: dict[str, Any]) -> tuple[str, str]:
    """Sort key of a stored document by write time (then id), oldest first."""
    stamp = record.get("last_updated")
    text = stamp.replace(tzinfo=None).isoformat() if isinstance(stamp, datetime) else ""
    return text, str(record.get("verification_id", ""))


def level_rank(level: str, policy: LevelPolicy) -> int:
    """Preference of a level: accepted levels in policy order, then offset ones, then others."""
    if level in policy.accept:
        return policy.accept.index(level)
    if level in policy.offsets_ev:
        return len(policy.accept)
    return len(policy.accept) + 1


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
