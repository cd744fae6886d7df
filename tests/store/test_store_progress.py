"""``hopscreen status`` and :mod:`hopscreen.store.progress`: stage counts of a results store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from folder_state import listing
from typer.testing import CliRunner

from hopscreen.cli.main import app
from hopscreen.store.killed_runs import mark_local_run
from hopscreen.store.progress import local_rounds, read_progress

runner = CliRunner()


def test_counts_every_stage(results_dir: Path, round_docs: dict[str, list]) -> None:
    selected = {h.hop_id for h in round_docs["selections"][0].selected}
    progress = read_progress(results_dir)
    assert (progress.hosts, progress.hosts_rejected) == (3, 1)
    assert (progress.hops, progress.hosts_failed_hops) == (4, 0)
    assert (progress.hops_predicted, progress.predictions) == (4, 6)
    assert progress.predictions_by_model == {"v0-later": 2, "v1": 4}
    assert progress.prediction_failures == 1
    assert progress.selected == len(selected) == 3
    assert progress.verifications_by_status == {"failed": 1, "ok": 1}
    assert progress.verifications_pending == len(selected - {"h1", "h3"})
    assert (progress.rounds_running, progress.rounds_killed, progress.rounds_recorded) == (0, 0, 0)


def test_rounds_running_and_killed(tmp_path: Path) -> None:
    mark_local_run(tmp_path, "alive-round")  # this process: alive
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    (tmp_path / ".rounds" / "dead-round.pid").write_text(gone.stdout.strip())
    (tmp_path / ".rounds" / "garbled.pid").write_text("not a pid")
    assert local_rounds(tmp_path) == (1, 2)


def test_status_table_and_json_write_nothing(results_dir: Path) -> None:
    before = listing(results_dir)
    table = runner.invoke(app, ["status", "--results", str(results_dir)])
    assert table.exit_code == 0, table.output
    rows = {line.split("│")[1].strip(): line for line in table.output.splitlines() if "│" in line}
    assert any(key.startswith("predictions") for key in rows)
    hosts = [cell.strip() for cell in rows["hosts"].split("│")[2:5]]
    assert hosts == ["3", "-", "1"]
    as_json = runner.invoke(app, ["status", "--results", str(results_dir), "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["verifications_by_status"] == {"failed": 1, "ok": 1}
    assert listing(results_dir) == before


def test_status_missing_folder_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["status", "--results", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.output.startswith("error:") and "Traceback" not in result.output
