"""Campaigns with Materials Project sources never call MP from a worker (issue #15).

A saved candidates file is read by the round's candidates job with the network forbidden;
an ``mp_chemsys`` source is fetched when the round is built (the login node), unless
``mp_on_worker: true``.
"""

from __future__ import annotations

import pytest
import yaml
from tests.candidates.conftest import layered_licoo2, rocksalt_licl, rocksalt_nacl
from tests.mp_fakes import KEY, forbid_network, install_fake
from typer.testing import CliRunner

import hopscreen.candidates.mp as mp_module
from hopscreen.candidates import MPQuery, save_mp_candidates
from hopscreen.cli import app
from hopscreen.store import open_results_store
from hopscreen.workflow.campaign import CampaignConfig, CampaignConfigError, build_round

runner = CliRunner()
QUERY = MPQuery(working_ion="Li", chemsys=["Co-O"])  # electrodes: LiCoO2 only


@pytest.fixture
def fake(monkeypatch):
    fake = install_fake(layered_licoo2(), rocksalt_licl(), rocksalt_nacl())
    monkeypatch.setattr(mp_module, "_default_rester_factory", fake)
    monkeypatch.setenv("MP_API_KEY", KEY)
    return fake


def _candidates_job(flow):
    (job,) = [j for j in flow.jobs if j.name == "candidates"]
    return job


def _campaign(tmp_path, results_dir, **sources) -> str:
    path = tmp_path / "campaign.yaml"
    data = {"sources": sources, "ion": "Li", "results_dir": str(results_dir), "verifier": "none"}
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_screen_runs_from_a_saved_file_with_no_network(fake, tiny_model, tmp_path, monkeypatch):
    saved = save_mp_candidates(QUERY, tmp_path / "mp")  # on the login node
    forbid_network(monkeypatch)  # the compute node
    results = tmp_path / "res"
    config = _campaign(tmp_path, results, candidates_file=str(saved.path))
    out = runner.invoke(app, ["screen", "--config", config, "--model", tiny_model])
    assert out.exit_code == 0, out.output
    with open_results_store(results, create=False) as store:
        (cand,) = store.read("candidates")
        n_hops = store.count("hops")
    assert cand["source"] == "mp" and cand["mp_fields"]["material_id"] == "mp-22526"
    assert n_hops > 0 and len(fake.instances) == 1


def test_mp_chemsys_is_fetched_when_the_round_is_built(fake, tmp_path):
    results = tmp_path / "res"
    config = CampaignConfig.from_dict(
        {"sources": {"mp_chemsys": ["Co-O"]}, "ion": "Li", "results_dir": str(results)}
    )
    job = _candidates_job(build_round(config))
    (path,) = (results / "candidates").glob("mp-Li-*.json.gz")
    assert job.function_kwargs["mp_chemsys"] == []
    assert job.function_kwargs["candidates_files"] == [str(path)]
    assert len(fake.instances) == 1 and fake.calls()[0][1]["elements"] == ["Co", "O"]

    build_round(config)  # built again: the saved query is reused
    assert len(fake.instances) == 1


def test_mp_on_worker_keeps_the_query_in_the_job(fake, tmp_path):
    config = CampaignConfig.from_dict(
        {
            "sources": {"mp_chemsys": ["Co-O"], "mp_on_worker": True},
            "ion": "Li",
            "results_dir": str(tmp_path / "res"),
        }
    )
    job = _candidates_job(build_round(config))
    assert job.function_kwargs["mp_chemsys"] == ["Co-O"]
    assert job.function_kwargs["candidates_files"] == []
    assert fake.instances == []


def test_bad_chemsys_is_a_configuration_error(fake, tmp_path):
    config = CampaignConfig.from_dict(
        {"sources": {"mp_chemsys": ["Xx-O"]}, "ion": "Li", "results_dir": str(tmp_path)}
    )
    with pytest.raises(CampaignConfigError, match=r"sources\.mp_chemsys: .*'Xx-O'"):
        build_round(config)
    assert fake.instances == []


def test_a_candidates_file_alone_is_a_source():
    CampaignConfig.from_dict({"sources": {"candidates_file": "x.json.gz"}}).check_sources()


@pytest.mark.parametrize(
    ("damage", "ion", "needle"),
    [
        ("truncate", "Li", "damaged or truncated"),
        (None, "Na", "holds Li candidates, not Na ones"),
        ("delete", "Li", "does not exist"),
    ],
)
def test_unusable_candidates_file_stops_screen_before_any_work(
    fake, tmp_path, monkeypatch, damage, ion, needle
):
    saved = save_mp_candidates(QUERY, tmp_path / "mp")
    if damage == "truncate":
        saved.path.write_bytes(saved.path.read_bytes()[:50])
    elif damage == "delete":
        saved.path.unlink()
    forbid_network(monkeypatch)
    results = tmp_path / "res"
    config = _campaign(tmp_path, results, candidates_file=str(saved.path))
    out = runner.invoke(app, ["screen", "--config", config, "--ion", ion])
    assert out.exit_code == 1, out.output
    assert out.stderr.startswith("Error: ") and needle in out.stderr
    assert out.stderr.count("\n") == 1
    assert list(results.iterdir()) == []  # no store, no job ran
