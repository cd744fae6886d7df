from __future__ import annotations

from hopscreen.workflow.makers import (
    HopsMaker,
    PredictMaker,
    ScreenRoundMaker,
    SelectMaker,
    VerifyMaker,
)


def test_round_composition_and_routing(tmp_path):
    maker = ScreenRoundMaker(
        predict=PredictMaker(batch_size=8, fworker="gpu"),
        select=SelectMaker(budget=3, threshold_ev=0.5),
        verify=VerifyMaker(tier="umlip", umlip={"neb_max_steps": 5}),
    )
    flow = maker.make(str(tmp_path), demo=True)
    jobs = {j.name: j for j in flow.jobs}
    assert list(jobs) == ["candidates", "hops", "predict", "select", "verify", "collect"]
    assert jobs["predict"].config.manager_config == {"_fworker": "gpu"}
    assert jobs["predict"].function_kwargs["batch_size"] == 8
    assert jobs["verify"].config.response_manager_config == {"_fworker": "dft"}
    assert jobs["verify"].function_kwargs["umlip"] == {"neb_max_steps": 5}
    assert jobs["select"].function_kwargs["selection"]["budget"] == 3
    assert jobs["collect"].function_args[1] == 0.5


def test_hop_options_are_hopoptions_fields():
    from hopscreen.hops import HopOptions

    options = HopOptions(**HopsMaker(max_hop_length_angstrom=4.0).hop_options())
    assert options.max_hop_length_angstrom == 4.0


def test_no_routing_when_worker_is_none(tmp_path):
    flow = ScreenRoundMaker(
        predict=PredictMaker(fworker=None), verify=VerifyMaker(fworker=None)
    ).make(str(tmp_path), demo=True)
    for job in flow.jobs:
        assert job.config.manager_config == {}
        assert job.config.response_manager_config == {}
