"""The cascade section: both tiers on the same folds, every routing rule scored, the verdict."""

from __future__ import annotations

import numpy as np
import pytest

from hopscreen.benchmarks.cascade import (
    DEFAULT_RULE,
    RULES,
    TierPredictions,
    chain_networks,
    host_bootstrap_difference,
    run_cascade,
    score_rules,
)
from hopscreen.benchmarks.cascade_report import render_cascade, verdict
from hopscreen.hops.network import network_from_doc
from hopscreen.hops.percolation import percolation_barriers
from hopscreen.models.chgnet_backbone import ChgnetFeatureConfig
from hopscreen.models.head_config import ChgnetHeadConfig

PHYSICS_ONLY = ChgnetFeatureConfig(chgnet=False, physics=True)


def test_chain_network_percolates_at_the_lowest_hop() -> None:
    (doc,) = chain_networks(["h", "h", "h"], ["x", "y", "z"], "Li")
    barriers = percolation_barriers(network_from_doc(doc), {"x": 0.9, "y": 0.4, "z": 1.2})
    assert barriers[1].barrier_ev == 0.4 and barriers[1].bottleneck_hop_id == "y"
    assert barriers[2].barrier_ev is None  # every hop a chain along a: never 2D


def test_host_bootstrap_is_paired_and_clustered() -> None:
    err = np.array([0.1, 0.2, 0.3, 0.4])
    same = host_bootstrap_difference(err, err, ["a", "a", "b", "b"], n_boot=200)
    assert same == {"value": 0.0, "ci_low": 0.0, "ci_high": 0.0}
    better = host_bootstrap_difference(err - 0.05, err, ["a", "a", "b", "b"], n_boot=200)
    assert better["value"] == pytest.approx(-0.05)
    assert better["ci_high"] == pytest.approx(-0.05)  # a constant shift in every resample
    # one host with all the gain: resamples without it see none, so the interval reaches 0
    lumpy = host_bootstrap_difference(err - [0.2, 0.2, 0, 0], err, list("aabb"), n_boot=500)
    assert lumpy["ci_low"] < lumpy["value"] < 0 and lumpy["ci_high"] == pytest.approx(0.0)


def _tier(pred: list[float], w90: float) -> TierPredictions:
    p = np.array(pred)
    return TierPredictions(p, np.zeros_like(p), np.full_like(p, w90 / 2), np.full_like(p, w90))


def test_rules_route_as_the_library_and_score_the_routed_hops() -> None:
    y = np.array([0.2, 0.7, 1.5, 0.6])
    tier1 = _tier([0.1, 0.5, 1.6, 0.9], 0.2)  # straddles 0.65 at 90 %: hop 1 only
    tier2 = _tier([0.2, 0.7, 1.0, 0.6], 0.2)  # exact except hop 2
    rows = {
        r["rule"]: r
        for r in score_rules(y, (tier1, tier2), ["h", "h", "g", "g"], list("abcd"), n_boot=50)
    }
    assert [r for r, *_ in RULES] == list(rows)
    assert rows["tier 1 alone"]["n_routed"] == 0
    assert rows["tier 2 alone"]["n_routed"] == 4
    s90 = rows["straddle, 90 %"]
    assert s90["n_routed"] == 1 and s90["routed_mae_tier1_ev"] == pytest.approx(0.2)
    assert s90["routed_mae_tier2_ev"] == pytest.approx(0.0)
    assert s90["mae_ev"]["value"] == pytest.approx((0.1 + 0.1 + 0.3) / 4)
    # bottleneck: host g's lowest hop d ([0.8, 1.0]) sets its barrier; c ([1.5, 1.7]) cannot
    default = rows[DEFAULT_RULE]
    assert default["n_routed"] == 3  # b (straddle), a (host h's lowest), d (host g's lowest)
    assert default["share_routed"] == pytest.approx(0.75)
    assert rows["tier 2 alone"]["mae_ev"]["value"] == pytest.approx(0.5 / 4)


def test_run_cascade_scores_both_tiers_on_the_same_folds(data_dir, tmp_path) -> None:
    head = ChgnetHeadConfig(kind="gbr", ensemble_size=2, n_estimators=10, target_transform="log1p")
    fast = (PHYSICS_ONLY, head.model_copy(update={"blocks": ("bvse_",)}))
    accurate = (PHYSICS_ONLY, head.model_copy(update={"blocks": ("phys_", "bvse_")}))
    out = run_cascade(
        (fast, accurate),
        data_dir=data_dir,
        cache_dir=tmp_path,
        k=3,
        n_boot=20,
        timing_hops=0,
        limit=21,
    )
    assert (out["n_train"], out["n_test"], out["k"]) == (21, 21, 3)
    assert out["seconds_per_hop"] == {}
    assert 0 <= out["coverage"]["68"] <= out["coverage"]["90"] <= 1
    for split in ("cv", "test"):
        rows = {r["rule"]: r for r in out[split]}
        alone1, alone2 = rows["tier 1 alone"], rows["tier 2 alone"]
        assert alone1["mae_ev"]["value"] != alone2["mae_ev"]["value"]
        assert alone2["routed_mae_tier2_ev"] == pytest.approx(alone2["mae_ev"]["value"])
        assert alone2["routed_mae_tier1_ev"] == pytest.approx(alone1["mae_ev"]["value"])
        for r in rows.values():
            assert 0 <= r["share_routed"] <= 1
        assert rows["straddle, 68 %"]["n_routed"] <= rows["straddle, 90 %"]["n_routed"]
        assert rows["straddle, 90 %"]["n_routed"] <= rows[DEFAULT_RULE]["n_routed"]
    text = render_cascade(
        {
            **out,
            "seconds_per_hop": {"tier1": 0.04, "tier2": 0.8},
            "timing_atoms": 120.0,
            "n_timed": 10,
        },
        "Machine: test.",
        "busy",
    )
    assert "Conditions: busy" in text and "tier 2 costs **20×** tier 1" in text
    assert text.count("\n| straddle or bottleneck, 90 % (default) |") == 2
    assert "Verdict: " in text


def _results(ci_high: float) -> dict:
    row = {
        "rule": DEFAULT_RULE,
        "n_routed": 300,
        "share_routed": 0.5,
        "routed_tier2_minus_tier1_hosts": {"value": -0.02, "ci_low": -0.04, "ci_high": ci_high},
    }
    return {"cv": [row], "tiers": {"tier1": "fast", "tier2": "slow"}}


def test_verdict_recommends_tier1_alone_unless_tier2_is_significantly_better() -> None:
    better, said = verdict(_results(-0.001))
    assert better and "significantly better" in said and "not" not in said
    better, said = verdict(_results(+0.004))
    assert not better
    assert "not significantly better" in said and "ship tier 1 (`fast`) alone" in said
