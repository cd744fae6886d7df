"""`hopscreen screen` killed with SIGKILL during verification, then run again (real NEB)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from hopscreen.store import open_results_store

COLLECTIONS = ("candidates", "hops", "predictions", "selections", "verifications", "verdicts")


def _config(tmp_path: Path, name: str, model: str) -> tuple[Path, Path]:
    results = tmp_path / name
    config = {
        "sources": {"demo": True},
        "ion": "Li",
        "results_dir": str(results),
        "model": model,
        # two small Li hosts; every hop borderline so that two real NEBs run
        "selection": {"budget": 2, "coverage": None, "k_sigma": 1000.0, "max_host_sites": 7},
        "verifier": "umlip",
        # short real NEBs: this tests resuming, not the barriers
        "umlip": {"neb_max_steps": 10, "endpoint_max_steps": 10, "n_images": 3},
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path, results


def _command(config: Path) -> list[str]:
    return [sys.executable, "-m", "hopscreen", "screen", "--config", str(config)]


def _verifications(results: Path) -> list[dict]:
    if not (results / "hopscreen").exists():
        return []
    try:
        with open_results_store(results, read_only=True) as store:
            return store.read("verifications")
    except Exception:  # the other process is writing: try again later
        return []


def _content(results: Path) -> dict[str, list[str]]:
    keys = {
        "candidates": "candidate_id",
        "hops": "hop_id",
        "predictions": "prediction_id",
        "selections": "selection_id",
        "verifications": "verification_id",
        "verdicts": "verdict_key",
    }
    with open_results_store(results, read_only=True) as store:
        return {c: sorted(str(r[keys[c]]) for r in store.read(c)) for c in COLLECTIONS}


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_sigkill_during_verification_then_rerun(tiny_model: str, tmp_path: Path) -> None:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    clean_cfg, clean = _config(tmp_path, "clean", tiny_model)
    subprocess.run(_command(clean_cfg), check=True, env=env, capture_output=True, timeout=1200)

    cfg, results = _config(tmp_path, "killed", tiny_model)
    proc = subprocess.Popen(
        _command(cfg), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 1200
    first: list[dict] = []
    while time.monotonic() < deadline and proc.poll() is None:
        first = [v for v in _verifications(results) if v["status"] in ("ok", "not_converged")]
        if first:
            break
        time.sleep(0.5)
    assert proc.poll() is None, "the round ended before it could be killed"
    assert len(first) == 1, "kill after exactly one finished NEB"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)

    rerun = subprocess.run(_command(cfg), env=env, capture_output=True, text=True, timeout=1200)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert _content(results) == _content(clean)
    after = {v["verification_id"]: v for v in _verifications(results)}
    kept = after[first[0]["verification_id"]]
    assert kept["wall_seconds"] == first[0]["wall_seconds"]  # reused, not recomputed
    assert not list((results / ".rounds").glob("*.pid"))  # the killed run's jobs were pruned
