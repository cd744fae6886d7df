"""Tiny host structures built in code, shared by the hops tests."""

from __future__ import annotations

import random

import numpy as np
from pymatgen.core import Lattice, Structure


def olivine_lifepo4() -> Structure:
    """Olivine LiFePO4, Pnma (Streltsov et al. 1993 / Andersson et al. 2000), 28 atoms."""
    return Structure.from_spacegroup(
        "Pnma",
        Lattice.orthorhombic(10.332, 6.010, 4.692),
        ["Li", "Fe", "P", "O", "O", "O"],
        [
            [0.0, 0.0, 0.0],
            [0.2822, 0.25, 0.9747],
            [0.0949, 0.25, 0.4182],
            [0.0968, 0.25, 0.7428],
            [0.4571, 0.25, 0.2060],
            [0.1656, 0.0464, 0.2848],
        ],
    )


def layered_licoo2() -> Structure:
    """O3 LiCoO2 (R-3m, a = 2.816 Å, c = 14.05 Å) in its 4-atom primitive cell."""
    hexagonal = Structure.from_spacegroup(
        "R-3m",
        Lattice.hexagonal(2.816, 14.05),
        ["Li", "Co", "O"],
        [[0, 0, 0.5], [0, 0, 0], [0, 0, 0.2395]],
    )
    return hexagonal.get_primitive_structure()


def shuffled_and_shifted(structure: Structure, seed: int = 7) -> Structure:
    """The same crystal with atoms in random order and the origin moved."""
    order = list(range(len(structure)))
    random.Random(seed).shuffle(order)
    shift = np.array([0.123, 0.371, 0.811])
    return Structure(
        structure.lattice,
        [structure[i].specie for i in order],
        [structure[i].frac_coords + shift for i in order],
    )
