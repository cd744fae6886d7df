"""The learning-curve section: host-grouped CV with fewer training hosts, and its power law."""

from __future__ import annotations

import numpy as np
import pytest

from hopscreen.benchmarks.learning_curve import (
    curve_predictions,
    extrapolate,
    fit_power_law,
    hops_for,
    keep_hosts,
    render_learning_curve,
    run_learning_curve,
    summarise,
)
from hopscreen.benchmarks.recipes import Recipe
from hopscreen.models.chgnet_backbone import ChgnetFeatureConfig
from hopscreen.models.head_config import ChgnetHeadConfig
from hopscreen.training.chgnet_head import cross_validate_head

TINY = ChgnetHeadConfig(kind="gbr", ensemble_size=1, n_estimators=30, max_features=1.0)


def _data(n_hosts: int = 30, per_host: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    groups = np.repeat([f"host{i}" for i in range(n_hosts)], per_host)
    X = rng.normal(size=(len(groups), 3))
    y = 0.6 + 0.3 * X[:, 0] - 0.2 * X[:, 1] ** 2 + 0.05 * rng.normal(size=len(groups))
    return X, y, ["a", "b", "c"], groups


def test_keep_hosts_keeps_whole_hosts_of_the_training_side() -> None:
    _, _, _, groups = _data()
    train_idx = np.arange(40, 120)
    rows = keep_hosts(train_idx, groups, 0.5, np.random.default_rng(1))
    assert set(rows) <= set(train_idx)
    kept = set(groups[rows])
    assert len(kept) == 10  # half of the 20 hosts of rows 40-119
    assert all(set(np.flatnonzero(groups == h)) <= set(rows) for h in kept)
    assert len(set(groups[keep_hosts(train_idx, groups, 0.01, np.random.default_rng(1))])) == 2
    assert np.array_equal(keep_hosts(train_idx, groups, 1.0, np.random.default_rng(1)), train_idx)
    with pytest.raises(ValueError, match="fraction"):
        keep_hosts(train_idx, groups, 0.0, np.random.default_rng(1))


def test_power_law_fit_and_its_inverse() -> None:
    n = np.array([50.0, 100.0, 200.0, 400.0])
    b, c = fit_power_law(n, 2.0 * n**-0.3)
    assert b == pytest.approx(2.0) and c == pytest.approx(0.3)
    assert hops_for(b, c, 2.0 * 800**-0.3) == pytest.approx(800)
    assert hops_for(1.0, -0.1, 0.5) == float("inf")


def test_full_fraction_is_plain_host_grouped_cv_and_fewer_hosts_train_on_fewer_hops() -> None:
    X, y, names, groups = _data()
    runs = curve_predictions(X, y, names, groups, TINY, fractions=(0.3, 1.0), repeats=2, k=3)
    assert [(r["fraction"], r["repeat"]) for r in runs] == [(0.3, 0), (0.3, 1), (1.0, 0)]
    oof, _ = cross_validate_head(X, y, names, list(groups), TINY, k=3, seed=0)
    assert np.array_equal(runs[-1]["predictions"], oof)
    assert runs[0]["n_train_mean"] < 0.4 * runs[-1]["n_train_mean"]
    assert all(np.isfinite(r["predictions"]).all() for r in runs)
    assert not np.array_equal(runs[0]["predictions"], runs[1]["predictions"])  # other draws


def test_summary_and_extrapolation_of_a_curve_that_improves() -> None:
    X, y, names, groups = _data(n_hosts=60)
    runs = curve_predictions(X, y, names, groups, TINY, fractions=(0.2, 0.5, 1.0), k=3)
    rows = summarise(runs, y, n_boot=50)
    assert [r["fraction"] for r in rows] == [0.2, 0.5, 1.0]
    assert rows[0]["mae_ev"] > rows[-1]["mae_ev"]  # more hosts, better on the same held-out hops
    assert rows[0]["full"] is None and rows[-1]["full"]["mae_ev"]["ci_low"] > 0
    law = extrapolate(runs, y, target_mae_ev=0.5 * rows[-1]["mae_ev"], n_boot=50)
    assert law["c"] > 0
    assert law["hops_needed"] > rows[-1]["n_train_mean"]
    low, high = law["hops_needed_ci"]
    assert low <= high
    upper = extrapolate(runs, y, target_mae_ev=0.2, n_boot=20, min_fraction=0.5)
    assert upper["n_points"] == 2 and law["n_points"] == 3
    with pytest.raises(ValueError, match="need two"):
        extrapolate(runs, y, min_fraction=0.9, n_boot=20)


def test_run_and_render_on_the_dataset(data_dir, tmp_path) -> None:
    head = TINY.model_copy(update={"blocks": ("bvse_", "phys_")})
    recipe = Recipe("tiny", ChgnetFeatureConfig(chgnet=False, physics=True), head, "t")
    options = {"fractions": (0.5, 1.0), "repeats": 2, "k": 3, "n_boot": 20, "limit": 36}
    run = run_learning_curve(recipe, data_dir=data_dir, cache_dir=tmp_path, **options)
    assert run["recipe"] == "tiny" and run["n_train"] == 36 and run["k"] == 3
    assert [r["repeats"] for r in run["rows"]] == [2, 1]
    text = render_learning_curve(run, "Machine: test.", note="busy")
    assert text.startswith("## How host-grouped accuracy grows with labels")
    assert "| 50% |" in text and "| 100% |" in text and "Conditions: busy" in text
    assert "- Through all 2 points:" in text
    assert "- Through the 2 points from 50% of the hosts up:" in text


def test_unknown_recipe_is_refused(data_dir) -> None:
    with pytest.raises(ValueError, match="unknown recipe 'nope'"):
        run_learning_curve("nope", data_dir=data_dir)


@pytest.mark.parametrize("fractions", [(), (0.5,), (0.0, 1.0), (0.5, 1.5)])
def test_fractions_without_the_full_point_or_out_of_range_are_refused(fractions) -> None:
    X, y, names, groups = _data()
    with pytest.raises(ValueError, match="fractions"):
        curve_predictions(X, y, names, groups, TINY, fractions=fractions, k=3)
