"""A round killed midway and run again completes, with every document stored exactly once."""

from __future__ import annotations

from typing import Any

import pytest

from hopscreen.store import jobflow_store, open_results_store
from hopscreen.store.killed_runs import RUNS_FOLDER
from hopscreen.workflow.campaign import CampaignConfig, build_round, run_round_locally

COLLECTIONS = (
    "candidates",
    "hops",
    "predictions",
    "selections",
    "verifications",
    "failures",
    "verdicts",
)
KEY_FIELDS = {
    "candidates": "candidate_id",
    "hops": "hop_id",
    "predictions": "prediction_id",
    "selections": "selection_id",
    "verifications": "verification_id",
    "failures": "failure_id",
    "verdicts": "verdict_key",
}


def round_config(results_dir, model: str) -> CampaignConfig:
    # Two Li hosts with small cells (LiTiS2: 1 hop, LiC6: 2 hops) plus the ion filter's
    # rejects; every hop borderline (huge k_sigma) so that verification runs too.
    return CampaignConfig.from_dict(
        {
            "sources": {"demo": True},
            "ion": "Li",
            "results_dir": str(results_dir),
            "model": model,
            "selection": {"budget": 2, "coverage": None, "k_sigma": 1000.0, "max_host_sites": 7},
            "verifier": "umlip",
        }
    )


def stored(results_dir) -> dict[str, list[str]]:
    """The key of every stored document, per collection (duplicates kept)."""
    with open_results_store(results_dir, create=False) as store:
        return {
            name: sorted(str(r[KEY_FIELDS[name]]) for r in store.read(name)) for name in COLLECTIONS
        }


@pytest.fixture
def clean_run(tiny_model, fake_verifier, tmp_path) -> dict[str, Any]:
    folder = tmp_path / "clean"
    summary = run_round_locally(build_round(round_config(folder, tiny_model)), folder)
    return {"summary": summary, "docs": stored(folder)}


def _once(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, fail: Any) -> list[int]:
    """Make ``module.name`` call ``fail`` on its first call only; returns a call counter."""
    original = getattr(module, name)
    calls = [0]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 1:
            return fail(original, *args, **kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


def test_clean_round_is_what_we_expect(clean_run):
    summary, docs = clean_run["summary"], clean_run["docs"]
    assert summary.n_hops == summary.n_predictions >= 2
    assert summary.n_verified == summary.n_selected >= 1
    for name in COLLECTIONS:
        assert len(docs[name]) == len(set(docs[name])), name
    assert len(docs["selections"]) == 1


def test_killed_while_writing_then_rerun(
    tiny_model, fake_verifier, clean_run, monkeypatch, tmp_path
):
    """The collector dies after writing some collections (a kill mid-write), then re-runs."""
    from hopscreen.store.results import ResultsStore

    folder = tmp_path / "killed"
    config = round_config(folder, tiny_model)
    writes: list[str] = []

    original_write = ResultsStore.write

    def write(self, collection, docs):
        writes.append(collection)
        if collection == "predictions" and writes.count("predictions") == 1:
            raise KeyboardInterrupt("killed while writing")  # not an Exception: a real kill
        return original_write(self, collection, docs)

    monkeypatch.setattr(ResultsStore, "write", write)
    with pytest.raises((KeyboardInterrupt, RuntimeError)):
        run_round_locally(build_round(config), folder)
    partial = stored(folder)
    assert partial["candidates"] and partial["hops"]  # written before the kill
    assert not partial["predictions"]  # the kill came here

    summary = run_round_locally(build_round(config), folder)
    assert summary.n_predictions == clean_run["summary"].n_predictions
    assert stored(folder) == clean_run["docs"]


def _fail_prediction_then_rerun(tiny_model, monkeypatch, folder) -> dict[str, list[str]]:
    """Run a round whose prediction job raises once, then run it again; the stored keys."""
    import hopscreen.screening.round as screening_round

    config = round_config(folder, tiny_model)

    def boom(original, *args, **kwargs):
        raise RuntimeError("worker killed during prediction")

    calls = _once(monkeypatch, screening_round, "predict_hops", boom)
    try:
        run_round_locally(build_round(config), folder)
    except RuntimeError:
        pass  # whether the collector ran after the failure is not what is tested here
    assert calls[0] == 1
    assert not stored(folder)["predictions"]
    run_round_locally(build_round(config), folder)
    return stored(folder)


def test_failed_prediction_job_then_rerun(
    tiny_model, fake_verifier, clean_run, monkeypatch, tmp_path
):
    """The prediction job raises the first time (round stopped midway), then the re-run."""
    docs = _fail_prediction_then_rerun(tiny_model, monkeypatch, tmp_path / "failed-predict")
    clean = clean_run["docs"]
    for name in ("candidates", "hops", "predictions", "verifications", "failures"):
        assert docs[name] == clean[name], name
    assert set(clean["selections"]) <= set(docs["selections"])
    for name in COLLECTIONS:
        assert len(docs[name]) == len(set(docs[name])), name


def test_failed_prediction_job_then_rerun_counts_equal_clean_run(
    tiny_model, fake_verifier, clean_run, monkeypatch, tmp_path
):
    docs = _fail_prediction_then_rerun(tiny_model, monkeypatch, tmp_path / "failed-predict")
    assert {k: len(v) for k, v in docs.items()} == {k: len(v) for k, v in clean_run["docs"].items()}


def test_killed_during_verification_resumes_without_recomputing(
    tiny_model, fake_verifier, clean_run, monkeypatch, tmp_path
):
    """A kill after the first NEB finished: the re-run redoes only the unfinished NEB.

    Predictions and finished verifications reached the store when their jobs ended, so the
    re-run reuses them (no model call, one NEB) and ends with the clean run's documents.
    """
    import hopscreen.screening.round as screening_round

    folder = tmp_path / "killed-verify"
    config = round_config(folder, tiny_model)
    n_verify = clean_run["summary"].n_selected
    assert n_verify >= 2, "the round must select two hops for this test"

    def kill(original, *args, **kwargs):
        raise KeyboardInterrupt("kill -9")  # not an Exception: nothing catches it

    original_verify = screening_round.verify_hop
    verify_calls = [0]

    def verify_then_kill(*args, **kwargs):
        verify_calls[0] += 1
        if verify_calls[0] == 2:
            raise KeyboardInterrupt("kill -9 during the second NEB")
        return original_verify(*args, **kwargs)

    monkeypatch.setattr(screening_round, "verify_hop", verify_then_kill)
    with pytest.raises(KeyboardInterrupt):
        run_round_locally(build_round(config), folder)
    partial = stored(folder)
    assert len(partial["verifications"]) == 1  # the first NEB was stored when it ended
    assert partial["predictions"] == clean_run["docs"]["predictions"]
    (killed_marker,) = (folder / RUNS_FOLDER).glob("*.pid")  # the killed run left its marker
    assert _job_roots(folder) == {killed_marker.stem}  # and its job documents

    monkeypatch.setattr(screening_round, "verify_hop", original_verify)
    verify_calls[0] = 0
    counted: list[int] = []

    def counting_verify(*args, **kwargs):
        counted.append(1)
        return original_verify(*args, **kwargs)

    monkeypatch.setattr(screening_round, "verify_hop", counting_verify)
    predict_calls = _once(monkeypatch, screening_round, "predict_hops", kill)
    summary = run_round_locally(build_round(config), folder)
    assert predict_calls[0] == 0  # every prediction was reused from the store
    assert len(counted) == n_verify - 1  # only the unfinished NEB ran again
    assert summary.n_verified == clean_run["summary"].n_verified
    assert stored(folder) == clean_run["docs"]
    # the killed run's job documents are gone: every job document belongs to the second run
    assert not list((folder / RUNS_FOLDER).glob("*.pid"))
    roots = _job_roots(folder)
    assert len(roots) == 1 and killed_marker.stem not in roots


def _job_roots(folder) -> set[str]:
    """The root flow of every job document in the folder's job store."""
    job_store = jobflow_store(folder)
    job_store.connect()
    try:
        return {doc["hosts"][-1] for doc in job_store.docs_store.query({}, properties=["hosts"])}
    finally:
        job_store.close()
