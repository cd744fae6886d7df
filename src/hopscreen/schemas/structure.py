"""A light, array-based crystal representation shared by the data, hop and graph stages.

Building pymatgen ``Structure`` objects for tens of thousands of records is slow and not
needed for graph construction; :class:`Crystal` keeps just the arrays a graph needs and converts
to and from pymatgen on demand.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pymatgen.core import Lattice, Structure

if TYPE_CHECKING:
    from pymatgen.core import Structure

# Symbols of elements 1..103, index = atomic number - 1 (periodic-table facts).
_SYMBOLS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As "
    "Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd "
    "Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am "
    "Cm Bk Cf Es Fm Md No Lr"
).split()
SYMBOL_TO_Z: dict[str, int] = {s: i + 1 for i, s in enumerate(_SYMBOLS)}
Z_TO_SYMBOL: dict[int, str] = {i + 1: s for i, s in enumerate(_SYMBOLS)}

N_ION_COPIES = 5
"""Copies of the migrating ion at the head of a Model-3 band (t = 0, ¼, ½, ¾, 1; atoms 0–4)."""


def _parse(value: Any) -> Any:
    """Values in the published JSON files are sometimes stringified lists."""
    if isinstance(value, str):
        text = value.strip()
        if text in ("True", "False"):
            return text == "True"
        if text.startswith("["):
            return json.loads(text.replace("'", '"'))
    return value


@dataclass(frozen=True)
class Crystal:
    """A periodic crystal as arrays.

    Attributes
    ----------
    lattice : numpy.ndarray
        (3, 3) lattice vectors as rows, in Å.
    frac_coords : numpy.ndarray
        (n, 3) fractional coordinates.
    numbers : numpy.ndarray
        (n,) atomic numbers.
    """

    lattice: np.ndarray
    frac_coords: np.ndarray
    numbers: np.ndarray

    def __post_init__(self) -> None:
        lattice = np.asarray(self.lattice, dtype=np.float64).reshape(3, 3)
        frac = np.asarray(self.frac_coords, dtype=np.float64).reshape(-1, 3)
        numbers = np.asarray(self.numbers, dtype=np.int64).reshape(-1)
        if len(frac) != len(numbers):
            raise ValueError(f"{len(frac)} coordinates but {len(numbers)} species")
        object.__setattr__(self, "lattice", lattice)
        object.__setattr__(self, "frac_coords", frac)
        object.__setattr__(self, "numbers", numbers)

    def __len__(self) -> int:
        return len(self.numbers)

    @property
    def cart_coords(self) -> np.ndarray:
        """(n, 3) Cartesian coordinates in Å."""
        return self.frac_coords @ self.lattice

    @property
    def symbols(self) -> list[str]:
        """Element symbols, one per atom."""
        return [Z_TO_SYMBOL[int(z)] for z in self.numbers]

    @classmethod
    def from_jarvis_dict(cls, d: dict[str, Any]) -> Crystal:
        """Build from a JARVIS ``Atoms.to_dict()`` layout (as stored in the published data).

        Handles both real lists and the stringified lists of the migration-barrier files.
        """
        lattice = np.asarray(_parse(d["lattice_mat"]), dtype=np.float64)
        coords = np.asarray(_parse(d["coords"]), dtype=np.float64).reshape(-1, 3)
        elements = _parse(d["elements"])
        cartesian = bool(_parse(d.get("cartesian", False)))
        if cartesian:
            coords = np.linalg.solve(lattice.T, coords.T).T
        numbers = np.array([SYMBOL_TO_Z[str(e).strip()] for e in elements], dtype=np.int64)
        return cls(lattice, coords, numbers)

    @classmethod
    def from_structure(cls, structure: Structure) -> Crystal:
        """Build from an ordered pymatgen ``Structure``."""
        if not structure.is_ordered:
            raise ValueError("structure has partial occupancies; order it first")
        numbers = [site.specie.Z for site in structure]
        return cls(structure.lattice.matrix, structure.frac_coords, numbers)

    def to_structure(self) -> Structure:
        """Convert to a pymatgen ``Structure``."""
        return Structure(Lattice(self.lattice), self.symbols, self.frac_coords)

    def fingerprint(self, decimals: int = 4) -> str:
        """A sha256 of the rounded arrays: identical for identical inputs (not symmetry-aware)."""
        h = hashlib.sha256()
        h.update(np.round(self.lattice, decimals).astype(np.float64).tobytes())
        h.update(np.round(np.mod(self.frac_coords, 1.0), decimals).astype(np.float64).tobytes())
        h.update(self.numbers.astype(np.int64).tobytes())
        return h.hexdigest()
