"""Calibrated prediction intervals for ensemble models: normalised split conformal prediction.

An ensemble's σ (the spread of its seeds) measures how much the members disagree, not how far
the mean is from the truth: on the training hops of a tree head it is about 0.02 eV while the
error on hosts never seen is about 0.3 eV. Split conformal prediction turns it into intervals
with a stated coverage. From held-out residuals (out-of-fold predictions of host-grouped
cross-validation on the training hops) the scores

    s_i = |y_i − ŷ_i| / d_i,   d_i = σ_ens,i + γ,

are ranked, with γ the median out-of-fold σ (so d > 0 and hops on which the members disagree
get wider intervals). The conformal quantile at level α is the ⌈(n + 1)·α⌉-th smallest score
(clipped to the largest), and the interval of a new hop is ŷ ± q_α·(σ_ens + γ). When the new
hop and the calibration hops are exchangeable its coverage is at least α (and at most
α + 1/(n + 1) without ties); hops of hosts unlike any training host are not exchangeable, so
the coverage there is an estimate, checked on the test split and by grouped CV
(:mod:`hopscreen.evaluation`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field, model_validator

from hopscreen.schemas.base import Config

DEFAULT_LEVELS: tuple[float, ...] = (0.5, 0.68, 0.8, 0.9, 0.95)
"""Coverage levels whose score quantiles a calibration stores."""

INTERVAL_LEVELS: dict[str, float] = {"68": 0.68, "90": 0.9}
"""The intervals a prediction carries (key of ``interval_<key>_ev`` → coverage level)."""

MIN_GAMMA_EV = 1e-3
"""Floor of the difficulty offset γ (eV), so d = σ_ens + γ > 0 even for a one-member model."""

_LEVEL_TOL = 1e-9


def conformal_quantile(scores: ArrayLike, level: float) -> float:
    """The split-conformal quantile of ``scores`` at coverage ``level``.

    Parameters
    ----------
    scores : array_like
        (n,) non-negative conformity scores of the calibration set, finite.
    level : float
        Coverage level in (0, 1).

    Returns
    -------
    float
        The ⌈(n + 1)·level⌉-th smallest score (rank clipped to [1, n]).
    """
    s = np.sort(np.asarray(scores, dtype=np.float64).ravel())
    if len(s) == 0 or not np.all(np.isfinite(s)):
        raise ValueError("conformal scores must be a non-empty array of finite values")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), not {level}")
    rank = min(max(math.ceil((len(s) + 1) * level - _LEVEL_TOL), 1), len(s))
    return float(s[rank - 1])


class ConformalCalibration(Config):
    """Normalised split-conformal calibration of an ensemble's intervals (module docstring).

    The half-width of the interval at level α is ``q_α · (σ_ens + gamma_ev)``, eV.
    """

    method: Literal["normalised-split-conformal"] = "normalised-split-conformal"
    gamma_ev: float = Field(
        gt=0, description="difficulty offset γ = median out-of-fold σ_ens (floored), eV"
    )
    levels: list[float] = Field(description="coverage levels, increasing, in (0, 1)")
    score_quantiles: list[float] = Field(
        description="conformal quantile of |y − ŷ| / (σ_ens + γ) at each level (dimensionless)"
    )
    n_calibration: int = Field(ge=1, description="held-out residuals the quantiles come from")
    groups: Literal["host"] = Field(
        "host", description="what the cross-validation folds held out (whole hosts)"
    )
    k_folds: int = Field(5, ge=2, description="folds of the calibration cross-validation")
    fold_seed: int = Field(0, description="seed of the fold assignment")
    oof_mae_ev: float | None = Field(
        None, description="MAE of the out-of-fold predictions calibrated on, eV"
    )

    @model_validator(mode="after")
    def _consistent(self) -> ConformalCalibration:
        if len(self.levels) != len(self.score_quantiles) or not self.levels:
            raise ValueError("one score quantile per level is needed")
        if any(not 0.0 < a < 1.0 for a in self.levels) or any(
            b <= a for a, b in pairwise(self.levels)
        ):
            raise ValueError("levels must increase strictly within (0, 1)")
        q = self.score_quantiles
        if any(not (math.isfinite(v) and v >= 0) for v in q) or any(b < a for a, b in pairwise(q)):
            raise ValueError("score quantiles must be finite, non-negative and non-decreasing")
        return self

    def has_level(self, level: float) -> bool:
        """Whether ``level`` is one of the stored levels."""
        return any(abs(a - level) < _LEVEL_TOL for a in self.levels)

    def quantile(self, level: float) -> float:
        """The stored score quantile at ``level``.

        Raises
        ------
        ValueError
            ``level`` is not one of ``levels`` (quantiles are not interpolated).
        """
        for a, q in zip(self.levels, self.score_quantiles, strict=True):
            if abs(a - level) < _LEVEL_TOL:
                return q
        raise ValueError(f"level {level} was not calibrated; calibrated levels: {self.levels}")

    def half_width(self, sigma_ens: ArrayLike, level: float) -> np.ndarray:
        """Half-widths of the intervals at ``level``.

        Parameters
        ----------
        sigma_ens : array_like
            Ensemble spread σ_ens of each prediction, eV (any shape).
        level : float
            One of ``levels``.

        Returns
        -------
        numpy.ndarray
            ``q_level · (sigma_ens + gamma_ev)``, eV, same shape as ``sigma_ens``.
        """
        sigma = np.asarray(sigma_ens, dtype=np.float64)
        return self.quantile(level) * (sigma + self.gamma_ev)


def fit_conformal_calibration(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    sigma_ens: ArrayLike,
    *,
    levels: Sequence[float] = DEFAULT_LEVELS,
    k_folds: int = 5,
    fold_seed: int = 0,
) -> ConformalCalibration:
    """Calibrate intervals on held-out (out-of-fold) predictions.

    Parameters
    ----------
    y_true : array_like
        (n,) true barriers, eV.
    y_pred, sigma_ens : array_like
        (n,) held-out predictions and their ensemble spreads, eV.
    levels : sequence of float
        Coverage levels to store, increasing.
    k_folds, fold_seed
        How the held-out predictions were made (recorded in the calibration).

    Returns
    -------
    ConformalCalibration
    """
    y = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    s = np.asarray(sigma_ens, dtype=np.float64).ravel()
    if not len(y) == len(p) == len(s) or len(y) == 0:
        raise ValueError("y_true, y_pred and sigma_ens need equal, non-zero lengths")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(p)) and np.all(np.isfinite(s))):
        raise ValueError("calibration inputs must be finite")
    if np.any(s < 0):
        raise ValueError("ensemble spreads must be non-negative")
    gamma = max(float(np.median(s)), MIN_GAMMA_EV)
    scores = np.abs(y - p) / (s + gamma)
    return ConformalCalibration(
        gamma_ev=gamma,
        levels=[float(a) for a in levels],
        score_quantiles=[conformal_quantile(scores, a) for a in levels],
        n_calibration=len(y),
        k_folds=k_folds,
        fold_seed=fold_seed,
        oof_mae_ev=float(np.mean(np.abs(y - p))),
    )
