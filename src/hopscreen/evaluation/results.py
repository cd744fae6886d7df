"""Pieces of the result dict shared by every evaluation: scored rows, paired comparisons, CSV.

The layout of the whole dict is described in :mod:`hopscreen.evaluation.evaluate`; the metrics
inside each row come from :mod:`hopscreen.evaluation.metrics`.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hopscreen.evaluation.metrics import (
    DEFAULT_N_BOOT,
    DEFAULT_THRESHOLDS_EV,
    evaluate_predictions,
    interval_coverage,
    paired_bootstrap_difference,
)

ROW_MODEL = "model"
ROW_PAPER = "paper_model3"
ROW_MACE = "mace_neb_relaxed"
ROW_LABELS = {
    ROW_MODEL: "this model",
    ROW_PAPER: "paper Model-3 (published predictions)",
    ROW_MACE: "MACE NEB relaxed (published)",
}


def none_if_nan(x: float | None) -> float | None:
    """``x`` as a Python float, or None when it is None, NaN or infinite (not valid JSON)."""
    return None if x is None or not math.isfinite(float(x)) else float(x)


def interval_half_widths(predictions: Sequence[Any]) -> dict[str, np.ndarray]:
    """The (n,) interval half-widths of predictions, NaN where one has none.

    Parameters
    ----------
    predictions : sequence of Prediction
        Anything with ``interval_68_ev`` and ``interval_90_ev`` (eV or None).

    Returns
    -------
    dict
        ``{"68": array, "90": array}``, eV.
    """
    return {
        key: np.array(
            [
                np.nan
                if getattr(q, f"interval_{key}_ev", None) is None
                else getattr(q, f"interval_{key}_ev")
                for q in predictions
            ],
            dtype=np.float64,
        )
        for key in ("68", "90")
    }


def coverage_entry(
    y_true: np.ndarray, y_pred: np.ndarray, half_widths_ev: Mapping[str, np.ndarray]
) -> dict[str, Any] | None:
    """The ``coverage`` entry of a result: None unless every prediction has every interval.

    Parameters
    ----------
    y_true, y_pred : numpy.ndarray
        (n,) reference and predicted barriers, eV.
    half_widths_ev : mapping of str to numpy.ndarray
        (n,) half-widths per interval key (NaN: no interval), eV.

    Returns
    -------
    dict or None
        :func:`~hopscreen.evaluation.metrics.interval_coverage`, or None for a model
        without calibrated intervals.
    """
    if not half_widths_ev or any(not np.all(np.isfinite(w)) for w in half_widths_ev.values()):
        return None
    return interval_coverage(y_true, y_pred, half_widths_ev)


@dataclass(frozen=True)
class Scoring:
    """How predictions are scored: good/bad thresholds and bootstrap settings.

    Attributes
    ----------
    thresholds : sequence of float
        Good/bad thresholds (eV), one classification report each.
    n_boot, seed, ci
        Bootstrap settings (see :mod:`hopscreen.evaluation.metrics`).
    """

    thresholds: Sequence[float] = DEFAULT_THRESHOLDS_EV
    n_boot: int = DEFAULT_N_BOOT
    seed: int = 0
    ci: float = 0.95

    def header(self) -> dict[str, Any]:
        """The ``thresholds_ev`` and ``bootstrap`` entries of a result dict."""
        return {
            "thresholds_ev": [float(t) for t in self.thresholds],
            "bootstrap": {"n_boot": int(self.n_boot), "seed": int(self.seed), "ci": float(self.ci)},
        }

    def row(
        self, key: str, y_true: np.ndarray, y_pred: np.ndarray, label: str | None = None
    ) -> dict[str, Any]:
        """One scored row: ``{"key", "label", "n", "metrics"}``.

        Parameters
        ----------
        key : str
            Row key (``ROW_MODEL``, ``ROW_PAPER``, ``ROW_MACE``).
        y_true, y_pred : numpy.ndarray, shape (n,)
            Reference and predicted barriers (eV), finite.
        label : str, optional
            Human-readable label; the one of ``ROW_LABELS`` by default.

        Returns
        -------
        dict
            ``metrics`` is the output of
            :func:`~hopscreen.evaluation.metrics.evaluate_predictions`.
        """
        return {
            "key": key,
            "label": label or ROW_LABELS[key],
            "n": len(y_true),
            "metrics": evaluate_predictions(
                y_true, y_pred, self.thresholds, n_boot=self.n_boot, seed=self.seed, ci=self.ci
            ),
        }

    def comparison(
        self, a: str, b: str, y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray
    ) -> dict[str, Any]:
        """MAE(a) − MAE(b) on the hops both predict: ``{"a", "b", ...}``.

        Parameters
        ----------
        a, b : str
            Row keys of the two predictors.
        y_true, pred_a, pred_b : numpy.ndarray, shape (n,)
            Reference and the two predicted barriers (eV); a hop where either prediction is
            NaN is left out.

        Returns
        -------
        dict
            ``a``, ``b`` and the output of
            :func:`~hopscreen.evaluation.metrics.paired_bootstrap_difference`.
        """
        ok = np.isfinite(pred_a) & np.isfinite(pred_b)
        return {
            "a": a,
            "b": b,
            **paired_bootstrap_difference(
                y_true[ok], pred_a[ok], pred_b[ok], n_boot=self.n_boot, seed=self.seed, ci=self.ci
            ),
        }


def write_predictions_csv(result: dict[str, Any], path: Path | str) -> Path:
    """Write ``result["predictions"]`` as CSV (columns in the order of the first row)."""
    rows = result["predictions"]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        if not rows:
            return path
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return path


def write_result_files(result: dict[str, Any], out_dir: Path | str) -> None:
    """Write ``metrics.json`` (the whole result) and ``predictions.csv`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    write_predictions_csv(result, out_dir / "predictions.csv")
