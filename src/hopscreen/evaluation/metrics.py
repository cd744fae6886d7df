"""Accuracy metrics of barrier predictions, each with a percentile-bootstrap confidence interval.

Pure numpy, no I/O. Every function returns plain, JSON-ready dicts (Python floats and ints;
an undefined value such as the precision of a class that is never predicted is ``None``).
The layout is stable and is what ``hopscreen evaluate --json`` prints:

``regression_metrics`` ::

    {"n": int,
     "mae_ev" | "rmse_ev" | "r2" | "median_ae_ev" | "bias_ev" | "spread_ratio":
         {"value": float, "ci_low": float, "ci_high": float}}

``bias_ev`` is the mean signed error, predicted − true (positive = over-estimates E_m).
``spread_ratio`` is std(predicted) / std(true) (population standard deviations): below 1 a
model squeezes the barriers toward their mean, so high barriers come out too low and low ones
too high (a screening model should keep it ≥ 0.8). Like R² it is None when the truth has no
spread.

``classification_metrics`` (a hop is *good* when E_m < threshold, *bad* when E_m ≥ threshold,
for the truth and the prediction alike) ::

    {"threshold_ev": float, "n": int,
     "accuracy": {"value", "ci_low", "ci_high"},
     "good": {"precision", "recall", "f1", "support"},
     "bad":  {"precision", "recall", "f1", "support"},
     "confusion": {"true_good_pred_good", "true_good_pred_bad",
                   "true_bad_pred_good", "true_bad_pred_bad"}}

``evaluate_predictions`` ::

    {"n": int, "regression": {...}, "classification": [{...}, ...]  # one per threshold
     "bootstrap": {"n_boot": int, "seed": int, "ci": float}}

``paired_bootstrap_difference`` ::

    {"metric": "mae_ev", "n": int, "metric_a": float, "metric_b": float,
     "difference": {"value", "ci_low", "ci_high"},   # metric(a) − metric(b)
     "fraction_a_better": float}                     # share of resamples with a < b

``interval_coverage`` (predictions with calibrated intervals ``ŷ ± w``) ::

    {"68": {"n": int, "coverage": float, "mean_half_width_ev": float}, "90": {...}}

Bootstrap: ``n_boot`` resamples of the hop indices with replacement, drawn once from
``numpy.random.default_rng(seed)`` and shared by all metrics of one call; the interval is the
(1 − ci)/2 and (1 + ci)/2 percentiles of the resampled statistic. Fractions (accuracy,
precision, …) are in [0, 1], not per cent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

DEFAULT_THRESHOLDS_EV: tuple[float, ...] = (0.5, 0.65)
DEFAULT_N_BOOT = 2000

Estimate = dict[str, float | None]


def _json_float(x: float) -> float | None:
    """A Python float, or None for NaN / infinity (not representable in JSON)."""
    x = float(x)
    return x if math.isfinite(x) else None


def _as_pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} values but y_pred has {p.size}")
    if t.size == 0:
        raise ValueError("no values to evaluate")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(p))):
        raise ValueError("y_true and y_pred must be finite (drop missing predictions first)")
    return t, p


def _check_boot(n_boot: int, ci: float) -> None:
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    if not 0.0 < ci < 1.0:
        raise ValueError(f"ci must be in (0, 1), got {ci}")


def bootstrap_indices(n: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n) hop indices drawn with replacement from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n, size=(n_boot, n))


def _estimate(value: float, samples: np.ndarray, ci: float) -> Estimate:
    """Point value plus percentile interval of the finite bootstrap samples."""
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        lo = hi = math.nan
    else:
        lo, hi = np.percentile(finite, [50.0 * (1.0 - ci), 50.0 * (1.0 + ci)])
    return {"value": _json_float(value), "ci_low": _json_float(lo), "ci_high": _json_float(hi)}


def _r2_rows(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    """R² along the last axis; NaN where the truth has no spread."""
    ss_res = np.sum((t - p) ** 2, axis=-1)
    ss_tot = np.sum((t - t.mean(axis=-1, keepdims=True)) ** 2, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), np.nan)


def _spread_ratio_rows(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    """std(p) / std(t) along the last axis; NaN where the truth has no spread."""
    sd_t, sd_p = np.std(t, axis=-1), np.std(p, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd_t > 0, sd_p / np.where(sd_t > 0, sd_t, 1.0), np.nan)


_REGRESSION: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "mae_ev": lambda t, p: np.mean(np.abs(p - t), axis=-1),
    "rmse_ev": lambda t, p: np.sqrt(np.mean((p - t) ** 2, axis=-1)),
    "r2": _r2_rows,
    "median_ae_ev": lambda t, p: np.median(np.abs(p - t), axis=-1),
    "bias_ev": lambda t, p: np.mean(p - t, axis=-1),
    "spread_ratio": _spread_ratio_rows,
}


def _regression(t: np.ndarray, p: np.ndarray, idx: np.ndarray, ci: float) -> dict[str, Any]:
    out: dict[str, Any] = {"n": int(t.size)}
    tb, pb = t[idx], p[idx]
    for name, fn in _REGRESSION.items():
        out[name] = _estimate(float(fn(t, p)), fn(tb, pb), ci)
    return out


def regression_metrics(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = 0,
    ci: float = 0.95,
) -> dict[str, Any]:
    """MAE, RMSE, R², median AE, bias and spread ratio, with bootstrap confidence intervals.

    Parameters
    ----------
    y_true, y_pred : array_like
        Reference and predicted barriers (eV), same length, finite.
    n_boot : int
        Bootstrap resamples of the hops.
    seed : int
        Seed of the resampling (the result is a pure function of the inputs and the seed).
    ci : float
        Confidence level of the percentile interval.

    Returns
    -------
    dict
        ``{"n", "mae_ev", "rmse_ev", "r2", "median_ae_ev", "bias_ev", "spread_ratio"}``, each
        metric a ``{"value", "ci_low", "ci_high"}`` dict (see the module docstring). R² and
        the spread ratio are None when the truth has no spread.
    """
    _check_boot(n_boot, ci)
    t, p = _as_pair(y_true, y_pred)
    return _regression(t, p, bootstrap_indices(t.size, n_boot, seed), ci)


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


def _class_report(tp: int, fp: int, fn: int) -> dict[str, float | int | None]:
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    if math.isnan(precision) or math.isnan(recall):
        f1 = math.nan
    else:
        f1 = _ratio(2.0 * precision * recall, precision + recall)
        if math.isnan(f1):
            f1 = 0.0  # both zero: the class is never found
    return {
        "precision": _json_float(precision),
        "recall": _json_float(recall),
        "f1": _json_float(f1),
        "support": int(tp + fn),
    }


def _classification(
    t: np.ndarray, p: np.ndarray, threshold_ev: float, idx: np.ndarray, ci: float
) -> dict[str, Any]:
    good_t = t < threshold_ev
    good_p = p < threshold_ev
    gg = int(np.sum(good_t & good_p))
    gb = int(np.sum(good_t & ~good_p))
    bg = int(np.sum(~good_t & good_p))
    bb = int(np.sum(~good_t & ~good_p))
    correct = good_t == good_p
    return {
        "threshold_ev": float(threshold_ev),
        "n": int(t.size),
        "accuracy": _estimate(float(correct.mean()), correct[idx].mean(axis=-1), ci),
        "good": _class_report(tp=gg, fp=bg, fn=gb),
        "bad": _class_report(tp=bb, fp=gb, fn=bg),
        "confusion": {
            "true_good_pred_good": gg,
            "true_good_pred_bad": gb,
            "true_bad_pred_good": bg,
            "true_bad_pred_bad": bb,
        },
    }


def classification_metrics(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    threshold_ev: float,
    *,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = 0,
    ci: float = 0.95,
) -> dict[str, Any]:
    """Good/bad classification at a barrier threshold.

    A hop is *good* (fast) when E_m < ``threshold_ev`` and *bad* when E_m ≥ ``threshold_ev``;
    the same rule is applied to the truth and to the prediction.

    Parameters
    ----------
    y_true, y_pred : array_like
        Reference and predicted barriers (eV).
    threshold_ev : float
        The good/bad boundary, eV (0.65 in the paper; 0.5 is also common).
    n_boot, seed, ci
        Bootstrap settings of the accuracy interval (see :func:`regression_metrics`).

    Returns
    -------
    dict
        Accuracy with its interval; precision, recall, F1 and support of each class
        (precision is None for a class that is never predicted, recall for one that never
        occurs); the four confusion counts.
    """
    _check_boot(n_boot, ci)
    t, p = _as_pair(y_true, y_pred)
    return _classification(t, p, threshold_ev, bootstrap_indices(t.size, n_boot, seed), ci)


def evaluate_predictions(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS_EV,
    *,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = 0,
    ci: float = 0.95,
) -> dict[str, Any]:
    """Regression metrics plus a classification report per threshold, on one bootstrap draw.

    Parameters
    ----------
    y_true, y_pred : array_like
        Reference and predicted barriers (eV).
    thresholds : sequence of float
        Good/bad boundaries (eV), one classification report each, in this order.
    n_boot, seed, ci
        Bootstrap settings (see :func:`regression_metrics`).

    Returns
    -------
    dict
        ``{"n", "regression", "classification": [...], "bootstrap"}``.
    """
    _check_boot(n_boot, ci)
    t, p = _as_pair(y_true, y_pred)
    idx = bootstrap_indices(t.size, n_boot, seed)
    return {
        "n": int(t.size),
        "regression": _regression(t, p, idx, ci),
        "classification": [_classification(t, p, float(th), idx, ci) for th in thresholds],
        "bootstrap": {"n_boot": int(n_boot), "seed": int(seed), "ci": float(ci)},
    }


def paired_bootstrap_difference(
    y_true: ArrayLike,
    pred_a: ArrayLike,
    pred_b: ArrayLike,
    *,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = 0,
    ci: float = 0.95,
) -> dict[str, Any]:
    """MAE(a) − MAE(b) on the same hops, with a paired bootstrap interval.

    Both predictors are scored on the same resampled hops in every resample, so the
    interval reflects the difference between them, not the spread of the test set.

    Parameters
    ----------
    y_true : array_like
        Reference barriers (eV).
    pred_a, pred_b : array_like
        Two predictions of the same hops (eV).
    n_boot, seed, ci
        Bootstrap settings (see :func:`regression_metrics`).

    Returns
    -------
    dict
        ``{"metric": "mae_ev", "n", "metric_a", "metric_b", "difference": {"value",
        "ci_low", "ci_high"}, "fraction_a_better"}`` (MAEs in eV); a negative difference
        means *a* is more accurate. An interval that excludes 0 marks a significant
        difference at the ``ci`` level.
    """
    _check_boot(n_boot, ci)
    t, a = _as_pair(y_true, pred_a)
    _, b = _as_pair(y_true, pred_b)
    err_a, err_b = np.abs(a - t), np.abs(b - t)
    idx = bootstrap_indices(t.size, n_boot, seed)
    diffs = err_a[idx].mean(axis=-1) - err_b[idx].mean(axis=-1)
    mae_a, mae_b = float(err_a.mean()), float(err_b.mean())
    return {
        "metric": "mae_ev",
        "n": int(t.size),
        "metric_a": mae_a,
        "metric_b": mae_b,
        "difference": _estimate(mae_a - mae_b, diffs, ci),
        "fraction_a_better": float(np.mean(diffs < 0)),
    }


def interval_coverage(
    y_true: ArrayLike, y_pred: ArrayLike, half_widths_ev: Mapping[str, ArrayLike]
) -> dict[str, dict[str, float | int]]:
    """Empirical coverage and mean half-width of prediction intervals ``ŷ ± w``.

    Parameters
    ----------
    y_true, y_pred : array_like
        (n,) reference and predicted barriers, eV.
    half_widths_ev : mapping of str to array_like
        Per interval key (``"68"``, ``"90"``), the (n,) half-widths w, eV.

    Returns
    -------
    dict
        Per key ``{"n", "coverage", "mean_half_width_ev"}``: the fraction of hops with
        |y − ŷ| ≤ w (in [0, 1]) and the mean of w.
    """
    t, p = _as_pair(y_true, y_pred)
    out: dict[str, dict[str, float | int]] = {}
    for key, widths in half_widths_ev.items():
        w = np.asarray(widths, dtype=np.float64).ravel()
        if w.shape != t.shape or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"interval {key!r}: need {t.size} finite, non-negative half-widths")
        out[key] = {
            "n": int(t.size),
            "coverage": float(np.mean(np.abs(t - p) <= w)),
            "mean_half_width_ev": float(np.mean(w)),
        }
    return out
