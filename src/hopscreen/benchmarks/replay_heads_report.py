"""Cost, report and plot of the shipped-recipe replay (:mod:`hopscreen.benchmarks.replay_heads`).

Works on the JSON-ready result of :func:`~hopscreen.benchmarks.replay_heads.run_shipped_replay`:
a cost probe and estimate measured before the run, the ``BENCHMARKS.md`` section
(``al-replay-shipped``, placed after the ALIGNN replay's ``al-replay`` section and leaving it
alone), the plot, and the files ``hopscreen al replay --recipe shipped`` writes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from hopscreen.benchmarks.replay_heads import (
    HopTable,
    ShippedReplayConfig,
    random_expected_verifications,
    refit_head,
)
from hopscreen.benchmarks.replay_report import bootstrap_mean_ci
from hopscreen.benchmarks.sections import machine_line, sections, update_section

SECTION = "al-replay-shipped"
"""Name of the BENCHMARKS.md section this replay owns."""

AFTER_SECTION = "al-replay"
"""The section it is placed after when first written (the ALIGNN replay's)."""

NEAR_ORACLE = 1.3
"""A policy is "near the oracle" within this factor of the oracle's verifications."""


# ---------------------------------------------------------------------------------------------
# Cost
# ---------------------------------------------------------------------------------------------
def time_refit(table: HopTable, config: ShippedReplayConfig, n: int = 300) -> dict[str, float]:
    """Seconds of one refit (fit + calibration) on ``n`` random pool hops.

    Returns
    -------
    dict
        ``n_hops`` (used), ``fit_s``, ``calibration_s``.
    """
    idx = np.random.default_rng(0).choice(len(table.y), size=min(n, len(table.y)), replace=False)
    groups = [table.groups[i] for i in idx]
    refit = refit_head(table.X[idx], table.y[idx], groups, table.names, config, 0)
    return {"n_hops": float(len(idx)), "fit_s": refit.fit_s, "calibration_s": refit.calibration_s}


def estimate_shipped_seconds(
    config: ShippedReplayConfig, n_pool: int, n_good: int, refit_s: float, n_ref: int
) -> float:
    """Expected wall time of a replay, from the seconds ``refit_s`` of one refit on ``n_ref`` hops.

    A refit costs ∝ the labelled hops; ``random`` costs nothing; every other policy is assumed
    to stop after as many verifications as random order needs on average
    (:func:`~hopscreen.benchmarks.replay_heads.random_expected_verifications`): better policies
    stop sooner, worse ones later.
    """
    stop = min(random_expected_verifications(n_pool, n_good, config.target_fraction), n_pool)
    per_seed = refit_s * config.n_seed / n_ref
    for name in config.policies:
        labelled = config.n_seed
        for _ in range(config.max_rounds):
            if name == "random" or labelled >= stop:
                break
            labelled = min(labelled + config.batch, n_pool)
            per_seed += refit_s * labelled / n_ref
    return config.seeds * per_seed


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
def policy_table(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Per policy: verifications to the target (mean, CI, per seed) and ratios to the oracles.

    Returns
    -------
    list of dict
        ``policy``, ``per_seed`` (None where not reached), ``mean`` (bootstrap dict or None
        unless every seed reached), ``vs_oracle`` (mean / ``ceil(target · n_good)``),
        ``vs_oracle_seeded`` (mean / the seed-set oracle's mean), ``last_test_mae_ev`` (mean of
        each run's last fitted head's test MAE, None for random).
    """
    summary = result["summary"]
    oracle = result["references"]["oracle_verifications"]
    seeded = summary["oracle_verifications"]["value"]
    rows = []
    for name, pol in summary["policies"].items():
        mean = pol["verifications_to_target_mean"]
        value = None if mean is None else mean["value"]
        runs = [r for r in result["runs"] if r["policy"] == name]
        maes = [
            next(
                (x["test_mae_ev"] for x in reversed(r["rounds"]) if x["test_mae_ev"] is not None),
                None,
            )
            for r in runs
        ]
        rows.append(
            {
                "policy": name,
                "per_seed": pol["verifications_to_target"],
                "mean": mean,
                "vs_oracle": None if value is None else value / oracle,
                "vs_oracle_seeded": None if value is None else value / seeded,
                "last_test_mae_ev": bootstrap_mean_ci(maes)["value"],
            }
        )
    return rows


def _cell(mean: dict[str, Any] | None, per_seed: list[int | None]) -> str:
    seeds = ", ".join("—" if v is None else str(v) for v in per_seed)
    if mean is None:
        return f"not reached in every seed ({seeds})"
    return f"{mean['value']:.0f} ({mean['ci_low']:.0f}–{mean['ci_high']:.0f}); seeds: {seeds}"


def verdict(result: dict[str, Any]) -> str:
    """Which policy needs the fewest verifications, and whether it is within 1.3× the oracle."""
    rows = [r for r in policy_table(result) if r["mean"] is not None and r["policy"] != "random"]
    if not rows:
        return "No model-based policy reached the target in every seed."
    best = min(rows, key=lambda r: r["mean"]["value"])
    seeded = result["summary"]["oracle_verifications"]["value"]
    oracle = result["references"]["oracle_verifications"]
    near = best["vs_oracle_seeded"] <= NEAR_ORACLE
    return (
        f"Best policy: {best['policy']}, {best['mean']['value']:.0f} verifications on average, "
        f"{best['vs_oracle_seeded']:.2f}× the oracle with the same seed sets ({seeded:.0f}) and "
        f"{best['vs_oracle']:.2f}× the oracle from nothing ({oracle}): "
        f"{'within' if near else 'not within'} {NEAR_ORACLE:g}× the oracle."
    )


def _offsets_note(cfg: dict[str, Any]) -> str:
    if not cfg.get("host_offsets"):
        return ""
    return (
        "; each unverified hop's prediction is moved by its host's shrunken offset, learnt from "
        "the same out-of-fold residuals of the host's verified hops "
        "(`hopscreen.training.host_offsets`, `--host-offsets`)"
    )


def render_shipped_markdown(result: dict[str, Any], *, image: str | None = None) -> str:
    """The BENCHMARKS.md section of a shipped-recipe replay (table, verdict, settings, plot)."""
    cfg, pool, summary = result["config"], result["pool"], result["summary"]
    refs = result["references"]
    pct = round(100 * cfg["target_fraction"])
    lines = [
        "## Active learning replay with the shipped default recipe",
        "",
        f"Pool: the authors' {pool['n']} training hops ({pool['n_good']} good conductors, "
        f"E_m < {cfg['threshold_ev']:g} eV), labels revealed one verification at a time. "
        f"Model: the shipped recipe `{cfg['recipe']}` (its hop vector and gradient-boosting "
        "ensemble; σ = members' spread), fitted from scratch on the revealed "
        "hops every round and calibrated on them (split conformal on the out-of-fold residuals "
        f"of host-grouped {cfg['calibration_folds']}-fold CV, fewer folds with fewer hosts)"
        f"{_offsets_note(cfg)}; the "
        "policies get `barrier_ev`, `sigma_ev`, `interval_68_ev` and `interval_90_ev`. Seed set "
        f"{cfg['n_seed']} random hops (shared by the policies of a seed), then rounds of "
        f"{cfg['batch']} verifications until the policy has found {pct} % of the good ones "
        f"(verifications counted in the policy's order within a round). {cfg['seeds']} seeds; "
        "intervals are 95 % percentile bootstraps over the seeds. Test MAE: the last head "
        f"fitted, on the {pool['n_test']} test hops. Measured by `hopscreen al replay --recipe "
        f"shipped` in {result['seconds'] / 60:.1f} min. {machine_line()}",
        "",
        f"| policy | verifications to find {pct} % of the good ones ({summary['target_good']}) "
        "| × oracle (same seed sets) | test MAE eV of the last head |",
        "|---|---|---|---|",
    ]
    for row in policy_table(result):
        ratio = "" if row["vs_oracle_seeded"] is None else f"{row['vs_oracle_seeded']:.2f}"
        mae = "" if row["last_test_mae_ev"] is None else f"{row['last_test_mae_ev']:.3f}"
        lines.append(
            f"| {row['policy']} | {_cell(row['mean'], row['per_seed'])} | {ratio} | {mae} |"
        )
    seeded = summary["oracle_verifications"]
    lines += [
        f"| *oracle, good hops first after the seed set* | {seeded['value']:.0f} "
        f"({seeded['ci_low']:.0f}–{seeded['ci_high']:.0f}) | 1.00 | |",
        f"| *oracle from nothing, ceil({cfg['target_fraction']:g} · {pool['n_good']})* "
        f"| {refs['oracle_verifications']} | | |",
        f"| *uniform random, expected* | {refs['random_expected_verifications']:.0f} | | |",
        "",
        verdict(result),
        "",
    ]
    if image:
        lines += [f"![shipped-recipe active-learning replay]({image})", ""]
    return "\n".join(lines)


def plot_shipped_replay(result: dict[str, Any], path: Path | str) -> Path:
    """Fraction of the good conductors found vs verifications, one line per seed (PNG)."""
    import matplotlib  # optional heavy dependency (plots): matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # optional heavy dependency (plots): matplotlib

    n, n_good = result["pool"]["n"], result["pool"]["n_good"]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for k, name in enumerate(result["config"]["policies"]):
        for j, run in enumerate(r for r in result["runs"] if r["policy"] == name):
            found = np.asarray(run["cumulative_good"], dtype=float) / n_good
            x = np.arange(1, len(found) + 1)
            ax.plot(x, found, color=f"C{k}", lw=1, alpha=0.8, label=name if j == 0 else None)
    x = np.arange(0, n + 1)
    ax.plot(x, np.minimum(x, n_good) / n_good, color="k", ls=":", lw=1, label="oracle")
    ax.plot(x, x / n, color="grey", ls="--", lw=1, label="random, expected")
    ax.axhline(result["config"]["target_fraction"], color="grey", lw=0.8)
    ax.set_xlabel("verifications")
    ax.set_ylabel("fraction of the pool's good conductors found")
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _place_section(benchmarks: Path) -> None:
    """Put an empty ``al-replay-shipped`` block right after ``al-replay`` if it is not there."""
    found = sections(benchmarks)
    if SECTION in found or AFTER_SECTION not in found:
        return  # replaced in place, or appended by update_section
    block = found[AFTER_SECTION]
    empty = f"<!-- section:{SECTION} -->\n<!-- /section:{SECTION} -->\n"
    benchmarks.write_text(benchmarks.read_text().replace(block, f"{block}\n{empty}", 1))


def write_shipped_outputs(
    result: dict[str, Any], out: Path, *, benchmarks: Path | None = None
) -> dict[str, Path]:
    """Write ``replay.json``, ``replay.png`` and ``replay.md`` of a shipped-recipe replay.

    Parameters
    ----------
    result
        What :func:`~hopscreen.benchmarks.replay_heads.run_shipped_replay` returned.
    out
        Existing output folder.
    benchmarks
        A ``BENCHMARKS.md`` whose ``al-replay-shipped`` section is inserted (after
        ``al-replay``) or replaced, with the plot copied to ``docs/al_replay_shipped.png``
        beside it; None leaves it alone. Other sections are not touched.

    Returns
    -------
    dict
        Paths written: ``json``, ``png``, ``md`` and, with ``benchmarks``, ``image``.
    """
    paths = {"json": out / "replay.json", "png": out / "replay.png", "md": out / "replay.md"}
    paths["json"].write_text(json.dumps(result, indent=2))
    plot_shipped_replay(result, paths["png"])
    paths["md"].write_text(render_shipped_markdown(result, image="replay.png"))
    if benchmarks is not None:
        target = benchmarks.parent / "docs" / "al_replay_shipped.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(paths["png"], target)
        if benchmarks.exists():
            _place_section(benchmarks)
        section = render_shipped_markdown(result, image="docs/al_replay_shipped.png")
        update_section(benchmarks, SECTION, section)  # kept by `hopscreen bench`
        paths["image"] = target
    return paths
