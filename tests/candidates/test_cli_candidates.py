from __future__ import annotations

import json

from pymatgen.io.cif import CifWriter
from typer.testing import CliRunner

from hopscreen.cli import app

runner = CliRunner()


def test_demo_listing():
    result = runner.invoke(app, ["candidates", "--demo", "--ion", "Na"])
    assert result.exit_code == 0, result.output
    assert "NaFeO2-O3" in result.output and "R-3m (166)" in result.output
    assert "1 candidate(s), 0 failure(s)" in result.output


def test_files_with_failures(tmp_path, licoo2):
    CifWriter(licoo2).write_file(tmp_path / "good.cif")
    (tmp_path / "bad.cif").write_text("nonsense")
    result = runner.invoke(app, ["candidates", str(tmp_path / "*.cif")])
    assert result.exit_code == 0, result.output
    assert "good\tLiCoO2\tLi\t12 sites" in result.output
    assert "FAILED bad" in result.output and "[unparsable]" in result.output


def test_no_candidate_exits_1(tmp_path):
    result = runner.invoke(app, ["candidates", str(tmp_path / "missing.cif")])
    assert result.exit_code == 1
    assert "[not_found]" in result.output
    assert runner.invoke(app, ["candidates"]).exit_code == 1
    assert runner.invoke(app, ["candidates", "--demo", "--ion", "Zn"]).exit_code == 1


def test_json_output(tmp_path, licoo2):
    CifWriter(licoo2).write_file(tmp_path / "good.cif")
    result = runner.invoke(app, ["candidates", str(tmp_path / "good.cif"), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["candidates"][0]["formula"] == "LiCoO2" and data["failures"] == []


def test_bad_ion_exits_2():
    result = runner.invoke(app, ["candidates", "--demo", "--ion", "Qq"])
    assert result.exit_code == 2
