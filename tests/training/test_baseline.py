"""The BVSE baseline a head can correct, and the monotone histogram-boosting head."""

from __future__ import annotations

import numpy as np
import pytest

from hopscreen.models.head_config import ChgnetHeadConfig
from hopscreen.training.baseline import baseline_columns, fit_bvse_baseline
from hopscreen.training.chgnet_head import fit_head, train_chgnet_head_model

NAMES = ["bvse_barrier_ev", "phys_ion_charge", "phys_noise"]


def synthetic(n: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """E_m = 0.1 + 0.3·asinh(BVSE) for +1 ions and 0.5 + 0.6·asinh(BVSE) for +2 ions."""
    rng = np.random.default_rng(seed)
    bvse = rng.uniform(0.1, 3.0, n)
    charge = np.where(np.arange(n) % 2 == 0, 1.0, 2.0)
    y = np.where(charge == 1, 0.1 + 0.3 * np.arcsinh(bvse), 0.5 + 0.6 * np.arcsinh(bvse))
    return np.column_stack([bvse, charge, rng.normal(size=n)]), y


def test_baseline_recovers_one_line_per_charge() -> None:
    X, y = synthetic()
    base = fit_bvse_baseline(X[:, 0], X[:, 1], y)
    assert base.lines[1.0] == pytest.approx((0.1, 0.3), abs=1e-3)
    assert base.lines[2.0] == pytest.approx((0.5, 0.6), abs=1e-3)
    # a hop without a BVSE profile gets its charge's mean target
    got = base.predict(np.array([np.nan]), np.array([2.0]))
    assert got[0] == pytest.approx(y[X[:, 1] == 2].mean())


def test_residual_head_extrapolates_beyond_the_training_range() -> None:
    X, y = synthetic()
    far = np.array([[30.0, 2.0, 0.0]])  # BVSE barrier 10x the largest training value
    truth = 0.5 + 0.6 * np.arcsinh(30.0)
    plain = fit_head(X, y, NAMES, ChgnetHeadConfig(kind="gbr", ensemble_size=2))
    resid = fit_head(
        X, y, NAMES, ChgnetHeadConfig(kind="gbr", ensemble_size=2, baseline="bvse_ion")
    )
    p_plain, _ = plain.predict(far)
    p_resid, _ = resid.predict(far)
    assert p_plain[0] <= y.max() + 1e-9  # trees clamp to the training range
    assert abs(p_resid[0] - truth) < 0.05 < abs(p_plain[0] - truth)


def test_baseline_needs_the_physics_columns() -> None:
    with pytest.raises(ValueError, match="bvse_barrier_ev"):
        baseline_columns(["e_dmid_ev", "phys_ion_charge"])


def test_monotone_hgb_never_falls_along_the_constrained_column() -> None:
    X, y = synthetic()
    y = y + np.random.default_rng(3).normal(0, 0.2, len(y))  # noise that could break monotony
    cfg = ChgnetHeadConfig(kind="hgb", ensemble_size=2, monotone={"bvse_": 1}, n_estimators=50)
    head = fit_head(X, y, NAMES, cfg)
    grid = np.column_stack([np.linspace(0.1, 3.0, 50), np.full(50, 1.0), np.zeros(50)])
    pred, _ = head.predict(grid)
    assert np.all(np.diff(pred) >= -1e-12)
    free = fit_head(X, y, NAMES, cfg.model_copy(update={"monotone": {}}))
    assert not np.allclose(free.predict(grid)[0], pred)


def test_only_plain_gbr_heads_are_saved(tmp_path) -> None:
    _, y = synthetic(12)
    with pytest.raises(ValueError, match="baseline"):
        train_chgnet_head_model(
            [None] * 12,
            y,
            [f"r{i}" for i in range(12)],
            tmp_path,
            config=ChgnetHeadConfig(kind="gbr", baseline="bvse_ion"),
        )
