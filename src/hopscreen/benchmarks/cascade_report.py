"""Markdown of the ``cascade`` section of BENCHMARKS.md (:mod:`hopscreen.benchmarks.cascade`)."""

from __future__ import annotations

from typing import Any

from hopscreen.benchmarks.cascade import DEFAULT_RULE
from hopscreen.benchmarks.recipes import format_ci, format_delta


def _num(value: float | None, fmt: str = ".3f") -> str:
    return "–" if value is None else format(value, fmt)


def _cost_ms(row: dict[str, Any], timing: dict[str, float]) -> str:
    """Tier 1 on every hop plus tier 2 on the routed share, ms per hop."""
    if not timing:
        return "–"
    share = row["share_routed"] if row["route"] != "none" else 0.0
    t1 = 0.0 if row["route"] == "all" else timing["tier1"]
    return f"{1000 * (t1 + share * timing['tier2']):.0f}"


def _table(rows: list[dict[str, Any]], timing: dict[str, float]) -> list[str]:
    """Markdown table of one split's rows."""
    out = [
        "| rule | to tier 2 | routed MAE tier 1 | routed MAE tier 2 | Δ routed (hop bootstrap) "
        "| Δ routed (host bootstrap) | cascade MAE eV | Δ vs tier 1 alone | R² | spread "
        "| accuracy @0.65 eV | ms/hop |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['rule']} | {r['n_routed']} ({100 * r['share_routed']:.0f} %) "
            f"| {_num(r.get('routed_mae_tier1_ev'))} | {_num(r.get('routed_mae_tier2_ev'))} "
            f"| {format_delta(r.get('routed_tier2_minus_tier1'))} "
            f"| {format_delta(r.get('routed_tier2_minus_tier1_hosts'))} "
            f"| {format_ci(r['mae_ev'])} | {format_delta(r['vs_tier1'])} | {format_ci(r['r2'], 2)} "
            f"| {format_ci(r['spread_ratio'], 2)} | {format_ci(r['accuracy_0.65'])} "
            f"| {_cost_ms(r, timing)} |"
        )
    return out


def verdict(results: dict[str, Any]) -> tuple[bool, str]:
    """Whether tier 2 is significantly better on the hops the default rule routes (host CV).

    Significant: the host-resampled 95 % interval of MAE(tier 2) − MAE(tier 1) on the routed
    hops lies below 0. Returns the decision and a sentence saying it.
    """
    row = next(r for r in results["cv"] if r["rule"] == DEFAULT_RULE)
    d = row.get("routed_tier2_minus_tier1_hosts") or {}
    if d.get("value") is None:
        return False, "The default rule routes no hop in host CV: ship tier 1 alone."
    better = d["ci_high"] < 0
    share = 100 * row["share_routed"]
    said = (
        f"On the {row['n_routed']} hops ({share:.0f} %) the default rule sends to tier 2 in "
        f"host CV, tier 2 changes the MAE by {format_delta(d)} eV (host-resampled 95 % CI)"
    )
    if better:
        return True, f"{said}: significantly better. The cascade pays on routed hops."
    return False, (
        f"{said}: **not significantly better**. Recommendation: ship tier 1 "
        f"(`{results['tiers']['tier1']}`) alone; the cascade costs tier 2's price on "
        f"{share:.0f} % of hops for no proven gain."
    )


def render_cascade(results: dict[str, Any], machine: str, note: str | None = None) -> str:
    """Markdown of the ``cascade`` section for :func:`run_cascade` output."""
    t1, t2 = results["tiers"]["tier1"], results["tiers"]["tier2"]
    timing, cov = results["seconds_per_hop"], results["coverage"]
    cost = "Cost not timed."
    if timing:
        cost = (
            f"Cost per hop (one process, 1 torch thread, {results['n_timed']} fresh test bands of "
            f"{results['timing_atoms']:.0f} atoms on average, hop vector + trees): tier 1 "
            f"{1000 * timing['tier1']:.0f} ms, tier 2 {1000 * timing['tier2']:.0f} ms; tier 2 "
            f"costs **{timing['tier2'] / timing['tier1']:.0f}×** tier 1."
        )
    _, said = verdict(results)
    out = [
        f"## Two-tier prediction cascade: `{t1}` → `{t2}`",
        "",
        f"{machine} Measured by `hopscreen bench --only-cascade` in "
        f"{results['seconds'] / 60:.1f} min (`hopscreen.benchmarks.cascade`). Host-grouped "
        f"{results['k']}-fold CV on the {results['n_train']} training hops "
        f"({results['n_hosts']} host groups), both tiers on the same folds; tier 1's "
        "intervals come from a calibration inside each training fold (nested, never on the "
        f"held-out hops): out-of-fold coverage {100 * cov['68']:.0f} % (68 % interval), "
        f"{100 * cov['90']:.0f} % (90 %). Threshold 0.65 eV. Rules of "
        "`hopscreen.inference.cascade.route_hops`; the bottleneck rule runs on a stand-in "
        "network (the dataset has no periodic networks: each labelled hop of a host is its own "
        "1D channel, so a host's 1D percolation barrier is its lowest hop). Δ routed: MAE(tier "
        "2) − MAE(tier 1) on the routed hops, paired bootstrap 95 % CI over hops and over "
        "hosts (negative: tier 2 better; the host one is the honest one, hops of a host share "
        "errors). Δ vs tier 1 alone: cascade MAE − tier-1 MAE on all hops. ms/hop: tier 1 on "
        "every hop + tier 2 on the routed share.",
        *(["", f"Conditions: {note}"] if note else []),
        "",
        cost,
        "",
        f"Host-grouped CV ({results['n_train']} hops):",
        "",
        *_table(results["cv"], timing),
        "",
        f"Authors' test split ({results['n_test']} hops; both recipes fit on all "
        f"{results['n_train']} training hops; for comparison only):",
        "",
        *_table(results["test"], timing),
        "",
        f"Verdict: {said}",
    ]
    return "\n".join(out) + "\n"
