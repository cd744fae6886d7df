"""Prediction of a large round is split into several jobs (one per batch of hops) at run time."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobflow import JobStore
from maggma.stores import MemoryStore

from hopscreen.inference.config import PredictionConfig
from hopscreen.schemas.hop import HopDoc
from hopscreen.schemas.round import PredictionsOutput
from hopscreen.screening.round import hop_batches
from hopscreen.store import jobflow_store, open_results_store
from hopscreen.workflow import jobs
from hopscreen.workflow.campaign import CampaignConfig, build_round, run_round_locally
from hopscreen.workflow.makers import PredictMaker

DEMO = Path(jobs.__file__).parent.parent / "candidates" / "demo"


def five_hop_config(results_dir: Path, model: str, hops_per_job: int | None) -> CampaignConfig:
    # LiCoO2 (3 hops) + LiC6 (2 hops) = 5 hops; every hop borderline, selection budget 5
    return CampaignConfig.from_dict(
        {
            "sources": {
                "files": [str(DEMO / "LiCoO2_layered.cif"), str(DEMO / "LiC6_graphite.cif")]
            },
            "ion": "Li",
            "results_dir": str(results_dir),
            "model": model,
            "prediction": {"hops_per_job": hops_per_job},
            "selection": {"budget": 5, "coverage": None, "k_sigma": 1000.0},
            "verifier": "none",
        }
    )


def _hop(i: int, name: str = "host") -> HopDoc:
    return HopDoc(
        hop_id=f"hop-{i}",
        candidate_id=f"cand-{name}",
        candidate_name=name,
        working_ion="Li",
        length_angstrom=3.0,
        isite_frac=[0, 0, 0],
        esite_frac=[0.5, 0, 0],
        host_formula="LiX",
    )


def test_hop_batches():
    hops = [_hop(i) for i in range(5)]
    batches = hop_batches(hops, 2)
    assert [[h.hop_id for h in b] for b in batches] == [
        ["hop-0", "hop-1"],
        ["hop-2", "hop-3"],
        ["hop-4"],
    ]
    assert hop_batches(hops, 5) == [hops]
    with pytest.raises(ValueError, match="at least 1"):
        hop_batches(hops, 0)
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        PredictionConfig(hops_per_job=0)  # rejected before any Maker or job sees it


def test_split_job_replaces_itself_and_keeps_routing():
    hops = [_hop(i) for i in range(5)]
    predict = PredictMaker(options=PredictionConfig(hops_per_job=2)).make(hops, [])
    store = JobStore(MemoryStore())
    store.connect()
    response = predict.run(store=store)
    new_jobs = response.replace.jobs
    assert [j.name for j in new_jobs] == [
        "predict batch 1/3",
        "predict batch 2/3",
        "predict batch 3/3",
        "merge predictions",
    ]
    assert [len(j.function_args[0]) for j in new_jobs[:3]] == [2, 2, 1]
    merge = new_jobs[-1]
    assert merge.uuid == predict.uuid and merge.index == predict.index + 1
    for new in new_jobs:  # created at run time: they inherit the GPU routing
        assert new.config.manager_config == {"_fworker": "gpu"}


def test_merge_records_a_failed_batch_and_keeps_the_others():
    pred = PredictionsOutput(model_version="m1")
    out = jobs.merge_predictions.original(
        [pred, None], [[("hop-0", "A")], [("hop-1", "B"), ("hop-2", "B")]]
    )
    assert out.model_version == "m1"
    assert [(f.hop_id, f.candidate_name) for f in out.failures] == [("hop-1", "B"), ("hop-2", "B")]
    assert all(f.reason == "prediction job failed" for f in out.failures)
    with pytest.raises(ValueError, match="different models"):
        jobs.merge_predictions.original([pred, PredictionsOutput(model_version="m2")], [[], []])


def test_five_hops_batch_two_gives_three_prediction_jobs(tiny_model, tmp_path):
    folder = tmp_path / "batched"
    summary = run_round_locally(build_round(five_hop_config(folder, tiny_model, 2)), folder)
    assert summary.n_hops == 5 and summary.n_predictions == 5 and summary.n_hop_failures == 0

    with jobflow_store(folder) as store:
        records = list(store.query({}, properties=["name", "output"], load=True))  # blobs too
    names = [d["name"] for d in records]
    batch_outputs = [
        d["output"]["predictions"] for d in records if d["name"].startswith("predict batch")
    ]
    assert sorted(n for n in names if n.startswith("predict batch")) == [
        "predict batch 1/3",
        "predict batch 2/3",
        "predict batch 3/3",
    ]
    assert "merge predictions" in names
    assert sorted(len(p) for p in batch_outputs) == [1, 2, 2]
    batch_hops = {p["hop_id"] for out in batch_outputs for p in out}

    with open_results_store(folder, create=False) as results:
        stored = {r["hop_id"] for r in results.read("predictions")}
        (selection,) = list(results.read("selections"))
    assert stored == batch_hops and len(stored) == 5
    assert selection["n_considered"] == 5
    assert {s["hop_id"] for s in selection["selected"]} == stored  # budget 5, all borderline

    # the same round in one job predicts the same barriers
    single = tmp_path / "single"
    run_round_locally(build_round(five_hop_config(single, tiny_model, None)), single)
    with open_results_store(single, create=False) as results:
        one_job = {r["hop_id"]: r["barrier_ev"] for r in results.read("predictions")}
    with open_results_store(folder, create=False) as results:
        batched = {r["hop_id"]: r["barrier_ev"] for r in results.read("predictions")}
    assert batched == pytest.approx(one_job)


def test_rerun_with_every_hop_predicted_does_not_split(tiny_model, tmp_path):
    folder = tmp_path / "rerun"
    config = five_hop_config(folder, tiny_model, 2)
    first = run_round_locally(build_round(config), folder)
    with open_results_store(folder, create=False) as results:
        stamps = {r["prediction_id"]: r["last_updated"] for r in results.read("predictions")}
    second = run_round_locally(build_round(config), folder, force=True)  # the jobs run
    assert second.n_predictions == first.n_predictions == 5
    with jobflow_store(folder) as store:
        names = [d["name"] for d in store.query({}, properties=["name"])]
    # the first run split into 3 batches; the re-run's job read the 5 stored predictions
    assert sum(n.startswith("predict batch") for n in names) == 3
    with open_results_store(folder, create=False) as results:
        again = {r["prediction_id"]: r["last_updated"] for r in results.read("predictions")}
    assert again == stamps  # nothing written again
