"""Job documents of local rounds that were killed: marked while running, pruned on the next run.

``jobflow.run_locally`` gives every run new job ids, so a round killed midway (``kill -9``,
Ctrl-C, a crash) leaves its job documents in the job store with nothing pointing to them;
its results are safe in the results store (each stage writes there when it ends, see
:mod:`hopscreen.screening.checkpoint`). A local run therefore leaves a marker file
``.rounds/<flow uuid>.pid`` (holding its process id) in the results folder while it runs and
removes it when ``run_locally`` returns. The next local run on the same folder deletes the job
documents of every marked flow whose process is gone, then the marker.

Rounds submitted to FireWorks never have a marker, so their job documents are never touched;
neither are those of a marked round whose process is still alive (a concurrent local round).
"""

from __future__ import annotations

import os
from pathlib import Path

from hopscreen.store.stores import jobflow_store

RUNS_FOLDER = ".rounds"


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (a process we may not signal counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def marker_pid(marker: Path) -> int:
    """Process id written in a run marker (0 when the file is unreadable or not a number)."""
    try:
        return int(marker.read_text().strip() or "0")
    except (OSError, ValueError):
        return 0


def mark_local_run(results_dir: str | Path, flow_uuid: str) -> Path:
    """Write the marker of a local run that is starting; returns its path."""
    folder = Path(results_dir) / RUNS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f"{flow_uuid}.pid"
    marker.write_text(str(os.getpid()))
    return marker


def prune_killed_runs(results_dir: str | Path) -> int:
    """Delete the job documents of the marked local runs whose process is gone.

    Parameters
    ----------
    results_dir : str or Path
        Results folder of the rounds.

    Returns
    -------
    int
        Job documents deleted.
    """
    folder = Path(results_dir) / RUNS_FOLDER
    if not folder.is_dir():
        return 0
    dead = []
    for marker in sorted(folder.glob("*.pid")):
        pid = marker_pid(marker)
        if pid != os.getpid() and process_alive(pid):
            continue
        dead.append(marker)
    if not dead:
        return 0
    store = jobflow_store(results_dir)
    store.connect()
    removed = 0
    try:
        for marker in dead:
            criteria = {"hosts": marker.stem}
            removed += store.docs_store.count(criteria)
            store.docs_store.remove_docs(criteria)
            marker.unlink(missing_ok=True)
    finally:
        store.close()
    return removed
