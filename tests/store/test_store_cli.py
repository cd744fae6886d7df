"""``hopscreen query``: table, csv and json output, filters, and a missing folder."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from hopscreen.cli.main import app  # (hopscreen.cli.__getattr__ recurses when main is unloaded)

runner = CliRunner()


def test_query_table(results_dir: Path) -> None:
    result = runner.invoke(app, ["query", "--results", str(results_dir)])
    assert result.exit_code == 0, result.output
    assert "4 hops" in result.stdout
    assert "LiFePO4" in result.stdout
    assert "NaFeO2" in result.stdout


def test_query_csv_with_filters(results_dir: Path) -> None:
    result = runner.invoke(
        app,
        ["query", "--results", str(results_dir), "--ion", "Li", "--max-barrier", "0.65",
         "--format", "csv"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert list(frame["hop_id"]) == ["h1"]
    assert frame.loc[0, "verified_barrier_ev"] == 0.35


def test_query_json_verified_only(results_dir: Path) -> None:
    result = runner.invoke(
        app,
        ["query", "--results", str(results_dir), "--verified-only", "--format", "json",
         "--model-version", "v1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["hop_id"] for r in rows] == ["h1"]
    assert rows[0]["model_version"] == "v1"
    assert rows[0]["converged"] is True


def test_query_missing_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["query", "--results", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "nope").exists()


def test_query_bad_format(results_dir: Path) -> None:
    result = runner.invoke(app, ["query", "--results", str(results_dir), "--format", "xml"])
    assert result.exit_code == 2
