"""A real (tiny) round through jobflow.run_locally, and its re-run."""

from __future__ import annotations

from hopscreen.screening.collect import round_problems
from hopscreen.store import open_results_store
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


def small_config(results_dir, model: str, verifier: str = "umlip") -> CampaignConfig:
    # NaFeO2: one host, one hop; k_sigma huge so that the hop is borderline and verified.
    return CampaignConfig.from_dict(
        {
            "sources": {"demo": True},
            "ion": "Na",
            "results_dir": str(results_dir),
            "model": model,
            "selection": {"budget": 2, "coverage": None, "k_sigma": 1000.0, "max_host_sites": 12},
            "verifier": verifier,
        }
    )


def counts(results_dir) -> dict[str, int]:
    with open_results_store(results_dir, create=False) as store:
        return {name: store.count(name) for name in COLLECTIONS}


def test_round_runs_and_rerun_adds_no_duplicates(tiny_model, fake_verifier, results_dir):
    config = small_config(results_dir, tiny_model)
    summary = run_round_locally(build_round(config), results_dir)
    assert summary.n_candidates == 1
    assert summary.n_hops == summary.n_predictions == 1
    assert summary.n_selected == 1
    assert summary.n_verified == 1
    assert summary.n_agree == int(summary.n_predicted_good == 1)  # fake NEB says 0.4 eV
    first = counts(results_dir)
    assert first["verifications"] == 1 and first["predictions"] == 1
    assert first["verdicts"] == summary.written["verdicts"] == 1  # one host, one verdict
    with open_results_store(results_dir, create=False) as store:
        (verdict,) = store.read("verdicts")
        (pred,) = store.read("predictions")
    assert verdict["candidate_name"] == pred["candidate_name"]
    assert verdict["hop_ids"] == [pred["hop_id"]]
    assert 0.0 <= verdict["p_good"] <= 1.0

    # a killed round is completed by running it again: same documents, no duplicates
    again = run_round_locally(build_round(config), results_dir, force=True)
    assert again.written == summary.written
    assert counts(results_dir) == first


def test_failed_verification_is_recorded_and_collector_runs(tiny_model, monkeypatch, results_dir):
    import hopscreen.screening.round as screening_round

    def broken(*args, **kwargs):
        raise RuntimeError("NEB exploded")

    monkeypatch.setattr(screening_round, "verify_hop", broken)
    summary = run_round_locally(build_round(small_config(results_dir, tiny_model)), results_dir)
    assert summary.n_verified == 0
    assert summary.n_verification_failed == 1
    with open_results_store(results_dir, create=False) as store:
        (doc,) = store.read("verifications")
    assert doc["status"] == "failed"
    assert "NEB exploded" in doc["reason"]


def test_no_verifier(tiny_model, results_dir):
    summary = run_round_locally(
        build_round(small_config(results_dir, tiny_model, verifier="none")), results_dir
    )
    assert summary.n_selected == 1
    assert summary.n_verified == summary.n_verification_failed == 0


def test_a_failed_stage_is_reported_and_what_finished_is_kept(results_dir):
    config = small_config(results_dir, str(results_dir / "no-such-model"), verifier="none")
    summary = run_round_locally(build_round(config), results_dir)
    assert summary.failed_stages == ["predictions", "selection", "verifications"]
    assert [e.job_name for e in summary.job_errors] == ["predict"]
    assert "FileNotFoundError" in summary.job_errors[0].error
    problems = round_problems(summary)
    assert problems[0].startswith("job 'predict' failed: FileNotFoundError")
    assert "no output from: predictions, selection, verifications" in problems[1]
    stored = counts(results_dir)
    assert stored["candidates"] == 1 and stored["hops"] == 1 and stored["predictions"] == 0


def test_a_working_round_has_no_problems(tiny_model, results_dir):
    summary = run_round_locally(
        build_round(small_config(results_dir, tiny_model, verifier="none")), results_dir
    )
    assert summary.failed_stages == [] and summary.job_errors == []
    assert round_problems(summary) == []


def test_verdict_strategy_round(tiny_model, results_dir):
    config = small_config(results_dir, tiny_model, verifier="none")
    config = config.model_copy(
        update={"selection": config.selection.model_copy(update={"strategy": "verdicts"})}
    )
    summary = run_round_locally(build_round(config), results_dir)
    assert summary.failed_stages == []
    with open_results_store(results_dir, create=False) as store:
        (selection,) = store.read("selections")
        (verdict,) = store.read("verdicts")
    assert selection["strategy"] == "verdicts"
    # the one host's bottleneck is selected unless its verdict is already near-certain bad
    expected = [] if verdict["p_good"] < 0.1 else [verdict["bottleneck_1d_hop_id"]]
    assert [h["hop_id"] for h in selection["selected"]] == expected
