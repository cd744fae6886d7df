"""Summary, report and plot of an active-learning replay (:mod:`hopscreen.benchmarks.replay`).

Works on the JSON-ready result dict of :func:`hopscreen.benchmarks.replay.run_replay`:
per-policy figures with seed-bootstrap intervals, the ``BENCHMARKS.md`` section, the two-panel
plot, and the files ``hopscreen al replay`` writes.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hopscreen.benchmarks.sections import update_section


def bootstrap_mean_ci(
    values: Sequence[float], *, n_boot: int = 2000, ci: float = 0.95, seed: int = 0
) -> dict[str, float | None]:
    """Mean of ``values`` and its percentile-bootstrap interval (over the values, e.g. seeds)."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    if v.size == 0:
        return {"value": None, "ci_low": None, "ci_high": None, "n": 0}
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    lo, hi = np.percentile(means, [50 * (1 - ci), 50 * (1 + ci)])
    return {"value": float(v.mean()), "ci_low": float(lo), "ci_high": float(hi), "n": int(v.size)}


def summarise_replay(result: dict[str, Any]) -> dict[str, Any]:
    """Per-policy figures of a replay result.

    Verifications to the target (mean and seed-bootstrap CI, when every seed reached it), the
    fraction of good hops found and the test MAE after the last round, and the mean curves.

    Also two references: a perfect oracle (verifies only good hops after the seed set) and
    the expectation of uniform random choice (``target · pool`` verifications).
    """
    cfg = result["config"]
    target = cfg["target_fraction"]
    pool = result["pool"]
    need = math.ceil(target * pool["n_good"] - 1e-9)
    out: dict[str, Any] = {"target_good": need, "policies": {}}
    for policy in cfg["policies"]:
        runs = [r for r in result["runs"] if r["policy"] == policy]
        if not runs:
            continue
        reached = [r["verifications_to_target"] for r in runs]
        last = [r["rounds"][-1] for r in runs]
        n_rounds = min(len(r["rounds"]) for r in runs)
        curve = []
        for i in range(n_rounds):
            rows = [r["rounds"][i] for r in runs]
            curve.append(
                {
                    "round": i,
                    "n_verified": rows[0]["n_verified"],
                    "found_fraction": bootstrap_mean_ci([x["found_fraction"] for x in rows]),
                    "test_mae_ev": bootstrap_mean_ci([x["test_mae_ev"] for x in rows]),
                }
            )
        out["policies"][policy] = {
            "n_seeds": len(runs),
            "n_reached": sum(v is not None for v in reached),
            "verifications_to_target": reached,
            "verifications_to_target_mean": (
                bootstrap_mean_ci(reached) if all(v is not None for v in reached) else None
            ),
            "final_n_verified": last[0]["n_verified"],
            "final_found_fraction": bootstrap_mean_ci([x["found_fraction"] for x in last]),
            "final_test_mae_ev": bootstrap_mean_ci([x["test_mae_ev"] for x in last]),
            "curve": curve,
        }
    seeds_good = {r["seed"]: r["seed_good"] for r in result["runs"]}
    out["oracle_verifications"] = bootstrap_mean_ci(
        [cfg["n_seed"] + max(0, need - g) for g in seeds_good.values()]
    )
    out["random_expected_verifications"] = target * pool["n"]
    return out


def _fmt(m: dict[str, Any] | None, digits: int = 2, scale: float = 1.0) -> str:
    if not m or m.get("value") is None:
        return "n/a"
    v, lo, hi = (scale * m[k] for k in ("value", "ci_low", "ci_high"))
    return f"{v:.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})"


def render_markdown(result: dict[str, Any], *, image: str | None = None) -> str:
    """The BENCHMARKS.md section of a replay result (table, verdict, settings, plot link)."""
    cfg, pool, summary = result["config"], result["pool"], result["summary"]
    pct = round(100 * cfg["target_fraction"])
    lines = [
        "## Active learning replay on the published data",
        "",
        f"Pool: the authors' {pool['n']} training hops ({pool['n_good']} good conductors, "
        f"E_m < {cfg['threshold_ev']:g} eV), labels revealed one verification at a time; test: "
        f"their {pool['n_test']} test hops. Seed set {cfg['n_seed']} random hops, then "
        f"{cfg['rounds']} rounds of {cfg['batch']} verifications; `{cfg['preset']}` preset, "
        f"{cfg['ensemble']}-member ensemble (σ = spread), {cfg['seed_epochs']} epoch(s) on the "
        f"seed set, then {cfg['epochs']} epoch(s) per round warm-started from the previous "
        f"round; backbone: {'pre-trained' if cfg['backbone'] else 'none (from scratch)'}. "
        f"{cfg['seeds']} seeds; intervals are 95 % percentile bootstraps over the seeds. "
        f"Measured by `hopscreen al replay` in {result['seconds'] / 60:.1f} min.",
        "",
        f"| policy | verifications to find {pct} % of the good ones ({summary['target_good']}) "
        f"| good ones found after {summary_final_n(summary)} verifications "
        "| test MAE eV after the last round |",
        "|---|---|---|---|",
    ]
    for name, pol in summary["policies"].items():
        if pol["verifications_to_target_mean"] is not None:
            reach = _fmt(pol["verifications_to_target_mean"], 0)
        elif pol["n_reached"]:
            values = ", ".join(str(v) for v in pol["verifications_to_target"] if v is not None)
            reach = f"not reached in {pol['n_seeds'] - pol['n_reached']}/{pol['n_seeds']} seeds "
            reach += f"(reached: {values})"
        else:
            reach = "not reached"
        lines.append(
            f"| {name} | {reach} | {_fmt(pol['final_found_fraction'], 0, 100)} % "
            f"| {_fmt(pol['final_test_mae_ev'], 3)} |"
        )
    lines += [
        f"| *oracle (only good hops after the seed)* | {_fmt(summary['oracle_verifications'], 0)}"
        " | | |",
        f"| *uniform random, expected* | {summary['random_expected_verifications']:.0f} | | |",
        "",
        verdict(result),
        "",
    ]
    if image:
        lines += [f"![active-learning replay]({image})", ""]
    return "\n".join(lines)


def summary_final_n(summary: dict[str, Any]) -> int:
    """Verifications after the last round (the same for every policy)."""
    return max((p["final_n_verified"] for p in summary["policies"].values()), default=0)


def verdict(result: dict[str, Any]) -> str:
    """One paragraph: whether each model-based policy beats random at finding good hops."""
    pols = result["summary"]["policies"]
    if "random" not in pols:
        return ""
    base = pols["random"]["final_found_fraction"]
    parts = []
    for name in ("borderline_sigma", "mixed", "greedy_lowest"):
        if name not in pols or base["value"] is None:
            continue
        ff = pols[name]["final_found_fraction"]
        better = ff["ci_low"] is not None and base["ci_high"] is not None
        better = better and ff["ci_low"] > base["ci_high"]
        worse = ff["ci_high"] is not None and base["ci_low"] is not None
        worse = worse and ff["ci_high"] < base["ci_low"]
        word = "beats" if better else "is worse than" if worse else "does not clearly beat"
        parts.append(
            f"{name} {word} random ({100 * ff['value']:.0f} % vs {100 * base['value']:.0f} % "
            "of the good conductors found)"
        )
    text = "Verdict at the last round: " + "; ".join(parts) + "."
    if "borderline_sigma" in pols:
        text += (
            " The borderline-σ policy spends its budget on hops predicted near the threshold, "
            "half of which are bad conductors by construction: it is built to sharpen the "
            "good/bad boundary (and the MAE), not to collect good conductors fastest, and a "
            "two-member ensemble trained on a few dozen hops gives a noisy σ."
        )
    return text


def plot_replay(result: dict[str, Any], path: Path | str) -> Path:
    """Two panels: fraction of good conductors found and test MAE vs verifications (PNG)."""
    import matplotlib  # optional heavy dependency (plots): matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # optional heavy dependency (plots): matplotlib

    summary = result["summary"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for name, pol in summary["policies"].items():
        x = [c["n_verified"] for c in pol["curve"]]
        for ax, key in ((ax1, "found_fraction"), (ax2, "test_mae_ev")):
            mean = [c[key]["value"] for c in pol["curve"]]
            lo = [c[key]["ci_low"] for c in pol["curve"]]
            hi = [c[key]["ci_high"] for c in pol["curve"]]
            (line,) = ax.plot(x, mean, marker="o", label=name)
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.15)
    target = result["config"]["target_fraction"]
    ax1.axhline(target, color="grey", ls="--", lw=1)
    ax1.set_xlabel("verifications")
    ax1.set_ylabel("fraction of the pool's good conductors found")
    ax2.set_xlabel("verifications")
    ax2.set_ylabel("test MAE (eV)")
    ax1.legend()
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_replay_outputs(
    result: dict[str, Any], out: Path, *, benchmarks: Path | None = None
) -> dict[str, Path]:
    """Write ``replay.json``, ``replay.png`` and ``replay.md`` of a replay result into ``out``.

    Parameters
    ----------
    result
        What :func:`hopscreen.benchmarks.replay.run_replay` returned (plus any extra keys).
    out
        Existing output folder.
    benchmarks
        A ``BENCHMARKS.md`` whose ``al-replay`` section is inserted or replaced, with the plot
        copied to ``docs/al_replay.png`` beside it; None leaves it alone.

    Returns
    -------
    dict
        Paths written: ``json``, ``png``, ``md`` and, with ``benchmarks``, ``image`` (the copy
        of the plot next to it).
    """
    paths = {"json": out / "replay.json", "png": out / "replay.png", "md": out / "replay.md"}
    paths["json"].write_text(json.dumps(result, indent=2))
    plot_replay(result, paths["png"])
    paths["md"].write_text(render_markdown(result, image="replay.png"))
    if benchmarks is not None:
        target = benchmarks.parent / "docs" / "al_replay.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(paths["png"], target)
        section = render_markdown(result, image="docs/al_replay.png")
        update_section(benchmarks, "al-replay", section)  # kept by `hopscreen bench`
        paths["image"] = target
    return paths
