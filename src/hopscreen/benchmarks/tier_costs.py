"""What a hop costs at each tier, measured on the same hops in one run: tier 1, tier 2, CHGNet NEB.

:func:`measure_tier_costs` takes the hops of a few small hosts (the demo hosts the demo round
verifies) and times, hop by hop and in one process with one torch thread: the prediction of
each tier's model on the hop's band (hop vector and trees, no feature cache, after one
untimed warm-up prediction), and the CHGNet NEB of the same hop with the round's NEB settings
(:class:`~hopscreen.verification.umlip.UmlipNebConfig`, endpoints relaxed). The ratios quoted
are of the per-hop means.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hopscreen.benchmarks.machine import torch_threads
from hopscreen.hops import HopOptions, hops_for_structure
from hopscreen.inference.load import load_model
from hopscreen.models.shipped import ACCURATE_MODEL, DEFAULT_MODEL
from hopscreen.schemas.candidate import CandidateDoc
from hopscreen.verification.umlip import UmlipNebConfig, verify_hop

SECTION = "tier-costs"
"""Name of the BENCHMARKS.md section this benchmark owns."""


def _seconds(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def measure_tier_costs(
    hosts: Sequence[CandidateDoc],
    *,
    tiers: tuple[str, str] = (DEFAULT_MODEL, ACCURATE_MODEL),
    neb: UmlipNebConfig | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Time both tiers and a CHGNet NEB on every hop of ``hosts`` (see the module docstring).

    Returns
    -------
    dict
        ``rows`` (per hop: host, hop id, length, band atoms, seconds of each tier and of the
        NEB, the NEB's status and barrier, each tier's prediction), ``means`` (seconds per hop)
        and ``ratios`` (tier 2 / tier 1, NEB / tier 1, NEB / tier 2).
    """
    say = progress or (lambda _line: None)
    neb = neb or UmlipNebConfig()
    with torch_threads(1):
        hops, bands, names = [], [], []
        for host in hosts:
            result = hops_for_structure(
                host.get_structure(), host.working_ion, host.name, options=HopOptions()
            )
            hops += result.hops
            bands += result.bands
            names += [host.name] * len(result.hops)
        if not hops:
            raise ValueError("the hosts have no hop to time")
        models = [load_model(name, feature_cache_dir=None) for name in tiers]
        rows = [
            {"host": n, "hop_id": h.hop_id, "length_angstrom": h.length_angstrom,
             "band_atoms": len(b)}
            for n, h, b in zip(names, hops, bands, strict=True)
        ]  # fmt: skip
        for key, model in zip(("tier1", "tier2"), models, strict=True):
            next(iter(model.predict([bands[0]], batch_size=1)))  # warm-up: loads, not timed
            for row, band in zip(rows, bands, strict=True):
                pred, row[f"{key}_s"] = _seconds(
                    lambda band=band, model=model: next(iter(model.predict([band], batch_size=1)))
                )
                row[f"{key}_ev"] = pred.barrier_ev
            say(
                f"{key} ({model.model_version}): {np.mean([r[f'{key}_s'] for r in rows]):.3f} s/hop"
            )
        for i, (row, hop) in enumerate(zip(rows, hops, strict=True)):
            doc, row["neb_s"] = _seconds(lambda hop=hop: verify_hop(hop, config=neb))
            row["neb_status"], row["neb_ev"] = doc.status, doc.barrier_ev
            say(f"NEB {i + 1}/{len(rows)} {row['host']}: {row['neb_s']:.1f} s, {doc.status}")
    means = {k: float(np.mean([r[f"{k}_s"] for r in rows])) for k in ("tier1", "tier2", "neb")}
    return {
        "tiers": list(tiers),
        "model_versions": [m.model_version for m in models],
        "neb_config": neb.model_dump(mode="json"),
        "rows": rows,
        "means": means,
        "ratios": {
            "tier2_over_tier1": means["tier2"] / means["tier1"],
            "neb_over_tier1": means["neb"] / means["tier1"],
            "neb_over_tier2": means["neb"] / means["tier2"],
        },
    }


def tier_costs_markdown(figures: dict[str, Any], machine_line: str, note: str | None = None) -> str:
    """The ``tier-costs`` section of BENCHMARKS.md."""
    m, r = figures["means"], figures["ratios"]
    t1, t2 = figures["tiers"]
    cfg = figures["neb_config"]
    lines = [
        "## Cost per hop: tier 1, tier 2 and a CHGNet NEB of the same hops",
        "",
        f"{machine_line} Measured by `hopscreen bench --only-tier-costs` "
        "(`hopscreen.benchmarks.tier_costs`): every hop of the demo hosts the demo round "
        "verifies, timed hop by hop in one process with one torch thread; predictions on the "
        "hop's band without feature cache after one untimed warm-up; the NEB is the round's "
        f"CHGNet NEB (`UmlipNebConfig` defaults: {cfg['n_images']} images, endpoints relaxed "
        f"≤ {cfg['endpoint_max_steps']} steps, NEB ≤ {cfg['neb_max_steps']} steps to "
        f"{cfg['neb_fmax']} eV/Å, climbing image {cfg['climbing_image']}).",
    ]
    if note:
        lines += ["", f"Conditions noted by the person who ran it: {note}"]
    lines += [
        "",
        f"| host | hop | length Å | band atoms | tier 1 `{t1}` ms | tier 2 `{t2}` ms | "
        "CHGNet NEB s | NEB status | tier 1 eV | tier 2 eV | NEB eV |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in figures["rows"]:
        neb_ev = "" if row["neb_ev"] is None else f"{row['neb_ev']:.3f}"
        lines.append(
            f"| {row['host']} | {row['hop_id'][:12]} | {row['length_angstrom']:.2f} | "
            f"{row['band_atoms']} | {1000 * row['tier1_s']:.0f} | {1000 * row['tier2_s']:.0f} | "
            f"{row['neb_s']:.1f} | {row['neb_status']} | {row['tier1_ev']:.3f} | "
            f"{row['tier2_ev']:.3f} | {neb_ev} |"
        )
    lines += [
        "",
        f"Means per hop: tier 1 {1000 * m['tier1']:.0f} ms, tier 2 {1000 * m['tier2']:.0f} ms, "
        f"CHGNet NEB {m['neb']:.1f} s. Ratios: tier 2 / tier 1 **{r['tier2_over_tier1']:.0f}×**, "
        f"NEB / tier 1 **{r['neb_over_tier1']:,.0f}×**, NEB / tier 2 "
        f"**{r['neb_over_tier2']:,.0f}×**.",
    ]
    return "\n".join(lines) + "\n"
