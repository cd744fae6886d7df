"""The NEB endpoints of a hop, in one atom order, for every verification tier.

pymatgen-analysis-diffusion's vacancy-mode supercell endpoints
(:func:`~hopscreen.hops.supercell.supercell_endpoints`) do not share one atom order: each is
the fully occupied supercell less a different ion, so index *i* of the initial structure is
not the same atom as index *i* of the final one. NEB codes (ASE, atomate2's VASP makers)
interpolate images index by index, so those endpoints would move several ions, some by
several Å. :func:`ordered_endpoints` is the one place where the endpoints of a verification
are built: the migrating ion first, then the same host atoms at the same positions in both,
and it checks that exactly that one atom differs, by the hop's length.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pymatgen.core import Structure

from hopscreen.hops.band import band_from_hop, endpoints_from_band

if TYPE_CHECKING:
    from hopscreen.hops.hop import Hop
    from hopscreen.hops.supercell import SupercellOptions

#: Largest displacement (Å) of an atom that counts as "not moved".
STILL_TOL_ANGSTROM = 1e-6


class EndpointError(ValueError):
    """Endpoints that are not one hop: other atoms differ, or the ion moves the wrong way."""


def displacements_angstrom(a: Structure, b: Structure) -> np.ndarray:
    """Minimum-image displacement of every atom from ``a`` to ``b``, index by index.

    Parameters
    ----------
    a, b : pymatgen.core.Structure
        Two structures on the same lattice listing the same atoms in the same order.

    Returns
    -------
    numpy.ndarray
        (n_atoms,) distances, in Å, on ``a``'s lattice.

    """
    delta = b.frac_coords - a.frac_coords
    delta -= np.round(delta)
    return np.linalg.norm(delta @ a.lattice.matrix, axis=1)


def check_single_mover(
    initial: Structure,
    final: Structure,
    working_ion: str | None = None,
    length_angstrom: float | None = None,
    *,
    tol_angstrom: float = 1e-3,
) -> None:
    """Raise :class:`EndpointError` unless atom 0 is the only atom that moves.

    Parameters
    ----------
    initial, final : pymatgen.core.Structure
        Endpoints on one lattice, in one atom order.
    working_ion : str, optional
        Element symbol of the migrating ion; when given, atom 0 must be one.
    length_angstrom : float, optional
        The hop's length, Å; when given, atom 0 must move by this much.
    tol_angstrom : float
        Allowed difference between the ion's displacement and ``length_angstrom``, Å.

    """
    if len(initial) != len(final) or [s.specie for s in initial] != [s.specie for s in final]:
        raise EndpointError("endpoints must list the same species in the same order")
    if not np.allclose(initial.lattice.matrix, final.lattice.matrix, atol=1e-6):
        raise EndpointError("endpoints must share one lattice")
    if working_ion is not None and initial[0].specie.symbol != working_ion:
        raise EndpointError(f"atom 0 is {initial[0].specie.symbol}, not the {working_ion} ion")
    moved = displacements_angstrom(initial, final)
    others = np.flatnonzero(moved[1:] > STILL_TOL_ANGSTROM) + 1
    if others.size:
        raise EndpointError(
            f"{others.size} atoms besides the migrating ion (atom 0) differ between the "
            f"endpoints (largest {moved[others].max():.3f} Å): put them in one atom order "
            "(hopscreen.verification.endpoints.ordered_endpoints)"
        )
    if length_angstrom is not None and abs(moved[0] - length_angstrom) > tol_angstrom:
        raise EndpointError(
            f"the ion moves {moved[0]:.4f} Å between the endpoints but the hop is "
            f"{length_angstrom:.4f} Å long"
        )


def _group_species(structure: Structure, working_ion: str) -> list[int]:
    """Atom order: atom 0, then the other working ions, then each element in a block.

    Elements keep the order in which they first appear, and atoms of one element their
    relative order, so a POSCAR written from the result has one block per element.
    """
    symbols = [site.specie.symbol for site in structure]
    first = {working_ion: -1}
    for symbol in symbols[1:]:
        first.setdefault(symbol, len(first))
    rest = sorted(range(1, len(symbols)), key=lambda i: (first[symbols[i]], i))
    return [0, *rest]


def ordered_endpoints(
    hop: Hop, options: SupercellOptions | None = None
) -> tuple[Structure, Structure]:
    """Vacancy-mode supercell endpoints of ``hop`` in which only the migrating ion differs.

    Used by every verification tier (CHGNet NEB, VASP NEB, ``hopscreen neb-inputs``).

    Parameters
    ----------
    hop : Hop
        A hop from :func:`hopscreen.hops.enumerate_hops`.
    options : SupercellOptions, optional
        Supercell size (default: :class:`hopscreen.hops.SupercellOptions`).

    Returns
    -------
    tuple of pymatgen.core.Structure
        ``(initial, final)`` on the supercell of the host's canonical cell, each the fully
        occupied supercell less one working ion: the migrating ion is atom 0 (at the hop's
        initial, resp. end site; the end site may lie outside the cell so that the straight
        line between them is the hop), then the other working ions, then the other elements
        in blocks, in the same order and at the same positions in both.

    Raises
    ------
    hopscreen.hops.SupercellError
        If pymatgen's supercell endpoints have wrong atom counts.
    hopscreen.hops.BandError
        If the supercell is too small for the hop (the straight minimum-image line between
        the sites is not the hop).
    EndpointError
        If anything but the migrating ion differs between the endpoints.

    """
    band = band_from_hop(hop, options)
    initial, final = (c.to_structure() for c in endpoints_from_band(band))
    order = _group_species(initial, hop.working_ion)
    initial = Structure.from_sites([initial[i] for i in order])
    final = Structure.from_sites([final[i] for i in order])
    check_single_mover(initial, final, hop.working_ion, hop.length_angstrom)
    return initial, final
