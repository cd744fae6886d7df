"""A stable content id for a migration hop.

``hop_id`` must be the same for the same physical hop however the host is written down (atom
order, origin, supercell, which of the symmetry-equivalent hops was picked, direction) and must
differ between distinct hops. It is a sha256 of

* a host fingerprint: reduced formula, space-group number, the conventional standard lattice
  parameters and the volume per atom (from spglib, computed on the host's
  :func:`~hopscreen.hops.canonical.canonical_cell`, so that it does not rest on spglib
  standardising every cell of a low-symmetry host alike);
* the working ion;
* a hop descriptor that does not depend on coordinates: the hop length, the local environment
  of the hop midpoint and the (unordered) pair of endpoint environments, each a sorted multiset
  of (atomic number, distance) within :data:`ENVIRONMENT_RADIUS_ANGSTROM`.

Real numbers are quantised on a grid whose cell boundaries are deliberately offset from round
numbers (see :func:`_quantize`): crystallographic distances such as 2.005 Å would otherwise sit
exactly on a rounding boundary, where floating-point noise from a supercell or a shifted origin
could flip the rounded value. ``MigrationHop.__hash__``, ``hop_label`` and site indices are
never used: they depend on the input cell.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import numpy as np
from pymatgen.core import Element
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from hopscreen.hops.canonical import canonical_cell

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pymatgen.core import Structure

    from hopscreen.hops.hop import Hop

#: Radius (Å) of the local environments that describe a hop.
ENVIRONMENT_RADIUS_ANGSTROM = 4.0
#: Quantisation step for lengths and distances (Å).
LENGTH_STEP_ANGSTROM = 0.01
#: Quantisation step for cell angles (degrees).
ANGLE_STEP_DEGREES = 0.1
#: Quantisation step for the volume per atom (Å^3).
VOLUME_STEP_ANGSTROM3 = 0.05
# Offset of the quantisation grid, as a fraction of a step: an "unround" number so that values
# a crystallographer would write (x.xx5) fall in the middle of a cell, not on its boundary.
_GRID_OFFSET = 0.3717

_PREFIX = "hop-"


def _quantize(value: float, step: float) -> int:
    """Index of the grid cell of ``value`` (cells of width ``step``, boundaries offset)."""
    return int(np.floor(value / step + _GRID_OFFSET))


def host_fingerprint(structure: Structure, *, symprec: float = 0.1) -> dict:
    """Describe the host independently of the input cell.

    Parameters
    ----------
    structure : pymatgen.core.Structure
        The host, with every working-ion site occupied.
    symprec : float
        spglib symmetry precision (Å).

    Returns
    -------
    dict
        JSON-serialisable: reduced formula, space-group number, quantised conventional lattice
        parameters (a, b, c in Å; α, β, γ in degrees) and quantised volume per atom (Å^3),
        all computed on the canonical cell of ``structure``.

    """
    analyzer = SpacegroupAnalyzer(canonical_cell(structure).structure, symprec=symprec)
    conventional = analyzer.get_conventional_standard_structure()
    lattice = conventional.lattice
    return {
        "formula": structure.composition.reduced_formula,
        "spacegroup": int(analyzer.get_space_group_number()),
        "abc": [_quantize(x, LENGTH_STEP_ANGSTROM) for x in lattice.abc],
        "angles": [_quantize(x, ANGLE_STEP_DEGREES) for x in lattice.angles],
        "volume_per_atom": _quantize(structure.volume / len(structure), VOLUME_STEP_ANGSTROM3),
    }


def _environment(structure: Structure, cart: np.ndarray, radius: float) -> list[list[int]]:
    """Sorted multiset of (Z, quantised distance) of the atoms within ``radius`` of ``cart``."""
    # Search a little wider and cut on the quantised distance, so the cut-off is on the same
    # offset grid as the distances themselves.
    q_radius = _quantize(radius, LENGTH_STEP_ANGSTROM)
    sites = structure.get_sites_in_sphere(cart, radius + 2 * LENGTH_STEP_ANGSTROM)
    env = []
    for site in sites:
        q = _quantize(site.nn_distance, LENGTH_STEP_ANGSTROM)
        if q <= q_radius:
            env.append([int(site.specie.Z), q])
    return sorted(env)


def hop_descriptor(
    structure: Structure,
    isite_frac: Sequence[float],
    esite_frac: Sequence[float],
    *,
    radius_angstrom: float = ENVIRONMENT_RADIUS_ANGSTROM,
) -> dict:
    """Describe a hop by quantities that do not depend on the cell, origin or direction.

    Parameters
    ----------
    structure : pymatgen.core.Structure
        The host with every working-ion site occupied.
    isite_frac, esite_frac : sequence of float
        (3,) fractional coordinates of the two endpoints (the end site may be a periodic image).
    radius_angstrom : float
        Radius (Å) of the local environments.

    Returns
    -------
    dict
        JSON-serialisable: quantised length, midpoint environment and the sorted pair of
        endpoint environments.

    """
    lattice = structure.lattice
    i_cart = lattice.get_cartesian_coords(np.asarray(isite_frac, dtype=float))
    e_cart = lattice.get_cartesian_coords(np.asarray(esite_frac, dtype=float))
    ends = sorted(
        (
            _environment(structure, i_cart, radius_angstrom),
            _environment(structure, e_cart, radius_angstrom),
        )
    )
    return {
        "length": _quantize(float(np.linalg.norm(e_cart - i_cart)), LENGTH_STEP_ANGSTROM),
        "midpoint": _environment(structure, (i_cart + e_cart) / 2, radius_angstrom),
        "endpoints": ends,
    }


def compute_hop_id(
    structure: Structure,
    working_ion: str,
    isite_frac: Sequence[float],
    esite_frac: Sequence[float],
    *,
    symprec: float = 0.1,
    host: dict | None = None,
) -> str:
    """Content id of the hop from ``isite_frac`` to ``esite_frac`` of ``working_ion``.

    Parameters
    ----------
    structure : pymatgen.core.Structure
        The host with every working-ion site occupied.
    working_ion : str
        Element symbol of the migrating ion.
    isite_frac, esite_frac : sequence of float
        (3,) fractional coordinates of the endpoints in ``structure``'s cell.
    symprec : float
        spglib symmetry precision (Å) for the host fingerprint.
    host : dict, optional
        A precomputed :func:`host_fingerprint` of ``structure`` (saves a spglib call per hop).

    Returns
    -------
    str
        ``"hop-"`` followed by 32 hexadecimal characters (128 bits of a sha256).

    """
    payload = {
        "version": 1,
        "host": host if host is not None else host_fingerprint(structure, symprec=symprec),
        "ion": Element(working_ion).symbol,
        "hop": hop_descriptor(structure, isite_frac, esite_frac),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return _PREFIX + hashlib.sha256(text.encode()).hexdigest()[:32]


def hop_id(hop: Hop, *, host: dict | None = None) -> str:
    """Content id of an enumerated :class:`~hopscreen.hops.hop.Hop`.

    Parameters
    ----------
    hop : Hop
        A hop from :func:`~hopscreen.hops.enumerate.enumerate_hops`.
    host : dict, optional
        A precomputed :func:`host_fingerprint` of ``hop.structure``.

    Returns
    -------
    str
        See :func:`compute_hop_id`.

    """
    return compute_hop_id(
        hop.structure,
        hop.working_ion,
        hop.isite_frac,
        hop.esite_frac,
        symprec=hop.symprec,
        host=host,
    )
