"""The canonical cell of a crystal: one description whatever cell the crystal was given in.

A crystal can be written down in many cells: primitive or conventional, a supercell, any
basis of the lattice, any origin, any atom order, any orientation in space. Everything the
hops stage derives from a host (hop classes and ids, each hop's supercell and band) is
computed on :func:`canonical_cell`, so that it depends on the crystal only:

1. the primitive cell, from spglib's lattice translations at :data:`CELL_TOLERANCE_ANGSTROM`
   (each position the mean of the input atoms it stands for; never symmetrised);
2. among the bases of that lattice made of its shortest vectors (the successive minima, as a
   Niggli-reduced cell has them; there are 2–48 such bases), and among the origins on the
   atoms of its rarest element, the choice whose sorted, quantised fractional coordinates are
   lexicographically smallest;
3. the lattice from its six parameters (a fixed orientation), the atoms sorted by element and
   position, parameters and coordinates rounded to 1e-9 (so that two cells of one crystal
   give the same canonical cell bit for bit).

A basis of either handedness may be chosen, so a crystal and its mirror image share one
canonical cell: every quantity derived from it (distances, the band) is the same for both.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import spglib
from pymatgen.core import Lattice, Structure
from spglib.error import SpglibError

#: Tolerance (Å) for two atoms to be one atom translated by a lattice vector when the primitive
#: cell is found. Tight on purpose: a supercell whose atoms are displaced by more than this is
#: a different crystal (its band must keep the displacement).
CELL_TOLERANCE_ANGSTROM = 0.01
#: Quantisation step of fractional coordinates in the ordering key.
_FRACTION_STEP = 1e-4
# Offset of the quantisation grid (as in hop_id): coordinates written with few decimals fall in
# the middle of a grid cell, never on a boundary where rounding noise could flip them.
_GRID_OFFSET = 0.3717
# Decimals kept of the canonical lattice parameters and coordinates: two cells of one crystal
# then give the same canonical cell bit for bit (their noise, ~1e-15, is rounded away), and so
# the same supercell search and band; 1e-9 Å or less changes nothing physical.
_DECIMALS = 9
# Relative tolerance for two lattice vectors to be equally long (numerical noise only).
_LENGTH_RTOL = 1e-6
# Coefficients searched for the shortest lattice vectors, in a reduced basis.
_COEFFICIENTS = np.array(
    [n for n in itertools.product(range(-2, 3), repeat=3) if any(n)], dtype=float
)


@dataclass(frozen=True)
class CanonicalCell:
    """The canonical cell of a crystal and its relation to the cell it was given in.

    Attributes
    ----------
    structure : pymatgen.core.Structure
        The canonical primitive cell.
    matrix : numpy.ndarray
        (3, 3) integer matrix and
    shift : numpy.ndarray
        (3,) fractional offset such that a point at fractional coordinates ``x`` of the input
        cell lies at ``x @ matrix - shift`` in the canonical cell.

    """

    structure: Structure
    matrix: np.ndarray
    shift: np.ndarray

    def to_canonical(self, frac: np.ndarray) -> np.ndarray:
        """(..., 3) input-cell fractional coordinates in the canonical cell."""
        return np.asarray(frac, dtype=float) @ self.matrix - self.shift

    def to_input(self, frac: np.ndarray) -> np.ndarray:
        """(..., 3) canonical fractional coordinates in the input cell."""
        return (np.asarray(frac, dtype=float) + self.shift) @ np.linalg.inv(self.matrix)


def _integer_matrix(rows: np.ndarray, basis: np.ndarray) -> np.ndarray | None:
    """The integer matrix ``m`` with ``rows = m @ basis`` (None if it is not integral)."""
    m = np.linalg.solve(basis.T, rows.T).T
    rounded = np.rint(m)
    if not np.allclose(m, rounded, atol=0.02) or abs(np.linalg.det(rounded)) < 0.5:
        return None
    return rounded


def _primitive(
    lattice: np.ndarray, frac: np.ndarray, numbers: np.ndarray, tolerance: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Primitive lattice, positions and numbers, and the input-to-primitive integer matrix.

    The input cell's lattice is ``matrix @ primitive`` and an input position ``x`` is at
    ``x @ matrix`` in the primitive cell. Each primitive atom is at the mean position of the
    input atoms it stands for (the same whatever their order).
    """
    unchanged = (lattice, frac, numbers, np.eye(3))
    try:
        dataset = spglib.get_symmetry_dataset((lattice, frac, numbers), symprec=tolerance)
    except SpglibError:
        dataset = None
    if dataset is None:
        return unchanged
    matrix = _integer_matrix(lattice, np.asarray(dataset.primitive_lattice))
    mapping = np.asarray(dataset.mapping_to_primitive)
    _, first = np.unique(mapping, return_index=True)
    if matrix is None or round(abs(np.linalg.det(matrix))) * len(first) != len(numbers):
        return unchanged
    x = frac @ matrix
    delta = x - x[first][np.searchsorted(np.unique(mapping), mapping)]
    delta -= np.rint(delta)  # each atom as the image nearest its class's first atom
    mean = np.array([delta[mapping == p].mean(axis=0) for p in mapping[first]])
    primitive = np.linalg.solve(matrix, lattice)  # exact in terms of the input lattice
    return primitive, x[first] + mean, numbers[first], matrix


def _reduced(lattice: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A Niggli-reduced basis of ``lattice`` and the integer ``t`` with ``lattice = t @ it``."""
    try:
        niggli = spglib.niggli_reduce(lattice)
    except SpglibError:
        niggli = None
    t = None if niggli is None else _integer_matrix(lattice, np.asarray(niggli))
    if t is None:
        return lattice, np.eye(3)
    return np.linalg.solve(t, lattice), t


def shortest_bases(lattice: np.ndarray) -> np.ndarray:
    """Every basis of the lattice made of vectors as long as its successive minima.

    Parameters
    ----------
    lattice : numpy.ndarray
        (3, 3) reduced basis (rows, Å), e.g. Niggli-reduced.

    Returns
    -------
    numpy.ndarray
        (k, 3, 3) integer matrices ``a`` (unimodular, either handedness): the bases are
        ``a @ lattice``; their vectors are as long as the lattice's three successive minima,
        shortest first. The set depends on the lattice only, not on the reduced basis given.

    """
    vectors = _COEFFICIENTS @ lattice
    lengths = np.linalg.norm(vectors, axis=1)
    order = np.argsort(lengths, kind="stable")
    chosen: list[int] = []
    for i in order:  # successive minima, greedily
        if np.linalg.matrix_rank(_COEFFICIENTS[[*chosen, i]]) == len(chosen) + 1:
            chosen.append(int(i))
        if len(chosen) == 3:
            break
    tol = _LENGTH_RTOL * lengths[chosen[-1]]
    pools = [np.flatnonzero(np.abs(lengths - lengths[i]) <= tol) for i in chosen]
    triples = np.array(list(itertools.product(*pools)))
    candidates = _COEFFICIENTS[triples]  # (k, 3, 3)
    dets = np.linalg.det(candidates)
    return np.rint(candidates[np.abs(np.abs(dets) - 1.0) < 1e-6])


def _quantize(frac: np.ndarray) -> np.ndarray:
    """Integer grid index of fractional coordinates in [0, 1) (periodic, offset grid)."""
    n = round(1.0 / _FRACTION_STEP)
    return np.floor(frac / _FRACTION_STEP + _GRID_OFFSET).astype(np.int64) % n


def _wrap(frac: np.ndarray) -> np.ndarray:
    """Fractional coordinates into [0, 1), numerically-zero values kept at zero."""
    return frac - np.floor(frac + 1e-9)


def _best_description(
    frac: np.ndarray, numbers: np.ndarray, bases: np.ndarray
) -> tuple[int, int, np.ndarray]:
    """The (basis, anchor atom) whose sorted quantised description is smallest, and its order.

    Returns the index into ``bases``, the index of the anchor atom (put at the origin) and the
    atom order (sorted by element, then position) of that description.
    """
    values, counts = np.unique(numbers, return_counts=True)
    anchor_z = values[np.lexsort((values, counts))[0]]  # rarest element, lightest on ties
    anchors = np.flatnonzero(numbers == anchor_z)
    best_key: tuple | None = None
    best = (0, 0, np.arange(len(numbers)))
    for b, a in enumerate(bases):
        in_basis = frac @ np.rint(np.linalg.inv(a))
        for k in anchors:
            q = _quantize(_wrap(in_basis - in_basis[k]))
            order = np.lexsort((q[:, 2], q[:, 1], q[:, 0], numbers))
            key = tuple(q[order].ravel().tolist())
            if best_key is None or key < best_key:
                best_key, best = key, (b, int(k), order)
    return best


def canonical_cell(
    structure: Structure, *, tolerance_angstrom: float = CELL_TOLERANCE_ANGSTROM
) -> CanonicalCell:
    """The canonical primitive cell of an ordered crystal.

    Parameters
    ----------
    structure : pymatgen.core.Structure
        An ordered structure (any cell, origin, atom order or orientation).
    tolerance_angstrom : float
        spglib tolerance (Å) for the lattice translations of the primitive cell.

    Returns
    -------
    CanonicalCell
        The canonical cell (site properties and oxidation states dropped) and the map from the
        input cell onto it. Two cells of one crystal give the same canonical cell, up to
        floating-point noise (and to ``tolerance_angstrom`` for a noisy supercell).

    """
    lattice = structure.lattice.matrix
    numbers = np.array([site.specie.Z for site in structure], dtype=np.int64)
    primitive, frac, numbers, to_primitive = _primitive(
        lattice, structure.frac_coords, numbers, tolerance_angstrom
    )
    reduced, t = _reduced(primitive)
    frac = frac @ t
    bases = shortest_bases(reduced)
    b, anchor, order = _best_description(frac, numbers, bases)
    inverse = np.rint(np.linalg.inv(bases[b]))
    in_basis = frac @ inverse
    shift = in_basis[anchor]
    parameters = np.round(Lattice(bases[b] @ reduced).parameters, _DECIMALS)
    positions = _wrap(np.round(_wrap(in_basis - shift), _DECIMALS)) + 0.0  # no -0.0
    cell = Structure(
        Lattice.from_parameters(*parameters),
        [int(z) for z in numbers[order]],
        positions[order],
    )
    return CanonicalCell(structure=cell, matrix=to_primitive @ t @ inverse, shift=shift)
