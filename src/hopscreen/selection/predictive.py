"""The predictive distribution of one hop's barrier, from its calibrated intervals.

A prediction E with calibrated half-widths w₆₈ and w₉₀ (:mod:`hopscreen.models.calibration`)
is read as a distribution symmetric about E whose absolute error |e| has the quantile function
that is linear through (0, 0), (0.68, w₆₈) and (0.90, w₉₀), continued with the same slope up to
the 0.99 quantile, where it is capped (no error is larger). A prediction without calibrated
intervals is read as a normal distribution of standard deviation σ (its ensemble spread).
Barriers are not negative: draws below 0 eV are set to 0.

:func:`predictive_draws` samples it (per-host verdicts); :func:`probability_below` gives
P(E_true < T) in closed form (the ``probability_good`` selection policy).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from hopscreen.schemas.prediction import PredictionDoc

CAP_LEVEL = 0.99
"""The quantile of |e| beyond which no error is drawn."""


def _abs_error_quantiles(prediction: PredictionDoc) -> tuple[list[float], list[float]] | None:
    """(levels, widths) of the |e| quantile function of a calibrated prediction, else None."""
    w68, w90 = prediction.interval_68_ev, prediction.interval_90_ev
    if w68 is None or w90 is None:
        return None
    slope = max(w90 - w68, 0.0) / (0.90 - 0.68)
    return [0.0, 0.68, 0.90, CAP_LEVEL], [0.0, w68, w90, w90 + slope * (CAP_LEVEL - 0.90)]


def predictive_draws(
    prediction: PredictionDoc, n_draws: int, rng: np.random.Generator
) -> np.ndarray:
    """Draws of one hop's barrier from its predictive distribution (module docstring).

    Parameters
    ----------
    prediction : PredictionDoc
        Mean ``barrier_ev`` and, when calibrated, ``interval_68_ev`` and ``interval_90_ev``.
    n_draws : int
        Number of draws.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        (n_draws,) barriers, eV, ≥ 0.
    """
    u = np.minimum(rng.random(n_draws), CAP_LEVEL)
    sign = np.where(rng.random(n_draws) < 0.5, -1.0, 1.0)
    table = _abs_error_quantiles(prediction)
    if table is not None:
        size = np.interp(u, *table)
    else:
        size = prediction.sigma_ev * norm.ppf(0.5 + 0.5 * u)
    return np.maximum(prediction.barrier_ev + sign * size, 0.0)


def probability_below(prediction: PredictionDoc, threshold_ev: float) -> float:
    """P(true barrier < ``threshold_ev``) under the predictive distribution (module docstring).

    Parameters
    ----------
    prediction : PredictionDoc
        The hop's prediction.
    threshold_ev : float
        The threshold T, eV.

    Returns
    -------
    float
        In [0, 1]; 0 for a threshold at or below 0 eV, 0.5 at T = E.
    """
    if threshold_ev <= 0 or not np.isfinite(prediction.barrier_ev):
        return 0.0
    gap = threshold_ev - prediction.barrier_ev
    table = _abs_error_quantiles(prediction)
    if table is not None:
        levels, widths = table
        level = 1.0 if abs(gap) >= widths[-1] else float(np.interp(abs(gap), widths, levels))
    elif prediction.sigma_ev > 0:
        level = 2.0 * norm.cdf(abs(gap) / prediction.sigma_ev) - 1.0
    else:
        level = 1.0 if gap != 0 else 0.0
    return 0.5 + 0.5 * level if gap >= 0 else 0.5 - 0.5 * level
