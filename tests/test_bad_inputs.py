"""A corpus of bad inputs, built in code, run through the input gate and every CLI entry point.

Each kind is checked twice: through the Python API (``gate_structure`` / ``hops_for_structure``
or the loader for file-level problems) and through ``hopscreen candidates``, ``hops`` and
``predict`` (the model faked), each given the bad file *and* a good one: one ``error:`` line
naming the problem, exit code 2, no traceback, and the good file's records still printed.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter
from typer.testing import CliRunner

from hopscreen.candidates.local import load_local_candidates, read_structures
from hopscreen.candidates.validate import InputLimits, InvalidInputError, gate_structure
from hopscreen.cli import app
from hopscreen.hops import HopOptions, enumerate_hops, hops_for_structure
from hopscreen.schemas.prediction import PredictionDoc

runner = CliRunner()


# --- structures ---------------------------------------------------------------------------


def licoo2() -> Structure:
    """O3 LiCoO2 in its 4-atom primitive cell (one Li site, Li–Li images 2.8 Å)."""
    hexagonal = Structure.from_spacegroup(
        "R-3m",
        Lattice.hexagonal(2.816, 14.05),
        ["Li", "Co", "O"],
        [[0, 0, 0.5], [0, 0, 0], [0, 0, 0.2395]],
    )
    return hexagonal.get_primitive_structure()


def licl() -> Structure:
    """Rock-salt LiCl, 8-atom cubic cell."""
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.13), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )


def litis2_poscar_dropped_count() -> str:
    """POSCAR of LiTiS2 (4 atoms) whose counts line says 1 1 1: pymatgen would read LiTiS."""
    return "\n".join(
        [
            "LiTiS2",
            "1.0",
            "3.41 0.0 0.0",
            "-1.705 2.9531 0.0",
            "0.0 0.0 5.70",
            "Li Ti S",
            "1 1 1",
            "direct",
            "0.0 0.0 0.5 Li",
            "0.0 0.0 0.0 Ti",
            "0.3333 0.6667 0.25 S",
            "0.6667 0.3333 0.75 S",
            "",
        ]
    )


def _write_json(path: Path, structure: Structure) -> None:
    path.write_text(json.dumps(structure.as_dict()))


def _nan_json(path: Path) -> None:
    data = licl().as_dict()
    data["sites"][0]["abc"][0] = float("nan")  # json writes NaN, pymatgen reads it back
    path.write_text(json.dumps(data))


def _flat(path: Path) -> None:
    lattice = Lattice.from_parameters(4.0, 4.0, 4.0, 90.0, 90.0, 179.5)
    _write_json(path, Structure(lattice, ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]))


def _overlap(path: Path) -> None:
    s = licl()
    s.append("Cl", np.add(s[0].frac_coords, [0.3 / 5.13, 0, 0]))  # 0.3 Å from a Li
    _write_json(path, s)


def _disordered(path: Path) -> None:
    s = licl()
    s.replace(0, {"Li": 0.5, "Na": 0.5})
    CifWriter(s).write_file(path)


def _one_li_atom(path: Path) -> None:
    _write_json(path, Structure(Lattice.cubic(3.0), ["Li"], [[0, 0, 0]]))


def _bcc_li(path: Path) -> None:
    bcc = Structure.from_spacegroup("Im-3m", Lattice.cubic(3.51), ["Li"], [[0, 0, 0]])
    CifWriter(bcc).write_file(path)


def _huge(path: Path) -> None:
    CifWriter(licl() * (10, 10, 12)).write_file(path)  # 9,600 atoms


def _poscar_counts(path: Path) -> None:
    path.write_text(litis2_poscar_dropped_count())


#: kind -> (file name, writer, failure code, words the message must contain)
BAD_FILES: dict[str, tuple[str, Callable[[Path], None], str, str]] = {
    "huge_cell": ("huge.cif", _huge, "absurd_cell", "9600 atoms in the cell"),
    "degenerate_lattice": ("flat.json", _flat, "absurd_cell", "degenerate"),
    "overlapping_atoms": ("overlap.json", _overlap, "overlapping_atoms", "0.300 Å apart"),
    "partial_occupancy": ("disordered.cif", _disordered, "partial_occupancy", "partially"),
    "non_finite": ("nan.json", _nan_json, "absurd_cell", "not finite"),
    "one_li_atom": ("one_li.json", _one_li_atom, "absurd_cell", "no host framework"),
    "bcc_li": ("bcc_li.cif", _bcc_li, "absurd_cell", "no host framework"),
    "poscar_counts": ("LiTiS2_POSCAR", _poscar_counts, "unparsable", "do not match"),
}
LONG_NAME = "a" * 300 + ".cif"


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.cif"
    CifWriter(licl()).write_file(path)  # one distinct hop, its band built in ~0.5 s
    return path


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the model of ``hopscreen predict``: E_m 0.5 eV for every hop."""

    def predict_hops(docs, bands, *, model, batch_size):
        assert len(docs) == len(bands) and all(b is not None for b in bands)
        return [
            PredictionDoc(
                hop_id=d.hop_id,
                candidate_id=d.candidate_id,
                candidate_name=d.candidate_name,
                working_ion=d.working_ion,
                model_version="fake-1",
                barrier_ev=0.5,
                sigma_ev=0.0,
                member_barriers_ev=[0.5],
                length_angstrom=d.length_angstrom,
            )
            for d in docs
        ]

    model = SimpleNamespace(card=SimpleNamespace(name="fake"), model_version="fake-1")
    monkeypatch.setattr("hopscreen.cli.predict.load_model", lambda name, device=None: model)
    monkeypatch.setattr("hopscreen.cli.predict.predict_hops", predict_hops)


def _run(command: str, *args: str) -> tuple[int, str, str]:
    extra = {"hops": ["--no-bands"], "predict": ["--json"], "candidates": []}[command]
    result = runner.invoke(app, [command, *args, *extra])
    return result.exit_code, result.stdout, result.stderr


def _good_records(command: str, stdout: str, name: str = "good") -> list[str]:
    """The records of candidate ``name`` in ``stdout`` (rows, hop lines or predictions)."""
    if command == "predict":
        rows = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
        return [r["hop_id"] for r in rows if r["candidate_name"] == name]
    prefix = f"{name}\t" if command == "candidates" else f"{name}  hop-"
    return [line for line in stdout.splitlines() if line.startswith(prefix)]


def _assert_refused(command, code, stdout, stderr, bad_name, words):
    assert code == 2, stderr
    assert "Traceback" not in stdout + stderr
    lines = [line for line in stderr.splitlines() if bad_name[:20] in line]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ") and words in lines[0], lines[0]
    assert _good_records(command, stdout), stdout


# --- each kind through the Python API ------------------------------------------------------


@pytest.mark.parametrize("kind", [k for k in BAD_FILES if k not in ("poscar_counts", "huge_cell")])
def test_python_gate_refuses(kind, tmp_path):
    name, write, code, words = BAD_FILES[kind]
    write(tmp_path / name)
    (structure,) = read_structures(tmp_path / name)
    with pytest.raises(InvalidInputError) as info:
        gate_structure(structure, "Li")
    assert info.value.code == code and words in str(info.value)
    assert "\n" not in str(info.value)
    result = hops_for_structure(structure, "Li", name, build_bands=False)
    assert result.rejected and not result.docs
    assert result.failures[0].reason == f"[{code}] {info.value}"


def test_python_loader_refuses_file_level_problems(tmp_path, good):
    _poscar_counts(tmp_path / "LiTiS2_POSCAR")
    with pytest.raises(InvalidInputError, match=r"\(Li 1 Ti 1 S 1: 3 atoms\).*4 coordinate"):
        read_structures(tmp_path / "LiTiS2_POSCAR")
    batch = load_local_candidates(
        [tmp_path / "LiTiS2_POSCAR", tmp_path / LONG_NAME, good, tmp_path / "huge.cif"], "li"
    )
    failures = {f.name[:10]: (f.code, f.reason) for f in batch.failures}
    assert failures["LiTiS2_POS"][0] == "unparsable"
    assert failures["aaaaaaaaaa"] == ("not_found", failures["aaaaaaaaaa"][1])
    assert "304 bytes long" in failures["aaaaaaaaaa"][1]
    assert [c.name for c in batch.candidates] == ["good"]
    assert batch.candidates[0].working_ion == "Li"


def test_huge_cell_is_refused_before_any_neighbour_search(monkeypatch):
    big = licl() * (10, 10, 12)
    assert len(big) == 9600

    def forbidden(*args, **kwargs):
        raise AssertionError("the neighbour search ran")

    monkeypatch.setattr("hopscreen.hops.enumerate.MigrationGraph.with_distance", forbidden)
    monkeypatch.setattr(Structure, "distance_matrix", property(forbidden))
    start = time.perf_counter()
    with pytest.raises(
        InvalidInputError, match="9600 atoms in the cell, more than the cap of 1000"
    ):
        gate_structure(big, "Li")
    result = hops_for_structure(big, "Li", "big")
    assert time.perf_counter() - start < 0.5
    assert result.rejected and "[absurd_cell] 9600 atoms" in result.failures[0].reason
    # the cap is configurable
    monkeypatch.undo()
    assert gate_structure(licl(), "Li", limits=InputLimits(max_atoms=8)) is not None
    with pytest.raises(InvalidInputError, match="8 atoms in the cell, more than the cap of 7"):
        gate_structure(licl(), "Li", limits=InputLimits(max_atoms=7))


def test_oxidation_states_are_accepted_and_stripped():
    plain = licoo2()
    decorated = plain.copy()
    decorated.add_oxidation_state_by_element({"Li": 1, "Co": 3, "O": -2})
    assert decorated[0].species_string.endswith("+")
    gated = gate_structure(decorated, "Li")
    assert {site.species_string for site in gated} == {"Li", "Co", "O"}
    assert decorated[0].species_string.endswith("+")  # the input is not modified
    result = hops_for_structure(decorated, "li", "LiCoO2", build_bands=False)
    assert not result.failures and result.docs
    assert [d.hop_id for d in result.docs] == [h.hop_id for h in enumerate_hops(plain, "Li")]
    assert result.docs[0].working_ion == "Li" and result.docs[0].host_formula == "LiCoO2"


def test_too_many_hops_is_refused_before_bands(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("a band was built")

    monkeypatch.setattr("hopscreen.hops.host.band_from_hop", forbidden)
    options = HopOptions(limits=InputLimits(max_hops_per_host=2))
    result = hops_for_structure(licoo2(), "Li", "LiCoO2", options=options)  # 3 distinct hops
    assert result.rejected and not result.docs
    assert "[too_many_hops] 3 distinct hops" in result.failures[0].reason
    assert "more than the cap of 2" in result.failures[0].reason


@pytest.mark.parametrize("value", [0.0, -1.0, math.nan, math.inf, 1e6])
def test_hop_options_refuse_bad_cutoffs(value):
    with pytest.raises(ValueError, match=r"max_hop_length_angstrom|hop length cut-off"):
        HopOptions(max_hop_length_angstrom=value)
    with pytest.raises(ValueError, match="not a finite number in"):
        enumerate_hops(licoo2(), "Li", max_hop_length_angstrom=value)


def test_hop_cutoff_cap_is_configurable():
    limits = InputLimits(hop_length_cap_angstrom=12.0)
    assert HopOptions(max_hop_length_angstrom=11.0, limits=limits).max_hop_length_angstrom == 11
    with pytest.raises(ValueError, match="extra"):
        InputLimits(max_atom=5)  # extra="forbid": a typo is an error


# --- each kind through every CLI -----------------------------------------------------------


@pytest.mark.parametrize("command", ["candidates", "hops", "predict"])
@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_cli_refuses_bad_file_and_goes_on(kind, command, tmp_path, good, fake_model):
    name, write, code, words = BAD_FILES[kind]
    write(tmp_path / name)
    exit_code, stdout, stderr = _run(command, str(tmp_path / name), str(good), "--ion", "Li")
    _assert_refused(command, exit_code, stdout, stderr, name, f"[{code}] ")
    assert words in stderr


@pytest.mark.parametrize("command", ["candidates", "hops", "predict"])
def test_cli_long_file_name(command, tmp_path, good, fake_model):
    exit_code, stdout, stderr = _run(command, str(tmp_path / LONG_NAME), str(good), "--ion", "Li")
    _assert_refused(command, exit_code, stdout, stderr, LONG_NAME, "304 bytes long")


def test_cli_huge_cif_is_refused_before_parsing(monkeypatch, tmp_path, good, fake_model):
    _huge(tmp_path / "huge.cif")

    class NoParser:
        @staticmethod
        def from_str(text):
            raise AssertionError("the CIF parser ran")

    monkeypatch.setattr("hopscreen.candidates.local.CifParser", NoParser)
    start = time.perf_counter()
    exit_code, _, stderr = _run("hops", str(tmp_path / "huge.cif"), "--ion", "Li")
    assert time.perf_counter() - start < 5.0
    assert exit_code == 2 and "[absurd_cell] 9600 atoms in the cell" in stderr, stderr


@pytest.mark.parametrize("command", ["candidates", "hops", "predict"])
def test_cli_oxidation_states_and_lowercase_ion(command, tmp_path, good, fake_model):
    decorated = licl()
    decorated.add_oxidation_state_by_element({"Li": 1, "Cl": -1})
    CifWriter(decorated).write_file(tmp_path / "oxi.cif")
    assert "Li+" in (tmp_path / "oxi.cif").read_text()
    exit_code, stdout, stderr = _run(command, str(tmp_path / "oxi.cif"), "--ion", "li")
    assert exit_code == 0, stderr
    assert "Traceback" not in stdout + stderr and "error" not in stderr
    assert _good_records(command, stdout, name="oxi"), stdout


@pytest.mark.parametrize("command", ["candidates", "hops", "predict"])
@pytest.mark.parametrize("ion", ["Xx", ""])
def test_cli_unknown_ion(command, ion, good, fake_model):
    exit_code, stdout, stderr = _run(command, str(good), "--ion", ion)
    assert exit_code == 2
    assert stderr.strip() == f"error: --ion: working ion {ion!r} is not an element symbol"
    assert "Traceback" not in stdout + stderr and not _good_records(command, stdout)


@pytest.mark.parametrize("command", ["hops", "predict"])
@pytest.mark.parametrize("value", ["0", "-1", "nan", "1e6"])
def test_cli_bad_max_length(command, value, good, fake_model):
    exit_code, stdout, stderr = _run(command, str(good), "--ion", "Li", "--max-length", value)
    assert exit_code == 2, stdout + stderr
    assert stderr.startswith("error: --max-length: hop length cut-off")
    assert len(stderr.strip().splitlines()) == 1 and "(0, 10] Å" in stderr
    assert "Traceback" not in stdout + stderr


def test_cli_too_many_hops(monkeypatch, tmp_path, good):
    options = HopOptions(limits=InputLimits(max_hops_per_host=1))
    monkeypatch.setattr("hopscreen.cli.hops.parse_hop_options", lambda max_length: options)
    bad = tmp_path / "licoo2.json"
    _write_json(bad, licoo2())  # three distinct hops within 5 Å; LiCl has one
    exit_code, stdout, stderr = _run("hops", str(bad), str(good), "--ion", "Li")
    assert exit_code == 2 and "Traceback" not in stdout + stderr
    assert stderr.strip().splitlines() == [
        f"error: {bad}: [too_many_hops] 3 distinct hops within 5 Å, more than the cap of 1 "
        "(InputLimits.max_hops_per_host); lower the hop cut-off"
    ]
    assert _good_records("hops", stdout) and not _good_records("hops", stdout, name="licoo2")


@pytest.mark.parametrize("command", ["candidates", "hops", "predict"])
def test_cli_all_good_exits_0(command, good, fake_model):
    exit_code, stdout, stderr = _run(command, str(good), "--ion", "Li")
    assert exit_code == 0, stderr
    assert _good_records(command, stdout) and not stderr.strip()
