"""The campaign benchmark: host order of the corpus, a real round run twice, its section."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.model_fixtures import save_tiny_bundle

from hopscreen.benchmarks.campaign import (
    JobClock,
    bench_campaign,
    failures_by_reason,
    prediction_stamps,
    stage_of,
)
from hopscreen.benchmarks.campaign_corpus import CorpusHost, campaign_corpus, write_structures
from hopscreen.benchmarks.campaign_report import campaign_markdown
from hopscreen.candidates.demo import list_demo, read_demo_structure
from hopscreen.data.pretrain import structure_key
from hopscreen.schemas.structure import Crystal


def demo_hosts(names: tuple[str, ...]) -> list[CorpusHost]:
    """Demo structures as campaign hosts (key and formula computed like the corpus's)."""
    entries = {e.name: e for e in list_demo()}
    hosts = []
    for rank, name in enumerate(names, start=1):
        structure = read_demo_structure(entries[name])
        crystal = Crystal.from_structure(structure)
        hosts.append(
            CorpusHost(rank, structure_key(crystal), structure.composition.reduced_formula, crystal)
        )
    return hosts


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(save_tiny_bundle(tmp_path_factory.mktemp("tiny-model")))


@pytest.fixture(scope="module")
def campaign(tiny_model: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Three hosts (two Li hosts, one without Li), each round in its own process."""
    names = [e.name for e in list_demo()]
    li = [n for n in names if n.startswith("LiTiS2")][:1] + [
        n for n in names if n.startswith("LiCoO2")
    ][:1]
    no_li = [n for n in names if n.startswith("MgCr2O4")][:1]
    hosts = demo_hosts((*li, *no_li))
    lines: list[str] = []
    results = tmp_path_factory.mktemp("campaign") / "results"
    figures = bench_campaign(
        3, model=tiny_model, results_dir=results, hosts=hosts, progress=lines.append
    )
    return {"figures": figures, "lines": lines, "results": results}


def test_round_run_twice_in_fresh_processes(campaign: dict) -> None:
    f = campaign["figures"]
    first, rerun, forced = f["first"], f["rerun"], f["forced"]
    assert f["n_hosts"] == 3
    assert first["summary"]["n_candidates"] == 2
    assert first["summary"]["n_candidate_failures"] == 1
    assert first["summary"]["n_hops"] >= 2
    assert first["summary"]["n_predictions"] == first["summary"]["n_hops"]
    # every round ran in a child process whose own memory and life time were measured
    for run in (first, rerun, forced):
        assert 0 < run["seconds"] < run["process_seconds"]
        assert run["peak_rss_mib"] > 50
        assert sum(run["stage_seconds"].values()) == pytest.approx(run["seconds"], rel=0.02)
    for run in (first, forced):  # the forced re-run ran every job again
        assert {"candidates", "hops", "predict", "collect"} <= set(run["stage_seconds"])
        assert run["reused_from"] is None
    # the immediate re-run was answered from the first run's record: no job ran
    assert rerun["jobs"] == 0 and set(rerun["stage_seconds"]) == {"outside jobs"}
    assert rerun["reused_from"] and Path(rerun["reused_from"]).parent.name == "round-records"
    assert rerun["summary"]["n_predictions"] == first["summary"]["n_predictions"]
    assert forced["jobs"] >= first["jobs"] - 2  # the prediction job may not split again
    # progress: a line per stage of the bench and per finished job of each round
    assert any(line.startswith("  hops:") for line in campaign["lines"])
    assert any("re-run" in line for line in campaign["lines"])


def test_rerun_writes_no_new_prediction(campaign: dict) -> None:
    f = campaign["figures"]
    writes = f["rerun_predictions"]
    assert writes["new"] == 0 and writes["restamped"] == 0
    assert f["forced_predictions"]["new"] == f["forced_predictions"]["restamped"] == 0
    assert writes["before"] == writes["after"] == f["first"]["summary"]["n_predictions"]
    stamps = prediction_stamps(campaign["results"])
    assert len(stamps) == writes["after"]


def test_kill_test_resumes_to_the_same_store(campaign: dict) -> None:
    test = campaign["figures"]["kill_resume"]
    kill = test["kill"]
    if kill["killed"]:  # the tiny round may end before the poll sees its predictions
        assert kill["predictions_when_killed"] >= 1
        assert kill["child_processes_left"] == 0  # no worker outlives the killed round
    assert (
        test["resumed"]["summary"]["n_predictions"]
        == (campaign["figures"]["first"]["summary"]["n_predictions"])
    )
    for name, row in test["comparison"].items():
        assert row["reference"] == row["resumed"] > 0 or name in ("verdicts", "selections")
        assert row["lost"] == row["extra"] == row["duplicated"] == row["differing"] == 0, name


def test_compare_stores_sees_a_lost_and_a_changed_record(campaign: dict, tmp_path: Path) -> None:
    import shutil

    from hopscreen.benchmarks.campaign_resume import compare_stores
    from hopscreen.schemas.prediction import PredictionDoc
    from hopscreen.store import open_results_store

    copy = tmp_path / "copy"
    shutil.copytree(campaign["results"], copy)
    with open_results_store(copy) as store:
        first = store.read_docs("predictions", PredictionDoc)[0]
        store.write("predictions", [first.model_copy(update={"barrier_ev": 42.0})])
    report = compare_stores(copy, campaign["results"])
    assert report["predictions"]["differing"] == 1 and report["hops"]["differing"] == 0
    with open_results_store(copy) as store:
        store.stores["hops"].remove_docs({})
    assert compare_stores(copy, campaign["results"])["hops"]["lost"] > 0


def test_failures_are_grouped_by_reason(campaign: dict) -> None:
    failures = campaign["figures"]["failures_by_reason"]
    assert failures == failures_by_reason(campaign["results"])
    assert sum(failures.values()) == 1
    (reason,) = failures
    assert reason.startswith("candidate: ") and "no reason" not in reason


def test_section_has_every_field(campaign: dict) -> None:
    text = campaign_markdown(campaign["figures"], "Machine: test.", note="idle", command="cmd")
    for needle in (
        "## Campaign: 3 Li hosts",
        "Load average (1 min)",
        "Conditions noted by the person who ran it: idle",
        "| round seconds (flow built → summary) |",
        "| hops/s end to end |",
        "| answered from the round record | no | yes | no |",
        "The immediate re-run found the first run's round record",
        "| stage | first run s | share | re-run s | forced re-run s |",
        "| peak RSS, MiB: round process + its workers (each at the largest's peak) |",
        "Kill test: a fresh run of the same campaign",
        "| predictions |",
        "killed mid-way and re-run: same store as an uninterrupted run",
        "| predictions written by this run |",
        "0 new,",
        "| failure (stage: reason) | count |",
        "| stage | first run s | share | re-run s |",
        "| hops |",
        "| predict |",
        "Tier-2 share: no cascade: every hop by",
        "s per host",
        "immediate re-run ≤ 5 % of the first run",
        "peak RSS < 4 GiB",
    ):
        assert needle in text, needle
    json.dumps(campaign["figures"], default=str)  # the --json output is serialisable


def test_tier2_share_is_read_from_a_cascade_record(campaign: dict) -> None:
    figures = json.loads(json.dumps(campaign["figures"], default=str))
    figures["first"]["summary"]["cascade"] = {
        "rule": "straddle",
        "n_hops": 40,
        "n_tier2": 10,
        "share_tier2": 0.25,
    }
    text = campaign_markdown(figures, "Machine: test.")
    assert "Tier-2 share: 25.0 % of hops (10 of 40; rule `straddle`)" in text


def test_results_folder_must_be_fresh(tmp_path: Path, tiny_model: str) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "something").write_text("x")
    with pytest.raises(ValueError, match="not an empty folder"):
        bench_campaign(1, model=tiny_model, results_dir=tmp_path / "old", hosts=[])


def test_stage_names_and_job_clock() -> None:
    assert stage_of("predict batch 2/3") == "predict"
    assert stage_of("merge predictions") == "predict"
    assert stage_of("gather verifications") == "verify"
    assert stage_of("something else") == "other jobs"
    clock = JobClock()
    clock.started = 100.0
    clock.events = [
        (101.0, "Starting", "candidates"),
        (102.0, "Finished", "candidates"),
        (102.5, "Starting", "hops"),  # raised: lasts until the next job starts
        (110.0, "Starting", "collect"),
        (111.0, "Finished", "collect"),
    ]
    seconds = clock.stage_seconds(112.0)
    assert seconds["candidates"] == pytest.approx(1.0)
    assert seconds["hops"] == pytest.approx(7.5)
    assert seconds["collect"] == pytest.approx(1.0)
    assert seconds["outside jobs"] == pytest.approx(2.5)


def test_write_structures_round_trips(tmp_path: Path) -> None:
    hosts = demo_hosts(tuple(e.name for e in list_demo() if e.name.startswith("LiTiS2"))[:1])
    (path,) = write_structures(hosts, tmp_path)
    assert path.name.startswith("0001-LiTiS2-") and path.suffix == ".json"
    from pymatgen.core import Structure

    again = Structure.from_dict(json.loads(path.read_text()))
    assert structure_key(Crystal.from_structure(again)) == hosts[0].key


def test_corpus_order_is_fixed_and_clean(data_dir: Path) -> None:
    corpus = campaign_corpus(data_dir)
    counts, hosts = corpus.counts, corpus.hosts
    assert counts["hosts"] == len(hosts)
    assert counts["hosts"] == (
        counts["with_ion"] - counts["near_duplicates_dropped"] - counts["leakage_excluded"]
    )
    assert counts["near_duplicates_dropped"] > 0 and counts["leakage_excluded"] > 0
    assert [h.rank for h in hosts[:3]] == [1, 2, 3]
    keys = [h.key for h in hosts]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    for host in hosts[:200]:
        symbols = set(host.crystal.symbols)
        assert "Li" in symbols and len(symbols) >= 3
    leakage = json.loads((data_dir / "pretrain" / "leakage_em_hosts.json").read_text())
    leaked_formulas = {
        f for block in leakage["per_property"].values() for f in block["matches_full"]
    }
    assert not leaked_formulas & {h.formula for h in hosts}
    assert campaign_corpus(data_dir).hosts[0].key == hosts[0].key


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc (Linux)")
def test_kill_test_sees_child_processes_and_whether_they_end() -> None:
    import os
    import subprocess
    import sys

    from hopscreen.benchmarks import campaign_resume

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert child.pid in campaign_resume._children(os.getpid())
        assert campaign_resume._alive(child.pid)
    finally:
        child.kill()
        child.wait()
    assert not campaign_resume._alive(child.pid)
    assert campaign_resume._left_behind([child.pid]) == 0
