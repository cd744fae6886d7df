"""FireWorks routing: prediction to the GPU worker, NEB (created at run time) to DFT workers."""

from __future__ import annotations

from jobflow import JobStore
from jobflow.managers.fireworks import flow_to_workflow
from maggma.stores import MemoryStore

from hopscreen.candidates import load_demo_candidates
from hopscreen.hops import hops_for_structure
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.selection import SelectionConfig, select_hops
from hopscreen.workflow.campaign import CampaignConfig, build_round
from hopscreen.workflow.makers import VerifyMaker


def test_workflow_specs_route_prediction_to_gpu(tmp_path):
    config = CampaignConfig.from_dict(
        {"sources": {"demo": True}, "results_dir": str(tmp_path), "verifier": "umlip"}
    )
    flow = build_round(config)
    wf = flow_to_workflow(flow, store=JobStore(MemoryStore()))
    by_name = {fw.name: fw.spec for fw in wf.fws}
    assert by_name["predict"]["_fworker"] == "gpu"
    for name in ("candidates", "hops", "select", "verify", "collect"):
        assert "_fworker" not in by_name[name], name
    # the collector runs even when a verification fizzled
    assert by_name["collect"]["_allow_fizzled_parents"] is True
    (verify,) = [j for j in flow.jobs if j.name == "verify"]
    assert verify.config.response_manager_config == {"_fworker": "dft"}


def test_custom_workers(tmp_path):
    config = CampaignConfig.from_dict(
        {
            "sources": {"demo": True},
            "results_dir": str(tmp_path),
            "routing": {"gpu_worker": "a100", "dft_worker": None},
        }
    )
    flow = build_round(config)
    (predict,) = [j for j in flow.jobs if j.name == "predict"]
    (verify,) = [j for j in flow.jobs if j.name == "verify"]
    assert predict.config.manager_config == {"_fworker": "a100"}
    assert verify.config.response_manager_config == {}


def test_runtime_verification_jobs_inherit_dft_routing():
    batch = load_demo_candidates("Li")
    host = next(c for c in batch.candidates if c.name == "LiC6-graphite")
    result = hops_for_structure(
        host.get_structure(), "Li", host.name, candidate_id=host.candidate_id
    )
    preds = [
        PredictionDoc(
            hop_id=h.hop_id,
            candidate_id=h.candidate_id,
            candidate_name=h.candidate_name,
            working_ion="Li",
            model_version="m",
            barrier_ev=0.6,
            sigma_ev=0.1,
            member_barriers_ev=[0.5, 0.7],
        )
        for h in result.docs
    ]
    selection = select_hops(preds, SelectionConfig(budget=5))
    assert selection.selected
    fan_out = VerifyMaker(tier="umlip").make(selection, result.docs, [host])
    store = JobStore(MemoryStore())
    store.connect()
    response = fan_out.run(store=store)
    jobs = response.replace.jobs
    assert len(jobs) == len(selection.selected) + 1  # one NEB per hop + the gatherer
    for new in jobs:
        assert new.config.manager_config == {"_fworker": "dft"}
    gather = jobs[-1]
    assert gather.uuid == fan_out.uuid and gather.index == fan_out.index + 1
