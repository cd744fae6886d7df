"""Vacancy-mode supercell endpoints of a hop, with their atom counts checked.

pymatgen-analysis-diffusion's ``MigrationHop.get_sc_structures(vac_mode=True, ...)`` builds a
near-cubic supercell of the fully occupied host and removes the working ion at the end site
(initial structure) or at the initial site (final structure). It locates those ions with a
tolerance of 1e-5 (fractional distance); when that fails it silently leaves the ion in, and the
endpoint has one atom too many. Every count is therefore checked here.

The hops of :func:`~hopscreen.hops.enumerate.enumerate_hops` live on the host's canonical cell
(:mod:`hopscreen.hops.canonical`), so their supercells do not depend on the cell the host was
given in. They are :class:`SharedSupercellHop` objects: the supercell matrix, whose search
depends only on the cell, is searched once for all hops of a host, and so is the tiled
supercell. :func:`supercell_endpoint_crystals` (what bands are built from) gives the
endpoints as arrays, bit for bit those of :func:`supercell_endpoints` (pymatgen structures)
without one ``PeriodicSite`` object per atom: about 1 ms a hop instead of 50.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field
from pymatgen.analysis.diffusion.neb.pathfinder import MigrationHop
from pymatgen.analysis.diffusion.utils.supercells import get_start_end_structures
from pymatgen.core import Composition, Structure

from hopscreen.hops.tiling import TiledSupercell, near_cubic_supercell, tile_supercell
from hopscreen.schemas.base import Config
from hopscreen.schemas.structure import SYMBOL_TO_Z, Crystal

if TYPE_CHECKING:
    from pymatgen.core import Lattice, PeriodicSite
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


def _without_sites_near(
    crystal: Crystal, lattice: Lattice, position: np.ndarray, tol: float
) -> Crystal:
    """``crystal`` less every site within ``tol`` Å (periodic) of fractional ``position``."""
    distances = lattice.get_all_distances(crystal.frac_coords, position[None, :])[:, 0]
    kept = distances > tol
    return Crystal(crystal.lattice, crystal.frac_coords[kept], crystal.numbers[kept])


@dataclass(frozen=True)
class _HostSites:
    """The arrays of a hop's host that every hop of the host shares."""

    lattice: Lattice
    frac_coords: np.ndarray
    numbers: np.ndarray
    is_ion: np.ndarray


class SharedSupercellHop(MigrationHop):
    """A pymatgen ``MigrationHop`` whose supercell matrix is shared by the hops of its host.

    pymatgen-analysis-diffusion searches the near-cubic supercell again for every hop, raising
    ``max_atoms`` one atom at a time until one fits (about 20 s for a 12-atom monoclinic
    Li2MnO3 cell). The search depends on the cell only, which the hops of one host share:
    hops built with the same ``matrices`` dict search it once. Otherwise
    :meth:`get_sc_structures` does what pymatgen's does; :meth:`vacancy_endpoint_crystals`
    gives its vacancy-mode structures as arrays.

    Parameters
    ----------
    isite, esite : pymatgen.core.PeriodicSite
        The hop's initial and end sites.
    symm_structure : pymatgen.symmetry.structure.SymmetrizedStructure
        The host with every working-ion site occupied.
    symprec : float
        Tolerance (Å) for the ion sites at the hop's ends.
    matrices : dict
        What the hops of one host share, filled by the first hop that needs it: supercell
        matrices (keyed by the search parameters), the host's sites as arrays and the tiled
        supercells (keyed by matrix).

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

    def _host_sites(self) -> _HostSites:
        """The host's sites as arrays (built by the first hop of the host that needs them)."""
        if "host_sites" not in self.matrices:
            structure = self.symm_structure
            self.matrices["host_sites"] = _HostSites(
                lattice=structure.lattice,
                frac_coords=structure.frac_coords,
                numbers=np.array([site.specie.Z for site in structure], dtype=np.int64),
                is_ion=np.array([site.specie == self.isite.specie for site in structure]),
            )
        return self.matrices["host_sites"]

    def _vacancy_base_order(self, host: _HostSites) -> np.ndarray:
        """Indices of the host's sites in the order of pymatgen's vacancy-mode base cell.

        As ``MigrationHop._split_migrating_and_other_sites(vac_mode=True)``: the working-ion
        sites within ``symprec`` of either end of the hop go last.
        """
        lattice = self.isite.lattice
        near = np.zeros(len(host.numbers), dtype=bool)
        for end in (self.isite, self.esite):
            near |= lattice.get_all_distances(end.frac_coords[None, :], host.frac_coords)[0] <= (
                self.symprec
            )
        migrating = host.is_ion & near
        return np.concatenate([np.flatnonzero(~migrating), np.flatnonzero(migrating)])

    def vacancy_endpoint_crystals(
        self,
        min_atoms: int = 80,
        max_atoms: int = 240,
        min_length: float = 10.0,
        tol: float = 1e-5,
    ) -> tuple[Crystal, Crystal, Crystal]:
        """``get_sc_structures(vac_mode=True, ...)`` as arrays: start, end and base supercells.

        The same sites, in the same order and with the same coordinates (to the last bit), as
        the structures of :meth:`get_sc_structures`, without building pymatgen sites; the
        supercell matrix and the tiled host are computed once for all hops of the host.
        """
        host = self._host_sites()
        key = (True, len(host.numbers), min_atoms, max_atoms, min_length)
        if key not in self.matrices:  # the search depends on the lattice and site count only
            self.matrices[key] = near_cubic_supercell(
                self.symm_structure, min_atoms, max_atoms, min_length
            )
        matrix = self.matrices[key]
        tiled_key = ("tiled", np.array(matrix, int).tobytes())
        if tiled_key not in self.matrices:
            self.matrices[tiled_key] = tile_supercell(host.lattice, host.frac_coords, matrix)
        tiled: TiledSupercell = self.matrices[tiled_key]
        order = self._vacancy_base_order(host)
        base_sc = Crystal(
            tiled.lattice.matrix,
            tiled.frac_coords[order].reshape(-1, 3),
            np.repeat(host.numbers[order], tiled.frac_coords.shape[1]),
        )
        inverse = np.linalg.inv(matrix)
        start = _without_sites_near(
            base_sc, tiled.lattice, np.dot(self.esite.frac_coords, inverse), tol
        )
        end = _without_sites_near(
            base_sc, tiled.lattice, np.dot(self.isite.frac_coords, inverse), tol
        )
        return start, end, base_sc


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


@dataclass(frozen=True)
class EndpointCrystals:
    """:class:`SupercellEndpoints` as arrays (same sites, same order, same coordinates)."""

    base: Crystal
    initial: Crystal
    final: Crystal


def _count(structure: Structure, symbol: str) -> int:
    return sum(1 for site in structure if site.specie.symbol == symbol)


def _count_error(name: str, n_atoms: tuple[int, int], n_ions: tuple[int, int], ion: str) -> None:
    """Raise unless an endpoint is its base less one ion: ``(base, endpoint)`` counts."""
    (n, n_end), (n_ion, n_ion_end) = n_atoms, n_ions
    if n_end != n - 1 or n_ion_end != n_ion - 1:
        raise SupercellError(
            f"{name} endpoint has {n_end} atoms ({n_ion_end} {ion}); expected {n - 1} "
            f"({n_ion - 1} {ion}) for a {n}-atom supercell: the migrating ion was not removed at "
            "the other endpoint (known pymatgen-analysis-diffusion site-matching problem)"
        )


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
    n_ion = _count(base, working_ion)
    for name, endpoint in (("initial", initial), ("final", final)):
        n_ion_end = _count(endpoint, working_ion)
        _count_error(name, (len(base), len(endpoint)), (n_ion, n_ion_end), working_ion)
        if base.composition - endpoint.composition != Composition(working_ion):
            raise SupercellError(f"{name} endpoint composition differs from the supercell's")


def check_endpoint_crystals(endpoints: EndpointCrystals, working_ion: str) -> None:
    """:func:`check_endpoint_counts` for endpoints as arrays.

    Parameters
    ----------
    endpoints : EndpointCrystals
        Fully occupied supercell and the two vacancy-mode endpoints.
    working_ion : str
        Element symbol of the migrating ion.

    """
    z = SYMBOL_TO_Z[working_ion]
    base = endpoints.base
    n_ion = int(np.count_nonzero(base.numbers == z))
    for name, endpoint in (("initial", endpoints.initial), ("final", endpoints.final)):
        n_ion_end = int(np.count_nonzero(endpoint.numbers == z))
        _count_error(name, (len(base), len(endpoint)), (n_ion, n_ion_end), working_ion)
        size = max(int(base.numbers.max(initial=0)), int(endpoint.numbers.max(initial=0))) + 1
        removed = np.bincount(base.numbers, minlength=size) - np.bincount(
            endpoint.numbers, minlength=size
        )
        if removed[z] != 1 or np.count_nonzero(removed) != 1:
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


def supercell_endpoint_crystals(
    hop: Hop, options: SupercellOptions | None = None
) -> EndpointCrystals:
    """:func:`supercell_endpoints` as arrays, built without pymatgen sites.

    Parameters
    ----------
    hop : Hop
        A hop from :func:`~hopscreen.hops.enumerate.enumerate_hops` (any other hop's
        endpoints are built by :func:`supercell_endpoints` and converted).
    options : SupercellOptions, optional
        Supercell size (defaults: :class:`SupercellOptions`).

    Returns
    -------
    EndpointCrystals
        ``base`` (n atoms), ``initial`` and ``final`` (n - 1 atoms each): the sites of
        :func:`supercell_endpoints`, in its order, with its coordinates.

    Raises
    ------
    SupercellError
        If an endpoint does not have exactly one working ion fewer than the supercell.

    """
    options = options or SupercellOptions()
    if not isinstance(hop.migration_hop, SharedSupercellHop):
        ends = supercell_endpoints(hop, options)
        return EndpointCrystals(
            base=Crystal.from_structure(ends.base),
            initial=Crystal.from_structure(ends.initial),
            final=Crystal.from_structure(ends.final),
        )
    initial, final, base = hop.migration_hop.vacancy_endpoint_crystals(
        min_atoms=options.min_atoms,
        max_atoms=options.max_atoms,
        min_length=options.min_length_angstrom,
    )
    endpoints = EndpointCrystals(base=base, initial=initial, final=final)
    check_endpoint_crystals(endpoints, hop.working_ion)
    return endpoints
