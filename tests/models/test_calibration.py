"""Normalised split-conformal calibration: quantile ranks, coverage on exchangeable data."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from hopscreen.models.calibration import (
    MIN_GAMMA_EV,
    ConformalCalibration,
    conformal_quantile,
    fit_conformal_calibration,
)


def test_conformal_quantile_uses_the_finite_sample_rank():
    scores = np.arange(1.0, 11.0)  # n = 10: 1, 2, ..., 10
    # ceil(11 * 0.5) = 6 -> 6th smallest; ceil(11 * 0.9) = 10 -> 10th
    assert conformal_quantile(scores[::-1], 0.5) == 6.0
    assert conformal_quantile(scores, 0.9) == 10.0
    assert conformal_quantile(scores, 0.68) == 8.0  # ceil(7.48) = 8
    assert conformal_quantile(scores, 0.95) == 10.0  # ceil(10.45) = 11, clipped to n
    assert conformal_quantile(scores, 0.05) == 1.0
    with pytest.raises(ValueError, match="level"):
        conformal_quantile(scores, 1.0)
    with pytest.raises(ValueError, match="finite"):
        conformal_quantile([1.0, np.nan], 0.5)


def _synthetic(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Heteroscedastic residuals whose scale is σ + 0.1: exchangeable (y, ŷ, σ) triples."""
    sigma = rng.uniform(0.0, 0.4, size=n)
    pred = rng.uniform(0.2, 1.5, size=n)
    y = pred + (sigma + 0.1) * rng.standard_t(df=5, size=n)
    return y, pred, sigma


def test_held_out_coverage_is_close_to_the_level():
    rng = np.random.default_rng(0)
    cal = fit_conformal_calibration(*_synthetic(2000, rng))
    y, pred, sigma = _synthetic(20000, rng)
    assert cal.n_calibration == 2000 and cal.groups == "host"
    assert cal.method == "normalised-split-conformal"
    for level in cal.levels:
        covered = np.abs(y - pred) <= cal.half_width(sigma, level)
        assert abs(covered.mean() - level) < 0.025, level
    # hard hops (large σ) get wider intervals than easy ones
    w = cal.half_width(np.array([0.0, 0.4]), 0.9)
    assert w[1] > w[0] > 0


def test_calibration_covers_itself_at_least_at_the_level():
    rng = np.random.default_rng(1)
    y, pred, sigma = _synthetic(101, rng)
    cal = fit_conformal_calibration(y, pred, sigma)
    np.testing.assert_allclose(cal.gamma_ev, np.median(sigma))
    for level in cal.levels:
        covered = np.abs(y - pred) <= cal.half_width(sigma, level)
        assert covered.mean() >= level


def test_half_width_is_q_times_sigma_plus_gamma_and_unknown_levels_are_refused():
    cal = ConformalCalibration(
        gamma_ev=0.1, levels=[0.68, 0.9], score_quantiles=[1.5, 3.0], n_calibration=10
    )
    np.testing.assert_allclose(cal.half_width([0.0, 0.2], 0.68), [0.15, 0.45])
    np.testing.assert_allclose(cal.half_width(0.1, 0.9), 0.6)
    assert cal.has_level(0.9) and not cal.has_level(0.95)
    with pytest.raises(ValueError, match="was not calibrated"):
        cal.half_width([0.1], 0.95)


def test_invalid_calibrations_are_refused():
    ok = {"gamma_ev": 0.1, "levels": [0.5, 0.9], "score_quantiles": [1.0, 2.0], "n_calibration": 5}
    ConformalCalibration(**ok)
    for bad in (
        {"levels": [0.9, 0.5]},
        {"score_quantiles": [2.0, 1.0]},
        {"score_quantiles": [1.0]},
        {"gamma_ev": 0.0},
        {"extra_field": 1},
    ):
        with pytest.raises(ValidationError):
            ConformalCalibration(**{**ok, **bad})


def test_zero_spread_gets_the_gamma_floor():
    cal = fit_conformal_calibration([1.0, 1.2, 0.9], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    assert cal.gamma_ev == MIN_GAMMA_EV
    assert np.all(np.isfinite(cal.score_quantiles))
    with pytest.raises(ValueError, match="equal"):
        fit_conformal_calibration([1.0], [1.0, 2.0], [0.1, 0.1])
