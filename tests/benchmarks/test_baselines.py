from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from hopscreen.benchmarks.baselines import BaselineConfig, fit_baseline, predict_baseline


def toy_data(n: int = 160, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A barrier that rises with column 0 and falls with column 1; column 2 is noise."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, 3))
    y = 0.2 + 1.5 * X[:, 0] - 0.8 * X[:, 1] ** 2 + rng.normal(0, 0.02, n)
    return X, y


@pytest.mark.parametrize("kind", ["rf", "gbr"])
def test_fit_predict_is_deterministic_and_learns(kind: str) -> None:
    X, y = toy_data()
    Xt, yt = toy_data(60, seed=1)
    config = BaselineConfig(kind=kind, n_estimators=60, n_members=3, seed=3)
    p1, s1 = predict_baseline(fit_baseline(X, y, config), Xt)
    p2, s2 = predict_baseline(fit_baseline(X, y, config), Xt)
    np.testing.assert_array_equal(p1, p2)
    np.testing.assert_array_equal(s1, s2)
    assert p1.shape == s1.shape == (60,)
    assert (s1 >= 0).all() and (s1 > 0).any()
    mae = np.abs(p1 - yt).mean()
    assert mae < 0.5 * np.abs(yt - np.median(y)).mean()


def test_a_different_seed_gives_a_different_forest() -> None:
    X, y = toy_data()
    a, _ = predict_baseline(fit_baseline(X, y, BaselineConfig(n_estimators=20, seed=0)), X)
    b, _ = predict_baseline(fit_baseline(X, y, BaselineConfig(n_estimators=20, seed=1)), X)
    assert not np.array_equal(a, b)


def test_rf_sigma_is_the_spread_of_the_trees() -> None:
    X, y = toy_data()
    model = fit_baseline(X, y, BaselineConfig(n_estimators=25, seed=0))
    mean, sigma = predict_baseline(model, X[:5])
    (forest,) = model.estimators
    np.testing.assert_allclose(mean, forest.predict(X[:5]))
    trees = np.stack([t.predict(X[:5]) for t in forest.estimators_])
    np.testing.assert_allclose(sigma, trees.std(axis=0))


def test_single_gbr_member_has_zero_sigma() -> None:
    X, y = toy_data()
    model = fit_baseline(X, y, BaselineConfig(kind="gbr", n_estimators=30, n_members=1))
    _, sigma = predict_baseline(model, X[:10])
    np.testing.assert_array_equal(sigma, 0.0)


def test_missing_descriptors_are_filled_with_training_medians() -> None:
    X, y = toy_data()
    X[::7, 2] = np.nan
    X[:, 1][0] = np.nan
    model = fit_baseline(X, y, BaselineConfig(n_estimators=20))
    assert model.fill_values[2] == pytest.approx(np.nanmedian(X[:, 2]))
    probe = X[:3].copy()
    probe[:, 0] = np.nan
    pred, sigma = predict_baseline(model, probe)
    assert np.isfinite(pred).all() and np.isfinite(sigma).all()
    filled = probe.copy()
    filled[:, 0] = model.fill_values[0]
    filled[np.isnan(filled)] = model.fill_values[2]
    np.testing.assert_array_equal(pred, predict_baseline(model, filled)[0])


def test_bad_inputs_are_rejected() -> None:
    X, y = toy_data()
    with pytest.raises(ValueError, match="NaN"):
        fit_baseline(X, np.r_[y[:-1], np.nan], BaselineConfig(n_estimators=5))
    model = fit_baseline(X, y, BaselineConfig(n_estimators=5))
    with pytest.raises(ValueError, match="descriptors"):
        predict_baseline(model, X[:, :2])
    with pytest.raises(ValidationError):
        BaselineConfig(kind="svm")
    with pytest.raises(ValidationError):
        BaselineConfig(n_trees=10)
