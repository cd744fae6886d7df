"""Streaming benchmarks: peak memory and throughput of prediction, one fresh process per run.

Each run happens in a fresh Python process (``python -m hopscreen.benchmarks.streaming WORKER
SPEC``), so that its peak resident memory is its own, and returns a JSON-ready dict for
``hopscreen bench`` and ``BENCHMARKS.md``:

* :func:`bench_memory_scaling` — peak resident memory of streaming prediction over N bands, one
  fresh subprocess per N.
* :func:`bench_chgnet_throughput` — throughput and peak memory of a chgnet-head model, its
  CHGNet passes and its trees timed apart.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hopscreen.benchmarks.machine import peak_rss_mib
from hopscreen.data.em_dataset import load_em_dataset
from hopscreen.inference.chgnet_head import ChgnetHeadModel
from hopscreen.inference.load import load_model
from hopscreen.inference.predict import predict
from hopscreen.models.alignn import ALIGNN, ALIGNNConfig
from hopscreen.models.bundle import save_bundle
from hopscreen.models.chgnet_backbone import load_chgnet
from hopscreen.models.hop_features import extract_hop_features
from hopscreen.models.scaling import TargetScaler
from hopscreen.models.shipped import resolve_model_dir
from hopscreen.schemas.structure import Crystal
from hopscreen.training.config import get_preset


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


# ---------------------------------------------------------------------------------------------
# Workers (run in the subprocess)
# ---------------------------------------------------------------------------------------------
def _random_model(spec: dict[str, Any]) -> Any:
    """A random-weight ensemble with the architecture of ``spec``, saved and loaded back."""
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
        return load_model(tmp, device="cpu")


def _memory_bands(spec: dict[str, Any]) -> tuple[list[Crystal], str, str | None]:
    """Bands of ``spec["source"]``: the published ones, or synthetic ones; source and note."""
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
    return bands, source, note


def _memory_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Body of one memory subprocess: load model and bands, stream ``n`` predictions."""
    if spec.get("threads"):
        torch.set_num_threads(int(spec["threads"]))
    rss_start = peak_rss_mib()
    model = _random_model(spec)
    bands, source, note = _memory_bands(spec)
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


_WORKERS = {"memory-worker": _memory_worker, "chgnet-worker": _chgnet_worker}


def _run_worker(
    spec: dict[str, Any], timeout_s: float | None, command: str = "memory-worker"
) -> dict[str, Any]:
    """Run a worker (:data:`_WORKERS`) in a fresh Python process; its JSON is the last line."""
    proc = subprocess.run(
        [sys.executable, "-m", "hopscreen.benchmarks.streaming", command, json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"{command} (n={spec['n']}) failed: " + " | ".join(tail))
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# Benchmarks (run in the calling process)
# ---------------------------------------------------------------------------------------------
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


def _run_sizes(
    sizes: Sequence[int],
    spec_base: dict[str, Any],
    time_budget_s: float,
    progress: Callable[[str], None],
) -> list[dict[str, Any]]:
    """One memory row per size, increasing; sizes expected to exceed the budget are skipped."""
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
    return rows


def _memory_bounded(rows: Sequence[dict[str, Any]], chunk_size: int) -> bool | None:
    """Whether the largest size's stream growth stays within 25 % + 64 MiB of the smallest's."""
    ran = [r for r in rows if not r["skipped"]]
    # Compare sizes that fill whole chunks and have seen every distinct band (the largest band
    # sets the peak); fall back to whole chunks, then to every size run.
    full = (
        [r for r in ran if r["n_hops"] >= max(chunk_size, r["unique_bands"])]
        or [r for r in ran if r["n_hops"] >= chunk_size]
        or ran
    )
    if len(full) < 2:
        return None
    ref, big = full[0]["stream_increase_mib"], full[-1]["stream_increase_mib"]
    return bool(big <= 1.25 * ref + 64.0)


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
    rows = _run_sizes(sizes, spec_base, time_budget_s, progress)
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
        "bounded": _memory_bounded(rows, chunk_size),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hopscreen.benchmarks.streaming WORKER SPEC`` (used by the benchmarks)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) == 2 and args[0] in _WORKERS:
        print(json.dumps(_WORKERS[args[0]](json.loads(args[1]))))
        return 0
    names = "|".join(_WORKERS)
    print(f"usage: python -m hopscreen.benchmarks.streaming {names} SPEC_JSON", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
