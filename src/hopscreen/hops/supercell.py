"""Vacancy-mode supercell endpoints of a hop, with their atom counts checked.

pymatgen-analysis-diffusion's ``MigrationHop.get_sc_structures(vac_mode=True, ...)`` builds a
near-cubic supercell of the fully occupied host and removes the working ion at the end site
(initial structure) or at the initial site (final structure). It locates those ions with a
tolerance of 1e-5 (fractional distance); when that fails it silently leaves the ion in, and the
endpoint has one atom too many. Every count is therefore checked here.

The hops of :func:`~hopscreen.hops.enumerate.enumerate_hops` live on the host's canonical cell
(:mod:`hopscreen.hops.canonical`), so their supercells do not depend on the cell the host was
given in. They are :class:`SharedSupercellHop` objects: the supercell matrix, whose search
depends only on the cell, is searched once for all hops of a host.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field
from pymatgen.analysis.diffusion.neb.pathfinder import MigrationHop
from pymatgen.analysis.diffusion.utils.supercells import get_start_end_structures
from pymatgen.core import Composition, Structure
from pymatgen.transformations.advanced_transformations import CubicSupercellTransformation

from hopscreen.schemas.base import Config

if TYPE_CHECKING:
    from pymatgen.core import PeriodicSite
    from pymatgen.symmetry.structure import SymmetrizedStructure

    from hopscreen.hops.hop import Hop


class SupercellOptions(Config):
    """Size of the supercells in which hops are simulated.

    The defaults are pymatgen-analysis-diffusion's; they give the 168-atom (1×2×3) olivine
    LiFePO4 cell and lie in the middle of the published dataset (hosts of 29–1023 atoms, median
    107; shortest perpendicular cell width median 9.6 Å).
    """

    min_atoms: int = Field(80, ge=1, description="Fewest atoms in the fully occupied supercell.")
    max_atoms: int = Field(
        240,
        ge=1,
        description="Most atoms in the supercell; a soft limit: pymatgen-analysis-diffusion "
        "raises it one atom at a time until a near-cubic cell with min_length_angstrom fits.",
    )
    min_length_angstrom: float = Field(
        10.0, gt=0, description="Shortest supercell lattice vector, in Å."
    )


def _cubic_supercell_matrix(
    base: Structure, min_atoms: int, max_atoms: int, min_length: float
) -> list[list[int]] | None:
    """The near-cubic supercell matrix of pymatgen within these limits; None if none fits."""
    transformation = CubicSupercellTransformation(
        min_atoms=min_atoms, max_atoms=max_atoms, min_length=min_length
    )
    try:
        transformation.apply_transformation(base)
    except Exception:  # as pymatgen-analysis-diffusion: any failure means "none fits here"
        return None
    return transformation.transformation_matrix


def near_cubic_supercell(
    base: Structure, min_atoms: int = 80, max_atoms: int = 240, min_length: float = 10.0
) -> list[list[int]]:
    """The supercell matrix of pymatgen-analysis-diffusion's ``get_sc_fromstruct``, found faster.

    That function tries pymatgen's ``CubicSupercellTransformation`` and, while none fits,
    raises ``max_atoms`` by one atom and tries again. A supercell of ``base`` holds a multiple
    of ``len(base)`` atoms, and ``max_atoms`` enters the transformation only through
    comparisons with that count, so every ``max_atoms`` between two multiples gives the same
    answer: this search jumps to the next multiple instead. Same matrix; for a 96-atom host
    that needs a 3× cell, 7 tries instead of 625 (157 s → under a second).

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
    while True:
        matrix = _cubic_supercell_matrix(base, min_atoms, max_atoms, min_length)
        if matrix is not None:
            return matrix
        max_atoms = (max_atoms // n + 1) * n


def vacancy_endpoints(
    isite: PeriodicSite,
    esite: PeriodicSite,
    base: Structure,
    matrix: list[list[int]],
    *,
    tol: float = 1e-5,
) -> tuple[Structure, Structure, Structure]:
    """Vacancy-mode start, end and base supercells, as pymatgen-analysis-diffusion builds them.

    The same structures as its ``get_start_end_structures(..., vac_mode=True)``: the
    supercell ``base * matrix``, less every site within ``tol`` (Å, periodic) of the end site
    (start structure) or of the initial site (end structure), sites in the same order. The
    supercell is built once instead of three times and the sites are matched with one
    vectorised distance computation instead of a loop over sites.

    Parameters
    ----------
    isite, esite : pymatgen.core.PeriodicSite
        The hop's initial and end sites, on ``base``'s lattice.
    base : pymatgen.core.Structure
        The host with every working-ion site occupied.
    matrix : list of list of int
        Supercell matrix.
    tol : float
        Distance (Å) within which a site is the one to remove.

    Returns
    -------
    tuple of pymatgen.core.Structure
        ``(start, end, base_supercell)``.

    """
    supercell = base * matrix
    inverse = np.linalg.inv(matrix)
    frac = supercell.frac_coords

    def without_site_at(position: np.ndarray) -> Structure:
        distances = supercell.lattice.get_all_distances(frac, position[None, :])[:, 0]
        kept = supercell.copy()
        kept.remove_sites(np.flatnonzero(distances <= tol).tolist())
        return kept

    start = without_site_at(np.dot(esite.frac_coords, inverse))
    end = without_site_at(np.dot(isite.frac_coords, inverse))
    return start, end, supercell


class SharedSupercellHop(MigrationHop):
    """A pymatgen ``MigrationHop`` whose supercell matrix is shared by the hops of its host.

    pymatgen-analysis-diffusion searches the near-cubic supercell again for every hop, raising
    ``max_atoms`` one atom at a time until one fits (about 20 s for a 12-atom monoclinic
    Li2MnO3 cell). The search depends on the cell only, which the hops of one host share:
    hops built with the same ``matrices`` dict search it once. Otherwise
    :meth:`get_sc_structures` does what pymatgen's does.

    Parameters
    ----------
    isite, esite : pymatgen.core.PeriodicSite
        The hop's initial and end sites.
    symm_structure : pymatgen.symmetry.structure.SymmetrizedStructure
        The host with every working-ion site occupied.
    symprec : float
        Tolerance (Å) for the ion sites at the hop's ends.
    matrices : dict
        Supercell matrices found so far, shared by the hops of one host (keyed by the search
        parameters).

    """

    def __init__(
        self,
        isite: PeriodicSite,
        esite: PeriodicSite,
        symm_structure: SymmetrizedStructure,
        *,
        symprec: float,
        matrices: dict,
    ) -> None:
        super().__init__(isite, esite, symm_structure, symprec=symprec)
        self.matrices = matrices

    def get_sc_structures(
        self,
        vac_mode: bool,
        min_atoms: int = 80,
        max_atoms: int = 240,
        min_length: float = 10.0,
        tol: float = 1e-5,
    ) -> tuple[Structure, Structure, Structure]:
        """Start, end and base supercells, as pymatgen's method (matrix searched once)."""
        migrating, others = self._split_migrating_and_other_sites(vac_mode)
        base = Structure.from_sites(others + migrating if vac_mode else others)
        key = (vac_mode, len(base), min_atoms, max_atoms, min_length)
        if key not in self.matrices:
            self.matrices[key] = near_cubic_supercell(base, min_atoms, max_atoms, min_length)
        if not vac_mode:
            return get_start_end_structures(
                self.isite, self.esite, base, self.matrices[key], vac_mode=False, tol=tol
            )
        return vacancy_endpoints(self.isite, self.esite, base, self.matrices[key], tol=tol)


class SupercellError(RuntimeError):
    """The supercell endpoints of a hop are inconsistent (wrong atom counts or species)."""


@dataclass(frozen=True)
class SupercellEndpoints:
    """Vacancy-mode endpoints of a hop in a supercell.

    Attributes
    ----------
    base : pymatgen.core.Structure
        Supercell of the host with every working-ion site occupied (n atoms).
    initial : pymatgen.core.Structure
        ``base`` without the ion at the end site (n - 1 atoms): the ion sits at the initial site.
    final : pymatgen.core.Structure
        ``base`` without the ion at the initial site (n - 1 atoms).

    """

    base: Structure
    initial: Structure
    final: Structure


def _count(structure: Structure, symbol: str) -> int:
    return sum(1 for site in structure if site.specie.symbol == symbol)


def check_endpoint_counts(
    base: Structure, initial: Structure, final: Structure, working_ion: str
) -> None:
    """Raise :class:`SupercellError` unless each endpoint is ``base`` less one working ion.

    Parameters
    ----------
    base, initial, final : pymatgen.core.Structure
        Fully occupied supercell and the two vacancy-mode endpoints.
    working_ion : str
        Element symbol of the migrating ion.

    """
    n = len(base)
    n_ion = _count(base, working_ion)
    for name, endpoint in (("initial", initial), ("final", final)):
        if len(endpoint) != n - 1 or _count(endpoint, working_ion) != n_ion - 1:
            raise SupercellError(
                f"{name} endpoint has {len(endpoint)} atoms ({_count(endpoint, working_ion)} "
                f"{working_ion}); expected {n - 1} ({n_ion - 1} {working_ion}) for a "
                f"{n}-atom supercell: the migrating ion was not removed at the other endpoint "
                "(known pymatgen-analysis-diffusion site-matching problem)"
            )
        if base.composition - endpoint.composition != Composition(working_ion):
            raise SupercellError(f"{name} endpoint composition differs from the supercell's")


def supercell_endpoints(hop: Hop, options: SupercellOptions | None = None) -> SupercellEndpoints:
    """Build the vacancy-mode supercell endpoints of ``hop``.

    Parameters
    ----------
    hop : Hop
        A hop from :func:`~hopscreen.hops.enumerate.enumerate_hops`.
    options : SupercellOptions, optional
        Supercell size (defaults: :class:`SupercellOptions`).

    Returns
    -------
    SupercellEndpoints
        ``base`` (n atoms), ``initial`` and ``final`` (n - 1 atoms each).

    Raises
    ------
    SupercellError
        If an endpoint does not have exactly one working ion fewer than the supercell.

    """
    options = options or SupercellOptions()
    # Note the order: pymatgen returns (start, end, base).
    initial, final, base = hop.migration_hop.get_sc_structures(
        vac_mode=True,
        min_atoms=options.min_atoms,
        max_atoms=options.max_atoms,
        min_length=options.min_length_angstrom,
    )
    check_endpoint_counts(base, initial, final, hop.working_ion)
    return SupercellEndpoints(base=base, initial=initial, final=final)
