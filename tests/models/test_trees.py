"""Tree-ensemble export: numpy prediction equals sklearn's, bad files are refused clearly."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingRegressor

from hopscreen.models.trees import (
    TreeEnsemble,
    TreeFileError,
    arrays_digest,
    export_gbr,
    load_trees,
    save_trees,
)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 12))
    y = X[:, 0] ** 2 + np.sin(3 * X[:, 1]) + rng.normal(0, 0.1, 200)
    model = GradientBoostingRegressor(
        loss="huber",
        n_estimators=60,
        max_depth=3,
        learning_rate=0.05,
        subsample=0.8,
        max_features=0.3,
        min_samples_leaf=3,
        random_state=0,
    ).fit(X, y)
    return model, rng.normal(size=(500, 12)) * 2


def test_round_trip_predicts_like_sklearn(fitted, tmp_path):
    model, X = fitted
    ensemble = export_gbr(model)
    loaded = load_trees(save_trees(ensemble, tmp_path / "m.npz"))
    expected = model.predict(X)
    np.testing.assert_allclose(loaded.predict(X), expected, rtol=0, atol=1e-10)
    np.testing.assert_allclose(loaded.predict(X, chunk_rows=7), expected, rtol=0, atol=1e-10)
    assert arrays_digest(loaded) == arrays_digest(ensemble)
    with np.load(tmp_path / "m.npz", allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)


def test_zero_init_and_wrong_width(fitted):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 3))
    model = GradientBoostingRegressor(n_estimators=5, init="zero").fit(X, X[:, 0])
    np.testing.assert_allclose(export_gbr(model).predict(X), model.predict(X), atol=1e-10)
    with pytest.raises(ValueError, match=r"expected \(n, 3\)"):
        export_gbr(model).predict(X[:, :2])
    with pytest.raises(TypeError, match="GradientBoostingRegressor"):
        export_gbr(object())


def test_corrupt_or_inconsistent_files_are_refused(fitted, tmp_path):
    arrays = export_gbr(fitted[0]).to_arrays()
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(TreeFileError, match="cannot read"):
        load_trees(tmp_path / "junk.npz")
    np.savez(tmp_path / "short.npz", **{k: v for k, v in arrays.items() if k != "threshold"})
    with pytest.raises(TreeFileError, match=r"lack.*threshold"):
        load_trees(tmp_path / "short.npz")
    bad = dict(arrays, feature=np.where(arrays["feature"] >= 0, 99, arrays["feature"]))
    with pytest.raises(TreeFileError, match="column outside"):
        TreeEnsemble.from_arrays(bad)
    with pytest.raises(TreeFileError, match="differ in length"):
        TreeEnsemble.from_arrays(dict(arrays, value=arrays["value"][:-1]))
    np.savez(tmp_path / "pickled.npz", **dict(arrays, init=np.array([None], dtype=object)))
    with pytest.raises(TreeFileError):
        load_trees(tmp_path / "pickled.npz")
