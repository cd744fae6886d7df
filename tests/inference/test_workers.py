"""Prediction in worker processes: same documents, same order, as in one process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.model_fixtures import save_tiny_bundle, tiny_band

from hopscreen.inference.hops import predict_hops
from hopscreen.inference.load import load_model
from hopscreen.inference.workers import (
    CHUNKS_PER_WORKER,
    WORKER_MIN_HOPS,
    chunk_bounds,
    predict_hops_in_workers,
    prediction_plan,
    shutdown_workers,
    worker_count,
)
from hopscreen.schemas.hop import HopDoc


def _hop(i: int) -> HopDoc:
    return HopDoc(
        hop_id=f"h{i:03d}",
        candidate_id=f"c{i // 3}",
        candidate_name=f"host{i // 3}",
        working_ion="Li",
        length_angstrom=2.5 + i / 100,
        isite_frac=[0.0, 0.0, 0.0],
        esite_frac=[0.5, 0.0, 0.0],
        multiplicity=1,
        host_formula="LiO",
    )


def test_chunks_cover_every_index_once_in_order() -> None:
    for n in (0, 1, 7, 8, 9, 100):
        for workers in (1, 2, 3):
            bounds = chunk_bounds(n, workers)
            flat = [i for a, b in bounds for i in range(a, b)]
            assert flat == list(range(n))
            assert len(bounds) <= workers * CHUNKS_PER_WORKER


def test_worker_count_rules() -> None:
    assert worker_count(4, WORKER_MIN_HOPS - 1) == 1
    assert worker_count(4, WORKER_MIN_HOPS) == 4
    assert worker_count(1, 10_000) == 1
    assert 1 <= worker_count(None, 10_000) <= 8


def test_workers_give_the_in_process_predictions(tmp_path) -> None:
    folder = save_tiny_bundle(tmp_path / "tiny")
    hops = [_hop(i) for i in range(10)]
    bands = [tiny_band(i) for i in range(10)]
    here = predict_hops(hops, bands, model=load_model(str(folder), device="cpu"), batch_size=1)
    try:
        there = predict_hops_in_workers(hops, bands, model=str(folder), device="cpu", workers=2)
    finally:
        shutdown_workers()
    assert [d.hop_id for d in there] == [h.hop_id for h in hops]
    for a, b in zip(here, there, strict=True):
        assert a.model_version == b.model_version
        assert b.barrier_ev == pytest.approx(a.barrier_ev, abs=1e-5)
        assert b.sigma_ev == pytest.approx(a.sigma_ev, abs=1e-5)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="2 hops but 1 bands"):
        predict_hops_in_workers(
            [_hop(0), _hop(1)], [tiny_band(0)], model=None, device=None, workers=2
        )
    with pytest.raises(ValueError, match="at least 1"):
        predict_hops_in_workers([], [], model=None, device=None, workers=0)


def test_prediction_plan_per_device(monkeypatch: pytest.MonkeyPatch) -> None:
    import hopscreen.inference.workers as workers

    monkeypatch.setattr(workers, "available_cores", lambda: 4)
    # a CPU: worker processes at batch 1 from WORKER_MIN_HOPS hops, else one process
    assert prediction_plan(None, 1000, "cpu", 32) == (4, 1)
    assert prediction_plan(None, 10, "cpu", 32) == (1, 32)
    assert prediction_plan(2, 1000, "cpu", 32) == (2, 1)
    # a GPU: one process with large batches, unless processes are asked for
    assert prediction_plan(None, 1000, "cuda", 64) == (1, 64)
    assert prediction_plan(None, 1000, "cuda:1", 64) == (1, 64)
    assert prediction_plan(3, 1000, "cuda", 64) == (3, 1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is gone for our purpose
        return stat.read().split()[2] != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc (Linux)")
def test_workers_end_when_their_round_process_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "round.py"
    script.write_text(
        "import os, sys, time\n"
        "from hopscreen.inference.workers import map_in_pool, worker_pool\n"
        "from tests.inference.worker_probe import worker_pid\n"
        "if __name__ == '__main__':\n"
        "    pool = worker_pool(2)\n"
        "    pids = sorted(set(map_in_pool(pool, worker_pid, list(range(8)))))\n"
        "    print(' '.join(map(str, pids)), flush=True)\n"
        "    time.sleep(600)\n"
    )
    root = Path(__file__).parents[2]
    path = os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env, cwd=root
    )
    assert proc.stdout is not None
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert pids and all(_alive(p) for p in pids)
    proc.kill()  # SIGKILL: no atexit, no pool shutdown
    proc.wait()
    deadline = time.monotonic() + 20
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in pids), "workers outlived their killed parent"
