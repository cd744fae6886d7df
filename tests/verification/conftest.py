"""Fixtures of the verification tests: a 9-atom cell and one shared, capped CHGNet NEB."""

from __future__ import annotations

import pytest
from pymatgen.core import Lattice, Structure

_MG = [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]
_O = [[0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5], [0.5, 0.5, 0.5]]


def tiny_endpoints() -> tuple[Structure, Structure]:
    """Li hopping between two tetrahedral sites of a rock-salt MgO cell (9 atoms, ion first)."""
    lattice = Lattice.cubic(4.21)
    species = ["Li"] + ["Mg"] * 4 + ["O"] * 4
    initial = Structure(lattice, species, [[0.25, 0.25, 0.25], *_MG, *_O])
    final = Structure(lattice, species, [[0.75, 0.25, 0.25], *_MG, *_O])
    return initial, final


@pytest.fixture(scope="session")
def endpoints() -> tuple[Structure, Structure]:
    return tiny_endpoints()
