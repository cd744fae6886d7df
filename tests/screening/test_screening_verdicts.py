"""Per-host verdicts of a round, and their reuse when nothing they depend on changed."""

from __future__ import annotations

import pytest

import hopscreen.screening.verdicts as verdicts_module
from hopscreen.candidates.demo import list_demo, read_demo_structure
from hopscreen.hops import HopOptions, hops_for_structure
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.schemas.verdict import compute_verdict_id
from hopscreen.screening.checkpoint import stored_verdicts, write_stage
from hopscreen.screening.verdicts import round_verdicts
from hopscreen.selection.verdict import VerdictConfig


@pytest.fixture(scope="module")
def olivine_network():
    entry = next(e for e in list_demo() if "LiFePO4" in e.name)
    result = hops_for_structure(
        read_demo_structure(entry), "Li", "olivine", options=HopOptions(), build_bands=False
    )
    return result.network


def _preds(network, barriers):
    return [
        PredictionDoc(
            hop_id=hop_id,
            candidate_id=network.candidate_id,
            candidate_name=network.candidate_name,
            working_ion="Li",
            model_version="v1",
            barrier_ev=barrier,
            sigma_ev=0.02,
            interval_68_ev=0.1,
            interval_90_ev=0.2,
            member_barriers_ev=[barrier],
        )
        for hop_id, barrier in zip(network.hop_ids, barriers, strict=True)
    ]


def test_unchanged_inputs_reuse_the_stored_verdict(olivine_network, monkeypatch):
    preds = _preds(olivine_network, [0.3, 1.2])
    config = VerdictConfig(threshold_ev=0.65)
    (first,), _ = round_verdicts([olivine_network], preds, config)
    assert first.inputs_sha256 and first.verdict_id == compute_verdict_id(first.model_dump())
    key = first.candidate_id or first.candidate_name

    def no_sampling(*args, **kwargs):
        raise AssertionError("the verdict was sampled again")

    monkeypatch.setattr(verdicts_module, "host_verdict", no_sampling)
    (again,), _ = round_verdicts([olivine_network], preds[::-1], config, stored={key: first})
    assert again is first  # same network, predictions (any order) and settings: reused


def test_changed_predictions_or_settings_are_sampled_again(olivine_network):
    config = VerdictConfig(threshold_ev=0.65)
    (first,), _ = round_verdicts([olivine_network], _preds(olivine_network, [0.3, 1.2]), config)
    key = first.candidate_id or first.candidate_name
    moved = _preds(olivine_network, [0.9, 1.2])
    (second,), _ = round_verdicts([olivine_network], moved, config, stored={key: first})
    assert second.inputs_sha256 != first.inputs_sha256 and second.p_good < first.p_good
    stricter = VerdictConfig(threshold_ev=0.2)
    (third,), _ = round_verdicts(
        [olivine_network], _preds(olivine_network, [0.3, 1.2]), stricter, stored={key: first}
    )
    assert third.inputs_sha256 != first.inputs_sha256 and third.threshold_ev == 0.2


def test_stored_verdicts_read_back_by_host(olivine_network, tmp_path):
    (verdict,), _ = round_verdicts([olivine_network], _preds(olivine_network, [0.3, 1.2]))
    assert stored_verdicts(tmp_path / "none", "v1") == {}
    write_stage(tmp_path, "verdicts", [verdict])
    found = stored_verdicts(tmp_path, "v1")
    assert found == {verdict.candidate_id or verdict.candidate_name: verdict}
    assert stored_verdicts(tmp_path, "v2") == {}
