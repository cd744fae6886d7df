from __future__ import annotations

import numpy as np
import pytest
from low_symmetry_structures import li2mno3, p1_li3co2o6, shuffled_shifted
from pymatgen.analysis.diffusion.utils.supercells import get_sc_fromstruct
from pymatgen.transformations.advanced_transformations import CubicSupercellTransformation

from hopscreen.hops.tiling import _cubic_supercell_matrix, near_cubic_supercell, supercell_crystal
from hopscreen.schemas.structure import Crystal


@pytest.mark.parametrize("limits", [(80, 240, 10.0), (10, 40, 5.0), (1, 60, 6.0)], ids=str)
def test_supercell_search_gives_pymatgen_diffusions_matrix(olivine, layered, limits):
    """The jumping search returns exactly get_sc_fromstruct's matrix."""
    for structure in (olivine, layered):
        ours = np.array(near_cubic_supercell(structure, *limits))
        assert np.array_equal(ours, np.array(get_sc_fromstruct(structure, *limits)))


def test_supercell_search_raises_max_atoms_like_pymatgen_diffusion(layered):
    """No cell of at most 40 atoms fits: max_atoms is raised until one does (72 atoms)."""
    assert _cubic_supercell_matrix(layered, 10, 40, 5.0) is None
    matrix = near_cubic_supercell(layered, 10, 40, 5.0)
    assert round(abs(np.linalg.det(matrix))) * len(layered) == 72


def _pymatgens_matrix(structure, min_atoms, max_atoms, min_length):
    transformation = CubicSupercellTransformation(
        min_atoms=min_atoms, max_atoms=max_atoms, min_length=min_length
    )
    try:
        transformation.apply_transformation(structure)
    except Exception:
        return None
    return transformation.transformation_matrix


SEARCHES = {  # limits -> does a cell fit (Li2MnO3, P1 Li3Co2O6)?
    (80, 240, 10.0): (False, True),
    (10, 100, 8.0): (True, True),
    (1, 30, 7.0): (False, False),
}


@pytest.mark.parametrize("limits", SEARCHES, ids=str)
def test_counted_search_is_pymatgens_transformation(limits):
    """One try of the counting search: pymatgen's matrix, or None where pymatgen fails."""
    found = []
    for structure in (li2mno3(), shuffled_shifted(p1_li3co2o6())):
        steps: dict = {}
        ours = _cubic_supercell_matrix(structure, *limits, steps)
        theirs = _pymatgens_matrix(structure, *limits)
        found.append(theirs is not None)
        if theirs is None:
            assert ours is None
        else:
            assert np.array_equal(ours, theirs)
            assert steps  # the trial supercells were kept for the next try
    assert tuple(found) == SEARCHES[limits]


SUPERCELL_MATRICES = {
    "diagonal": [[2, 0, 0], [0, 1, 0], [0, 0, 3]],
    "sheared": [[1, 1, 0], [0, 2, 0], [0, 0, 1]],
    "negative": [[2, -1, 0], [1, 1, 0], [0, 0, 1]],
    "dense": [[1, 1, -1], [-1, 1, 1], [1, -1, 1]],
}


@pytest.mark.parametrize("matrix", SUPERCELL_MATRICES.values(), ids=SUPERCELL_MATRICES.keys())
def test_supercell_crystal_is_pymatgens_supercell_bit_for_bit(olivine, layered, matrix):
    """Same site order, species, lattice and coordinates (exactly) as ``structure * matrix``."""
    for structure in (olivine, layered, shuffled_shifted(p1_li3co2o6())):
        ours = supercell_crystal(structure, matrix)
        theirs = Crystal.from_structure(structure * matrix)
        assert len(ours) == len(structure) * round(abs(np.linalg.det(matrix)))
        assert np.array_equal(ours.numbers, theirs.numbers)
        assert np.array_equal(ours.lattice, theirs.lattice)
        assert np.array_equal(ours.frac_coords, theirs.frac_coords)
