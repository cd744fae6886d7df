"""Low-symmetry (monoclinic and triclinic) Li hosts built in code, and other cells of them.

The made-up coordinates are physically sane: no two atoms closer than 1.8 Å (1.5 Å for the
P–O bonds of the sheared olivine), 8–20 Å³ per atom, Li sites within 4.5 Å of each other.
Each host is given in the cell ``Structure.from_spacegroup`` returns (the conventional cell;
primitive for P lattices).
"""

from __future__ import annotations

import random

import numpy as np
from pymatgen.core import Lattice, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer


def li2mno3() -> Structure:
    """Li2MnO3, C2/m (layered Li-rich oxide, literature-like coordinates), 24 atoms."""
    return Structure.from_spacegroup(
        "C2/m",
        Lattice.monoclinic(4.93, 8.53, 5.03, 109.4),
        ["Li", "Li", "Li", "Mn", "O", "O"],
        [
            [0.0, 0.5, 0.0],
            [0.0, 0.0, 0.5],
            [0.0, 0.66, 0.5],
            [0.0, 0.167, 0.0],
            [0.219, 0.0, 0.227],
            [0.254, 0.321, 0.223],
        ],
    )


def monoclinic_limno2() -> Structure:
    """Monoclinic layered LiMnO2, C2/m (Jahn–Teller distorted rocksalt), 8 atoms."""
    return Structure.from_spacegroup(
        "C2/m",
        Lattice.monoclinic(5.44, 2.81, 5.39, 116.0),
        ["Li", "Mn", "O"],
        [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0], [0.27, 0.0, 0.77]],
    )


def strained_licoo2() -> Structure:
    """O3 LiCoO2 stretched 3 % along one in-plane axis: C2/m, 8-atom conventional cell."""
    hexagonal = Structure.from_spacegroup(
        "R-3m",
        Lattice.hexagonal(2.816, 14.05),
        ["Li", "Co", "O"],
        [[0, 0, 0.5], [0, 0, 0], [0, 0, 0.2395]],
    )
    primitive = hexagonal.get_primitive_structure()
    primitive.apply_strain([0.03, 0.0, 0.0])
    return SpacegroupAnalyzer(primitive, symprec=1e-3).get_conventional_standard_structure()


def sheared_olivine() -> Structure:
    """Olivine LiFePO4 on a sheared (triclinic) lattice, fractional coordinates kept: P-1."""
    pnma = Structure.from_spacegroup(
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
    lattice = Lattice.from_parameters(10.332, 6.010, 4.692, 93.0, 95.5, 88.0)
    return Structure(lattice, pnma.species, pnma.frac_coords)


def p21c_lifeo2() -> Structure:
    """A made-up LiFeO2 in P2_1/c (every atom on a general position), 16 atoms."""
    return Structure.from_spacegroup(
        "P2_1/c",
        Lattice.monoclinic(5.1, 6.3, 7.4, 104.0),
        ["Li", "Fe", "O", "O"],
        [
            [0.8857, 0.6561, 0.9161],
            [0.3546, 0.4167, 0.3693],
            [0.827, 0.9531, 0.8246],
            [0.4514, 0.8291, 0.7302],
        ],
    )


def cc_linio2() -> Structure:
    """A made-up LiNiO2 in Cc (polar, C-centred), 16-atom conventional cell."""
    return Structure.from_spacegroup(
        "Cc",
        Lattice.monoclinic(9.8, 5.6, 6.1, 110.0),
        ["Li", "Ni", "O", "O"],
        [
            [0.9544, 0.6092, 0.2581],
            [0.1645, 0.4371, 0.4321],
            [0.5063, 0.5172, 0.0868],
            [0.2484, 0.1451, 0.8198],
        ],
    )


def p21_li2vo3() -> Structure:
    """A made-up Li2VO3 in P2_1 (chiral), 12 atoms."""
    return Structure.from_spacegroup(
        "P2_1",
        Lattice.monoclinic(5.3, 5.9, 6.4, 97.0),
        ["Li", "Li", "V", "O", "O", "O"],
        [
            [0.5562, 0.2692, 0.8602],
            [0.9083, 0.0984, 0.689],
            [0.1188, 0.4788, 0.6918],
            [0.545, 0.8923, 0.5256],
            [0.067, 0.6542, 0.9404],
            [0.7319, 0.3796, 0.2604],
        ],
    )


def c2c_litio4() -> Structure:
    """A made-up LiTiO4 in C2/c (Li and Ti on 4e), 24-atom conventional cell."""
    return Structure.from_spacegroup(
        "C2/c",
        Lattice.monoclinic(9.6, 8.1, 5.3, 108.0),
        ["Li", "Ti", "O", "O"],
        [
            [0.0, 0.6231, 0.25],
            [0.0, 0.1597, 0.25],
            [0.356, 0.9409, 0.0908],
            [0.6788, 0.4364, 0.6135],
        ],
    )


def p1bar_li2mno4() -> Structure:
    """A made-up Li2MnO4 in P-1, 14 atoms."""
    return Structure.from_spacegroup(
        "P-1",
        Lattice.from_parameters(5.2, 5.9, 7.1, 82.0, 77.0, 68.0),
        ["Li", "Li", "Mn", "O", "O", "O", "O"],
        [
            [0.2616, 0.2985, 0.8142],
            [0.1879, 0.0551, 0.275],
            [0.4326, 0.6693, 0.4228],
            [0.6938, 0.1072, 0.1045],
            [0.4382, 0.8922, 0.6137],
            [0.8294, 0.4981, 0.6925],
            [0.7464, 0.4424, 0.0474],
        ],
    )


def p1_li3co2o6() -> Structure:
    """A made-up Li3Co2O6 without any symmetry (P1), 11 atoms."""
    return Structure(
        Lattice.from_parameters(4.9, 5.6, 6.2, 95.0, 101.0, 88.0),
        ["Li", "Li", "Li", "Co", "Co", "O", "O", "O", "O", "O", "O"],
        [
            [0.0856, 0.2368, 0.8013],
            [0.5822, 0.0941, 0.4331],
            [0.4791, 0.1597, 0.7346],
            [0.1137, 0.3912, 0.5167],
            [0.4306, 0.5868, 0.7378],
            [0.6962, 0.2927, 0.0015],
            [0.7587, 0.8785, 0.1023],
            [0.1463, 0.6984, 0.292],
            [0.6695, 0.6691, 0.523],
            [0.9471, 0.8421, 0.744],
            [0.3899, 0.7067, 0.0881],
        ],
    )


#: name -> builder of every low-symmetry host.
LOW_SYMMETRY_HOSTS = {
    "Li2MnO3-C2/m": li2mno3,
    "LiMnO2-C2/m": monoclinic_limno2,
    "LiCoO2-strained-C2/m": strained_licoo2,
    "LiFePO4-sheared-P-1": sheared_olivine,
    "LiFeO2-P2_1/c": p21c_lifeo2,
    "LiNiO2-Cc": cc_linio2,
    "Li2VO3-P2_1": p21_li2vo3,
    "LiTiO4-C2/c": c2c_litio4,
    "Li2MnO4-P-1": p1bar_li2mno4,
    "Li3Co2O6-P1": p1_li3co2o6,
}


def shuffled_shifted(structure: Structure, seed: int = 5) -> Structure:
    """The same crystal with the atoms in random order and the origin moved."""
    order = list(range(len(structure)))
    random.Random(seed).shuffle(order)
    shift = np.array([0.317, 0.642, 0.159])
    return Structure(
        structure.lattice,
        [structure[i].specie for i in order],
        [structure[i].frac_coords + shift for i in order],
    )


def cell_choices(structure: Structure) -> dict[str, Structure]:
    """The host written down in several cells: each is the same crystal.

    Returns
    -------
    dict of str to Structure
        ``"given"`` (as built), ``"primitive"`` (pymatgen's, not reduced), ``"2x1x1"`` (of the
        primitive cell), ``"sheared"`` (a unimodular, non-diagonal basis of the primitive cell),
        ``"non-diagonal"`` (a det-2 non-diagonal supercell of the primitive cell),
        ``"conventional"`` (spglib's standard conventional cell), ``"shifted"`` (atoms shuffled,
        origin moved) and ``"rotated"`` (the given cell rotated in space, left-handed basis).

    """
    primitive = structure.get_primitive_structure()
    conventional = SpacegroupAnalyzer(structure, symprec=0.01).get_conventional_standard_structure()
    # Swapping a and b gives a left-handed basis; the rotation moves it in space too.
    angle = np.radians(37.0)
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0, 0, 1]]
    )
    swapped = structure.lattice.matrix[[1, 0, 2]] @ rotation.T
    return {
        "given": structure,
        "primitive": primitive,
        "2x1x1": primitive * [2, 1, 1],
        "sheared": primitive * [[1, 1, 0], [0, 1, 0], [1, 0, 1]],
        "non-diagonal": primitive * [[1, 1, 0], [-1, 1, 0], [0, 0, 1]],
        "conventional": conventional,
        "shifted": shuffled_shifted(structure),
        "rotated": Structure(
            Lattice(swapped), structure.species, structure.frac_coords[:, [1, 0, 2]]
        ),
    }
