"""Screening benchmarks: surrogate versus uMLIP NEB, and the throughput of a whole round.

Each function measures on the machine it runs on and returns a JSON-ready dict (plain
``str``/``int``/``float``/``bool``/``None``/``list``/``dict``) for ``hopscreen bench`` and
``BENCHMARKS.md``:

* :func:`bench_surrogate_vs_neb` — the same few hops of the smallest demo hosts, timed through
  Model-3 prediction (band + graph + ensemble forward) and through a capped CHGNet NEB
  (endpoint relaxations + NEB), in one run; medians per hop and their ratio (TARGETS, "Speed").
* :func:`bench_round_throughput` — hops per second of a whole demo round without verification,
  through the real round code (:func:`hopscreen.workflow.campaign.run_round_locally`).

Streaming memory and chgnet-head throughput, measured in fresh processes, are in
:mod:`hopscreen.benchmarks.streaming`.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hopscreen.benchmarks.machine import torch_threads
from hopscreen.candidates import load_demo_candidates
from hopscreen.graphs.build import build_graph
from hopscreen.hops import Hop, HopOptions, band_from_hop, enumerate_hops
from hopscreen.inference.alignn import predict_graphs
from hopscreen.inference.load import load_model
from hopscreen.verification.umlip import (
    UmlipNebConfig,
    chgnet_level_of_theory,
    hop_endpoints,
    verify_hop,
)
from hopscreen.workflow.campaign import build_round, demo_config, run_round_locally

SURROGATE_MAX_HOST_SITES = 12
"""Hosts considered by :func:`bench_surrogate_vs_neb` (as the demo round's verification)."""


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


# ---------------------------------------------------------------------------------------------
# Surrogate versus NEB
# ---------------------------------------------------------------------------------------------
def pick_small_hops(
    n_hops: int,
    neb_config: UmlipNebConfig,
    *,
    max_host_sites: int = SURROGATE_MAX_HOST_SITES,
) -> list[tuple[Any, Hop, int]]:
    """The ``n_hops`` demo hops whose NEB supercells are smallest, one per host first.

    Parameters
    ----------
    n_hops
        How many hops to return (fewer if the demo set has fewer).
    neb_config
        NEB settings; their supercell options size the verification cells.
    max_host_sites
        Only hosts with at most this many sites (as the demo round verifies).

    Returns
    -------
    list of tuple
        ``(candidate, hop, n_atoms of the NEB cell)``, smallest cells first; the first pass
        takes the smallest hop of each host, then the remaining hops fill up.

    """
    pool: list[tuple[int, float, int, Any, Hop]] = []
    for c_index, cand in enumerate(load_demo_candidates().candidates):
        if cand.n_sites > max_host_sites:
            continue
        try:
            hops = enumerate_hops(cand.get_structure(), cand.working_ion)
        except Exception:  # a host without hops is simply not used
            continue
        for hop in hops:
            try:
                initial, _ = hop_endpoints(hop, neb_config.supercell)
            except Exception:
                continue
            if len(initial) <= neb_config.max_atoms:
                pool.append((len(initial), hop.length_angstrom, c_index, cand, hop))
    pool.sort(key=lambda item: (item[0], item[1]))
    first: list[tuple[int, float, int, Any, Hop]] = []
    rest: list[tuple[int, float, int, Any, Hop]] = []
    seen: set[int] = set()
    for item in pool:
        (rest if item[2] in seen else first).append(item)
        seen.add(item[2])
    chosen = (first + rest)[:n_hops]
    return [(cand, hop, n_atoms) for n_atoms, _, _, cand, hop in chosen]


def _time_surrogate(hop: Hop, model: Any, repeats: int) -> tuple[float, float, float, int]:
    """Median seconds of band + graph + ensemble forward for one hop; E_m, σ, band atoms."""
    supercell = HopOptions().supercell  # the bands a screening round builds
    times = []
    values = np.zeros(0)
    n_band = 0
    for _ in range(repeats):
        start = time.perf_counter()
        band = band_from_hop(hop, supercell)
        graph = build_graph(band, model.card.graph)
        values = predict_graphs([graph], model, batch_size=1)[:, 0]
        times.append(time.perf_counter() - start)
        n_band = len(band)
    sigma = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return float(statistics.median(times)), float(values.mean()), sigma, n_band


def bench_surrogate_vs_neb(
    n_hops: int = 3,
    *,
    neb_config: UmlipNebConfig | None = None,
    model_dir: Path | str | None = None,
    repeats: int = 3,
    threads: int | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """Time Model-3 prediction and a CHGNet NEB of the same hops, in one run on this machine.

    Parameters
    ----------
    n_hops
        Hops timed, from the demo hosts with the smallest NEB cells (see
        :func:`pick_small_hops`).
    neb_config
        NEB settings; default: the capped demo settings of
        :class:`~hopscreen.verification.umlip.UmlipNebConfig` (what is capped is recorded).
    model_dir
        Model folder; None: the shipped default model.
    repeats
        Surrogate timings per hop (their median is the hop's time). The NEB runs once.
    threads
        Torch intra-op threads for both (restored afterwards); None keeps the current
        setting. On a shared machine, 1 avoids oversubscription (measured here: a CHGNet
        force call on 15 atoms took 1.09 s with 2 threads next to another 2-thread job and
        0.07 s with 1 thread).
    progress
        Called with a short message before each stage.

    Returns
    -------
    dict
        ``surrogate_median_s``, ``neb_median_s``, ``ratio_neb_over_surrogate`` and one row per
        hop (host, hop id, E_m ± σ, NEB barrier, status, convergence, steps, seconds), plus the
        NEB caps and the one-time costs (model and CHGNet loading) that the medians exclude.

    """
    with torch_threads(threads):
        return _surrogate_vs_neb(n_hops, neb_config, model_dir, repeats, progress)


def _surrogate_vs_neb(
    n_hops: int,
    neb_config: UmlipNebConfig | None,
    model_dir: Path | str | None,
    repeats: int,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """Body of :func:`bench_surrogate_vs_neb` (threads already set)."""
    config = neb_config or UmlipNebConfig()
    progress("picking the demo hops with the smallest NEB cells")
    picked = pick_small_hops(n_hops, config)
    if not picked:
        raise RuntimeError("no demo hop fits the NEB settings (max_atoms too small?)")

    progress("loading the surrogate model")
    start = time.perf_counter()
    model = load_model(model_dir, device="cpu")
    model_load_s = time.perf_counter() - start
    _time_surrogate(picked[0][1], model, 1)  # warm-up: first forward pass allocates

    progress("loading CHGNet")
    start = time.perf_counter()
    level = chgnet_level_of_theory(config)  # loads (and caches) the potential
    chgnet_load_s = time.perf_counter() - start

    rows = [
        _time_hop(cand, hop, n_neb_atoms, model, config, max(repeats, 1), progress)
        for cand, hop, n_neb_atoms in picked
    ]
    # Failed NEBs (no barrier) are listed but kept out of the NEB median.
    neb_times = [r["neb_seconds"] for r in rows if r["neb_status"] != "failed"]
    sur_median = _median([r["surrogate_seconds"] for r in rows])
    neb_median = _median(neb_times)
    return {
        "n_hops": len(rows),
        "torch_threads": torch.get_num_threads(),
        "model_version": model.model_version,
        "model_preset": model.card.preset,
        "ensemble_size": model.card.ensemble_size,
        "surrogate_stage": "band (default supercell) + graph + ensemble forward, batch 1, CPU",
        "surrogate_repeats": max(repeats, 1),
        "neb_stage": "endpoint relaxations + CI-NEB (CHGNet, ASE FIRE), CPU",
        "neb_potential": level.potential,
        "neb_caps": config.capped_description(),
        "neb_settings": _neb_settings(config),
        "model_load_seconds": model_load_s,
        "chgnet_load_seconds": chgnet_load_s,
        "surrogate_median_s": sur_median,
        "neb_median_s": neb_median,
        "ratio_neb_over_surrogate": (
            neb_median / sur_median if neb_median is not None and sur_median else None
        ),
        "n_neb_converged": sum(1 for r in rows if r["neb_converged"]),
        "hops": rows,
    }


def _time_hop(
    cand: Any,
    hop: Hop,
    n_neb_atoms: int,
    model: Any,
    config: UmlipNebConfig,
    repeats: int,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """One hop timed through the surrogate (``repeats`` times) and through one CHGNet NEB."""
    progress(f"{cand.name} hop {hop.hop_id[:8]}: surrogate")
    t_sur, barrier, sigma, n_band = _time_surrogate(hop, model, repeats)
    progress(f"{cand.name} hop {hop.hop_id[:8]}: CHGNet NEB ({n_neb_atoms} atoms)")
    start = time.perf_counter()
    doc = verify_hop(hop, candidate_id=cand.candidate_id, config=config)
    t_neb = time.perf_counter() - start
    return {
        "host": cand.name,
        "working_ion": cand.working_ion,
        "hop_id": hop.hop_id,
        "length_angstrom": float(hop.length_angstrom),
        "band_atoms": n_band,
        "neb_atoms": n_neb_atoms,
        "predicted_barrier_ev": barrier,
        "predicted_sigma_ev": sigma,
        "surrogate_seconds": t_sur,
        "neb_barrier_ev": doc.barrier_ev,
        "neb_status": doc.status,
        "neb_converged": bool(doc.converged),
        "neb_steps": doc.steps,
        "endpoint_relax_steps": list(doc.endpoint_relax_steps or []),
        "neb_reason": doc.reason,
        "neb_seconds": t_neb,
    }


def _neb_settings(config: UmlipNebConfig) -> dict[str, Any]:
    """The NEB settings that bound its cost."""
    return {
        "n_images": config.n_images,
        "endpoint_fmax": config.endpoint_fmax,
        "endpoint_max_steps": config.endpoint_max_steps,
        "neb_fmax": config.neb_fmax,
        "neb_max_steps": config.neb_max_steps,
        "max_atoms": config.max_atoms,
    }


# ---------------------------------------------------------------------------------------------
# Round throughput
# ---------------------------------------------------------------------------------------------
def bench_round_throughput(
    *,
    model_dir: Path | str | None = None,
    results_dir: Path | str | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Hops per second of a demo round without verification, through the real round code.

    Runs :func:`hopscreen.workflow.campaign.build_round` +
    :func:`~hopscreen.workflow.campaign.run_round_locally`
    (candidates → hops → bands → predictions → selection → store) on the demo settings with
    ``verifier: none``, in a temporary results folder unless ``results_dir`` is given.

    Parameters
    ----------
    model_dir
        Model folder; None: the shipped default.
    results_dir
        Results folder (kept); None: a temporary one, removed afterwards.
    threads
        Torch intra-op threads during the round (restored afterwards); None: unchanged.

    Returns
    -------
    dict
        ``hops``, ``predictions``, ``seconds`` (wall, flow construction to summary),
        ``hops_per_s`` and the documents the round wrote per collection.

    """
    with tempfile.TemporaryDirectory(prefix="hopscreen-bench-round-") as tmp:
        folder = Path(results_dir) if results_dir is not None else Path(tmp) / "results"
        config = demo_config(str(folder)).model_copy(
            update={"verifier": "none", "model": None if model_dir is None else str(model_dir)}
        )
        start = time.perf_counter()
        with torch_threads(threads):
            summary = run_round_locally(build_round(config), folder)
        seconds = time.perf_counter() - start
    return {
        "verifier": "none",
        "torch_threads": threads or torch.get_num_threads(),  # restored: the previous count
        "model_version": summary.model_version,
        "candidates": summary.n_candidates,
        "hops": summary.n_hops,
        "predictions": summary.n_predictions,
        "hop_failures": summary.n_hop_failures,
        "selected": summary.n_selected,
        "seconds": seconds,
        "hops_per_s": summary.n_hops / seconds if seconds > 0 else None,
        "written": dict(summary.written),
        "includes": "candidate loading, hop enumeration, band building (twice: the hops job "
        "checks them, the predict job rebuilds them), model loading, graphs, ensemble forward, "
        "selection, store writes, jobflow overhead",
    }
