"""A round whose job store is a MongoStore (set through the settings file), and big outputs.

The MongoDB server is mongomock's in-memory server store (:mod:`tests.fake_mongo`); the round,
jobflow, maggma and the results store are the real code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.fake_mongo import (
    DATABASE,
    database,
    fake_server,
    fireworks_launchpad,
    write_job_store_file,
)

from hopscreen.schemas.base import Document
from hopscreen.schemas.hop import HopDoc, HostNetworkDoc
from hopscreen.schemas.round import HopsOutput
from hopscreen.screening.hop_cache import CACHE_FOLDER
from hopscreen.store import COLLECTIONS, open_results_store
from hopscreen.store.folder import ROUND_RECORDS_FOLDER, SQLITE_HEADER
from hopscreen.store.job_store import LINK_FILE
from hopscreen.workflow import feedback_jobs, jobs
from hopscreen.workflow.campaign import (
    CampaignConfig,
    build_round,
    run_round_locally,
    submit_to_launchpad,
)

MONGO_MAX_DOCUMENT_BYTES = 16 * 1024 * 1024


@pytest.fixture
def mongo_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    """A settings file whose job_store is a jobflow.yaml of MongoStores on the fake server."""
    server = fake_server(monkeypatch)
    site = tmp_path / "site"
    site.mkdir()
    write_job_store_file(site / "jobflow.yaml")
    (site / "settings.yaml").write_text("job_store: jobflow.yaml\n")  # relative to the file
    monkeypatch.setenv("HOPSCREEN_CONFIG_FILE", str(site / "settings.yaml"))
    monkeypatch.delenv("HOPSCREEN_JOB_STORE", raising=False)
    return server


def _config(results: Path, model: str) -> CampaignConfig:
    return CampaignConfig.from_dict(
        {
            "sources": {"demo": True},
            "ion": "Na",
            "results_dir": str(results),
            "model": model,
            "selection": {"budget": 2, "coverage": None, "k_sigma": 1000.0, "max_host_sites": 12},
            "verifier": "umlip",
        }
    )


def _is_blob_reference(value: object) -> bool:
    return isinstance(value, dict) and value.get("store") == "data" and "blob_uuid" in value


def test_a_round_with_a_mongo_job_store_writes_everything_there(
    tiny_model: str, fake_verifier: None, mongo_settings: object, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    summary = run_round_locally(build_round(_config(results, tiny_model)), results)
    assert summary.n_hops == summary.n_predictions == 1 and summary.n_verified == 1

    # nothing of the stores in the results folder: only the link, the run markers' folder,
    # the hop cache (bands: scratch data, not documents) and the round record (its summary)
    files = [p for p in results.rglob("*") if p.is_file() and CACHE_FOLDER not in p.parts]
    assert sorted(p.name for p in files if p.parent.name != ROUND_RECORDS_FOLDER) == [LINK_FILE]
    (record,) = (results / ROUND_RECORDS_FOLDER).iterdir()
    assert json.loads(record.read_text())["summary"]["n_hops"] == 1
    assert not any(p.read_bytes().startswith(SQLITE_HEADER) for p in files)

    db = database(mongo_settings, DATABASE)
    job_docs = list(db["jobflow_outputs"].find({}))
    names = {doc["name"] for doc in job_docs}
    assert {"candidates", "hops", "predict", "select", "collect"} <= names
    (hops_doc,) = [d for d in job_docs if d["name"] == "hops"]
    reference = hops_doc["output"]["hops"]
    assert _is_blob_reference(reference)  # the hop list is not in the job document
    blob = db["jobflow_data"].find_one({"blob_uuid": reference["blob_uuid"]})
    assert [h["hop_id"] for h in blob["data"]] == [summary_hop_id(results)]

    written = {name: db[name].count_documents({}) for name in COLLECTIONS}
    assert written == {name: summary.written.get(name, 0) for name in COLLECTIONS}
    for name in ("candidates", "hops", "predictions", "selections", "verifications", "verdicts"):
        assert written[name] == 1, name

    again = run_round_locally(build_round(_config(results, tiny_model)), results, force=True)
    assert again.written == summary.written
    assert {name: db[name].count_documents({}) for name in COLLECTIONS} == written


def summary_hop_id(results: Path) -> str:
    """The one hop of the round, read back through the bound folder (as readers do)."""
    with open_results_store(results, read_only=True, create=False) as store:
        (doc,) = store.read("hops")
    return doc["hop_id"]


def _many_hops(n_hosts: int, per_host: int) -> HopsOutput:
    """A hops output of ``n_hosts`` low-symmetry hosts (built without validation: fast)."""
    template = HopDoc(
        hop_id="0" * 64,
        candidate_id="1" * 64,
        candidate_name="mp-0",
        working_ion="Li",
        length_angstrom=3.0,
        isite_frac=[0.1, 0.2, 0.3],
        esite_frac=[0.4, 0.5, 0.6],
        multiplicity=4,
        band_n_atoms=120,
        supercell_n_atoms=117,
        host_formula="LiFePO4",
    ).model_dump()
    hops, networks = [], []
    for i in range(n_hosts):
        ids = [f"{i:06d}{k:03d}".ljust(64, "0") for k in range(per_host)]
        name = f"mp-{i}"
        hops += [
            HopDoc.model_construct(**{**template, "hop_id": h, "candidate_name": name}) for h in ids
        ]
        edges = [[u, (u + 1) % 8, 0, 0, 1, k] for u in range(8) for k in range(per_host)]
        networks.append(
            HostNetworkDoc.model_construct(
                candidate_name=name, working_ion="Li", n_sites=8, hop_ids=ids, edges=edges
            )
        )
    return HopsOutput.model_construct(hops=hops, networks=networks, failures=[])


@pytest.mark.parametrize(
    "hops_per_host",
    [2, pytest.param(16, marks=pytest.mark.slow)],  # 16: low-symmetry hosts, > 16 MB (30 s)
)
def test_the_hops_of_2000_hosts_are_not_one_job_document(hops_per_host: int) -> None:
    from jobflow import JobStore
    from maggma.stores import MemoryStore

    output = _many_hops(2000, hops_per_host)
    if hops_per_host == 16:
        assert len(output.model_dump_json()) > MONGO_MAX_DOCUMENT_BYTES  # as one document
    job = jobs.enumerate_hops_job([])
    job.function = lambda *a, **k: output  # the enumeration itself is not what is tested
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    store.connect()
    job.run(store=store)
    (doc,) = list(store.docs_store.query({"uuid": job.uuid}))
    doc.pop("_id", None)
    assert len(json.dumps(doc, default=str)) < 4096
    assert all(_is_blob_reference(doc["output"][k]) for k in ("hops", "networks", "failures"))
    blobs = {b["blob_uuid"]: b for b in store.additional_stores["data"].query({})}
    assert len(blobs[doc["output"]["hops"]["blob_uuid"]]["data"]) == 2000 * hops_per_host
    assert store.get_output(job.uuid, load=True)["hops"][-1]["hop_id"] == output.hops[-1].hop_id


GROWING = [
    (jobs.fetch_candidates, ()),
    (jobs.enumerate_hops_job, ([],)),
    (jobs.predict_barriers, ([], [])),
    (jobs.merge_predictions, ([], [])),
    (jobs.gather_verifications, ([], [], [])),
    (jobs.verify_selected, (None, [], [])),
    (feedback_jobs.repredict_unverified_job, ("x", None)),
]


@pytest.mark.parametrize(("fn", "args"), GROWING, ids=lambda x: getattr(x, "__name__", ""))
def test_growing_outputs_name_real_list_fields_for_the_data_store(fn, args) -> None:
    job = fn(*args)
    data = job._kwargs["data"]
    fields = [data] if isinstance(data, str) else list(data)
    schema: type[Document] = job.output_schema
    for name in fields:  # a renamed field would silently stay in the job document
        annotation = str(schema.model_fields[name].annotation)
        assert annotation.startswith("list["), (name, annotation)


def test_screen_command_takes_a_job_store_file(
    tiny_model: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from hopscreen.cli.main import app

    server = fake_server(monkeypatch)
    monkeypatch.delenv("HOPSCREEN_CONFIG_FILE", raising=False)
    monkeypatch.delenv("HOPSCREEN_JOB_STORE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no default settings file
    job_store_file = write_job_store_file(tmp_path / "jobflow.yaml")
    results = tmp_path / "results"
    args = ["screen", "--demo", "--ion", "Na", "--model", tiny_model, "--verifier", "none"]
    args += ["--results", str(results)]
    done = CliRunner().invoke(app, [*args, "--job-store", str(job_store_file)])
    assert done.exit_code == 0, done.output
    assert database(server)["predictions"].count_documents({}) == 1
    assert not (results / "hopscreen").exists()

    bad = tmp_path / "bad.yaml"
    bad.write_text("JOB_STORE: {docs_store: {type: NoSuchStore}}\n")
    refused = CliRunner().invoke(app, [*args, "--job-store", str(bad)])
    assert refused.exit_code == 1
    assert "NoSuchStore" in refused.output and str(bad) in refused.output

    (tmp_path / "settings.yaml").write_text("job_stor: typo.yaml\n")
    monkeypatch.setenv("HOPSCREEN_CONFIG_FILE", str(tmp_path / "settings.yaml"))
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 1
    assert "job_stor" in refused.output and "allowed: job_store" in refused.output


def test_a_fireworks_round_writes_to_the_configured_job_store(
    tiny_model: str, mongo_settings: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fireworks import FWorker
    from fireworks.core.rocket_launcher import rapidfire

    lpad = fireworks_launchpad(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)  # rockets write launcher folders here
    results = tmp_path / "results"
    config = _config(results, tiny_model).model_copy(update={"verifier": "none"})
    ids = submit_to_launchpad(build_round(config), results, launchpad=lpad)
    for _ in range(4):
        for worker in ("gpu", "dft"):
            rapidfire(lpad, FWorker(name=worker), strm_lvl="ERROR")
    states = {lpad.get_fw_by_id(i).state for i in ids}
    assert states == {"COMPLETED"}
    db = database(mongo_settings, DATABASE)
    assert db["predictions"].count_documents({}) == 1  # written by the workers' jobs
    assert db["jobflow_outputs"].count_documents({}) >= len(ids)
    kept = [p for p in results.rglob("*") if p.is_file() and CACHE_FOLDER not in p.parts]
    assert [p.name for p in kept] == [LINK_FILE]
