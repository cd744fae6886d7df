"""The hops job split into chunks of hosts at run time, and its merger."""

from __future__ import annotations

from pathlib import Path

from jobflow import Flow, JobStore, run_locally
from maggma.stores import MemoryStore

from hopscreen.schemas.round import HopsOutput
from hopscreen.screening.hops_stage import enumerate_round_hops
from hopscreen.screening.round import load_candidates
from hopscreen.workflow import jobs
from hopscreen.workflow.hops_jobs import enumerate_hops_job, merge_hops_parts

DEMO = Path(jobs.__file__).parent.parent / "candidates" / "demo"
FILES = [str(DEMO / "LiCoO2_layered.cif"), str(DEMO / "LiC6_graphite.cif")]


def test_split_job_gives_the_hops_of_one_job(tmp_path: Path) -> None:
    cands = load_candidates(files=FILES, working_ion="Li").candidates
    assert len(cands) == 2
    job = enumerate_hops_job(cands, hosts_per_job=1)
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    responses = run_locally(Flow([job]), store=store, ensure_success=True, root_dir=tmp_path)
    outputs = responses[job.uuid]
    merged = outputs[max(outputs)].output  # the merger took the job's uuid
    assert isinstance(merged, HopsOutput)
    direct = enumerate_round_hops(cands)
    assert merged.hops == direct.hops and merged.networks == direct.networks
    names = {d["name"] for d in store.query({}, properties=["name"])}
    assert {"hops chunk 1/2", "hops chunk 2/2", "merge hops"} <= names


def test_merge_turns_a_failed_chunk_into_host_failures() -> None:
    cands = load_candidates(files=FILES[:1], working_ion="Li").candidates
    done = enumerate_round_hops(cands)
    merged = merge_hops_parts([done, None], [[cands[0].name], ["lost-a", "lost-b"]])
    assert merged.hops == done.hops and merged.networks == done.networks
    lost = [f for f in merged.failures if f.reason == "hops job failed"]
    assert sorted(f.candidate_name for f in lost) == ["lost-a", "lost-b"]
    again = merge_hops_parts([done.model_dump(mode="json")], [[cands[0].name]])
    assert again.hops == done.hops
