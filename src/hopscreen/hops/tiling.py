"""Near-cubic supercell matrices and supercells as arrays: pymatgen's results, found fast.

pymatgen-analysis-diffusion makes a hop's supercell with pymatgen: ``CubicSupercellTransformation``
for the matrix (which builds a whole trial supercell at each 0.1 Å step of its search, only to
count its atoms) and ``Structure.__mul__`` for the supercell (one ``PeriodicSite`` object per
atom). :func:`near_cubic_supercell` and :func:`tile_supercell` give the same matrix and the
same coordinates, to the last bit, without building those objects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pymatgen.core import Lattice, Structure
from pymatgen.transformations.advanced_transformations import CubicSupercellTransformation
from pymatgen.util.coord import lattice_points_in_supercell

from hopscreen.schemas.structure import Crystal


class _CountingCubicSupercell(CubicSupercellTransformation):
    """pymatgen's ``CubicSupercellTransformation`` that counts each trial supercell's atoms.

    pymatgen builds every trial supercell (one per 0.1 Å step of the target size) only to
    count its atoms. Applied to a one-site cell on the host's lattice, this subclass builds
    the (small) trial supercells of that cell and multiplies their size by ``n_sites``: the
    trial matrices, the counts and hence the matrix found are those of the full host. Each
    step depends only on the target size, so the steps are kept in ``steps`` and shared by
    the searches of one host that differ only in ``max_atoms``.
    """

    def __init__(self, n_sites: int, steps: dict[bytes, tuple], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.n_sites = n_sites
        self.steps = steps

    def get_possible_supercell(  # type: ignore[override]  # pymatgen's is a staticmethod
        self, lat_vecs: np.ndarray, structure: Structure, target_sc_lat_vecs: np.ndarray
    ) -> tuple[np.ndarray, int, Structure, np.ndarray]:
        """One step of pymatgen's search on the one-site cell, counting the full host's atoms."""
        key = np.asarray(target_sc_lat_vecs, dtype=np.float64).tobytes()
        if key not in self.steps:
            self.steps[key] = CubicSupercellTransformation.get_possible_supercell(
                lat_vecs, structure, target_sc_lat_vecs
            )
        lengths, n_points, supercell, matrix = self.steps[key]
        return lengths, n_points * self.n_sites, supercell, matrix


def _cubic_supercell_matrix(
    base: Structure,
    min_atoms: int,
    max_atoms: int,
    min_length: float,
    steps: dict[bytes, tuple] | None = None,
) -> list[list[int]] | None:
    """The near-cubic supercell matrix of pymatgen within these limits; None if none fits.

    ``steps`` keeps the trial supercells of earlier searches on the same lattice.
    """
    transformation = _CountingCubicSupercell(
        len(base),
        {} if steps is None else steps,
        min_atoms=min_atoms,
        max_atoms=max_atoms,
        min_length=min_length,
    )
    probe = Structure(base.lattice, [base[0].species], [[0.0, 0.0, 0.0]])
    try:
        transformation.apply_transformation(probe)
    except Exception:  # as pymatgen-analysis-diffusion: any failure means "none fits here"
        return None
    return np.array(transformation.transformation_matrix)


def near_cubic_supercell(
    base: Structure, min_atoms: int = 80, max_atoms: int = 240, min_length: float = 10.0
) -> list[list[int]]:
    """The supercell matrix of pymatgen-analysis-diffusion's ``get_sc_fromstruct``, found faster.

    That function tries pymatgen's ``CubicSupercellTransformation`` and, while none fits,
    raises ``max_atoms`` by one atom and tries again. A supercell of ``base`` holds a multiple
    of ``len(base)`` atoms, and ``max_atoms`` enters the transformation only through
    comparisons with that count, so every ``max_atoms`` between two multiples gives the same
    answer: this search jumps to the next multiple instead. Same matrix; for a 96-atom host
    that needs a 3× cell, 7 tries instead of 625 (157 s → under a second). Each try walks
    the same trial supercells, which are counted, not built, and computed once
    (:class:`_CountingCubicSupercell`): tens of milliseconds for a host instead of ~0.3 s.

    Parameters
    ----------
    base : pymatgen.core.Structure
        The cell to repeat.
    min_atoms, max_atoms : int
        Atom limits of the supercell (``max_atoms`` soft, as in pymatgen-analysis-diffusion).
    min_length : float
        Shortest perpendicular width of the supercell, Å.

    Returns
    -------
    list of list of int
        The 3×3 supercell matrix.

    """
    n = len(base)
    steps: dict[bytes, tuple] = {}
    while True:
        matrix = _cubic_supercell_matrix(base, min_atoms, max_atoms, min_length, steps)
        if matrix is not None:
            return matrix
        max_atoms = (max_atoms // n + 1) * n


@dataclass(frozen=True)
class TiledSupercell:
    """A cell repeated by an integer matrix, site by site, as pymatgen's ``Structure.__mul__``.

    Attributes
    ----------
    lattice : pymatgen.core.Lattice
        The supercell's lattice (``matrix @ cell lattice``).
    frac_coords : numpy.ndarray
        (n_sites, n_cells, 3) fractional coordinates in the supercell, wrapped into [0, 1):
        ``frac_coords[i, j]`` is the image of the cell's site ``i`` in its ``j``-th copy.
        ``frac_coords.reshape(-1, 3)`` is the supercell's site order.

    """

    lattice: Lattice
    frac_coords: np.ndarray


def tile_supercell(
    lattice: Lattice, frac_coords: np.ndarray, matrix: np.ndarray | list[list[int]]
) -> TiledSupercell:
    """Repeat sites ``frac_coords`` of ``lattice`` by the 3×3 integer ``matrix``.

    The same numbers, to the last bit, as ``structure * matrix`` in pymatgen: each site's
    Cartesian position plus each lattice translation of the supercell, converted back to
    fractional coordinates of the supercell one site at a time (as pymatgen does: a batched
    product may round differently) and wrapped into [0, 1). Sites are not copied into
    pymatgen objects, which is what makes it fast.

    Parameters
    ----------
    lattice : pymatgen.core.Lattice
        Lattice of the cell (periodic along all three vectors).
    frac_coords : numpy.ndarray
        (n, 3) fractional coordinates of the cell's sites.
    matrix : array-like of int
        3×3 supercell matrix (rows: the new vectors in units of the old).

    Returns
    -------
    TiledSupercell
        The supercell's lattice and the (n, det, 3) coordinates of the sites' images.

    """
    scale = np.array(matrix, int)
    super_lattice = Lattice(np.dot(scale, lattice.matrix), pbc=lattice.pbc)
    shifts = super_lattice.get_cartesian_coords(lattice_points_in_supercell(scale))
    inverse = super_lattice.inv_matrix
    tiled = np.empty((len(frac_coords), len(shifts), 3))
    for i, site in enumerate(np.asarray(frac_coords, dtype=np.float64)):
        cart = lattice.get_cartesian_coords(site)
        for j, shift in enumerate(shifts):
            tiled[i, j] = np.dot(cart + shift, inverse)
    return TiledSupercell(lattice=super_lattice, frac_coords=np.mod(tiled, 1))


def supercell_crystal(structure: Structure, matrix: np.ndarray | list[list[int]]) -> Crystal:
    """``structure * matrix`` as a :class:`Crystal` (same site order and coordinates).

    Parameters
    ----------
    structure : pymatgen.core.Structure
        An ordered, periodic structure.
    matrix : array-like of int
        3×3 supercell matrix.

    Returns
    -------
    Crystal
        The supercell, equal (bit for bit) to ``Crystal.from_structure(structure * matrix)``.

    """
    tiled = tile_supercell(structure.lattice, structure.frac_coords, matrix)
    n_cells = tiled.frac_coords.shape[1]
    numbers = np.repeat([site.specie.Z for site in structure], n_cells)
    return Crystal(tiled.lattice.matrix, tiled.frac_coords.reshape(-1, 3), numbers)
