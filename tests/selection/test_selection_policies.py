"""Selection: straddling logic, budget, diversity, determinism, replay policies."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from pydantic import ValidationError

from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.schemas.selection import SelectionDoc, compute_selection_id
from hopscreen.schemas.verdict import HostVerdictDoc
from hopscreen.selection import (
    POLICIES,
    SelectionConfig,
    classify,
    policy_borderline_sigma,
    policy_greedy_lowest,
    policy_mixed,
    policy_random,
    select_hops,
)


def pred(
    hop_id: str, barrier: float, sigma: float, candidate: str = "A", version: str = "v1"
) -> PredictionDoc:
    return PredictionDoc(
        hop_id=hop_id,
        candidate_id=f"id-{candidate}",
        candidate_name=candidate,
        working_ion="Li",
        model_version=version,
        barrier_ev=barrier,
        sigma_ev=sigma,
        member_barriers_ev=[barrier - sigma, barrier + sigma],
    )


CFG = SelectionConfig(threshold_ev=0.65, k_sigma=1.0, promising_margin_ev=0.2, budget=10)


@pytest.mark.parametrize(
    ("barrier", "sigma", "expected"),
    [
        (0.65, 0.0, "borderline"),  # on the threshold
        (0.60, 0.10, "borderline"),  # interval [0.50, 0.70] straddles 0.65
        (0.70, 0.10, "borderline"),  # [0.60, 0.80]
        (0.55, 0.10, "borderline"),  # upper end exactly on the threshold
        (0.60, 0.01, "skipped"),  # confidently below, but within the margin
        (0.40, 0.04, "promising"),  # upper end 0.44 < 0.45 = threshold - margin
        (0.40, 0.06, "skipped"),  # upper end 0.46 >= 0.45: not promising
        (0.30, 0.10, "promising"),  # upper end 0.40 < 0.45
        (1.20, 0.20, "skipped"),  # confidently above
        (math.nan, 0.1, "skipped"),
        (0.5, math.inf, "skipped"),
    ],
)
def test_classify(barrier: float, sigma: float, expected: str) -> None:
    assert classify(barrier, sigma, CFG) == expected


def test_k_sigma_widens_the_interval() -> None:
    wide = CFG.model_copy(update={"k_sigma": 2.0})
    assert classify(0.50, 0.1, CFG) == "skipped"
    assert classify(0.50, 0.1, wide) == "borderline"  # [0.30, 0.70]


def test_select_reasons_scores_and_counts() -> None:
    preds = [
        pred("b-center", 0.65, 0.10, "A"),
        pred("b-edge", 0.58, 0.10, "B"),
        pred("p-low", 0.10, 0.05, "C"),
        pred("p-mid", 0.35, 0.05, "D"),
        pred("bad", 1.50, 0.10, "E"),
        pred("near", 0.60, 0.01, "F"),
    ]
    doc = select_hops(preds, CFG.model_copy(update={"max_per_candidate": None}))
    assert isinstance(doc, SelectionDoc)
    assert (doc.n_considered, doc.n_borderline, doc.n_promising, doc.n_skipped) == (6, 2, 2, 2)
    by_id = {s.hop_id: s for s in doc.selected}
    assert set(by_id) == {"b-center", "b-edge", "p-low", "p-mid"}
    assert by_id["b-center"].reason == "borderline"
    assert by_id["b-center"].score == pytest.approx(0.10)
    assert by_id["b-edge"].score == pytest.approx(0.03)
    assert by_id["p-low"].reason == "promising"
    assert by_id["p-low"].score == pytest.approx(0.45 - 0.15)
    # interleaved classes, each by decreasing score
    assert doc.hop_ids == ["b-center", "p-low", "b-edge", "p-mid"]
    assert doc.model_version == "v1"
    assert doc.threshold_ev == 0.65
    assert doc.selection_id == compute_selection_id(doc.model_dump(mode="json"))


def test_budget_and_mix() -> None:
    borderline = [pred(f"b{i}", 0.65 + 0.001 * i, 0.1, f"c{i}") for i in range(10)]
    promising = [pred(f"p{i}", 0.1 + 0.001 * i, 0.02, f"d{i}") for i in range(10)]
    cfg = CFG.model_copy(update={"budget": 4, "mix": 0.75})
    doc = select_hops(borderline + promising, cfg)
    reasons = [s.reason for s in doc.selected]
    assert len(doc.selected) == 4
    assert reasons.count("borderline") == 3
    assert reasons.count("promising") == 1
    # best borderline first (closest to the threshold)
    assert doc.hop_ids[0] == "b0"
    # a class short of hops leaves its places to the other one
    few = select_hops(borderline[:1] + promising, cfg)
    assert [s.reason for s in few.selected].count("borderline") == 1
    assert len(few.selected) == 4
    assert select_hops(borderline + promising, cfg.model_copy(update={"budget": 0})).selected == []
    # budget larger than the eligible hops: all of them, no more
    big = select_hops(borderline[:2] + promising[:1], cfg.model_copy(update={"budget": 50}))
    assert len(big.selected) == 3


def test_diversity_across_candidates() -> None:
    # candidate A has the five best borderline hops, B and C one each, weaker
    preds = [pred(f"a{i}", 0.65 + 0.001 * i, 0.1, "A") for i in range(5)]
    preds += [pred("b0", 0.70, 0.1, "B"), pred("c0", 0.72, 0.1, "C")]
    cfg = CFG.model_copy(update={"budget": 4, "mix": 1.0, "max_per_candidate": 1})
    doc = select_hops(preds, cfg)
    assert doc.hop_ids == ["a0", "b0", "c0", "a1"]  # everyone gets a turn, then A again
    two = select_hops(preds, cfg.model_copy(update={"max_per_candidate": 2}))
    assert two.hop_ids == ["a0", "a1", "b0", "c0"]
    free = select_hops(preds, cfg.model_copy(update={"max_per_candidate": None}))
    assert free.hop_ids == ["a0", "a1", "a2", "a3"]


def test_diversity_counts_both_classes() -> None:
    preds = [pred("a-b", 0.65, 0.1, "A"), pred("a-p", 0.1, 0.01, "A")]
    preds += [pred("b-p", 0.3, 0.05, "B")]
    cfg = CFG.model_copy(update={"budget": 2, "mix": 0.5, "max_per_candidate": 1})
    assert select_hops(preds, cfg).hop_ids == ["a-b", "b-p"]


def test_determinism_and_seeded_ties() -> None:
    preds = [pred(f"h{i:02d}", 0.65, 0.1, f"c{i}") for i in range(20)]  # all tied
    cfg = CFG.model_copy(update={"budget": 5, "seed": 7})
    first = select_hops(preds, cfg)
    shuffled = list(preds)
    random.Random(1).shuffle(shuffled)
    again = select_hops(shuffled, cfg)
    assert again == first
    assert again.selection_id == first.selection_id
    others = {
        tuple(select_hops(preds, cfg.model_copy(update={"seed": s})).hop_ids) for s in range(5)
    }
    assert len(others) > 1  # the seed decides among tied hops


def test_empty_input() -> None:
    doc = select_hops([], CFG)
    assert doc.selected == []
    assert (doc.n_considered, doc.n_borderline, doc.n_promising, doc.n_skipped) == (0, 0, 0, 0)
    assert doc.model_version is None
    assert len(doc.selection_id) == 64


def test_rejects_duplicates_and_mixed_versions() -> None:
    with pytest.raises(ValueError, match="more than once"):
        select_hops([pred("h", 0.6, 0.1), pred("h", 0.6, 0.1)], CFG)
    with pytest.raises(ValueError, match="model versions"):
        select_hops([pred("h1", 0.6, 0.1, version="v1"), pred("h2", 0.6, 0.1, version="v2")])


def test_config_is_explicit() -> None:
    with pytest.raises(ValidationError):
        SelectionConfig(threshold=0.5)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        SelectionConfig(mix=1.5)
    assert SelectionConfig().threshold_ev == 0.65


def _replay_preds() -> list[PredictionDoc]:
    return [
        pred("low", 0.10, 0.02, "A"),
        pred("mid", 0.50, 0.02, "B"),
        pred("edge", 0.64, 0.05, "C"),
        pred("wide", 0.80, 0.30, "D"),
        pred("high", 1.40, 0.05, "E"),
    ]


def test_policies_share_a_signature_and_spend_the_budget() -> None:
    preds = _replay_preds()
    for name, policy in POLICIES.items():
        ids = policy(preds, 3, np.random.default_rng(0))
        assert len(ids) == 3, name
        assert len(set(ids)) == 3, name
        assert set(ids) <= {p.hop_id for p in preds}, name
        assert policy(preds, 3, np.random.default_rng(0)) == ids, name  # deterministic
        assert policy(preds, 99, np.random.default_rng(0)).__len__() == 5, name
        assert policy([], 3, np.random.default_rng(0)) == [], name


def test_policy_orders() -> None:
    preds = _replay_preds()
    rng = np.random.default_rng(0)
    assert policy_greedy_lowest(preds, 2, rng) == ["low", "mid"]
    # kσ − |E − T|: edge 0.04, wide 0.15 -> wide first
    assert policy_borderline_sigma(preds, 2, rng) == ["wide", "edge"]
    mixed = policy_mixed(preds, 4, np.random.default_rng(0))
    assert mixed[:3] == ["wide", "low", "edge"]  # borderline / promising / borderline
    assert mixed[3] == "mid"  # top-up from the borderline_sigma order
    draws = {tuple(policy_random(preds, 5, np.random.default_rng(s))) for s in range(5)}
    assert len(draws) > 1
    with pytest.raises(ValueError):
        policy_random(preds, -1, rng)


def calibrated(hop_id: str, barrier: float, sigma: float, w68: float, w90: float) -> PredictionDoc:
    return pred(hop_id, barrier, sigma).model_copy(
        update={"interval_68_ev": w68, "interval_90_ev": w90}
    )


def test_calibrated_interval_replaces_k_sigma() -> None:
    # σ 0.01 alone would skip this hop; its calibrated 68 % half-width 0.2 makes it borderline.
    hop = calibrated("h", 0.50, 0.01, 0.20, 0.40)
    at68 = SelectionConfig(threshold_ev=0.65, coverage=0.68, promising_margin_ev=0.2)
    doc = select_hops([hop], at68)
    assert doc.hop_ids == ["h"]
    assert doc.selected[0].reason == "borderline"
    assert doc.selected[0].half_width_ev == pytest.approx(0.20)
    assert doc.selected[0].score == pytest.approx(0.20 - 0.15)
    assert doc.coverage == 0.68
    # the 90 % level uses the wider interval; None falls back to k·σ and skips the hop
    at90 = at68.model_copy(update={"coverage": 0.9})
    assert select_hops([hop], at90).selected[0].score == pytest.approx(0.40 - 0.15)
    no_cal = at68.model_copy(update={"coverage": None})
    assert select_hops([hop], no_cal).hop_ids == []


def test_uncalibrated_prediction_falls_back_to_k_sigma() -> None:
    hop = pred("u", 0.50, 0.2)  # no calibrated interval
    doc = select_hops([hop], SelectionConfig(coverage=0.9, k_sigma=1.0))
    assert doc.selected[0].half_width_ev == pytest.approx(0.2)


def test_borderline_policy_ranks_by_calibrated_width() -> None:
    narrow = calibrated("narrow", 0.60, 0.3, 0.06, 0.1)  # wide σ, narrow interval
    wide = calibrated("wide", 0.60, 0.01, 0.30, 0.5)
    order = policy_borderline_sigma([narrow, wide], 2, np.random.default_rng(0), config=CFG)
    assert order == ["wide", "narrow"]


def test_coverage_must_be_a_carried_level() -> None:
    with pytest.raises(ValidationError):
        SelectionConfig(coverage=0.5)


def _host_verdict(name: str, bottleneck: str, p_good: float) -> HostVerdictDoc:
    return HostVerdictDoc(
        verdict_id=f"v-{name}",
        candidate_id=f"id-{name}",
        candidate_name=name,
        working_ion="Li",
        model_version="v1",
        threshold_ev=0.65,
        n_ion_sites=1,
        hop_ids=[bottleneck],
        max_dimension=1,
        percolation_1d_ev=0.6,
        bottleneck_1d_hop_id=bottleneck,
        p_good=p_good,
        p_good_2d=0.0,
        p_good_3d=0.0,
        n_draws=100,
        seed=0,
    )


def test_verdict_strategy_picks_bottlenecks_of_uncertain_and_promising_hosts() -> None:
    preds = [
        pred("a1", 0.60, 0.01, "A"),
        pred("a2", 1.20, 0.01, "A"),
        pred("b1", 0.30, 0.01, "B"),
        pred("c1", 0.66, 0.01, "C"),
        pred("d1", 2.00, 0.01, "D"),
    ]
    verdicts = [
        _host_verdict("A", "a1", 0.55),  # most uncertain
        _host_verdict("B", "b1", 0.97),  # promising
        _host_verdict("C", "c1", 0.30),  # uncertain, less so
        _host_verdict("D", "d1", 0.01),  # hopeless: skipped
    ]
    config = SelectionConfig(strategy="verdicts", budget=3, mix=0.67)
    doc = select_hops(preds, config, verdicts)
    assert set(doc.hop_ids) == {"a1", "b1", "c1"}
    reasons = {h.hop_id: h.reason for h in doc.selected}
    assert reasons == {"a1": "borderline", "c1": "borderline", "b1": "promising"}
    scores = {h.hop_id: h.score for h in doc.selected}
    assert scores["a1"] == pytest.approx(0.55 * 0.45)
    assert scores["a1"] > scores["c1"]
    assert doc.strategy == "verdicts"
    assert (doc.n_borderline, doc.n_promising, doc.n_skipped) == (2, 1, 2)
    # the hop strategy ignores verdicts: b1 is promising, c1 (0.66 ± 0.01) borderline
    hop_doc = select_hops(preds, config.model_copy(update={"strategy": "hops"}), verdicts)
    assert set(hop_doc.hop_ids) == {"b1", "c1"}


def test_probability_good_prefers_the_wide_interval_above_the_threshold() -> None:
    sure_low = calibrated("sure-low", 0.30, 0.01, 0.05, 0.1)
    wide_high = calibrated("wide-high", 0.75, 0.01, 0.40, 0.8)  # P(<0.65) ~ 0.4
    narrow_high = calibrated("narrow-high", 0.70, 0.01, 0.02, 0.04)  # P(<0.65) ~ 0
    order = POLICIES["probability_good"](
        [narrow_high, wide_high, sure_low], 3, np.random.default_rng(0), config=CFG
    )
    assert order == ["sure-low", "wide-high", "narrow-high"]
    # greedy_lowest ranks the narrow hop first because its mean is lower
    assert policy_greedy_lowest([narrow_high, wide_high], 1, np.random.default_rng(0)) == [
        "narrow-high"
    ]
