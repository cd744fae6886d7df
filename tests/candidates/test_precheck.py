"""Checks of a structure file's text before it is parsed (POSCAR counts, CIF rows, names)."""

from __future__ import annotations

import json

import pytest
from pymatgen.io.cif import CifWriter
from pymatgen.io.vasp import Poscar

from hopscreen.candidates.local import load_local_candidates, read_structures
from hopscreen.candidates.precheck import check_file_name, cif_atom_rows, poscar_atom_count
from hopscreen.candidates.validate import InvalidInputError


def _header(species: str, counts: str) -> list[str]:
    return ["LiCl", "1.0", "5.13 0 0", "0 5.13 0", "0 0 5.13", species, counts]


def test_poscar_written_by_pymatgen_passes(tmp_path, licl):
    Poscar(licl).write_file(tmp_path / "POSCAR")
    assert poscar_atom_count((tmp_path / "POSCAR").read_text()) == 8
    assert len(read_structures(tmp_path / "POSCAR", max_atoms=8)[0]) == 8


def test_poscar_vasp4_selective_dynamics_and_velocities():
    lines = [
        *_header("Li Cl", "1 1")[:5],  # VASP 4: no species line
        "1 1",
        "Selective dynamics",
        "Direct",
        "0 0 0 T T T",
        "0.5 0.5 0.5 F F F",
        "",
        "0.1 0.0 0.0",  # velocities after the blank line are not positions
        "0.0 0.1 0.0",
    ]
    assert poscar_atom_count("\n".join(lines)) == 2


@pytest.mark.parametrize(
    ("species", "counts", "coords", "message"),
    [
        ("Li Cl", "1 1", 3, r"\(Li 1 Cl 1: 2 atoms\) do not match its 3 coordinate lines"),
        ("Li Cl", "2 2", 3, r"\(Li 2 Cl 2: 4 atoms\) do not match its 3 coordinate lines"),
        ("Li", "1 1", 2, r"names 1 species \(Li\) but gives 2 counts \(1 1\)"),
    ],
)
def test_poscar_count_mismatch(species, counts, coords, message):
    positions = ["0 0 0", "0.5 0.5 0.5", "0.5 0 0"][:coords]
    text = "\n".join([*_header(species, counts), "Direct", *positions])
    with pytest.raises(InvalidInputError, match=message) as info:
        poscar_atom_count(text)
    assert info.value.code == "unparsable"


def test_pymatgen_reads_a_short_counts_line_silently():
    """Why the check exists: pymatgen drops the atoms the counts line does not list."""
    positions = ["0 0 0.5", "0 0 0", "0.3333 0.6667 0.25", "0.6667 0.3333 0.75"]
    lines = ["LiTiS2", "1.0", "3.41 0 0", "-1.705 2.9531 0", "0 0 5.7", "Li Ti S", "1 1 1"]
    text = "\n".join([*lines, "direct", *positions])
    assert Poscar.from_str(text).structure.composition.reduced_formula == "LiTiS"
    with pytest.raises(InvalidInputError, match="3 atoms"):
        poscar_atom_count(text)


def test_cif_rows_and_json_sites_refused_before_parsing(tmp_path, licl):
    CifWriter(licl).write_file(tmp_path / "licl.cif")
    assert cif_atom_rows((tmp_path / "licl.cif").read_text()) == [8]
    (tmp_path / "licl.json").write_text(json.dumps(licl.as_dict()))
    for name in ("licl.cif", "licl.json"):
        assert len(read_structures(tmp_path / name, max_atoms=8)[0]) == 8
        with pytest.raises(InvalidInputError, match="8 atoms in the cell, more than the cap of 7"):
            read_structures(tmp_path / name, max_atoms=7)


def test_long_file_name(tmp_path):
    check_file_name(tmp_path / ("a" * 255))
    with pytest.raises(InvalidInputError, match="256 bytes long; file systems allow 255"):
        check_file_name(tmp_path / ("é" * 128))  # 128 characters, 256 bytes
    batch = load_local_candidates([tmp_path / ("b" * 300)], "Li")
    (failure,) = batch.failures
    assert failure.code == "not_found" and "300 bytes long" in failure.reason
    assert len(failure.name) == 80
