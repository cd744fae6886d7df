from __future__ import annotations

import json

import typer
from hops_structures import olivine_lifepo4
from typer.testing import CliRunner

from hopscreen.cli import app
from hopscreen.hops import enumerate_hops

runner = CliRunner()


def _invoke(args: list[str]):
    # Typer runs a lone command without its name; once other commands are registered the
    # command name is needed.
    group = typer.main.get_command(app)
    prefix = ["hops"] if isinstance(group, typer.core.TyperGroup) else []
    return runner.invoke(app, prefix + args)


def test_hops_command_prints_records(tmp_path):
    cif = tmp_path / "LiFePO4.cif"
    olivine_lifepo4().to(filename=str(cif))
    expected = [h.hop_id for h in enumerate_hops(olivine_lifepo4(), "Li")]

    result = _invoke([str(cif), "--ion", "Li", "--json"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [r["hop_id"] for r in records] == expected
    assert records[0]["candidate_name"] == "LiFePO4"  # the candidate's name: the file stem
    assert records[0]["candidate_id"]
    assert records[0]["length_angstrom"] == 3.005
    assert records[0]["band_n_atoms"] == 171
    assert len(records[0]["isite_frac"]) == 3

    table = _invoke([str(cif), "--ion", "Li", "--max-length", "4", "--no-bands"])
    assert table.exit_code == 0, table.output
    lines = [line for line in table.stdout.splitlines() if line.strip()]
    assert len(lines) == 1 and expected[0] in lines[0] and "3.005" in lines[0]


def test_hops_command_reports_bad_files_and_goes_on(tmp_path):
    cif = tmp_path / "LiFePO4.cif"
    olivine_lifepo4().to(filename=str(cif))
    missing = tmp_path / "missing.cif"
    result = _invoke([str(missing), str(cif), "--ion", "Li", "--no-bands"])
    assert result.exit_code == 2  # an input was refused
    assert result.stderr == f"error: {missing}: [not_found] no such file, or no structure " + (
        "file in the folder / pattern\n"
    )
    assert result.stdout.count("LiFePO4  hop-") == 2


def test_hops_command_exits_1_when_a_host_has_no_hop(tmp_path):
    cif = tmp_path / "LiFePO4.cif"
    olivine_lifepo4().to(filename=str(cif))
    result = _invoke([str(cif), "--ion", "Li", "--no-bands", "--max-length", "2"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"failed: {cif}: ValueError: no two Li sites within 2")
