"""Per-host verdicts: percolation barriers, bottlenecks and p_good from predicted hops."""

from __future__ import annotations

import numpy as np
import pytest

from hopscreen.hops.network import MigrationNetwork, NetworkEdge
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.selection.predictive import predictive_draws, probability_below
from hopscreen.selection.verdict import VerdictConfig, host_verdict

# One site per cell; class "a" links cells along b, "b" along a, "c" along c.
CUBE = MigrationNetwork(
    n_sites=1,
    edges=(
        NetworkEdge(0, 0, (0, 1, 0), "a"),
        NetworkEdge(0, 0, (1, 0, 0), "b"),
        NetworkEdge(0, 0, (0, 0, 1), "c"),
    ),
    hop_ids=("a", "b", "c"),
)


def pred(
    hop_id: str,
    barrier: float,
    sigma: float = 0.01,
    w68: float | None = None,
    w90: float | None = None,
    version: str = "v1",
) -> PredictionDoc:
    return PredictionDoc(
        hop_id=hop_id,
        candidate_name="host",
        working_ion="Li",
        model_version=version,
        barrier_ev=barrier,
        sigma_ev=sigma,
        interval_68_ev=w68,
        interval_90_ev=w90,
        member_barriers_ev=[barrier],
    )


def verdict(preds: list[PredictionDoc], **kwargs: object) -> object:
    return host_verdict(CUBE, preds, candidate_name="host", working_ion="Li", **kwargs)


def test_percolation_barriers_and_bottlenecks() -> None:
    doc = verdict([pred("a", 0.3), pred("b", 0.9), pred("c", 1.2)])
    assert (doc.percolation_1d_ev, doc.bottleneck_1d_hop_id) == (0.3, "a")
    assert (doc.percolation_2d_ev, doc.bottleneck_2d_hop_id) == (0.9, "b")
    assert (doc.percolation_3d_ev, doc.bottleneck_3d_hop_id) == (1.2, "c")
    assert doc.max_dimension == 3
    assert doc.p_good == 1.0  # 0.3 eV with σ 0.01 is surely below 0.65
    assert doc.p_good_2d == 0.0
    assert doc.percolation_1d_q05_ev == pytest.approx(0.3, abs=0.03)


def test_p_good_is_a_half_on_the_threshold() -> None:
    doc = verdict([pred("a", 0.65, w68=0.2, w90=0.4), pred("b", 2.0), pred("c", 2.0)])
    assert doc.p_good == pytest.approx(0.5, abs=0.04)


def test_p_good_takes_the_lowest_of_competing_hops() -> None:
    # two 1D routes at 0.7 eV, each below 0.65 with probability ~0.4: either opens the chain
    doc = verdict(
        [pred("a", 0.7, w68=0.2, w90=0.4), pred("b", 0.7, w68=0.2, w90=0.4), pred("c", 3.0)],
        config=VerdictConfig(n_draws=20_000),
    )
    single = verdict([pred("a", 0.7, w68=0.2, w90=0.4), pred("b", 3.0), pred("c", 3.0)])
    assert doc.p_good > single.p_good + 0.15
    assert doc.p_good == pytest.approx(1 - (1 - single.p_good) ** 2, abs=0.03)


def test_unpredicted_classes_are_closed_and_listed() -> None:
    doc = verdict([pred("a", 0.3), pred("b", 0.9)])
    assert doc.unpredicted_hop_ids == ["c"]
    assert doc.percolation_3d_ev is None
    assert doc.bottleneck_3d_hop_id is None
    assert doc.max_dimension == 2
    assert doc.p_good_3d == 0.0


def test_no_percolation_gives_none_and_zero() -> None:
    closed = MigrationNetwork(n_sites=2, edges=(NetworkEdge(0, 1, (0, 0, 0), "a"),), hop_ids=("a",))
    doc = host_verdict(closed, [pred("a", 0.1)], candidate_name="dimer", working_ion="Li")
    assert doc.max_dimension == 0
    assert doc.percolation_1d_ev is None
    assert doc.p_good == 0.0
    assert doc.percolation_1d_q95_ev is None


def test_verdict_is_deterministic_and_order_free() -> None:
    preds = [pred("a", 0.6, w68=0.1, w90=0.2), pred("b", 0.7), pred("c", 0.8)]
    one = verdict(preds)
    two = verdict(list(reversed(preds)))
    assert one.verdict_id == two.verdict_id
    assert verdict(preds, config=VerdictConfig(seed=1)).verdict_id != one.verdict_id


@pytest.mark.parametrize(
    ("preds", "message"),
    [
        ([pred("zz", 0.3)], "none of its 3 hops"),
        ([pred("a", 0.3), pred("a", 0.4)], "more than once"),
        ([pred("a", 0.3), pred("b", 0.4, version="v2")], "several model versions"),
    ],
)
def test_bad_prediction_sets_raise(preds: list[PredictionDoc], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        verdict(preds)


def test_calibrated_draws_follow_the_intervals() -> None:
    rng = np.random.default_rng(0)
    draws = predictive_draws(pred("a", 2.0, w68=0.2, w90=0.5), 50_000, rng)
    err = np.abs(draws - 2.0)
    assert np.quantile(err, 0.68) == pytest.approx(0.2, abs=0.01)
    assert np.quantile(err, 0.90) == pytest.approx(0.5, abs=0.015)
    assert np.mean(draws - 2.0) == pytest.approx(0.0, abs=0.01)  # symmetric
    assert err.max() <= 0.5 + 0.3 / 0.22 * 0.09 + 1e-9  # capped at the 0.99 level


def test_uncalibrated_draws_are_normal_and_not_negative() -> None:
    rng = np.random.default_rng(0)
    draws = predictive_draws(pred("a", 1.0, sigma=0.1), 50_000, rng)
    assert np.std(draws) == pytest.approx(0.1, rel=0.05)
    low = predictive_draws(pred("a", 0.05, sigma=0.2), 10_000, rng)
    assert low.min() == 0.0


@pytest.mark.parametrize(
    ("barrier", "w68", "w90", "sigma", "threshold", "expected"),
    [
        (0.65, 0.2, 0.4, 0.1, 0.65, 0.5),  # on the threshold
        (0.45, 0.2, 0.4, 0.1, 0.65, 0.5 + 0.5 * 0.68),  # T at E + w68
        (0.85, 0.2, 0.4, 0.1, 0.65, 0.5 - 0.5 * 0.68),  # T at E − w68
        (0.25, 0.2, 0.4, 0.1, 0.65, 0.5 + 0.5 * 0.90),  # T at E + w90
        (2.00, 0.2, 0.4, 0.1, 0.65, 0.0),  # beyond the capped tail
        (0.55, None, None, 0.1, 0.65, 0.8413),  # normal, one σ below
        (0.55, None, None, 0.0, 0.65, 1.0),  # no spread at all
        (0.30, 0.2, 0.4, 0.1, 0.0, 0.0),  # no barrier is below 0 eV
    ],
)
def test_probability_below(barrier, w68, w90, sigma, threshold, expected) -> None:
    hop = pred("a", barrier, sigma=sigma, w68=w68, w90=w90)
    assert probability_below(hop, threshold) == pytest.approx(expected, abs=1e-3)


def test_probability_below_agrees_with_the_draws() -> None:
    hop = pred("a", 0.7, w68=0.15, w90=0.35)
    draws = predictive_draws(hop, 100_000, np.random.default_rng(3))
    for threshold in (0.5, 0.65, 0.8, 1.0):
        assert np.mean(draws < threshold) == pytest.approx(
            probability_below(hop, threshold), abs=0.01
        )
