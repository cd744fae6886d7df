"""Bond-valence site-energy (BVSE) profile of the working ion along one hop.

The BVSE force field of Chen & Adams (a Morse term to the counter-ions and a screened
Coulomb repulsion from the like-charged framework ions) and its parameter tables come from
the maintained ``bvlain`` library (A. Dembitskiy, MIT licence; Lain._get_params and
``bvlain.potentials.BVSEPotential``). bvlain evaluates the energy on a grid over the whole
cell; a hop needs it only in a tube around the path, so the points here are a local grid and
the sum runs over the framework atoms (and periodic images) within ``r_cut_angstrom``. On the
tube grid a squared distance is an axial plus an in-plane part, so the distances come from
broadcasting, species by species; bvlain looks its parameters up by element and charge, so
they are looked up once per species (and cached across the hops of a host). The parameters,
the removal of every working-ion atom from the framework and the two pair terms are bvlain's.

Oxidation states are assigned on the complete endpoint (host + migrating ion) by the rules
of :func:`hopscreen.features.charges.nominal_charges`, before any ion is removed, so a
host with two sites empty never fails for lack of a guess.

The path is not the straight line: on the grid (spacing ``resolution_angstrom``) inside a
cylinder of radius ``tube_radius_angstrom`` around the endpoint-to-endpoint segment, the
minimax path (the route whose highest point is lowest) is found exactly by bisection over
the energies with 26-connected component labelling, then the shortest route staying within
``route_slack_ev`` of that level gives the profile (:mod:`hopscreen.features.grid_path`).
Each endpoint site is the grid minimum within ``site_radius_angstrom`` of the band's end
copies.

Descriptors (NaN when bvlain has no parameters for the ion/anion pair, or unphysical
ones (a negative Morse alpha); then ``bvse_ok`` = 0)

``bvse_barrier_ev``
    minimax level (the highest energy on the best route) − min(E_A, E_B).
``bvse_barrier_fwd_ev``
    minimax level − E_A (E_A the initial site).
``bvse_asym_ev``
    |E_B − E_A|: endpoint asymmetry.
``bvse_line_barrier_ev``
    max along the straight segment − min(E_A, E_B).
``bvse_mid_ev``
    E at the straight segment's midpoint − min(E_A, E_B).
``bvse_saddle_frac``
    Arc-length fraction of the path at its maximum (0.5 = symmetric saddle; points within
    0.02 eV of the maximum are averaged, so a symmetric double hump also gives 0.5).
``bvse_tortuosity``
    Length of the minimax path / endpoint distance (≥ 1).
``bvse_site_mean_ev``
    (E_A + E_B) / 2, absolute BVSE site energy (deep sites bind the ion strongly).
``bvse_ok``
    1 when the profile exists, else 0.
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from hopscreen.features.charges import ion_charge, nominal_charges
from hopscreen.features.ewald import image_shifts
from hopscreen.features.grid_path import lowest_voxel, minimax_level, shortest_route
from hopscreen.schemas.structure import N_ION_COPIES, SYMBOL_TO_Z, Z_TO_SYMBOL, Crystal

BVSE_NAMES: tuple[str, ...] = (
    "bvse_barrier_ev",
    "bvse_barrier_fwd_ev",
    "bvse_asym_ev",
    "bvse_line_barrier_ev",
    "bvse_mid_ev",
    "bvse_saddle_frac",
    "bvse_tortuosity",
    "bvse_site_mean_ev",
    "bvse_ok",
)


@dataclass(frozen=True)
class BvseSettings:
    """Grid and cut-offs of the BVSE profile.

    Attributes
    ----------
    resolution_angstrom : float
        Grid spacing of the tube.
    tube_radius_angstrom : float
        Radius of the cylinder around the endpoint segment the path may use.
    margin_angstrom : float
        How far the tube extends beyond each endpoint.
    site_radius_angstrom : float
        An endpoint site is the energy minimum within this distance of the band's copy.
    r_cut_angstrom : float
        Framework atoms beyond this distance are ignored (both terms are < 1e-6 eV there).
    screening : float
        bvlain's Coulomb screening factor ``f``.
    route_slack_ev : float
        The profile follows the shortest route staying within this much of the minimax level.
    """

    resolution_angstrom: float = 0.2
    tube_radius_angstrom: float = 2.0
    margin_angstrom: float = 0.6
    site_radius_angstrom: float = 0.5
    r_cut_angstrom: float = 6.0
    screening: float = 0.74
    route_slack_ev: float = 0.01


class BvseError(ValueError):
    """bvlain has no BVSE parameters for this ion and framework."""


@dataclass(frozen=True)
class _Species:
    """bvlain's pair parameters of the working ion with each framework species, (k,) arrays."""

    r_min: np.ndarray
    alpha: np.ndarray
    d0: np.ndarray
    q: np.ndarray
    r_c: np.ndarray
    n: np.ndarray
    q_ion: float
    r_c_ion: float
    n_ion: float


@dataclass(frozen=True)
class _Field:
    """Framework atoms (with periodic images near the hop): positions and species index."""

    positions: np.ndarray
    species: np.ndarray
    params: _Species


@dataclass(frozen=True)
class _Tube:
    """The grid around one hop: an orthonormal frame and the axial and radial grid lines.

    The point (i, j, k) is ``start + axial[i] u + radial[j] e1 + radial[k] e2``.
    """

    start: np.ndarray
    frame: np.ndarray
    axial: np.ndarray
    radial: np.ndarray
    points: np.ndarray
    inside: np.ndarray


@cache
def _potentials() -> Any:
    from bvlain.potentials import BVSEPotential  # imported on first use (pulls in ase, pandas)

    return BVSEPotential


@lru_cache(maxsize=1024)
def _species_parameters(ion: str, species: tuple[tuple[int, float], ...]) -> _Species | str:
    """Bvlain's parameters of ``ion`` with each (Z, charge) framework species, or why none.

    bvlain's ``Lain._get_params`` looks each atom up by its element and charge alone, so one
    atom per species gives the same values as the whole cell; hops of one host share them.
    """
    from ase import Atoms  # imported on first use (comes with bvlain)
    from bvlain import Lain  # imported on first use (pulls in ase, pandas)

    if not species:
        return f"no framework atoms besides {ion}"
    atoms = Atoms(numbers=[z for z, _ in species], cell=np.eye(3), pbc=True)
    atoms.set_array("oxi_states", np.array([q for _, q in species], dtype=float))
    lain = Lain(verbose=False)
    lain.atoms_copy = atoms
    lain.cell = atoms.cell
    q = ion_charge(ion)
    try:
        # bvlain prints its own "Oops" line before raising; the caller gets a BvseError
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            lain._get_params(mobile_ion=f"{ion}{q}{'+' if q > 0 else '-'}")
    except KeyError:
        return f"no BVSE parameters for {ion}{q:+d} with this framework"
    fw = lain.atoms
    counter = fw.get_array("oxi_states") * q < 0
    bad = counter & ~(fw.get_array("alpha") > 0)
    if bad.any():
        # bvlain 0.25.1 ships negative Morse alphas for a few pairs (Mg-Se, Mg-Te, Mg-I, Ca-Br,
        # Ca-Te, Ca-I): the energy would grow without bound away from the ion, so none is given.
        el = sorted({Z_TO_SYMBOL[int(z)] for z in fw.numbers[bad]})
        return f"bvlain's BVSE parameters for {ion}{q:+d} with {el} are unphysical"
    arrays = {k: fw.get_array(k).astype(float) for k in ("r_min", "alpha", "d0", "r_c", "n")}
    return _Species(
        **arrays,
        q=fw.get_array("oxi_states").astype(float),
        q_ion=float(lain.q_mi),
        r_c_ion=float(lain.rc_mi),
        n_ion=float(lain.n_mi),
    )


def _framework(band: Crystal, ion: str) -> tuple[np.ndarray, np.ndarray, _Species]:
    """Fractional coordinates and species index of the framework (host minus every ion atom).

    Raises
    ------
    BvseError
        bvlain has no (physical) parameters for the ion with one of the species.
    """
    host_z = band.numbers[N_ION_COPIES:]
    charges = nominal_charges(host_z, ion).charges  # on the complete endpoint (see above)
    keep = host_z != SYMBOL_TO_Z[ion]
    # a charge is a function of the element in nominal_charges, so elements are the species
    elements, first, species = np.unique(host_z[keep], return_index=True, return_inverse=True)
    key = tuple((int(z), float(q)) for z, q in zip(elements, charges[keep][first], strict=True))
    params = _species_parameters(ion, key)
    if isinstance(params, str):
        raise BvseError(params)
    return band.frac_coords[N_ION_COPIES:][keep], species, params


def _near_field(band: Crystal, ion: str, centre: np.ndarray, reach: float) -> _Field:
    """Framework atoms and images within ``reach`` Å of ``centre`` (Cartesian)."""
    frac, species, params = _framework(band, ion)
    lattice = band.lattice
    centre_frac = np.linalg.solve(lattice.T, centre)
    d = frac - centre_frac
    base = d - np.round(d)
    shifts = image_shifts(lattice, reach).astype(float)
    cart = (base[:, None, :] + shifts[None, :, :]) @ lattice
    keep = np.linalg.norm(cart, axis=-1) <= reach
    atom_idx = np.nonzero(keep)[0]
    return _Field(positions=cart[keep] + centre, species=species[atom_idx], params=params)


def _path_ends(band: Crystal) -> tuple[np.ndarray, np.ndarray]:
    """Cartesian start and end of the hop, unwrapped along the five copies."""
    frac = band.frac_coords[:N_ION_COPIES]
    steps = np.diff(frac, axis=0)
    steps -= np.round(steps)
    start = frac[0] @ band.lattice
    return start, start + steps.sum(axis=0) @ band.lattice


def _tube(start: np.ndarray, end: np.ndarray, s: BvseSettings) -> _Tube:
    """Grid of the tube: (ns, nr, nr, 3) Cartesian points, the in-cylinder mask, the frame."""
    axis = end - start
    length = float(np.linalg.norm(axis))
    if length < 1e-6:
        raise ValueError("the hop's endpoints coincide")
    u = axis / length
    helper = np.eye(3)[int(np.argmin(np.abs(u)))]
    e1 = np.cross(u, helper)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(u, e1)
    h = s.resolution_angstrom
    n_side = math.ceil(s.tube_radius_angstrom / h)
    radial = np.arange(-n_side, n_side + 1) * h
    n_lo = math.ceil(s.margin_angstrom / h)
    n_hi = math.ceil((length + s.margin_angstrom) / h)
    axial = np.arange(-n_lo, n_hi + 1) * h
    a, v, w = np.meshgrid(axial, radial, radial, indexing="ij")
    points = start + a[..., None] * u + v[..., None] * e1 + w[..., None] * e2
    inside = (v**2 + w**2) <= s.tube_radius_angstrom**2 + 1e-9
    return _Tube(start, np.stack([u, e1, e2]), axial, radial, points, inside)


def _pair_energies(r: np.ndarray, k: int, p: _Species, s: BvseSettings) -> np.ndarray | None:
    """Pair energy (eV, bvlain's terms) of the ion at distances ``r`` from species ``k`` atoms.

    A counter-ion (charge of opposite sign) gives the Morse term, a like-charged ion the
    screened Coulomb term, a neutral atom nothing (None).
    """
    pot = _potentials()
    r = np.maximum(r, 1e-3)
    if p.q[k] * p.q_ion < 0:
        return pot.Morse(r, p.r_min[k], p.d0[k], p.alpha[k])
    if p.q[k] * p.q_ion > 0:
        return pot.Coulomb(r, p.q_ion, p.q[k], p.r_c_ion, p.r_c[k], p.n_ion, p.n[k], f=s.screening)
    return None


def _energies(points: np.ndarray, field: _Field, s: BvseSettings) -> np.ndarray:
    """BVSE energy (eV) at any points: every atom within ``r_cut_angstrom``, by a k-d tree.

    The reference for :func:`_tube_energies`, which gives the same sums on a tube grid.
    """
    tree_p, tree_a = cKDTree(points), cKDTree(field.positions)
    pairs = tree_p.sparse_distance_matrix(tree_a, s.r_cut_angstrom, output_type="ndarray")
    energy = np.zeros(len(points))
    sp = field.species[pairs["j"]]
    for k in range(len(field.params.q)):
        mine = sp == k
        e = _pair_energies(pairs["v"][mine], k, field.params, s)
        if e is not None:
            energy += np.bincount(pairs["i"][mine], weights=e, minlength=len(points))
    return energy


def _tube_energies(tube: _Tube, field: _Field, s: BvseSettings, chunk: int = 16) -> np.ndarray:
    """BVSE energy (eV) at the in-cylinder points of the tube, in ``points[inside]`` order.

    The squared distance from a grid point to an atom is the sum of its axial and in-plane
    parts in the tube's frame, so it is formed for ``chunk`` atoms of one species at a time
    by broadcasting, and only the pairs within ``r_cut_angstrom`` get the pair term.
    """
    local = (field.positions - tube.start) @ tube.frame.T  # (m, 3): along u, e1, e2
    v, w = np.meshgrid(tube.radial, tube.radial, indexing="ij")
    plane = tube.inside[0]
    v, w = v[plane], w[plane]
    n_plane = len(v)
    n_points = len(tube.axial) * n_plane
    energy = np.zeros(n_points)
    rc2 = s.r_cut_angstrom**2
    for k in range(len(field.params.q)):
        atoms = np.flatnonzero(field.species == k)
        for lo in range(0, len(atoms), chunk):
            at = local[atoms[lo : lo + chunk]]
            d_axial = (tube.axial[None, :] - at[:, :1]) ** 2  # (c, ns)
            d_plane = (v[None, :] - at[:, 1:2]) ** 2 + (w[None, :] - at[:, 2:3]) ** 2  # (c, np)
            r2 = (d_axial[:, :, None] + d_plane[:, None, :]).ravel()
            near = np.flatnonzero(r2 <= rc2)
            e = _pair_energies(np.sqrt(r2[near]), k, field.params, s)
            if e is None:
                break
            per_atom = np.bincount(near, weights=e, minlength=r2.size)
            energy += per_atom.reshape(len(at), n_points).sum(axis=0)
    return energy


def bvse_profile(
    band: Crystal, ion: str, settings: BvseSettings | None = None
) -> dict[str, np.ndarray | float]:
    """BVSE site energies, the minimax path and its energy profile for one hop.

    Parameters
    ----------
    band : Crystal
        Five copies of the migrating ion (atoms 0–4), then the host atoms.
    ion : str
        Element of the working ion.
    settings : BvseSettings, optional
        Grid and cut-offs (defaults when omitted).

    Returns
    -------
    dict
        ``e_a_ev``, ``e_b_ev`` (site energies), ``saddle_ev`` (the minimax level: the
        highest energy on the best route), ``path_angstrom`` (cumulative arc length along
        the minimax path), ``path_ev`` (energy along it), ``line_ev`` (energy along the
        straight segment, at the grid's axial points between the endpoints), ``length_angstrom``.

    Raises
    ------
    BvseError
        bvlain has no parameters for this ion with one of the framework's counter-ions.
    """
    s = settings or BvseSettings()
    start, end = _path_ends(band)
    tube = _tube(start, end, s)
    points, inside = tube.points, tube.inside
    centre = (start + end) / 2
    reach = float(np.linalg.norm(points[inside] - centre, axis=-1).max()) + s.r_cut_angstrom
    field = _near_field(band, ion, centre, reach)
    energy = np.full(inside.shape, np.inf)
    energy[inside] = _tube_energies(tube, field, s)
    a = lowest_voxel(energy, points, start, s.site_radius_angstrom)
    b = lowest_voxel(energy, points, end, s.site_radius_angstrom)
    level = minimax_level(energy, a, b)
    # routes within route_slack_ev of the optimum count as equal, so that of two symmetric
    # detours whose grid energies differ by rounding, the shorter one is taken either way
    route = shortest_route(points, energy <= level + s.route_slack_ev, a, b)
    pts = points.reshape(-1, 3)[route]
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
    centre_idx = energy.shape[1] // 2
    n_lo = math.ceil(s.margin_angstrom / s.resolution_angstrom)
    length = float(np.linalg.norm(end - start))
    n_line = round(length / s.resolution_angstrom)
    line = energy[n_lo : n_lo + n_line + 1, centre_idx, centre_idx]
    return {
        "e_a_ev": float(energy.flat[a]),
        "e_b_ev": float(energy.flat[b]),
        "saddle_ev": level,
        "path_angstrom": arc,
        "path_ev": energy.flat[route],
        "line_ev": line,
        "length_angstrom": length,
    }


def _saddle_fraction(path: np.ndarray, arc: np.ndarray, tol_ev: float = 0.02) -> float:
    """Mean arc-length fraction of the points within ``tol_ev`` of the path's maximum.

    A symmetric double hump (octahedral → tetrahedral → octahedral) gives 0.5, not whichever
    of its two equal peaks the grid happens to rank first.
    """
    if arc[-1] <= 0:
        return 0.5
    top = path >= path.max() - tol_ev
    return float(arc[top].mean() / arc[-1])


def bvse_descriptors(
    band: Crystal, ion: str | None = None, settings: BvseSettings | None = None
) -> dict[str, float]:
    """The BVSE descriptors of one hop (documented in the module docstring).

    Parameters
    ----------
    band : Crystal
        A Model-3 band (five ion copies, then the host).
    ion : str, optional
        Working ion; read from atom 0 when omitted.
    settings : BvseSettings, optional
        Grid and cut-offs.

    Returns
    -------
    dict of str to float
        One value per name of :data:`BVSE_NAMES`; NaN (and ``bvse_ok`` = 0) when bvlain has
        no parameters for the ion with the framework's counter-ions.
    """
    ion = ion or Z_TO_SYMBOL[int(band.numbers[0])]
    try:
        prof = bvse_profile(band, ion, settings)
    except BvseError:
        return {**dict.fromkeys(BVSE_NAMES, math.nan), "bvse_ok": 0.0}
    e_a, e_b = float(prof["e_a_ev"]), float(prof["e_b_ev"])
    path, arc = np.asarray(prof["path_ev"]), np.asarray(prof["path_angstrom"])
    line = np.asarray(prof["line_ev"])
    low = min(e_a, e_b)
    top = float(prof["saddle_ev"])
    total = float(arc[-1])
    return {
        "bvse_barrier_ev": top - low,
        "bvse_barrier_fwd_ev": top - e_a,
        "bvse_asym_ev": abs(e_b - e_a),
        "bvse_line_barrier_ev": float(line.max()) - low,
        "bvse_mid_ev": float(line[len(line) // 2]) - low,
        "bvse_saddle_frac": _saddle_fraction(path, arc),
        "bvse_tortuosity": total / max(float(prof["length_angstrom"]), 1e-9),
        "bvse_site_mean_ev": (e_a + e_b) / 2,
        "bvse_ok": 1.0,
    }
