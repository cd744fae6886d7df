"""Screening benchmarks: surrogate versus uMLIP NEB, round throughput, streaming memory.

Each function measures on the machine it runs on and returns a JSON-ready dict (plain
``str``/``int``/``float``/``bool``/``None``/``list``/``dict``) for ``hopscreen bench`` and
``BENCHMARKS.md``:

* :func:`bench_surrogate_vs_neb` — the same few hops of the smallest demo hosts, timed through
  Model-3 prediction (band + graph + ensemble forward) and through a capped CHGNet NEB
  (endpoint relaxations + NEB), in one run; medians per hop and their ratio (TARGETS, "Speed").
* :func:`bench_round_throughput` — hops per second of a whole demo round without verification,
  through the real round code (:func:`hopscreen.workflow.campaign.run_round_locally`).
* :func:`bench_memory_scaling` — peak resident memory of streaming prediction over N bands, one
  fresh subprocess per N, so that each peak is that N's own.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hopscreen.benchmarks.machine import peak_rss_mib
from hopscreen.candidates import load_demo_candidates
from hopscreen.data.em_dataset import load_em_dataset
from hopscreen.graphs.build import build_graph
from hopscreen.hops import HopOptions, band_from_hop, enumerate_hops
from hopscreen.inference.alignn import predict_graphs
from hopscreen.inference.chgnet_head import ChgnetHeadModel
from hopscreen.inference.load import load_model
from hopscreen.inference.predict import predict
from hopscreen.models.alignn import ALIGNN, ALIGNNConfig
from hopscreen.models.bundle import save_bundle
from hopscreen.models.chgnet_backbone import extract_hop_features, load_chgnet
from hopscreen.models.scaling import TargetScaler
from hopscreen.models.shipped import resolve_model_dir
from hopscreen.training.config import get_preset
from hopscreen.verification.umlip import (
    UmlipNebConfig,
    chgnet_level_of_theory,
    hop_endpoints,
    verify_hop,
)
from hopscreen.workflow.campaign import build_round, demo_config, run_round_locally

if TYPE_CHECKING:
    from hopscreen.hops import Hop
    from hopscreen.schemas.structure import Crystal
    from hopscreen.verification.umlip import UmlipNebConfig

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
    import torch

    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _surrogate_vs_neb(n_hops, neb_config, model_dir, repeats, progress)
    finally:
        torch.set_num_threads(previous_threads)


def _surrogate_vs_neb(
    n_hops: int,
    neb_config: UmlipNebConfig | None,
    model_dir: Path | str | None,
    repeats: int,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """Body of :func:`bench_surrogate_vs_neb` (threads already set)."""
    import torch

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

    rows = []
    for cand, hop, n_neb_atoms in picked:
        progress(f"{cand.name} hop {hop.hop_id[:8]}: surrogate")
        t_sur, barrier, sigma, n_band = _time_surrogate(hop, model, max(repeats, 1))
        progress(f"{cand.name} hop {hop.hop_id[:8]}: CHGNet NEB ({n_neb_atoms} atoms)")
        start = time.perf_counter()
        doc = verify_hop(hop, candidate_id=cand.candidate_id, config=config)
        t_neb = time.perf_counter() - start
        rows.append(
            {
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
        )
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
        "neb_settings": {
            "n_images": config.n_images,
            "endpoint_fmax": config.endpoint_fmax,
            "endpoint_max_steps": config.endpoint_max_steps,
            "neb_fmax": config.neb_fmax,
            "neb_max_steps": config.neb_max_steps,
            "max_atoms": config.max_atoms,
        },
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
    import torch

    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory(prefix="hopscreen-bench-round-") as tmp:
        folder = Path(results_dir) if results_dir is not None else Path(tmp) / "results"
        config = demo_config(str(folder)).model_copy(
            update={"verifier": "none", "model": None if model_dir is None else str(model_dir)}
        )
        start = time.perf_counter()
        try:
            summary = run_round_locally(build_round(config), folder)
        finally:
            torch.set_num_threads(previous_threads)
        seconds = time.perf_counter() - start
    return {
        "verifier": "none",
        "torch_threads": threads or previous_threads,
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


# ---------------------------------------------------------------------------------------------
# Streaming memory
# ---------------------------------------------------------------------------------------------
def synthetic_bands(n: int, *, seed: int = 0) -> list[Crystal]:
    """Small band-like structures built in code (used when the published data are missing).

    Each is a perturbed 2×2×2 rock-salt LiO-like cell (64 atoms) with the first Li replaced by
    five copies on the line to a neighbouring Li site: 68 atoms, ion copies first.
    """
    rng = np.random.default_rng(seed)
    fcc = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    cell = np.vstack([fcc, fcc + [0.5, 0, 0]])
    shifts = np.array([[i, j, k] for i in range(2) for j in range(2) for k in range(2)])
    frac = np.vstack([(cell + s) / 2.0 for s in shifts])
    numbers = np.array(([3] * 4 + [8] * 4) * 8)
    cations = np.flatnonzero(numbers == 3)
    out = []
    for _ in range(n):
        coords = (frac + rng.normal(0, 0.005, frac.shape)) % 1.0
        start, end = coords[cations[0]], coords[cations[1]]
        delta = end - start - np.round(end - start)
        copies = np.array([start + t * delta for t in np.linspace(0.0, 1.0, 5)]) % 1.0
        keep = np.ones(len(coords), bool)
        keep[[cations[0], cations[1]]] = False
        lattice = np.eye(3) * 2 * (4.2 + 0.2 * rng.random())
        out.append(
            Crystal(lattice, np.vstack([copies, coords[keep]]), np.r_[[3] * 5, numbers[keep]])
        )
    return out


def _memory_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Body of one memory subprocess: load model and bands, stream ``n`` predictions."""
    import itertools

    import torch

    if spec.get("threads"):
        torch.set_num_threads(int(spec["threads"]))
    rss_start = peak_rss_mib()
    preset = get_preset(spec["preset"])
    arch = ALIGNNConfig(**spec["architecture"]) if spec.get("architecture") else preset.model
    torch.manual_seed(0)
    members = [ALIGNN(arch).eval() for _ in range(spec["ensemble_size"])]
    with tempfile.TemporaryDirectory(prefix="hopscreen-bench-mem-") as tmp:
        save_bundle(
            members,
            Path(tmp),
            name="bench-random",
            preset=spec["preset"],
            graph=preset.graph,
            scaler=TargetScaler(minimum=0.0, maximum=3.0),
            notes="random weights: memory/throughput benchmark only",
        )
        del members
        model = load_model(tmp, device="cpu")

    source = spec["source"]
    note = None
    bands: list[Crystal]
    if source in ("auto", "dataset"):
        try:
            bands = [r.band for r in load_em_dataset(spec.get("data_dir"))]
            source = "dataset"
        except Exception as exc:
            if source == "dataset":
                raise
            source = "synthetic"
            note = f"published data not loaded ({type(exc).__name__}): synthetic bands used"
    if source == "synthetic":
        bands = synthetic_bands(spec.get("n_unique", 64))
    rss_before = peak_rss_mib()
    n = int(spec["n"])
    total = 0.0
    count = 0
    start = time.perf_counter()
    stream = itertools.islice(itertools.cycle(bands), n)
    for pred in predict(
        stream, model=model, batch_size=spec["batch_size"], chunk_size=spec["chunk_size"]
    ):
        total += pred.barrier_ev  # consumed and dropped: nothing accumulates
        count += 1
    seconds = time.perf_counter() - start
    return {
        "n_hops": count,
        "torch_threads": torch.get_num_threads(),
        "band_source": source,
        "band_source_note": note,
        "unique_bands": len(bands),
        "mean_band_atoms": float(np.mean([len(b) for b in bands])),
        "seconds": seconds,
        "hops_per_s": count / seconds if seconds > 0 else None,
        "peak_rss_at_start_mib": rss_start,
        "peak_rss_before_stream_mib": rss_before,
        "peak_rss_mib": peak_rss_mib(),
        "stream_increase_mib": peak_rss_mib() - rss_before,
        "mean_prediction_ev": total / max(count, 1),
    }


def _chgnet_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Body of one chgnet-head throughput subprocess: features and trees timed apart."""
    import itertools

    rss_start = peak_rss_mib()
    start = time.perf_counter()
    model = ChgnetHeadModel.load(resolve_model_dir(spec["model"]))
    backbone = load_chgnet(model.card.feature_config.model_name)
    load_s = time.perf_counter() - start
    bands = [r.band for r in load_em_dataset(spec.get("data_dir"))]
    rss_before = peak_rss_mib()
    stream = itertools.islice(itertools.cycle(bands), int(spec["n"]))
    t_feat = t_trees = 0.0
    count = atoms = 0
    while chunk := list(itertools.islice(stream, int(spec["chunk_size"]))):
        t = time.perf_counter()
        table = extract_hop_features(chunk, config=model.card.feature_config, model=backbone)
        t_feat += time.perf_counter() - t
        t = time.perf_counter()
        model.predict_features(table.X, table.names)
        t_trees += time.perf_counter() - t
        count += len(chunk)
        atoms += sum(len(b) for b in chunk)
    return {
        "model": spec["model"],
        "model_version": model.model_version,
        "n_hops": count,
        "mean_band_atoms": atoms / max(count, 1),
        "load_seconds": load_s,
        "feature_seconds": t_feat,
        "tree_seconds": t_trees,
        "feature_hops_per_s": count / t_feat if t_feat > 0 else None,
        "tree_hops_per_s": count / t_trees if t_trees > 0 else None,
        "total_hops_per_s": count / (t_feat + t_trees) if t_feat + t_trees > 0 else None,
        "peak_rss_at_start_mib": rss_start,
        "peak_rss_before_stream_mib": rss_before,
        "peak_rss_mib": peak_rss_mib(),
    }


def bench_chgnet_throughput(
    model: str = "chgnet-gbr",
    n_hops: int = 1000,
    *,
    chunk_size: int = 128,
    data_dir: Path | str | None = None,
) -> dict[str, Any]:
    """Throughput and peak memory of a chgnet-head model over ``n_hops`` published bands.

    Runs in a fresh process (peak resident memory is that process's VmHWM); bands are the
    published dataset's, cycled to ``n_hops``, features computed fresh (no cache). The CHGNet
    passes and the trees are timed apart.
    """
    spec = {
        "model": model,
        "n": int(n_hops),
        "chunk_size": int(chunk_size),
        "data_dir": None if data_dir is None else str(data_dir),
    }
    return _run_worker(spec, timeout_s=None, command="chgnet-worker")


_WORKERS = {"memory-worker": _memory_worker, "chgnet-worker": _chgnet_worker}


def _run_worker(
    spec: dict[str, Any], timeout_s: float | None, command: str = "memory-worker"
) -> dict[str, Any]:
    """Run a worker (:data:`_WORKERS`) in a fresh Python process; its JSON is the last line."""
    proc = subprocess.run(
        [sys.executable, "-m", "hopscreen.benchmarks.screening", command, json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"{command} (n={spec['n']}) failed: " + " | ".join(tail))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_memory_scaling(
    sizes: Sequence[int] = (100, 1000, 10000),
    *,
    preset: str = "fast",
    architecture: dict[str, Any] | None = None,
    ensemble_size: int | None = None,
    source: str = "auto",
    data_dir: Path | str | None = None,
    batch_size: int = 16,
    chunk_size: int = 128,
    time_budget_s: float = 240.0,
    threads: int | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """Peak resident memory of streaming prediction over N bands, one fresh process per N.

    The model has the architecture of ``preset`` with **random weights** (memory and speed
    only; its predictions mean nothing). Bands are the published dataset's, cycled to N
    (``source="dataset"``), or bands built in code (``"synthetic"``); ``"auto"`` falls back
    to synthetic bands when the data are missing. Sizes run in increasing order; a size whose
    time, extrapolated from the previous size's rate, exceeds ``time_budget_s`` is not run
    but reported as skipped with its estimate (raise ``time_budget_s`` to run it).

    Parameters
    ----------
    sizes
        Numbers of hops streamed.
    preset
        Training preset whose architecture (and ensemble size) the model takes.
    architecture
        :class:`~hopscreen.models.alignn.ALIGNNConfig` fields overriding the preset's.
    ensemble_size
        Members; None: the preset's.
    source
        ``"auto"``, ``"dataset"`` or ``"synthetic"``.
    data_dir
        Data directory of the published dataset (None: the usual resolution).
    batch_size, chunk_size
        Bands per forward pass; graphs held in memory at once.
    time_budget_s
        Most seconds one size may be expected to take.
    threads
        Torch threads in each subprocess; None: torch's default.
    progress
        Called with a short message before each size.

    Returns
    -------
    dict
        One row per size (``peak_rss_mib``, ``stream_increase_mib``, seconds, hops/s, or
        ``skipped`` with ``estimated_seconds``) and ``bounded``: whether the stream's memory
        increase at the largest size run stays within 25 % + 64 MiB of the smallest size run
        that fills a whole chunk and has cycled through every distinct band (None when fewer
        than two sizes qualify).

    """
    chosen = get_preset(preset)
    spec_base = {
        "preset": preset,
        "architecture": architecture,
        "ensemble_size": ensemble_size or chosen.ensemble_size,
        "source": source,
        "data_dir": None if data_dir is None else str(data_dir),
        "batch_size": batch_size,
        "chunk_size": chunk_size,
        "threads": threads,
    }
    rows: list[dict[str, Any]] = []
    rate: float | None = None  # seconds per hop of the last size run
    overhead = 0.0
    for n in sorted(int(s) for s in sizes):
        if rate is not None:
            estimate = overhead + rate * n
            if estimate > time_budget_s:
                reason = f"estimated {estimate:.0f} s > time_budget_s={time_budget_s:g}"
                rows.append(
                    {"n_hops": n, "skipped": True, "estimated_seconds": estimate, "reason": reason}
                )
                continue
        progress(f"streaming {n} predictions in a fresh process")
        start = time.perf_counter()
        row = _run_worker({**spec_base, "n": n}, timeout_s=None)
        row["process_seconds"] = time.perf_counter() - start
        row["skipped"] = False
        rows.append(row)
        rate = row["seconds"] / max(n, 1)
        overhead = row["process_seconds"] - row["seconds"]
    ran = [r for r in rows if not r["skipped"]]
    # Compare sizes that fill whole chunks and have seen every distinct band (the largest band
    # sets the peak); fall back to whole chunks, then to every size run.
    full = (
        [r for r in ran if r["n_hops"] >= max(chunk_size, r["unique_bands"])]
        or [r for r in ran if r["n_hops"] >= chunk_size]
        or ran
    )
    bounded = None
    if len(full) >= 2:
        ref, big = full[0]["stream_increase_mib"], full[-1]["stream_increase_mib"]
        bounded = bool(big <= 1.25 * ref + 64.0)
    return {
        "preset": preset,
        "architecture": architecture or "preset",
        "ensemble_size": spec_base["ensemble_size"],
        "weights": "random (memory and throughput only; predictions are meaningless)",
        "batch_size": batch_size,
        "chunk_size": chunk_size,
        "time_budget_s": time_budget_s,
        "measurement": "peak resident memory (VmHWM) of a fresh subprocess per size",
        "sizes": rows,
        "bounded": bounded,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hopscreen.benchmarks.screening WORKER SPEC`` (used by the benchmarks)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) == 2 and args[0] in _WORKERS:
        print(json.dumps(_WORKERS[args[0]](json.loads(args[1]))))
        return 0
    names = "|".join(_WORKERS)
    print(f"usage: python -m hopscreen.benchmarks.screening {names} SPEC_JSON", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
