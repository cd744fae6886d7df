"""The out-of-fold machinery of grouped cross-validation: groups, folds, pooled scoring.

:mod:`hopscreen.evaluation.crossval` supplies the training recipe (``fit_fold``); this module
draws the folds of the chosen grouping, trains and predicts fold by fold, and turns the pooled
out-of-fold predictions into the entries of the result dict (rows, slices, folds,
predictions; the layout is described in :mod:`hopscreen.evaluation.evaluate`).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from hopscreen.data.splits import chemsys_groups, grouped_kfold, host_groups
from hopscreen.evaluation.results import (
    ROW_MODEL,
    Scoring,
    coverage_entry,
    interval_half_widths,
    none_if_nan,
)
from hopscreen.evaluation.slices import hop_lengths, scored_slices
from hopscreen.inference.predict import predict

log = logging.getLogger(__name__)

FitFold = Callable[[list[Any], Path], Any]
"""``fit_fold(train_records, fold_dir) -> model``: trains one fold's model."""

GroupKind = Literal["host", "chemsys"]
GROUP_KINDS: tuple[str, ...] = ("host", "chemsys")
SPLIT_OF_GROUPS = {"host": "cv", "chemsys": "cv-chemsys"}
GROUP_LABELS = {"host": "host-grouped", "chemsys": "chemical-system-grouped"}


def split_of_groups(groups: str) -> str:
    """The split name of a grouping (``"host"`` -> ``"cv"``, ``"chemsys"`` -> ``"cv-chemsys"``).

    Raises
    ------
    ValueError
        ``groups`` is not one of :data:`GROUP_KINDS`.
    """
    if groups not in GROUP_KINDS:
        raise ValueError(f"unknown grouping {groups!r}; choose from {GROUP_KINDS}")
    return SPLIT_OF_GROUPS[groups]


@dataclass
class _OutOfFold:
    """Out-of-fold predictions of all records, filled one fold at a time."""

    pred: np.ndarray
    sigma: np.ndarray
    fold_of: np.ndarray
    half_widths: dict[str, np.ndarray] = field(default_factory=dict)
    folds: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def empty(cls, n: int) -> _OutOfFold:
        widths = {key: np.full(n, np.nan) for key in ("68", "90")}
        return cls(np.full(n, np.nan), np.full(n, np.nan), np.full(n, -1, dtype=int), widths)


@contextmanager
def work_dir(out_dir: Path | str | None) -> Iterator[Path]:
    """``out_dir``, or a temporary folder deleted afterwards when it is None.

    Parameters
    ----------
    out_dir : path or str, optional
        The folder to use.

    Yields
    ------
    Path
        The working folder.
    """
    if out_dir is not None:
        yield Path(out_dir)
        return
    with tempfile.TemporaryDirectory(prefix="hopscreen-cv-") as tmp:
        yield Path(tmp)


def _predict_folds(
    records: list[Any],
    groups: tuple[list[str], list[str]],
    folds: list[tuple[np.ndarray, np.ndarray]],
    fit_fold: FitFold,
    root: Path,
    batch_size: int,
) -> _OutOfFold:
    """Train a model per fold in ``root/fold{i}`` and predict its held-out records.

    ``groups`` is (host keys, CV group keys), one of each per record.
    """
    hosts, cv_groups = groups
    oof = _OutOfFold.empty(len(records))
    for f, (train_idx, val_idx) in enumerate(folds):
        t0 = time.perf_counter()
        train = [records[i] for i in train_idx]
        log.info(
            "fold %d/%d: %d train, %d validation hops", f + 1, len(folds), len(train), len(val_idx)
        )
        model = fit_fold(train, root / f"fold{f}")
        out = list(predict((records[i].band for i in val_idx), model=model, batch_size=batch_size))
        oof.pred[val_idx] = [q.barrier_ev for q in out]
        oof.sigma[val_idx] = [q.sigma_ev for q in out]
        for key, widths in interval_half_widths(out).items():
            oof.half_widths[key][val_idx] = widths
        oof.fold_of[val_idx] = f
        y_val = np.array([records[i].barrier_ev for i in val_idx])
        oof.folds.append(
            {
                "fold": f,
                "n_train": len(train_idx),
                "n_val": len(val_idx),
                "n_hosts_val": len({hosts[i] for i in val_idx}),
                "n_groups_val": len({cv_groups[i] for i in val_idx}),
                "mae_ev": float(np.mean(np.abs(oof.pred[val_idx] - y_val))),
                "seconds": time.perf_counter() - t0,
            }
        )
    return oof


def group_keys(records: list[Any], groups: str) -> tuple[list[str], list[str]]:
    """Host keys and CV group keys of the records.

    Parameters
    ----------
    records : list of EmRecord
        Records with their bands.
    groups : {"host", "chemsys"}
        The grouping: :func:`~hopscreen.data.splits.host_groups` or
        :func:`~hopscreen.data.splits.chemsys_groups`.

    Returns
    -------
    (list of str, list of str)
        The host key and the CV group key of each record (the same list for ``"host"``).
    """
    split_of_groups(groups)  # raises on an unknown grouping
    hosts = host_groups(records)
    return hosts, hosts if groups == "host" else chemsys_groups(records)


def out_of_fold_result(
    records: list[Any],
    fit_fold: FitFold,
    k: int,
    out_dir: Path | str | None,
    batch_size: int,
    scoring: Scoring,
    groups: GroupKind = "host",
) -> dict[str, Any]:
    """Run the ``k`` grouped folds and score the pooled out-of-fold predictions.

    Parameters
    ----------
    records : list of EmRecord
        The records to cross-validate, with their bands.
    fit_fold : callable
        ``fit_fold(train_records, fold_dir) -> model``.
    k : int
        Number of folds.
    out_dir : path or str, optional
        Where the fold folders go (``fold{i}/``); a temporary folder when None.
    batch_size : int
        Graphs per forward pass.
    scoring : Scoring
        Thresholds and bootstrap settings; its seed also draws the folds.
    groups : {"host", "chemsys"}
        What a fold holds out (see :func:`group_keys`).

    Returns
    -------
    dict
        The result entries ``groups``, ``n_groups`` (distinct CV groups), ``thresholds_ev``,
        ``bootstrap``, ``rows``, ``comparisons``, ``slices``, ``folds`` (per fold: ``fold``,
        ``n_train``, ``n_val``, ``n_hosts_val``, ``n_groups_val``, ``mae_ev``, ``seconds``)
        ``predictions`` (each with ``host``, ``group`` (its CV group key), ``fold`` and
        ``hop_length_angstrom``) and ``coverage`` (of the fold models' calibrated intervals on
        their held-out hops; None when a fold model has none).
    """
    hosts, cv_groups = group_keys(records, groups)
    folds = grouped_kfold(cv_groups, k=k, seed=scoring.seed)
    with work_dir(out_dir) as root:
        oof = _predict_folds(records, (hosts, cv_groups), folds, fit_fold, root, batch_size)
    y = np.array([r.barrier_ev for r in records])
    lengths = hop_lengths(records)
    label = f"this recipe, {GROUP_LABELS[groups]} {k}-fold CV (out-of-fold)"
    return {
        "groups": groups,
        "n_groups": len(set(cv_groups)),
        **scoring.header(),
        "rows": [scoring.row(ROW_MODEL, y, oof.pred, label=label)],
        "comparisons": [],
        "slices": scored_slices(scoring, y, oof.pred, lengths),
        "folds": oof.folds,
        "coverage": coverage_entry(y, oof.pred, oof.half_widths),
        "predictions": _prediction_rows(records, (hosts, cv_groups), oof, lengths),
    }


def _prediction_rows(
    records: list[Any], groups: tuple[list[str], list[str]], oof: _OutOfFold, lengths: np.ndarray
) -> list[dict[str, Any]]:
    hosts, cv_groups = groups
    return [
        {
            "record_id": r.record_id,
            "sys_name": r.sys_name,
            "working_ion": r.working_ion,
            "host": hosts[i],
            "group": cv_groups[i],
            "fold": int(oof.fold_of[i]),
            "hop_length_angstrom": none_if_nan(lengths[i]),
            "barrier_ev": float(r.barrier_ev),
            "predicted_ev": float(oof.pred[i]),
            "sigma_ev": float(oof.sigma[i]),
            "interval_68_ev": none_if_nan(oof.half_widths["68"][i]),
            "interval_90_ev": none_if_nan(oof.half_widths["90"][i]),
        }
        for i, r in enumerate(records)
    ]
