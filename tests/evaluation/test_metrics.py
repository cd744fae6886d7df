"""Metrics: hand-computed values, bootstrap determinism, and the paper's published numbers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hopscreen.evaluation.metrics import (
    classification_metrics,
    evaluate_predictions,
    paired_bootstrap_difference,
    regression_metrics,
)

Y_TRUE = [0.0, 1.0, 2.0, 3.0]
Y_PRED = [0.5, 1.0, 1.0, 4.0]  # errors +0.5, 0, -1, +1


def test_regression_hand_computed() -> None:
    m = regression_metrics(Y_TRUE, Y_PRED, n_boot=100)
    assert m["n"] == 4
    assert m["mae_ev"]["value"] == pytest.approx(0.625)
    assert m["rmse_ev"]["value"] == pytest.approx(0.75)
    assert m["median_ae_ev"]["value"] == pytest.approx(0.75)
    assert m["bias_ev"]["value"] == pytest.approx(0.125)
    assert m["r2"]["value"] == pytest.approx(1 - 2.25 / 5.0)
    # std of (0.5, 1, 1, 4) over std of (0, 1, 2, 3): variances 7.6875 / 4 and 5 / 4
    assert m["spread_ratio"]["value"] == pytest.approx(np.std(Y_PRED) / np.std(Y_TRUE))
    assert m["spread_ratio"]["value"] == pytest.approx(math.sqrt(1.921875 / 1.25))


def test_spread_ratio_of_a_squeezed_model_is_exactly_the_squeeze() -> None:
    rng = np.random.default_rng(3)
    y = rng.uniform(0.1, 2.5, 40)
    squeezed = y.mean() + 0.5 * (y - y.mean())
    est = regression_metrics(y, squeezed, n_boot=300)["spread_ratio"]
    # every resample is squeezed by the same factor, so the interval collapses onto 0.5
    assert est == pytest.approx({"value": 0.5, "ci_low": 0.5, "ci_high": 0.5})
    widened = regression_metrics(y, 3.0 - 1.2 * y, n_boot=10)["spread_ratio"]
    assert widened["value"] == pytest.approx(1.2)  # anti-correlated still counts its spread


def test_classification_hand_computed() -> None:
    # threshold 1.5: truth good, good, bad, bad; prediction good, good, good, bad
    c = classification_metrics(Y_TRUE, Y_PRED, 1.5, n_boot=100)
    assert c["confusion"] == {
        "true_good_pred_good": 2,
        "true_good_pred_bad": 0,
        "true_bad_pred_good": 1,
        "true_bad_pred_bad": 1,
    }
    assert c["accuracy"]["value"] == pytest.approx(0.75)
    assert c["good"] == pytest.approx({"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2})
    assert c["bad"] == pytest.approx({"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2})


def test_threshold_value_itself_is_bad() -> None:
    c = classification_metrics([0.65, 0.2], [0.65, 0.2], 0.65, n_boot=10)
    assert c["confusion"]["true_bad_pred_bad"] == 1
    assert c["confusion"]["true_good_pred_good"] == 1


def test_undefined_values_are_none_and_json_clean() -> None:
    c = classification_metrics([0.1, 0.2], [0.1, 0.2], 0.65, n_boot=10)  # nothing bad
    assert c["bad"]["precision"] is None and c["bad"]["recall"] is None
    assert c["bad"]["f1"] is None and c["good"]["f1"] == 1.0
    r = regression_metrics([1.0, 1.0, 1.0], [0.9, 1.0, 1.2], n_boot=10)  # no spread
    assert r["r2"]["value"] is None
    assert r["spread_ratio"]["value"] is None
    json.dumps(evaluate_predictions([1.0, 1.0], [0.5, 2.0], n_boot=10), allow_nan=False)


def test_bootstrap_deterministic_and_ci_contains_estimate() -> None:
    rng = np.random.default_rng(1)
    y = rng.uniform(0, 2, 80)
    p = y + rng.normal(0, 0.3, 80)
    a = evaluate_predictions(y, p, n_boot=500, seed=3)
    b = evaluate_predictions(y, p, n_boot=500, seed=3)
    c = evaluate_predictions(y, p, n_boot=500, seed=4)
    assert a == b
    assert a["regression"]["mae_ev"]["ci_low"] != c["regression"]["mae_ev"]["ci_low"]
    assert a["regression"]["mae_ev"]["value"] == c["regression"]["mae_ev"]["value"]
    for key in ("mae_ev", "rmse_ev", "r2", "median_ae_ev", "bias_ev", "spread_ratio"):
        est = a["regression"][key]
        assert est["ci_low"] <= est["value"] <= est["ci_high"], key
    for cls in a["classification"]:
        acc = cls["accuracy"]
        assert acc["ci_low"] <= acc["value"] <= acc["ci_high"]
    assert [cls["threshold_ev"] for cls in a["classification"]] == [0.5, 0.65]


def test_wider_interval_at_higher_confidence() -> None:
    rng = np.random.default_rng(2)
    y, p = rng.uniform(0, 2, 50), rng.uniform(0, 2, 50)
    lo = regression_metrics(y, p, n_boot=500, ci=0.5)["mae_ev"]
    hi = regression_metrics(y, p, n_boot=500, ci=0.95)["mae_ev"]
    assert hi["ci_low"] < lo["ci_low"] < lo["ci_high"] < hi["ci_high"]


def test_input_validation() -> None:
    with pytest.raises(ValueError, match="y_pred"):
        regression_metrics([1, 2], [1])
    with pytest.raises(ValueError, match="finite"):
        regression_metrics([1, 2], [1, math.nan])
    with pytest.raises(ValueError, match="n_boot"):
        regression_metrics([1, 2], [1, 2], n_boot=0)
    with pytest.raises(ValueError, match="ci"):
        regression_metrics([1, 2], [1, 2], ci=1.5)


def test_paired_bootstrap() -> None:
    rng = np.random.default_rng(5)
    y = rng.uniform(0, 2, 60)
    good = y + rng.normal(0, 0.1, 60)
    bad = y + rng.normal(0, 0.5, 60)
    same = paired_bootstrap_difference(y, good, good, n_boot=200)
    assert same["difference"] == {"value": 0.0, "ci_low": 0.0, "ci_high": 0.0}
    d = paired_bootstrap_difference(y, good, bad, n_boot=500, seed=1)
    assert d["metric_a"] == pytest.approx(np.mean(np.abs(good - y)))
    assert d["difference"]["value"] == pytest.approx(d["metric_a"] - d["metric_b"])
    assert d["difference"]["ci_high"] < 0 and d["fraction_a_better"] > 0.99
    r = paired_bootstrap_difference(y, bad, good, n_boot=500, seed=1)
    assert r["difference"]["ci_low"] == pytest.approx(-d["difference"]["ci_high"])


def test_paper_model3_and_mace_published_numbers(data_dir) -> None:
    """TARGETS.md: Model-3 test MAE 0.261 (0.197–0.329), R² 0.703, …; MACE relaxed 0.340."""
    from hopscreen.data.published import load_paper_test_predictions
    from hopscreen.evaluation.paper_test import published_test_baselines
    from hopscreen.evaluation.results import ROW_MACE

    df = load_paper_test_predictions(data_dir)
    assert len(df) == 60
    m = evaluate_predictions(df.barrier_ev, df.predicted_ev)
    reg = m["regression"]
    assert reg["mae_ev"]["value"] == pytest.approx(0.261, abs=5e-4)
    assert reg["mae_ev"]["ci_low"] == pytest.approx(0.197, abs=0.01)
    assert reg["mae_ev"]["ci_high"] == pytest.approx(0.329, abs=0.01)
    assert reg["r2"]["value"] == pytest.approx(0.703, abs=5e-4)
    assert reg["median_ae_ev"]["value"] == pytest.approx(0.159, abs=5e-4)
    assert reg["rmse_ev"]["value"] == pytest.approx(0.372, abs=5e-4)
    at065 = m["classification"][1]
    assert at065["threshold_ev"] == 0.65
    assert at065["accuracy"]["value"] == pytest.approx(0.800, abs=5e-4)
    assert at065["good"]["precision"] == pytest.approx(0.828, abs=5e-4)
    assert at065["bad"]["precision"] == pytest.approx(0.774, abs=5e-4)
    # "good" as < or as <= gives the same numbers: no barrier sits exactly on 0.65 eV
    assert not np.any(np.isclose(df.barrier_ev, 0.65)) and not np.any(
        np.isclose(df.predicted_ev, 0.65)
    )

    mace = published_test_baselines(data_dir)[ROW_MACE]
    assert len(mace) == 60
    y = df.set_index("record_id").barrier_ev
    ids = sorted(mace)
    mm = evaluate_predictions(y[ids].to_numpy(), np.array([mace[i] for i in ids]))
    assert mm["regression"]["mae_ev"]["value"] == pytest.approx(0.340, abs=5e-4)
    assert mm["classification"][1]["accuracy"]["value"] == pytest.approx(0.80, abs=5e-4)
