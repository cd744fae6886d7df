"""The two-tier cascade: routing rules, the merge, the shipped tier-1 model, predict --cascade."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from pymatgen.io.cif import CifWriter
from typer.testing import CliRunner

from hopscreen.cli.main import app
from hopscreen.inference.base import Prediction
from hopscreen.inference.cascade import (
    FAST_MODEL,
    CascadeConfig,
    bottleneck_range,
    cascade_predictions,
    combine_summaries,
    predict_cascade,
    route_hops,
)
from hopscreen.inference.chgnet_head import ChgnetHeadModel
from hopscreen.inference.load import load_model
from hopscreen.models.shipped import ACCURATE_MODEL
from hopscreen.schemas.hop import HopDoc, HostNetworkDoc
from hopscreen.schemas.prediction import PredictionDoc

sys.path.insert(0, str(Path(__file__).parents[1] / "hops"))
from hops_structures import olivine_lifepo4

runner = CliRunner()


def _pred(hop_id: str, barrier: float, w90: float | None, host: str = "H", **kw) -> PredictionDoc:
    return PredictionDoc(
        hop_id=hop_id,
        candidate_id=host,
        candidate_name=host,
        working_ion="Li",
        model_version=kw.pop("model_version", "fast-1"),
        barrier_ev=barrier,
        sigma_ev=0.01,
        interval_68_ev=None if w90 is None else w90 / 2,
        interval_90_ev=w90,
        member_barriers_ev=[barrier],
        **kw,
    )


def _network(host: str = "H") -> HostNetworkDoc:
    """Two sites: classes a + b together form a chain along a; c alone a chain along b."""
    return HostNetworkDoc(
        candidate_id=host,
        candidate_name=host,
        working_ion="Li",
        n_sites=2,
        hop_ids=["a", "b", "c"],
        edges=[[0, 1, 0, 0, 0, 0], [1, 0, 1, 0, 0, 1], [0, 0, 0, 1, 0, 2]],
    )


def test_straddle_routes_only_intervals_containing_the_threshold() -> None:
    preds = [_pred("low", 0.2, 0.1), _pred("edge", 0.6, 0.1), _pred("high", 1.2, 0.1)]
    config = CascadeConfig(route="straddle")
    assert route_hops(preds, [], config) == ["edge"]
    # a wider (68 % → 90 %) interval reaches the threshold from further away
    assert route_hops([_pred("x", 0.9, 0.3)], [], config) == ["x"]
    assert (
        route_hops([_pred("x", 0.9, 0.3)], [], config.model_copy(update={"coverage": 0.68})) == []
    )


def test_bottleneck_rule_routes_the_hops_that_can_set_the_1d_barrier() -> None:
    net = _network()
    # a: [0.05, 0.15] always below; b: [0.35, 0.55] closes the a+b chain; c: [1.4, 1.6]
    preds = [_pred("a", 0.1, 0.05), _pred("b", 0.45, 0.1), _pred("c", 1.5, 0.1)]
    assert route_hops(preds, [net], CascadeConfig(route="straddle")) == []
    assert route_hops(preds, [net], CascadeConfig()) == ["b"]
    # c in [0.4, 0.6] percolates alone and could undercut the a+b chain: it may set it too
    near = [*preds[:2], _pred("c", 0.5, 0.1)]
    assert route_hops(near, [net], CascadeConfig(threshold_ev=2.0)) == ["b", "c"]


def test_bottleneck_range_is_the_percolation_barrier_at_both_bounds() -> None:
    from hopscreen.hops.network import network_from_doc

    net = network_from_doc(_network())
    bounds = {"a": (0.05, 0.15), "b": (0.35, 0.55), "c": (1.4, 1.6)}
    assert bottleneck_range(net, bounds) == pytest.approx((0.35, 0.55))
    assert bottleneck_range(net, {"a": (0.0, 1.0)}) is None  # a alone never percolates


def test_hosts_are_routed_by_their_own_network_only() -> None:
    preds = [_pred("b", 0.45, 0.1, host="H"), _pred("b2", 0.45, 0.1, host="other")]
    assert route_hops(preds, [_network("H")], CascadeConfig()) == []  # b alone: no chain
    with_a = [_pred("a", 0.1, 0.05, host="H"), *preds]
    assert route_hops(with_a, [_network("H")], CascadeConfig()) == ["b"]


def test_all_and_none_need_no_calibration_but_straddle_does() -> None:
    preds = [_pred("p", 0.3, None), _pred("q", 0.9, None), _pred("p", 0.3, None)]
    assert route_hops(preds, [], CascadeConfig(route="all")) == ["p", "q"]
    assert route_hops(preds, [], CascadeConfig(route="none")) == []
    with pytest.raises(ValueError, match="must be calibrated"):
        route_hops(preds, [], CascadeConfig(route="straddle"))


def test_merge_keeps_tier1_for_unrouted_and_tier2_for_routed_hops() -> None:
    tier1 = [_pred("a", 0.1, 0.05), _pred("b", 0.45, 0.1), _pred("c", 1.5, 0.1)]
    tier2 = {"b": _pred("b", 0.7, 0.2, model_version="accurate-1")}
    merged = cascade_predictions(tier1, tier2)
    assert [p.hop_id for p in merged] == ["a", "b", "c"]
    assert [p.tier for p in merged] == [1, 2, 1]
    assert [p.model_version for p in merged] == ["fast-1", "accurate-1", "fast-1"]
    assert merged[1].barrier_ev == 0.7 and merged[0].barrier_ev == 0.1
    assert tier1[1].tier is None  # inputs untouched
    with pytest.raises(ValueError, match="never saw"):
        cascade_predictions(tier1, {"zz": _pred("zz", 0.5, 0.1)})


def test_old_prediction_documents_read_without_a_tier() -> None:
    old = _pred("a", 0.1, 0.05).model_dump()
    del old["tier"]
    assert PredictionDoc.model_validate(old).tier is None


class _Fixed:
    """A stand-in BarrierModel: E_m from the band's number of atoms, ± a fixed interval."""

    def __init__(self, version: str, offset: float, w90: float) -> None:
        self.card = SimpleNamespace(name=version)
        self.model_version = version
        self.offset, self.w90, self.seen = offset, w90, 0

    def predict(
        self, bands: Iterable, *, batch_size: int = 32, chunk_size: int = 256
    ) -> Iterator[Prediction]:
        for band in bands:
            self.seen += 1
            yield Prediction(
                band + self.offset, 0.01, (band + self.offset,), self.w90 / 2, self.w90
            )


def _hop(hop_id: str) -> HopDoc:
    return HopDoc(
        hop_id=hop_id,
        candidate_id="H",
        candidate_name="H",
        working_ion="Li",
        length_angstrom=3.0,
        isite_frac=[0, 0, 0],
        esite_frac=[0.5, 0, 0],
        host_formula="LiX",
    )


def test_predict_cascade_runs_tier2_on_the_routed_hops_only() -> None:
    fast, accurate = _Fixed("fast-1", 0.0, 0.2), _Fixed("acc-1", 0.05, 0.2)
    hops = [_hop("a"), _hop("b"), _hop("c")]
    bands = [0.1, 0.6, 1.5]  # only b's interval [0.5, 0.7] contains 0.65 eV
    docs, summary = predict_cascade(
        hops, bands, [], fast=fast, accurate=accurate, config=CascadeConfig(route="straddle")
    )
    assert [d.tier for d in docs] == [1, 2, 1] and accurate.seen == 1 and fast.seen == 3
    assert docs[1].barrier_ev == pytest.approx(0.65) and docs[1].model_version == "acc-1"
    assert (summary.n_hops, summary.n_tier2, summary.route) == (3, 1, "straddle")
    assert summary.share_tier2 == pytest.approx(1 / 3)
    assert summary.fast_model_version == "fast-1" and summary.accurate_model_version == "acc-1"
    both = combine_summaries([summary, summary])
    assert (both.n_hops, both.n_tier2) == (6, 2)
    assert both.tier1_seconds == pytest.approx(2 * summary.tier1_seconds)
    other = summary.model_copy(update={"route": "all"})
    with pytest.raises(ValueError, match="cannot be combined"):
        combine_summaries([summary, other])


def test_defaults_name_the_shipped_models() -> None:
    config = CascadeConfig()
    assert (config.fast_model, config.accurate_model) == (FAST_MODEL, ACCURATE_MODEL)
    assert (config.route, config.coverage, config.threshold_ev) == (
        "straddle_or_bottleneck",
        0.9,
        0.65,
    )


@pytest.fixture
def no_chgnet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading CHGNet fails the test."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("CHGNet was loaded")

    monkeypatch.setattr("hopscreen.inference.chgnet_head.load_chgnet", refuse)


def test_shipped_tier1_predicts_a_demo_host_without_chgnet(no_chgnet: None) -> None:
    from hopscreen.hops import hops_for_structure

    model = load_model(FAST_MODEL)
    assert isinstance(model, ChgnetHeadModel)
    card = model.card
    assert card.name == FAST_MODEL and not card.feature_config.chgnet
    assert card.calibration is not None and card.calibration.groups == "host"
    assert all(c.startswith(("phys_", "bvse_")) for c in card.feature_columns)
    result = hops_for_structure(olivine_lifepo4(), "Li", "LiFePO4")
    preds = list(model.predict(result.bands))
    assert len(preds) == len(result.bands) > 0
    for p in preds:
        assert np.isfinite(p.barrier_ev) and p.barrier_ev >= 0
        assert p.interval_90_ev is not None and p.interval_90_ev > p.interval_68_ev > 0
    assert model._backbone is None


@pytest.fixture
def olivine_cif(tmp_path: Path) -> Path:
    path = tmp_path / "LiFePO4.cif"
    CifWriter(olivine_lifepo4()).write_file(path)
    return path


def test_predict_cascade_json_rows_carry_their_tier(
    monkeypatch: pytest.MonkeyPatch, olivine_cif: Path
) -> None:
    offsets = {FAST_MODEL: 0.0, ACCURATE_MODEL: 0.1}

    def fake_load(name, device=None):
        return SimpleNamespace(card=SimpleNamespace(name=name), model_version=name)

    def fake_predict_hops(docs, bands, *, model, batch_size):
        """E_m = length − 2.7 eV (+0.1 for tier 2), ± 0.3 eV at 90 %."""
        return [
            _pred(
                d.hop_id,
                d.length_angstrom - 2.7 + offsets[model.model_version],
                0.3,
                host=d.candidate_id,
                model_version=model.model_version,
                length_angstrom=d.length_angstrom,
            ).model_copy(update={"candidate_name": d.candidate_name})
            for d in docs
        ]

    monkeypatch.setattr("hopscreen.cli.predict.load_model", fake_load)
    monkeypatch.setattr("hopscreen.inference.cascade.predict_hops", fake_predict_hops)
    out = runner.invoke(app, ["predict", str(olivine_cif), "--cascade", "--json"])
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 2 and all(row["tier"] in (1, 2) for row in rows)
    # the 3.0 Å hop (0.3 ± 0.3 eV) sets olivine's 1D barrier: tier 2; the 4.7 Å one
    # ([1.7, 2.3] eV) neither straddles 0.65 eV nor can set it: tier 1
    by_tier = {row["tier"]: row for row in rows}
    assert by_tier[2]["length_angstrom"] == pytest.approx(3.0, abs=0.05)
    assert by_tier[2]["model_version"] == ACCURATE_MODEL
    assert by_tier[1]["model_version"] == FAST_MODEL
    assert "1 of 2 hops (50 %) sent to tier 2" in out.stderr
    table = runner.invoke(app, ["predict", str(olivine_cif), "--cascade"])
    assert table.exit_code == 0 and "tier" in table.stdout
    refused = runner.invoke(app, ["predict", str(olivine_cif), "--cascade", "--model", "x"])
    assert refused.exit_code == 2 and "--cascade" in refused.stderr
