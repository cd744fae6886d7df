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
    assert result.exit_code == 2, result.output  # an input was refused
    assert "good\tLiCoO2\tLi\t12 sites" in result.stdout
    assert result.stderr.splitlines() == [
        f"error: {tmp_path / 'bad.cif'}: [unparsable] ValueError: Invalid CIF file with no "
        "structures!"
    ]
    assert "1 candidate(s), 1 failure(s)" in result.stdout


def test_duplicates_are_skipped_not_refused(tmp_path, licoo2):
    CifWriter(licoo2).write_file(tmp_path / "a.cif")
    CifWriter(licoo2).write_file(tmp_path / "b.cif")
    result = runner.invoke(app, ["candidates", str(tmp_path / "a.cif"), str(tmp_path / "b.cif")])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(f"skipped: {tmp_path / 'b.cif'}: [duplicate]")


def test_no_candidate_exit_codes(tmp_path):
    result = runner.invoke(app, ["candidates", str(tmp_path / "missing.cif")])
    assert result.exit_code == 2
    assert "error: " in result.stderr and "[not_found]" in result.stderr
    assert runner.invoke(app, ["candidates"]).exit_code == 1
    assert runner.invoke(app, ["candidates", "--demo", "--ion", "Zn"]).exit_code == 1


def test_json_output(tmp_path, licoo2):
    CifWriter(licoo2).write_file(tmp_path / "good.cif")
    result = runner.invoke(app, ["candidates", str(tmp_path / "good.cif"), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["candidates"][0]["formula"] == "LiCoO2" and data["failures"] == []


def test_bad_ion_exits_2(tmp_path, licoo2):
    result = runner.invoke(app, ["candidates", "--demo", "--ion", "Qq"])
    assert result.exit_code == 2
    assert result.stderr == "error: --ion: working ion 'Qq' is not an element symbol\n"
    CifWriter(licoo2).write_file(tmp_path / "good.cif")
    empty = runner.invoke(app, ["candidates", str(tmp_path / "good.cif"), "--ion", ""])
    assert empty.exit_code == 2 and "working ion '' is not" in empty.stderr  # not Li
    lower = runner.invoke(app, ["candidates", str(tmp_path / "good.cif"), "--ion", "li"])
    assert lower.exit_code == 0 and "good\tLiCoO2\tLi\t" in lower.stdout
