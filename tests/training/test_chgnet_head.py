"""Heads on CHGNet hop vectors: fitting is deterministic, CV is host-grouped."""

from __future__ import annotations

import numpy as np
import pytest

from hopscreen.models.calibration import conformal_quantile
from hopscreen.models.head_config import ChgnetHeadConfig, select_columns
from hopscreen.training.chgnet_head import calibrate_head, cross_validate_head, fit_head

NAMES = [f"ion_init_{i}" for i in range(6)] + ["e_dmid_ev", "geo_hop_length_angstrom"]


def synthetic(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(NAMES)))
    y = np.abs(0.5 + 0.3 * X[:, 0] - 0.2 * X[:, 6] + 0.05 * rng.normal(size=n))
    return X, y


@pytest.mark.parametrize(
    "cfg",
    [
        ChgnetHeadConfig(kind="mlp", hidden=(16,), epochs=20, ensemble_size=2),
        ChgnetHeadConfig(kind="ridge", alpha=1.0),
        ChgnetHeadConfig(kind="gbr", n_estimators=20, ensemble_size=2),
        ChgnetHeadConfig(kind="rf", n_estimators=10, ensemble_size=2, target_transform="log1p"),
    ],
    ids=lambda c: c.kind,
)
def test_fit_predict_is_deterministic(cfg):
    if cfg.kind != "mlp":
        pytest.importorskip("sklearn")
    X, y = synthetic()
    p1, s1 = fit_head(X, y, NAMES, cfg).predict(X[:10])
    p2, s2 = fit_head(X, y, NAMES, cfg).predict(X[:10])
    np.testing.assert_array_equal(p1, p2)
    np.testing.assert_array_equal(s1, s2)
    assert p1.shape == s1.shape == (10,)
    assert np.all(s1 >= 0)


def test_ridge_learns_a_linear_target():
    pytest.importorskip("sklearn")
    X, y = synthetic(200)
    pred, sigma = fit_head(X, y, NAMES, ChgnetHeadConfig(kind="ridge", alpha=0.1)).predict(X)
    assert np.mean(np.abs(pred - y)) < 0.1
    assert np.all(sigma == 0)


def test_blocks_select_columns():
    assert select_columns(NAMES, ("e_", "geo_")).tolist() == [6, 7]
    assert select_columns(NAMES, None).tolist() == list(range(len(NAMES)))
    with pytest.raises(ValueError, match="no feature column"):
        select_columns(NAMES, ("host_",))
    pytest.importorskip("sklearn")
    head = fit_head(*synthetic(), NAMES, ChgnetHeadConfig(kind="ridge", blocks=("ion_",)))
    assert head.columns.tolist() == list(range(6))


def test_cross_validation_predicts_every_row_out_of_fold():
    pytest.importorskip("sklearn")
    X, y = synthetic(50)
    groups = [f"host:{i % 10}" for i in range(50)]
    cfg = ChgnetHeadConfig(kind="ridge")
    pred, _sigma = cross_validate_head(X, y, NAMES, groups, cfg, k=5)
    assert np.all(np.isfinite(pred)) and pred.shape == (50,)
    again, _ = cross_validate_head(X, y, NAMES, groups, cfg, k=5)
    np.testing.assert_array_equal(pred, again)


def test_non_finite_inputs_are_filled_with_the_training_median():
    pytest.importorskip("sklearn")
    X, y = synthetic()
    X[3, :6] = np.nan
    head = fit_head(X, y, NAMES, ChgnetHeadConfig(kind="gbr", n_estimators=10, ensemble_size=1))
    np.testing.assert_allclose(head.x_fill[:6], np.nanmedian(X[:, :6], axis=0))
    pred, _ = head.predict(X[:5])
    assert np.all(np.isfinite(pred))


def test_calibration_comes_from_host_grouped_out_of_fold_residuals():
    pytest.importorskip("sklearn")
    X, y = synthetic(60)
    groups = [f"host:{i % 12}" for i in range(60)]
    cfg = ChgnetHeadConfig(kind="gbr", n_estimators=20, ensemble_size=3)
    cal = calibrate_head(X, y, NAMES, groups, cfg, k=4, seed=1)
    pred, sigma = cross_validate_head(X, y, NAMES, groups, cfg, k=4, seed=1)
    assert cal.n_calibration == 60 and cal.k_folds == 4 and cal.fold_seed == 1
    assert cal.gamma_ev == pytest.approx(np.median(sigma))
    scores = np.abs(y - pred) / (sigma + cal.gamma_ev)
    assert cal.quantile(0.9) == pytest.approx(conformal_quantile(scores, 0.9))
    assert cal.oof_mae_ev == pytest.approx(np.mean(np.abs(y - pred)))
    # out-of-fold residuals are wider than the ensemble spread on the training rows
    _, train_sigma = fit_head(X, y, NAMES, cfg).predict(X)
    assert np.mean(cal.half_width(train_sigma, 0.68)) > np.mean(train_sigma)
