from __future__ import annotations

import json

import pytest
from pymatgen.io.cif import CifWriter
from pymatgen.io.vasp import Poscar

from hopscreen.candidates.local import load_local_candidates, read_structures


def _codes(batch) -> dict[str, str]:
    return {f.name: f.code for f in batch.failures}


@pytest.fixture
def files(tmp_path, licoo2, licl, nacl, disordered):
    CifWriter(licoo2).write_file(tmp_path / "licoo2.cif")
    Poscar(licl).write_file(tmp_path / "odd_name.data")  # POSCAR by content
    (tmp_path / "licl_json").write_text(json.dumps((licl * (2, 1, 1)).as_dict()))
    (tmp_path / "garbage.cif").write_text("this is not a CIF at all\n")
    (tmp_path / "notes.txt").write_text("hello\nworld\n")
    CifWriter(disordered).write_file(tmp_path / "disordered.cif")
    Poscar(nacl).write_file(tmp_path / "POSCAR_nacl")
    return tmp_path


def test_good_files_of_each_format(files, licoo2, licl):
    batch = load_local_candidates(
        [files / "licoo2.cif", files / "odd_name.data", str(files / "licl_json")], "Li"
    )
    assert [c.name for c in batch.candidates] == ["licoo2", "odd_name"]
    assert all(c.source == "file" for c in batch.candidates)
    assert batch.candidates[0].source_ref.endswith("licoo2.cif")
    assert batch.candidates[0].get_structure().composition == licoo2.composition
    # the JSON holds a supercell of the POSCAR's structure: same content id
    assert _codes(batch) == {"licl_json": "duplicate"}


def test_bad_files_are_failures_and_the_batch_goes_on(files):
    paths = [
        files / "garbage.cif",
        files / "notes.txt",
        files / "disordered.cif",
        files / "POSCAR_nacl",
        files / "missing.cif",
        files / "licoo2.cif",
    ]
    batch = load_local_candidates(paths, "Li")
    assert [c.name for c in batch.candidates] == ["licoo2"]
    assert _codes(batch) == {
        "garbage": "unparsable",
        "notes": "unparsable",
        "disordered": "partial_occupancy",
        "POSCAR_nacl": "no_working_ion",
        "missing.cif": "not_found",
    }
    assert all(f.reason for f in batch.failures)


def test_folder_is_not_recursive_by_default(files, licoo2):
    sub = files / "sub"
    sub.mkdir()
    CifWriter(licoo2 * (1, 1, 1)).write_file(sub / "copy.cif")
    (files / ".hidden.cif").write_text("junk")
    flat = load_local_candidates([files], "Li")
    names = {c.name for c in flat.candidates} | set(_codes(flat))
    # recognised names only: odd_name.data, licl_json and notes.txt are skipped
    assert names == {"licoo2", "garbage", "disordered", "POSCAR_nacl"}
    deep = load_local_candidates([files], "Li", recursive=True)
    assert _codes(deep)["copy"] == "duplicate"


def test_glob_and_empty_glob(files):
    batch = load_local_candidates([str(files / "*.cif"), str(files / "*.xyz")], "Li")
    assert [c.name for c in batch.candidates] == ["licoo2"]
    codes = _codes(batch)
    assert codes["garbage"] == "unparsable" and codes["*.xyz"] == "not_found"


def test_cif_with_two_blocks_gives_two_candidates(tmp_path, licoo2, licl):
    text = str(CifWriter(licoo2)) + "\n" + str(CifWriter(licl)).replace("data_", "data_b_")
    (tmp_path / "two.cif").write_text(text)
    assert len(read_structures(tmp_path / "two.cif")) == 2
    batch = load_local_candidates([tmp_path / "two.cif"], "Li")
    assert [c.name for c in batch.candidates] == ["two#1", "two#2"]


def test_json_list_and_unknown_ion(tmp_path, licl):
    (tmp_path / "list.json").write_text(json.dumps([licl.as_dict()]))
    batch = load_local_candidates([tmp_path / "list.json"], "li")
    assert batch.candidates[0].working_ion == "Li"
    with pytest.raises(ValueError):
        load_local_candidates([tmp_path / "list.json"], "Qq")
