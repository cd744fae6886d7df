from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from hopscreen.candidates.validate import (
    InputLimits,
    InvalidInputError,
    gate_structure,
    shortest_lattice_vector_angstrom,
    validate_structure,
)


def _code(structure: Structure, ion: str = "Li", **kw) -> str | None:
    problem = validate_structure(structure, ion, **kw)
    return None if problem is None else problem.code


def test_good_structures_pass(licoo2, licl):
    assert validate_structure(licoo2, "Li") is None
    assert validate_structure(licl, "li") is None  # symbol normalised


def test_unknown_ion_raises(licl):
    with pytest.raises(ValueError, match="not an element"):
        validate_structure(licl, "Xx")


def test_partial_occupancy(disordered):
    problem = validate_structure(disordered, "Li")
    assert problem.code == "partial_occupancy"
    assert "order" in problem.reason


def test_vacancy_is_partial_occupancy(licl):
    s = licl.copy()
    s.replace(0, {"Li": 0.8})
    assert _code(s) == "partial_occupancy"


def test_no_working_ion(nacl):
    problem = validate_structure(nacl, "Li")
    assert problem.code == "no_working_ion" and "NaCl" in problem.reason
    assert _code(nacl, "Na") is None


def test_overlapping_atoms(licl):
    s = licl.copy()
    s.append("Cl", np.add(licl[0].frac_coords, [0.02, 0, 0]))
    problem = validate_structure(s, "Li")
    assert problem.code == "overlapping_atoms" and "Å apart" in problem.reason
    assert _code(s, min_distance_angstrom=0.05) is None


def test_exact_duplicate_atom_overlaps(licl):
    s = licl.copy()
    s.append("Li", licl[0].frac_coords)
    assert _code(s) == "overlapping_atoms"


@pytest.mark.parametrize(
    ("lattice", "coords"),
    [
        (Lattice.cubic(20.0), [[0, 0, 0], [0.5, 0.5, 0.5]]),  # 4000 Å3/atom
        (Lattice.cubic(1.2), [[0, 0, 0], [0.5, 0.5, 0.5]]),  # 0.9 Å3/atom
        (Lattice.from_parameters(4, 4, 4, 90, 90, 179.5), [[0, 0, 0], [0.5, 0.5, 0.5]]),
    ],
)
def test_absurd_cell(lattice, coords):
    assert _code(Structure(lattice, ["Li", "Cl"], coords)) == "absurd_cell"


def test_nan_cell():
    s = Structure(Lattice.cubic(4.0), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    s.lattice = Lattice(np.full((3, 3), np.nan))
    problem = validate_structure(s, "Li")
    assert problem.code == "absurd_cell" and "finite" in problem.reason


def test_single_ion_site_rule():
    far = Structure(Lattice.cubic(6.5), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    problem = validate_structure(far, "Li")
    assert problem.code == "single_ion_site" and "6.50 Å" in problem.reason
    assert _code(far, max_hop_angstrom=7.0) is None
    # one Li per cell, but its images are 3.5 Å away: hops exist
    near = Structure(Lattice.cubic(3.5), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    assert _code(near) is None


def test_shortest_lattice_vector_of_skewed_basis():
    matrix = np.array([[3.0, 0, 0], [3.0 * 7 + 0.5, 4.0, 0], [0, 0, 10.0]])
    assert shortest_lattice_vector_angstrom(matrix) == pytest.approx(3.0)


def test_only_working_ion_is_no_host():
    bcc = Structure.from_spacegroup("Im-3m", Lattice.cubic(3.51), ["Li"], [[0, 0, 0]])
    problem = validate_structure(bcc, "Li")
    assert problem.code == "absurd_cell" and "no host framework" in problem.reason
    assert "Li2" in problem.reason


def test_limits_are_configurable(licl):
    assert _code(licl, limits=InputLimits(max_atoms=7)) == "absurd_cell"
    assert _code(licl, limits=InputLimits(max_atoms=8)) is None
    skewed = Structure(
        Lattice.from_parameters(4, 4, 4, 90, 90, 15), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )
    assert _code(skewed) is None  # γ = 15° is above the default 10°
    problem = validate_structure(skewed, "Li", limits=InputLimits(min_lattice_angle_degrees=20))
    assert problem.code == "absurd_cell" and "degenerate lattice angles" in problem.reason
    with pytest.raises(ValueError, match="extra"):
        InputLimits(max_atom=5)  # a typo is an error, not a silent default


def test_gate_strips_oxidation_states_and_raises_one_line(licl):
    decorated = licl.copy()
    decorated.add_oxidation_state_by_element({"Li": 1, "Cl": -1})
    plain = gate_structure(decorated, "li")
    assert plain.composition.reduced_formula == "LiCl"
    assert all(site.species_string in ("Li", "Cl") for site in plain)
    with pytest.raises(InvalidInputError) as info:
        gate_structure(decorated, "Na")
    assert info.value.code == "no_working_ion" and str(info.value) == "no Na in LiCl"
    with pytest.raises(ValueError, match="working ion '' is not an element symbol"):
        gate_structure(licl, "")
