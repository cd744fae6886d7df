"""Tables of screening results: predictions joined with their hops, hosts and verifications.

One row per hop: the prediction of the requested model version (by default the latest written
prediction of the hop), the host's formula from the candidates collection (or the hop's host
formula), and the latest usable verification of the hop (status ``ok`` or ``not_converged``,
with a barrier; a failed verification leaves the verified columns empty).
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from hopscreen.store.errors import CorruptStoreError
from hopscreen.store.results import ResultsStore
from hopscreen.store.stores import open_results_store

COLUMNS = [
    "candidate_name",
    "formula",
    "working_ion",
    "hop_id",
    "length_angstrom",
    "barrier_ev",
    "sigma_ev",
    "interval_90_ev",
    "model_version",
    "verified_barrier_ev",
    "verification_method",
    "converged",
]
"""Columns of the results table, in order (``interval_90_ev``: half-width of the calibrated 90 %
interval, empty for a model without calibration)."""

USABLE_STATUSES = ("ok", "not_converged")

_PREDICTION_FIELDS: dict[str, type | tuple[type, ...]] = {
    "hop_id": str,
    "candidate_name": str,
    "working_ion": str,
    "model_version": str,
    "barrier_ev": (int, float),
    "sigma_ev": (int, float),
}
"""Fields of a stored prediction that the table needs, and their types."""

_EPOCH = datetime.min


def _finite_or_none(value: Any) -> float | None:
    """A stored number as float, or None when it is absent or not a finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if value == value and abs(value) != float("inf") else None


def _row(
    pred: dict[str, Any],
    hop: dict[str, Any],
    candidates: dict[str, dict[str, Any]],
    verif: dict[str, Any] | None,
) -> dict[str, Any]:
    """One table row: a hop's latest prediction joined to its hop, host and verification."""
    cand = candidates.get(pred.get("candidate_id") or "", {})
    length = pred.get("length_angstrom")
    return {
        "candidate_name": pred["candidate_name"],
        "formula": cand.get("formula") or hop.get("host_formula"),
        "working_ion": pred["working_ion"],
        "hop_id": pred["hop_id"],
        "length_angstrom": length if length is not None else hop.get("length_angstrom"),
        "barrier_ev": pred["barrier_ev"],
        "sigma_ev": pred["sigma_ev"],
        "interval_90_ev": _finite_or_none(pred.get("interval_90_ev")),
        "model_version": pred["model_version"],
        "verified_barrier_ev": verif["barrier_ev"] if verif else None,
        "verification_method": verification_method(verif) if verif else None,
        "converged": bool(verif.get("converged", False)) if verif else None,
    }


def latest_stamp(record: dict[str, Any]) -> tuple[datetime, str]:
    """Sort key for "latest": write time, then id (timezone dropped: BSON stores naive UTC)."""
    stamp = record.get("last_updated")
    if isinstance(stamp, datetime):
        stamp = stamp.replace(tzinfo=None)
    else:
        stamp = _EPOCH
    key = record.get("verification_id") or record.get("prediction_id") or record.get("verdict_key")
    return stamp, str(key or "")


def _checked_predictions(records: list[dict[str, Any]], location: str) -> list[dict[str, Any]]:
    """The prediction records, each with the fields the table needs (else the store is damaged)."""
    for record in records:
        for name, kind in _PREDICTION_FIELDS.items():
            value = record.get(name)
            if not isinstance(value, kind) or isinstance(value, bool):
                key = record.get("prediction_id", "?")
                raise CorruptStoreError(
                    f"{location}: prediction {key} has no valid {name} ({value!r}); "
                    "the predictions collection is damaged"
                )
    return records


def _latest_by_hop(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for record in sorted(records, key=latest_stamp):
        latest[record["hop_id"]] = record
    return latest


def verification_method(record: dict[str, Any]) -> str | None:
    """A short label of a verification's level of theory, e.g. ``"CI-NEB/CHGNet"``.

    Built from ``level_of_theory`` (method, code, functional with ``+U`` when Hubbard U values
    are set); falls back to a ``tier`` or ``method`` field.
    """
    level = record.get("level_of_theory")
    if isinstance(level, str):
        return level
    if isinstance(level, dict):
        parts = [str(level[k]) for k in ("method", "code") if level.get(k)]
        if level.get("functional"):
            parts.append(str(level["functional"]) + ("+U" if level.get("hubbard_u") else ""))
        if parts:
            return "/".join(parts)
    for name in ("tier", "method"):
        if record.get(name):
            return str(record[name])
    return None


def _usable(record: dict[str, Any]) -> bool:
    barrier = record.get("barrier_ev")
    return (
        record.get("status", "ok") in USABLE_STATUSES
        and isinstance(barrier, int | float)
        and math.isfinite(barrier)
    )


def results_frame(
    store: ResultsStore,
    *,
    ion: str | None = None,
    max_barrier_ev: float | None = None,
    verified_only: bool = False,
    model_version: str | None = None,
) -> pd.DataFrame:
    """The results table of a connected results store (see :func:`query_results`).

    Raises
    ------
    CorruptStoreError
        If a collection cannot be read or a prediction lacks a field of the table.

    """
    criteria: dict[str, Any] = {}
    if ion is not None:
        criteria["working_ion"] = ion
    if model_version is not None:
        criteria["model_version"] = model_version
    records = _checked_predictions(store.read("predictions", criteria), store.location)
    predictions = _latest_by_hop(records)
    hop_ids = sorted(predictions)
    in_hops = {"hop_id": {"$in": hop_ids}}
    hops = {r["hop_id"]: r for r in store.read("hops", in_hops)} if hop_ids else {}
    candidate_ids = sorted(
        {p["candidate_id"] for p in predictions.values() if p.get("candidate_id")}
    )
    candidates = (
        {
            r["candidate_id"]: r
            for r in store.read("candidates", {"candidate_id": {"$in": candidate_ids}})
        }
        if candidate_ids
        else {}
    )
    verifications = (
        _latest_by_hop([r for r in store.read("verifications", in_hops) if _usable(r)])
        if hop_ids
        else {}
    )
    rows = []
    for hop_id in hop_ids:
        pred = predictions[hop_id]
        rows.append(_row(pred, hops.get(hop_id, {}), candidates, verifications.get(hop_id)))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame = frame.astype(
        {
            "length_angstrom": "float64",
            "barrier_ev": "float64",
            "sigma_ev": "float64",
            "interval_90_ev": "float64",
            "verified_barrier_ev": "float64",
            "converged": "boolean",
        }
    )
    column = "verified_barrier_ev" if verified_only else "barrier_ev"
    if verified_only:
        frame = frame[frame["verified_barrier_ev"].notna()]
    if max_barrier_ev is not None:
        frame = frame[frame[column] <= max_barrier_ev]
    return frame.sort_values([column, "hop_id"], kind="stable").reset_index(drop=True)


def query_results(
    results_dir: str | Path,
    *,
    ion: str | None = None,
    max_barrier_ev: float | None = None,
    verified_only: bool = False,
    model_version: str | None = None,
) -> pd.DataFrame:
    """Screening results of a results folder as a table, lowest barrier first.

    Parameters
    ----------
    results_dir : str or Path
        Results folder of the embedded store, written by a screening round.
    ion : str, optional
        Only hops of this working ion (element symbol, e.g. ``"Li"``).
    max_barrier_ev : float, optional
        Only hops with a barrier at most this, eV: the predicted barrier, or the verified one
        when ``verified_only`` is set.
    verified_only : bool
        Only hops with a usable verification; the table is then filtered and sorted by the
        verified barrier.
    model_version : str, optional
        Only predictions of this model version (default: each hop's latest prediction).

    Returns
    -------
    pandas.DataFrame
        One row per hop with the columns of :data:`COLUMNS` (``converged`` is a nullable
        boolean, empty without a verification), sorted by barrier then ``hop_id``.

    Raises
    ------
    NoResultsStoreError
        If the results folder does not exist, is a file, or holds no results store (nothing is
        written into it).
    CorruptStoreError
        If the store's files are damaged.
    StorePermissionError
        If a file of the store cannot be read.

    Notes
    -----
    The store is opened read-only: a store without write permission can be queried.

    """
    with open_results_store(results_dir, read_only=True) as store:
        return results_frame(
            store,
            ion=ion,
            max_barrier_ev=max_barrier_ev,
            verified_only=verified_only,
            model_version=model_version,
        )
