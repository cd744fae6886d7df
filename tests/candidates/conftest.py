"""Tiny structures built in code for the candidates tests."""

from __future__ import annotations

import pytest
from pymatgen.core import Lattice, Structure


def layered_licoo2() -> Structure:
    """O3 LiCoO2 (R-3m, 12-atom hexagonal cell)."""
    return Structure.from_spacegroup(
        "R-3m",
        Lattice.hexagonal(2.8156, 14.0542),
        ["Li", "Co", "O"],
        [[0, 0, 0], [0, 0, 0.5], [0, 0, 0.2396]],
    )


def rocksalt_licl() -> Structure:
    """Rock-salt LiCl (Fm-3m, 8-atom cubic cell, a = 5.13 Å)."""
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.13), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )


def rocksalt_nacl() -> Structure:
    """Rock-salt NaCl: no Li."""
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )


def disordered_licl() -> Structure:
    """LiCl with half the Li sites replaced by a 50 % Li / 50 % Na mix."""
    s = rocksalt_licl()
    s.replace(0, {"Li": 0.5, "Na": 0.5})
    return s


@pytest.fixture
def nacl() -> Structure:
    return rocksalt_nacl()


@pytest.fixture
def disordered() -> Structure:
    return disordered_licl()


@pytest.fixture
def licoo2() -> Structure:
    return layered_licoo2()


@pytest.fixture
def licl() -> Structure:
    return rocksalt_licl()
