"""The campaign benchmark's kill test: a round killed mid-way, run again, beside an unbroken one.

:func:`kill_and_resume` starts the campaign round in a child process (the same entry as
:func:`~hopscreen.benchmarks.campaign.run_round_isolated`) on a fresh results folder, watches
its results store (read-only) and sends SIGKILL once it holds ``kill_after`` predictions; then
it runs the identical round again to the end and compares the store with the one of an
uninterrupted run of the same campaign, collection by collection: the keys (nothing lost,
nothing extra), the number of records per key (nothing duplicated) and the content of every
record apart from its ``last_updated`` stamp. It also counts the round's child processes (its
workers) at the kill and how many still run :data:`ORPHAN_WAIT_SECONDS` later.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hopscreen.store import open_results_store
from hopscreen.store.results import COLLECTIONS

COMPARED = ("candidates", "hops", "predictions", "failures", "verdicts", "selections")
"""Collections compared between the resumed and the uninterrupted store."""

Runner = Callable[[dict[str, Any]], dict[str, Any]]


def _predictions(results: Path) -> int:
    if not (results / "hopscreen").is_dir():
        return 0
    try:
        with open_results_store(results, read_only=True) as store:
            return store.count("predictions")
    except Exception:  # the round is writing: ask again at the next poll
        return 0


def _records(results: Path) -> dict[str, dict[str, list[str]]]:
    """Per collection: key -> canonical JSON of every record with that key (stamps dropped)."""
    out: dict[str, dict[str, list[str]]] = {}
    with open_results_store(results, read_only=True) as store:
        for name in COMPARED:
            key = COLLECTIONS[name].key_field
            table: dict[str, list[str]] = {}
            for record in store.read(name):
                body = {k: v for k, v in record.items() if k != "last_updated"}
                table.setdefault(str(record[key]), []).append(
                    json.dumps(body, sort_keys=True, default=str)
                )
            out[name] = table
    return out


def compare_stores(resumed: Path, reference: Path) -> dict[str, dict[str, int]]:
    """Per collection: records ``lost``, ``extra``, ``duplicated`` and ``differing`` keys."""
    got, want = _records(resumed), _records(reference)
    report = {}
    for name in COMPARED:
        a, b = got[name], want[name]
        report[name] = {
            "reference": len(b),
            "resumed": len(a),
            "lost": len(set(b) - set(a)),
            "extra": len(set(a) - set(b)),
            "duplicated": sum(len(v) - 1 for v in a.values()),
            "differing": sum(1 for k in set(a) & set(b) if sorted(a[k]) != sorted(b[k])),
        }
    return report


ORPHAN_WAIT_SECONDS = 10.0
"""How long the kill test waits for the killed round's worker processes to end."""


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from ``/proc``; empty where there is none)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # the process ended while we looked
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _left_behind(workers: list[int]) -> int:
    """Workers of a killed round still running after :data:`ORPHAN_WAIT_SECONDS`."""
    deadline = time.monotonic() + ORPHAN_WAIT_SECONDS
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    return sum(_alive(p) for p in workers)


def _killed_run(config: dict[str, Any], kill_after: int, timeout_s: float) -> dict[str, Any]:
    """Run the round in a child process and SIGKILL it once ``kill_after`` predictions exist."""
    results = Path(config["results_dir"])
    tmp = results.parent / f".{results.name}-killed-run"
    tmp.mkdir(parents=True, exist_ok=True)
    config_path, result_path = tmp / "config.json", tmp / "result.json"
    config_path.write_text(json.dumps(config))
    command = [
        sys.executable,
        "-m",
        "hopscreen.benchmarks.campaign",
        str(config_path),
        str(result_path),
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen, killed, workers = 0, False, []
    while proc.poll() is None and time.perf_counter() - start < timeout_s:
        seen = _predictions(results)
        if seen >= kill_after:
            workers = _children(proc.pid)
            os.kill(proc.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.5)
    if proc.poll() is None and not killed:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return {
        "killed": killed,
        "seconds_before_kill": time.perf_counter() - start,
        "predictions_when_killed": seen if killed else None,
        "predictions_stored_after_kill": _predictions(results),
        "child_processes_at_kill": len(workers),
        "child_processes_left": _left_behind(workers),
    }


def kill_and_resume(
    config: dict[str, Any],
    reference: Path,
    run: Runner,
    *,
    kill_after: int,
    timeout_s: float = 6 * 3600,
) -> dict[str, Any]:
    """Kill a fresh run of ``config`` mid-way, run it again, compare with ``reference``.

    Parameters
    ----------
    config
        The campaign round (its ``results_dir`` must be a new folder).
    reference
        Results folder of an uninterrupted run of the same campaign.
    run
        Runs a round to the end (:func:`~hopscreen.benchmarks.campaign.run_round_isolated`).
    kill_after
        Predictions in the store that trigger the kill.
    timeout_s
        Longest wait for the trigger.

    Returns
    -------
    dict
        ``kill`` (whether the kill happened, when, predictions then and after), ``resumed``
        (the timed second run) and ``comparison`` (:func:`compare_stores`).
    """
    killed = _killed_run(config, kill_after, timeout_s)
    resumed = run(config)
    return {
        "kill": killed,
        "resumed": resumed,
        "comparison": compare_stores(Path(config["results_dir"]), reference),
    }
