"""The active-learning replay: pure helpers and a tiny end-to-end replay."""

from __future__ import annotations

import json

import pytest
from tests.model_fixtures import TINY_ARCH, tiny_band
from typer.testing import CliRunner

from hopscreen.benchmarks.replay import ReplayConfig, run_replay, verifications_to_reach
from hopscreen.benchmarks.replay_cost import estimate_seconds
from hopscreen.benchmarks.replay_report import bootstrap_mean_ci, plot_replay, render_markdown
from hopscreen.cli.main import app


def test_verifications_to_reach_counts_to_the_first_hit():
    # 4 good hops in the pool; 90 % -> 4 needed (ceil 3.6)
    assert verifications_to_reach([0, 1, 1, 2, 3, 4, 4], 4, 0.9) == 6
    assert verifications_to_reach([0, 1, 2], 4, 0.9) is None
    assert verifications_to_reach([1, 2], 2, 0.5) == 1


def test_bootstrap_mean_ci():
    out = bootstrap_mean_ci([1.0, 2.0, 3.0])
    assert out["value"] == pytest.approx(2.0) and out["n"] == 3
    assert 1.0 <= out["ci_low"] <= 2.0 <= out["ci_high"] <= 3.0
    assert bootstrap_mean_ci([None])["value"] is None  # type: ignore[list-item]


def test_estimate_grows_with_the_work():
    base = ReplayConfig()
    t = estimate_seconds(base, 559, 60)
    assert estimate_seconds(base.model_copy(update={"rounds": 5}), 559, 60) > t
    assert estimate_seconds(base.model_copy(update={"policies": ["random"]}), 559, 60) < t / 3
    assert estimate_seconds(base, 559, 60, graphs_cached=True) < t


def test_tiny_replay_end_to_end(tmp_path):
    pool = [tiny_band(i) for i in range(12)]
    y = [0.2, 1.0, 0.3, 1.2, 0.5, 0.9, 0.4, 1.5, 0.6, 2.0, 0.1, 0.8]
    config = ReplayConfig(
        seeds=2, rounds=1, batch=2, n_seed=3, epochs=1, seed_epochs=1, architecture=TINY_ARCH
    )
    messages: list[str] = []
    result = run_replay(
        pool,
        y,
        [f"p{i}" for i in range(12)],
        [f"host{i % 4}" for i in range(12)],
        [tiny_band(100 + i) for i in range(3)],
        [0.5, 0.7, 1.1],
        config,
        progress=messages.append,
    )
    assert result["pool"] == {"n": 12, "n_good": 6, "n_test": 3}
    assert len(result["runs"]) == 2 * 4 and messages
    for run in result["runs"]:
        assert [r["n_verified"] for r in run["rounds"]] == [3, 5]
        found = [r["n_good_found"] for r in run["rounds"]]
        assert found == sorted(found) and found[-1] == run["cumulative_good"][-1]
        assert len(run["cumulative_good"]) == 5
        assert all(r["test_mae_ev"] >= 0 for r in run["rounds"])
    # the seed set and the first model are shared by every policy of a seed
    first = {(r["seed"], r["rounds"][0]["test_mae_ev"]) for r in result["runs"]}
    assert len(first) == 2
    summary = result["summary"]
    assert set(summary["policies"]) == set(config.policies)
    assert summary["target_good"] == 6  # ceil(0.9 * 6)
    json.dumps(result)  # JSON-ready
    text = render_markdown(result, image="replay.png")
    assert "| random |" in text and "not reached" in text and "Verdict" in text
    assert plot_replay(result, tmp_path / "r.png").stat().st_size > 1000


runner = CliRunner()


def test_cli_help_and_bad_inputs(tmp_path):
    assert runner.invoke(app, ["al", "replay", "--help"]).exit_code == 0
    out = runner.invoke(app, ["al", "replay", "--out", str(tmp_path), "--policy", "psychic"])
    assert out.exit_code == 2 and "unknown policy" in out.output
    missing = tmp_path / "nope.safetensors"
    out = runner.invoke(app, ["al", "replay", "--out", str(tmp_path), "--backbone", str(missing)])
    assert out.exit_code == 2 and "does not exist" in out.output
