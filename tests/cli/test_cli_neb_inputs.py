"""``hopscreen neb-inputs``: folders written from structure files; bad input refused cleanly."""

from __future__ import annotations

import itertools
import json
import shutil
from importlib import resources
from pathlib import Path

import numpy as np
from pymatgen.io.vasp import Incar, Poscar
from typer.testing import CliRunner

from hopscreen.cli import app
from hopscreen.verification import displacements_angstrom

runner = CliRunner()


def _demo_cif(tmp_path: Path, filename: str) -> Path:
    source = resources.files("hopscreen.candidates").joinpath("demo", filename)
    target = tmp_path / filename
    shutil.copyfile(str(source), target)
    return target


def test_writes_one_folder_per_hop_with_one_moving_atom(tmp_path):
    cif = _demo_cif(tmp_path, "LiTiS2_layered.cif")
    bad = tmp_path / "broken.cif"
    bad.write_text("data_nothing\n")
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["neb-inputs", str(cif), str(bad), "--ion", "li", "--out", str(out), "--images", "3"]
    )
    assert result.exit_code == 2, result.stderr  # the broken file was refused ...
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "broken.cif" in errors[0]
    assert "Traceback" not in result.stdout + result.stderr
    (summary_file,) = out.glob("*/*/neb_inputs.json")  # ... and the good one written
    summary = json.loads(summary_file.read_text())
    assert summary["hop_id"] in result.stdout and summary["n_images"] == 3
    folder = summary_file.parent
    images = [Poscar.from_file(folder / f"{i:02d}" / "POSCAR").structure for i in range(5)]
    for a, b in itertools.pairwise(images):
        moved = displacements_angstrom(a, b)
        assert np.flatnonzero(moved > 1e-4).tolist() == [0]
        assert moved[0] <= summary["length_angstrom"] / 2 + 0.1
    incar = Incar.from_file(folder / "INCAR")
    assert incar["IMAGES"] == 3 and "IOPT" not in incar
    assert (folder / "POTCAR.spec").read_text().split()[0] == "Li_sv"


def test_hop_filter_vtst_and_refusals(tmp_path):
    cif = _demo_cif(tmp_path, "LiTiS2_layered.cif")
    out = tmp_path / "out"
    listed = runner.invoke(app, ["hops", str(cif), "--ion", "Li", "--no-bands", "--json"])
    hop_id = json.loads(listed.stdout.splitlines()[0])["hop_id"]
    args = ["neb-inputs", str(cif), "--ion", "Li", "--out", str(out)]
    result = runner.invoke(
        app, [*args, "--hop", hop_id[:10], "--images", "1", "--vtst", "--linear"]
    )
    assert result.exit_code == 0, result.stderr
    incar = Incar.from_file(out / "LiTiS2_layered" / hop_id[:12] / "INCAR")
    assert incar["IOPT"] == 1 and incar["LCLIMB"] is True and incar["IMAGES"] == 1

    missing = runner.invoke(app, [*args, "--hop", "hop-0000"])
    assert missing.exit_code == 2
    assert missing.stderr.strip() == "error: --hop hop-0000: no hop of the inputs has this id"
    wrong_ion = runner.invoke(app, [*args[:3], "Xx", *args[4:]])
    assert wrong_ion.exit_code == 2 and wrong_ion.stderr.startswith("error: --ion:")
    no_images = runner.invoke(app, [*args, "--images", "0"])
    assert no_images.exit_code == 2 and "Traceback" not in no_images.stderr
