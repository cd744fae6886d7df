"""A real small round through FireWorks: a mongomock LaunchPad, workers named gpu and dft.

No MongoDB server can run here; FireWorks' own mongomock backend (``MONGOMOCK_SERVERSTORE_FILE``,
persisted to a file) stands in for it. The jobflow store is the on-disk MontyStore of the
results folder (a MemoryStore would arrive empty in the worker), serialised into each Firework.
"""

from __future__ import annotations

import pytest
from tests.fake_mongo import fireworks_launchpad

from hopscreen.store import open_results_store
from hopscreen.workflow.campaign import CampaignConfig, build_round, submit_to_launchpad


@pytest.fixture
def launchpad(tmp_path, monkeypatch):
    return fireworks_launchpad(tmp_path, monkeypatch)


@pytest.mark.slow
def test_round_through_fireworks(tiny_model, fake_verifier, launchpad, tmp_path, monkeypatch):
    from fireworks import FWorker
    from fireworks.core.rocket_launcher import rapidfire

    monkeypatch.chdir(tmp_path)  # rockets write launcher folders here
    results = tmp_path / "results"
    config = CampaignConfig.from_dict(
        {
            "sources": {"demo": True},
            "ion": "Na",
            "results_dir": str(results),
            "model": tiny_model,
            "selection": {"budget": 2, "coverage": None, "k_sigma": 1000.0},
            "verifier": "umlip",
        }
    )
    ids = submit_to_launchpad(build_round(config), results, launchpad=launchpad)
    assert len(ids) == 6

    ran: dict[str, list[str]] = {"gpu": [], "dft": []}
    for _ in range(6):  # alternate the two workers until nothing is left
        for worker in ("gpu", "dft"):
            before = {fw_id for fw_id in launchpad.get_fw_ids({"state": "COMPLETED"})}
            rapidfire(launchpad, FWorker(name=worker), strm_lvl="ERROR")
            after = set(launchpad.get_fw_ids({"state": "COMPLETED"}))
            ran[worker] += [launchpad.get_fw_by_id(i).name for i in after - before]
        if not launchpad.get_fw_ids({"state": {"$in": ["READY", "WAITING"]}}):
            break

    states = {
        launchpad.get_fw_by_id(i).name: launchpad.get_fw_by_id(i).state
        for i in launchpad.get_fw_ids()
    }
    assert all(state == "COMPLETED" for state in states.values()), states
    # the prediction ran on the gpu worker; the run-time NEB jobs on the dft worker only
    assert "predict" in ran["gpu"] and "predict" not in ran["dft"]
    neb = [name for name in states if name.startswith("verify ")]
    assert neb and all(name in ran["dft"] for name in neb)
    assert "gather verifications" in ran["dft"]

    with open_results_store(results, create=False) as store:
        assert store.count("predictions") == 1
        (ver,) = store.read("verifications")
    assert ver["status"] == "ok" and ver["barrier_ev"] == pytest.approx(0.4)
