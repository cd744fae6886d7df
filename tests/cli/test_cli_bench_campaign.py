"""``hopscreen bench --campaign N``: options and refusals (the run itself: tests/benchmarks)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hopscreen.cli.main import app

runner = CliRunner()


def test_help_names_the_campaign_options() -> None:
    out = runner.invoke(app, ["bench", "--help"], env={"COLUMNS": "200"})
    assert out.exit_code == 0
    for option in ("--campaign", "--campaign-model", "--results"):
        assert option in out.output
    assert "Campaign section" in out.output


def test_used_results_folder_is_refused_before_any_work(tmp_path: Path) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    out_md = tmp_path / "BENCHMARKS.md"
    result = runner.invoke(
        app,
        ["bench", "--campaign", "2", "--results", str(used), "--out", str(out_md)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 2
    assert "not an empty folder" in result.output
    assert not out_md.exists()
    assert (used / "keep.txt").read_text() == "mine"


def test_missing_corpus_says_what_is_missing(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["bench", "--campaign", "2", "--data-dir", str(tmp_path), "--out", str(tmp_path / "B.md")],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 2
    assert "pretrain" in result.output
    assert not (tmp_path / "B.md").exists()
