"""Evaluation on the authors' 60 test hops, beside the paper's published predictions.

The rows are this model, the paper's Model-3 (its published test predictions) and MACE NEB
with relaxed endpoints (published), all scored by the same code of
:mod:`hopscreen.evaluation.metrics` on the same hops, so the three are directly comparable.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hopscreen.data.em_dataset import join_tabulation, load_em_dataset
from hopscreen.data.published import load_paper_test_predictions
from hopscreen.evaluation.results import (
    ROW_MACE,
    ROW_MODEL,
    ROW_PAPER,
    Scoring,
    coverage_entry,
    interval_half_widths,
    none_if_nan,
)
from hopscreen.evaluation.slices import hop_lengths, scored_slices
from hopscreen.inference.device import resolve_device
from hopscreen.inference.load import load_model
from hopscreen.inference.predict import predict
from hopscreen.models.bundle import ModelLoadError
from hopscreen.models.shipped import resolve_model_dir


def published_test_baselines(data_dir: Path | str | None = None) -> dict[str, dict[str, float]]:
    """The published predictions on the authors' test hops, by record id.

    Returns
    -------
    dict
        ``{"paper_model3": {record_id: eV}, "mace_neb_relaxed": {record_id: eV}}``; a hop
        without a published value is absent from the inner dict.
    """
    paper = load_paper_test_predictions(data_dir)
    matches, _ = join_tabulation(data_dir)
    mace = {
        rid: float(row.mace_relaxed_ev)
        for rid, row in matches.items()
        if rid.startswith("test-") and row.mace_relaxed_ev is not None
    }
    return {
        ROW_PAPER: {
            str(r): float(p) for r, p in zip(paper.record_id, paper.predicted_ev, strict=True)
        },
        ROW_MACE: mace,
    }


def _card_summary(model: Any, model_dir: Path) -> dict[str, Any]:
    card = model.card
    return {
        "model_dir": str(model_dir),
        "model_version": card.model_version,
        "name": card.name,
        "preset": card.preset,
        "ensemble_size": card.ensemble_size,
        "pretrained_backbone": card.pretrained_backbone,
        "n_train_records": len(card.train_record_ids),
    }


def _first(records: list[Any], limit: int | None) -> list[Any]:
    if limit is not None:
        records = records[: max(0, int(limit))]
    if not records:
        raise ValueError("no test records to evaluate (limit must be positive)")
    return records


def _existing_model_dir(model_dir: Path | str | None) -> Path:
    folder = resolve_model_dir(model_dir)
    if not folder.is_dir():
        raise ModelLoadError(
            f"model folder {folder} does not exist (no shipped default model yet?); "
            "pass a model folder or name"
        )
    return folder


def _scored_rows(
    scoring: Scoring, y: np.ndarray, p: np.ndarray, published: dict[str, np.ndarray]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The model's row, then a row and a paired comparison per published baseline it has."""
    rows = [scoring.row(ROW_MODEL, y, p)]
    comparisons = []
    for key, ref in published.items():
        ok = np.isfinite(ref)
        if ok.any():
            rows.append(scoring.row(key, y[ok], ref[ok]))
            comparisons.append(scoring.comparison(ROW_MODEL, key, y, p, ref))
    return rows, comparisons


def _scored_slices(
    scoring: Scoring,
    y: np.ndarray,
    p: np.ndarray,
    published: dict[str, np.ndarray],
    lengths: np.ndarray,
) -> list[dict[str, Any]]:
    """The slices of the model, then those of each published baseline it has."""
    out = scored_slices(scoring, y, p, lengths, row=ROW_MODEL)
    for key, ref in published.items():
        if np.isfinite(ref).any():
            out += scored_slices(scoring, y, ref, lengths, row=key)
    return out


def _prediction_rows(
    records: Sequence[Any],
    preds: Sequence[Any],
    published: dict[str, np.ndarray],
    lengths: np.ndarray,
) -> list[dict[str, Any]]:
    return [
        {
            "record_id": r.record_id,
            "sys_name": r.sys_name,
            "working_ion": r.working_ion,
            "xc_functional": r.xc_functional,
            "hop_length_angstrom": none_if_nan(length),
            "barrier_ev": r.barrier_ev,
            "predicted_ev": q.barrier_ev,
            "sigma_ev": q.sigma_ev,
            "interval_68_ev": q.interval_68_ev,
            "interval_90_ev": q.interval_90_ev,
            "paper_model3_ev": none_if_nan(pa),
            "mace_relaxed_ev": none_if_nan(ma),
        }
        for r, q, pa, ma, length in zip(
            records, preds, published[ROW_PAPER], published[ROW_MACE], lengths, strict=True
        )
    ]


def evaluate_paper_test(
    model_dir: Path | str | None,
    *,
    data_dir: Path | str | None,
    device: str | None,
    limit: int | None,
    batch_size: int,
    scoring: Scoring,
) -> dict[str, Any]:
    """Score a model on the authors' test hops beside the published predictions.

    Parameters
    ----------
    model_dir : path or str, optional
        Model folder or shipped model name (default: the shipped default model).
    data_dir, device, limit, batch_size
        As in :func:`~hopscreen.evaluation.evaluate.evaluate_model`.
    scoring : Scoring
        Thresholds and bootstrap settings.

    Returns
    -------
    dict
        The layout of :mod:`hopscreen.evaluation.evaluate` with ``split="paper-test"``, plus
        ``"seconds"`` (model loading and prediction time, s). ``slices`` holds the model's
        slices, then those of each published baseline (on the hops it predicts).
    """
    records = load_em_dataset(data_dir, splits=("test",))
    baselines = published_test_baselines(data_dir)
    records = _first(records, limit)
    folder = _existing_model_dir(model_dir)
    t0 = time.perf_counter()
    model = load_model(folder, device=resolve_device(device))
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    preds = list(predict((r.band for r in records), model=model, batch_size=batch_size))
    t_pred = time.perf_counter() - t0

    y = np.array([r.barrier_ev for r in records])
    p = np.array([q.barrier_ev for q in preds])
    published = {
        key: np.array([baselines[key].get(r.record_id, np.nan) for r in records])
        for key in (ROW_PAPER, ROW_MACE)
    }
    rows, comparisons = _scored_rows(scoring, y, p, published)
    lengths = hop_lengths(records)
    return {
        "split": "paper-test",
        "model": _card_summary(model, folder),
        "n": len(records),
        **scoring.header(),
        "rows": rows,
        "comparisons": comparisons,
        "slices": _scored_slices(scoring, y, p, published, lengths),
        "coverage": coverage_entry(y, p, interval_half_widths(preds)),
        "predictions": _prediction_rows(records, preds, published, lengths),
        "seconds": {"load": t_load, "predict": t_pred, "per_hop": t_pred / len(records)},
    }
