"""The active-learning replay with the shipped recipe, on synthetic hop vectors built in code."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from hopscreen.benchmarks import replay_heads as rh
from hopscreen.benchmarks.replay_heads import (
    HopTable,
    ShippedReplayConfig,
    calibration_folds,
    oracle_verifications,
    random_expected_verifications,
    run_shipped_replay,
)
from hopscreen.benchmarks.replay_heads_report import (
    estimate_shipped_seconds,
    policy_table,
    render_shipped_markdown,
    write_shipped_outputs,
)
from hopscreen.cli.main import app
from hopscreen.models.head_config import ChgnetHeadConfig
from hopscreen.selection.policies import POLICIES, policy_greedy_lowest

NAMES = ["phys_row", "phys_a", "bvse_b", "ion_c", "e_d", "mag_e", "other_f"]
TINY_HEAD = ChgnetHeadConfig(
    kind="gbr",
    blocks=("phys_", "bvse_", "ion_", "e_", "mag_"),
    target_transform="log1p",
    ensemble_size=2,
    n_estimators=8,
)


def synthetic_table(n: int = 40, n_test: int = 6) -> HopTable:
    """Pool hop vectors whose column 0 is the row index (to trace rows), 8 hosts."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(n, len(NAMES)))
    X[:, 0] = np.arange(n)
    y = np.exp(0.5 * X[:, 1] - 0.3 * X[:, 2]) * 0.6
    tX = rng.normal(size=(n_test, len(NAMES)))
    return HopTable(
        X=X,
        y=y,
        names=NAMES,
        ids=[f"p{i}" for i in range(n)],
        hosts=[f"sys{i % 8}" for i in range(n)],
        groups=[f"host:{i % 8}" for i in range(n)],
        ions=["Li"] * n,
        test_X=tX,
        test_y=np.exp(0.5 * tX[:, 1]) * 0.6,
    )


def test_references_and_folds():
    # the published pool: 292 good of 559 -> 263 for the oracle, ~503 for random order
    assert oracle_verifications(292, 0.9) == 263
    assert random_expected_verifications(559, 292, 0.9) == pytest.approx(263 * 560 / 293)
    assert oracle_verifications(10, 1.0) == 10
    assert calibration_folds(["a", "b", "c", "d"], 3) == 3
    assert calibration_folds(["a", "a", "b"], 3) == 2
    assert calibration_folds(["a", "a"], 3) is None


def test_tiny_shipped_replay(monkeypatch, tmp_path):
    table = synthetic_table()
    fits: list[tuple[int, list[int], np.ndarray]] = []
    calibrations: list[list[int]] = []
    seen_docs: list[list] = []

    real_fit, real_cv = rh.fit_head, rh.cross_validate_head

    def spy_fit(X, y, names, config):
        fits.append((config.seed // 1000, [int(v) for v in X[:, 0]], np.asarray(y)))
        return real_fit(X, y, names, config)

    def spy_cv(X, y, names, groups, config, *, k, seed):
        calibrations.append([int(v) for v in X[:, 0]])
        return real_cv(X, y, names, groups, config, k=k, seed=seed)

    def spy_policy(predictions, budget, rng, *, config=None):
        seen_docs.append(list(predictions))
        return policy_greedy_lowest(predictions, budget, rng, config=config)

    monkeypatch.setattr(rh, "fit_head", spy_fit)
    monkeypatch.setattr(rh, "cross_validate_head", spy_cv)
    monkeypatch.setitem(POLICIES, "spy", spy_policy)
    config = ShippedReplayConfig(
        policies=["random", "greedy_lowest", "spy"], seeds=2, batch=4, n_seed=6, head=TINY_HEAD
    )
    messages: list[str] = []
    result = run_shipped_replay(table, config, progress=messages.append)

    n_good = int((table.y < 0.65).sum())
    need = math.ceil(0.9 * n_good)
    assert result["pool"] == {"n": 40, "n_good": n_good, "n_test": 6} and messages
    assert result["references"]["oracle_verifications"] == need
    assert len(result["runs"]) == 2 * 3
    for run in result["runs"]:
        rows, cum = run["rounds"], run["cumulative_good"]
        assert [r["n_verified"] for r in rows] == [6 + 4 * i for i in range(len(rows))]
        assert len(cum) == rows[-1]["n_verified"] == len(run["verified_ids"])
        assert len(set(run["verified_ids"])) == len(run["verified_ids"])
        # found in priority order; stopped in the round that reached the target
        v = run["verifications_to_target"]
        assert v is not None and cum[v - 1] >= need and (v == 1 or cum[v - 2] < need)
        assert rows[-2]["n_good_found"] < need <= rows[-1]["n_good_found"]
        truth = sum(table.y[int(h[1:])] < 0.65 for h in run["verified_ids"])
        assert cum[-1] == truth == rows[-1]["n_good_found"]
        maes = [r["test_mae_ev"] for r in rows]
        if run["policy"] == "random":
            assert all(m is None for m in maes)
        else:  # every round but the last (target reached: no refit) has a fitted head
            assert all(m is not None and m >= 0 for m in maes[:-1]) and maes[-1] is None
    # the oracle after each seed set: n_seed + need - good hops in the seed set
    seeds_good = {r["seed"]: r["seed_good"] for r in result["runs"]}
    oracle = np.mean([6 + need - g for g in seeds_good.values()])
    assert result["summary"]["oracle_verifications"]["value"] == pytest.approx(oracle)

    # the heads only ever see revealed hops: each fit's rows are a prefix of a run's verifications
    prefixes = {
        (r["seed"], frozenset(int(h[1:]) for h in r["verified_ids"][:n]))
        for r in result["runs"]
        for n in range(1, len(r["verified_ids"]) + 1)
    }
    assert fits and calibrations
    for s, rows_seen, y_seen in fits:
        assert (s, frozenset(rows_seen)) in prefixes
        assert np.array_equal(y_seen, table.y[rows_seen])
    assert all(any(frozenset(c) == p for _, p in prefixes) for c in calibrations)

    # the policies get calibrated intervals, and only for unlabelled hops
    assert seen_docs
    for docs in seen_docs:
        assert all(d.interval_68_ev is not None and d.interval_90_ev is not None for d in docs)
        assert all(d.interval_90_ev >= d.interval_68_ev > 0 for d in docs)
        assert len(docs) in {40 - 6 - 4 * i for i in range(10)}
    spy_runs = [r for r in result["runs"] if r["policy"] == "spy"]
    first_docs = {d.hop_id for d in seen_docs[0]}
    assert first_docs.isdisjoint(spy_runs[0]["verified_ids"][:6])

    json.dumps(result)  # JSON-ready
    table_rows = policy_table(result)
    assert {r["policy"] for r in table_rows} == {"random", "greedy_lowest", "spy"}
    text = render_shipped_markdown(result, image="replay.png")
    assert "| greedy_lowest |" in text and "oracle" in text and "Best policy" in text
    paths = write_shipped_outputs(result, tmp_path)
    assert paths["png"].stat().st_size > 1000 and paths["md"].exists()


def test_section_goes_after_the_alignn_replay(tmp_path):
    table = synthetic_table(n=24)
    config = ShippedReplayConfig(
        policies=["random", "greedy_lowest"], seeds=1, batch=6, n_seed=4, head=TINY_HEAD
    )
    result = run_shipped_replay(table, config)
    bench = tmp_path / "BENCHMARKS.md"
    alignn = "<!-- section:al-replay -->\nALIGNN numbers\n<!-- /section:al-replay -->\n"
    other = "<!-- section:recipes -->\nrecipes\n<!-- /section:recipes -->\n"
    bench.write_text(f"# Benchmarks\n\n{alignn}\n{other}")
    out = tmp_path / "out"
    out.mkdir()
    for _ in range(2):  # inserted once, then replaced in place
        write_shipped_outputs(result, out, benchmarks=bench)
        text = bench.read_text()
        assert text.count("<!-- section:al-replay-shipped -->") == 1
        assert text.index(alignn) < text.index("al-replay-shipped") < text.index(other)
    assert (tmp_path / "docs" / "al_replay_shipped.png").exists()


def test_estimate_grows_with_the_work():
    base = ShippedReplayConfig()
    t = estimate_shipped_seconds(base, 559, 292, 35.0, 300)
    assert estimate_shipped_seconds(base.model_copy(update={"batch": 24}), 559, 292, 35.0, 300) > t
    only_random = base.model_copy(update={"policies": ["random"]})
    assert estimate_shipped_seconds(only_random, 559, 292, 35.0, 300) < t / 10


runner = CliRunner()


def test_cli_recipe_switch(tmp_path):
    help_text = runner.invoke(app, ["al", "replay", "--help"]).output
    assert "--recipe" in help_text and "shipped" in help_text
    out = runner.invoke(app, ["al", "replay", "--out", str(tmp_path), "--recipe", "psychic"])
    assert out.exit_code == 2 and "unknown recipe" in out.output
    args = ["al", "replay", "--out", str(tmp_path), "--recipe", "shipped", "--backbone", "x"]
    out = runner.invoke(app, args)
    assert out.exit_code == 2 and "alignn-fast only" in out.output


def test_shipped_replay_runs_every_policy_by_default():
    assert rh.ShippedReplayConfig().policies == [
        "random",
        "greedy_lowest",
        "probability_good",
        "borderline_sigma",
        "mixed",
    ]


def test_host_offsets_move_only_hosts_with_labelled_hops():
    table = synthetic_table()
    labelled = list(range(24))  # 3 labels per host; host 3's are 5x what the features say
    y = table.y.copy()
    y[[i for i in labelled if i % 8 == 3]] *= 5.0
    shifted = HopTable(**{**table.__dict__, "y": y})
    plain = ShippedReplayConfig(seeds=1, head=TINY_HEAD)
    with_offsets = plain.model_copy(update={"host_offsets": True})
    a = rh._refit(shifted, labelled, plain, 0)
    b = rh._refit(shifted, labelled, with_offsets, 0)
    assert a.offsets == {} and b.offsets["host:3"] == max(b.offsets.values()) > 0.2
    rows = list(range(24, 40))
    groups = [table.groups[i] for i in rows]
    before = a.member_barriers(table.X[rows], groups).mean(axis=0)
    after = b.member_barriers(table.X[rows], groups).mean(axis=0)
    moved = np.array([g == "host:3" for g in groups])
    assert np.all(after[moved] > before[moved])  # host 3 predicted higher
    unmoved = b.member_barriers(table.X[rows]).mean(axis=0)  # without groups: no offsets
    assert np.allclose(unmoved, before) and not np.allclose(after, before)


def test_cli_host_offsets_only_for_the_shipped_recipe(tmp_path):
    out = runner.invoke(app, ["al", "replay", "--out", str(tmp_path), "--host-offsets"])
    assert out.exit_code == 2 and "--recipe shipped only" in out.output
