"""``hopscreen bench`` sections measured on the data folder: refusal without data.

The runs themselves are tested in tests/benchmarks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hopscreen.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize(
    "option",
    ["--only-recipes", "--only-cascade", "--only-learning-curve", "--only-verdicts-em"],
)
def test_missing_data_ends_with_exit_2_and_leaves_the_file_alone(
    option: str, tmp_path: Path
) -> None:
    out_md = tmp_path / "BENCHMARKS.md"
    out_md.write_text("# Benchmarks\n\nmine\n")
    result = runner.invoke(
        app,
        [
            "bench",
            option,
            "--data-dir",
            str(tmp_path / "nothing-here"),
            "--out",
            str(out_md),
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 2, result.output
    assert "Error" in result.output
    assert out_md.read_text() == "# Benchmarks\n\nmine\n"
