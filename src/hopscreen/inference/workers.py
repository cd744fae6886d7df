"""Prediction spread over worker processes, one model per worker, batch 1 on a CPU.

On a CPU a hop's prediction is Python-heavy work (hop vectors, graph building) that one
process cannot spread over several cores, and torch threads inside one process were measured
slower than one thread per process under load. :func:`predict_hops_in_workers` therefore
splits the hops into contiguous chunks and predicts them in ``workers`` processes, each with
the model loaded once and ``torch.set_num_threads(threads_per_worker)``; the results come back
in input order and are identical to :func:`~hopscreen.inference.hops.predict_hops` in one
process (the models are deterministic).

Workers are started with ``spawn`` (no fork of a process that may hold torch or OpenMP
threads) and kept for the life of the calling process, so the prediction jobs of one round
that run in the same process share them; :func:`shutdown_workers` stops them (also at exit).
"""

from __future__ import annotations

import atexit
import math
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from hopscreen.schemas.hop import HopDoc
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.schemas.structure import Crystal

CHUNKS_PER_WORKER = 4
"""Chunks per worker: small enough to balance uneven hosts, large enough to amortise IPC."""

_T = TypeVar("_T")

WORKER_MIN_HOPS = 200
"""Fewer hops than this are predicted in the calling process (starting workers costs seconds)."""

MAX_DEFAULT_WORKERS = 8
"""Most workers chosen when the configuration leaves the number open."""

_POOLS: dict[tuple[Any, ...], ProcessPoolExecutor] = {}
_WORKER: dict[str, Any] = {}


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _init_worker(model: str | None, device: str | None, threads: int) -> None:
    import torch

    from hopscreen.inference.load import load_model

    torch.set_num_threads(threads)
    _WORKER["model"] = load_model(model, device=device)


def _predict_chunk(part: tuple[list[HopDoc], list[Crystal], int]) -> list[PredictionDoc]:
    from hopscreen.inference.hops import predict_hops

    hops, bands, batch_size = part
    return predict_hops(hops, bands, model=_WORKER["model"], batch_size=batch_size)


PARENT_POLL_SECONDS = 1.0
"""How often a worker checks that the process that started it is still alive."""


def _exit_when_orphaned(parent_pid: int) -> None:
    """End this worker once its parent is gone (killed with SIGKILL, it cannot stop us)."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(0)


def _start_worker(parent_pid: int, initializer: Callable[..., None], initargs: tuple) -> None:
    """Worker start: a watchdog thread on the parent, then the pool's own initializer."""
    watchdog = threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), daemon=True)
    watchdog.start()
    initializer(*initargs)


def _init_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def worker_pool(
    workers: int, initializer: Callable[..., None] = _init_threads, initargs: tuple = (1,)
) -> ProcessPoolExecutor:
    """The ``spawn`` pool of ``workers`` processes started with ``initializer(*initargs)``.

    One pool per set of arguments lives as long as this process (or :func:`shutdown_workers`),
    so that consecutive jobs in one process do not pay the start-up again. Each worker ends
    itself within :data:`PARENT_POLL_SECONDS` of this process's death, however it died (a
    killed round leaves no idle workers holding their models in memory).
    """
    key = (workers, initializer, initargs)
    pool = _POOLS.get(key)
    if pool is None:
        if not _POOLS:
            atexit.register(shutdown_workers)
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(os.getpid(), initializer, initargs),
        )
        _POOLS[key] = pool
    return pool


def map_in_pool(pool: ProcessPoolExecutor, fn: Callable[[Any], _T], parts: list[Any]) -> list[_T]:
    """``pool.map(fn, parts)`` as a list; a pool whose worker died is dropped, then it raises."""
    try:
        return list(pool.map(fn, parts))
    except BrokenProcessPool:  # a worker died (killed, out of memory): start afresh next time
        for key, known in list(_POOLS.items()):
            if known is pool:
                _POOLS.pop(key)
        pool.shutdown(wait=False, cancel_futures=True)
        raise


def shutdown_workers() -> None:
    """Stop every worker pool of this process (they start again when next needed)."""
    while _POOLS:
        _, pool = _POOLS.popitem()
        pool.shutdown(wait=True, cancel_futures=True)


def chunk_bounds(n: int, workers: int) -> list[tuple[int, int]]:
    """Contiguous ``(start, end)`` chunks covering ``range(n)``, about CHUNKS_PER_WORKER each."""
    if n <= 0:
        return []
    size = max(1, math.ceil(n / (workers * CHUNKS_PER_WORKER)))
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def predict_hops_in_workers(
    hops: Sequence[HopDoc],
    bands: Sequence[Crystal],
    *,
    model: str | None,
    device: str | None,
    workers: int,
    batch_size: int = 1,
    threads_per_worker: int = 1,
) -> list[PredictionDoc]:
    """Predict hops in ``workers`` processes; one document per hop, in input order.

    Parameters
    ----------
    hops, bands
        Hop documents and their Model-3 bands, same order.
    model
        Model folder or shipped name (None: the shipped default), loaded once per worker.
    device
        Device of the workers' model (None: CUDA when available).
    workers
        Worker processes (at least 1).
    batch_size
        Bands per forward pass in a worker.
    threads_per_worker
        torch threads of each worker.

    Raises
    ------
    ValueError
        If ``hops`` and ``bands`` differ in length or ``workers`` < 1.
    """
    if len(hops) != len(bands):
        raise ValueError(f"{len(hops)} hops but {len(bands)} bands")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    parts = [
        (list(hops[a:b]), list(bands[a:b]), batch_size) for a, b in chunk_bounds(len(hops), workers)
    ]
    pool = worker_pool(workers, _init_worker, (model, device, threads_per_worker))
    return [doc for chunk in map_in_pool(pool, _predict_chunk, parts) for doc in chunk]


def worker_count(requested: int | None, n_items: int, minimum: int = WORKER_MIN_HOPS) -> int:
    """Processes for ``n_items`` items (hops, or hosts): 1 below ``minimum`` items.

    ``requested`` None means one per available core, at most :data:`MAX_DEFAULT_WORKERS`.
    """
    if n_items < minimum:
        return 1
    wanted = requested if requested is not None else min(available_cores(), MAX_DEFAULT_WORKERS)
    return max(1, min(wanted, math.ceil(n_items / CHUNKS_PER_WORKER)))


def prediction_plan(
    requested_workers: int | None, n_hops: int, device: str, batch_size: int
) -> tuple[int, int]:
    """(worker processes, bands per forward pass) of a prediction on ``device``.

    On a GPU one process feeds the device with large batches (``batch_size``): several
    processes would each hold a copy of the model on it and batch 1 leaves it idle, unless
    ``requested_workers`` asks for processes explicitly. On a CPU the hops go to worker
    processes at batch 1 (:func:`worker_count`); one process (fewer than
    :data:`WORKER_MIN_HOPS` hops) keeps ``batch_size``.
    """
    if device.startswith("cuda") and requested_workers is None:
        return 1, batch_size
    workers = worker_count(requested_workers, n_hops)
    return workers, (1 if workers > 1 else batch_size)
