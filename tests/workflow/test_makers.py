from __future__ import annotations

from hopscreen.hops import HopOptions
from hopscreen.inference.config import PredictionConfig
from hopscreen.selection import SelectionConfig
from hopscreen.verification.umlip import UmlipNebConfig
from hopscreen.workflow.makers import (
    HopsMaker,
    PredictMaker,
    ScreenRoundMaker,
    SelectMaker,
    VerifyMaker,
)


def test_round_composition_and_routing(tmp_path):
    maker = ScreenRoundMaker(
        predict=PredictMaker(options=PredictionConfig(batch_size=8), fworker="gpu"),
        select=SelectMaker(config=SelectionConfig(budget=3, threshold_ev=0.5)),
        verify=VerifyMaker(tier="umlip", umlip=UmlipNebConfig(neb_max_steps=5)),
    )
    flow = maker.make(str(tmp_path), demo=True)
    jobs = {j.name: j for j in flow.jobs}
    assert list(jobs) == ["candidates", "hops", "predict", "select", "verify", "collect"]
    assert jobs["predict"].config.manager_config == {"_fworker": "gpu"}
    assert jobs["predict"].function_kwargs["options"].batch_size == 8
    assert jobs["verify"].config.response_manager_config == {"_fworker": "dft"}
    assert jobs["verify"].function_kwargs["umlip"].neb_max_steps == 5
    assert jobs["select"].function_kwargs["selection"].budget == 3
    assert jobs["collect"].function_args[1] == 0.5


def test_hops_job_gets_the_makers_hop_options():
    options = HopOptions(max_hop_length_angstrom=4.0)
    job = HopsMaker(options=options).make([])
    assert job.function_kwargs["hop_options"] is options


def test_no_routing_when_worker_is_none(tmp_path):
    flow = ScreenRoundMaker(
        predict=PredictMaker(fworker=None), verify=VerifyMaker(fworker=None)
    ).make(str(tmp_path), demo=True)
    for job in flow.jobs:
        assert job.config.manager_config == {}
        assert job.config.response_manager_config == {}
