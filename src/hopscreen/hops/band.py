"""The Model-3 "band": the input representation of the published E_m model.

A band is the initial supercell's lattice and host atoms (the supercell with the working ion
removed at *both* hop endpoints) plus five copies of the migrating ion at t = 0, ¼, ½, ¾, 1 on
the straight line, in fractional coordinates and minimum image, from the initial to the final
site. The five copies come first (indices 0–4), then the host atoms in the order of the initial
structure; copies are not wrapped into [0, 1), as in the published records. The band of a hop
in an n-atom fully occupied supercell therefore has n - 2 + 5 = n + 3 atoms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pymatgen.core import Element, Structure

from hopscreen.hops.supercell import SupercellOptions, supercell_endpoint_crystals
from hopscreen.schemas.structure import N_ION_COPIES, Crystal

if TYPE_CHECKING:
    from hopscreen.hops.hop import Hop

#: Number of ion copies in a band and their path parameters.
BAND_FRACTIONS = np.linspace(0.0, 1.0, N_ION_COPIES)


class BandError(ValueError):
    """Endpoints from which no band can be built (different cells, no moving ion, ...)."""


def _as_atoms(structure: Crystal | Structure) -> Crystal:
    return structure if isinstance(structure, Crystal) else Crystal.from_structure(structure)


def _min_image_frac(delta: np.ndarray) -> np.ndarray:
    """Fractional differences wrapped into [-0.5, 0.5)."""
    return delta - np.round(delta)


def _nearest_distances(frac_a: np.ndarray, frac_b: np.ndarray, lattice: np.ndarray) -> np.ndarray:
    """(len(a),) distance (Å, fractional minimum image) from each point of a to the nearest of b."""
    if len(frac_b) == 0:
        return np.full(len(frac_a), np.inf)
    delta = _min_image_frac(frac_a[:, None, :] - frac_b[None, :, :])
    dist = np.linalg.norm(delta @ lattice, axis=-1)
    return dist.min(axis=1)


def _farthest_from(frac_a: np.ndarray, frac_b: np.ndarray, lattice: np.ndarray) -> int:
    """``argmax`` of :func:`_nearest_distances` (a, b), computed for the points a and b don't share.

    A point of a that is also (bit for bit) a point of b is at distance exactly 0 from b, the
    smallest possible: only the other points can hold the maximum, and the first index is
    returned on ties, as by :func:`numpy.argmax`. The endpoints of a vacancy-mode supercell
    share all their ions but one, which makes the search linear instead of quadratic.
    """
    if not (np.isfinite(frac_a).all() and np.isfinite(frac_b).all()):
        return int(np.argmax(_nearest_distances(frac_a, frac_b, lattice)))
    shared = set(map(tuple, frac_b.tolist()))
    others = np.array([i for i, row in enumerate(frac_a.tolist()) if tuple(row) not in shared])
    if len(others) == 0:
        return 0
    distances = _nearest_distances(frac_a[others], frac_b, lattice)
    best = int(np.argmax(distances))
    return int(others[best]) if distances[best] > 0 else 0


def find_moving_ion(initial: Crystal, final: Crystal, working_ion: str) -> tuple[int, int]:
    """Indices of the migrating ion in ``initial`` and in ``final``.

    The migrating ion is the working ion of ``initial`` farthest from every working ion of
    ``final`` (its site is empty in ``final``), and vice versa. This tolerates different atom
    orders and small relaxations of the other atoms.

    Parameters
    ----------
    initial, final : Crystal
        Vacancy-mode endpoints on the same lattice.
    working_ion : str
        Element symbol of the migrating ion.

    Returns
    -------
    tuple of int
        (index in ``initial``, index in ``final``).

    Raises
    ------
    BandError
        If either endpoint has no working ion or the counts differ.

    """
    z = Element(working_ion).Z
    ion_i = np.flatnonzero(initial.numbers == z)
    ion_f = np.flatnonzero(final.numbers == z)
    if len(ion_i) == 0 or len(ion_i) != len(ion_f):
        raise BandError(
            f"initial has {len(ion_i)} {working_ion} and final {len(ion_f)}: "
            "need the same, non-zero number"
        )
    frac_i, frac_f = initial.frac_coords[ion_i], final.frac_coords[ion_f]
    lattice = initial.lattice
    return (
        int(ion_i[_farthest_from(frac_i, frac_f, lattice)]),
        int(ion_f[_farthest_from(frac_f, frac_i, lattice)]),
    )


def build_band(
    initial: Crystal | Structure,
    final: Crystal | Structure,
    working_ion: str,
    *,
    lattice_tol_angstrom: float = 1e-3,
) -> Crystal:
    """Build the Model-3 band from vacancy-mode endpoints.

    Parameters
    ----------
    initial, final : Crystal or pymatgen.core.Structure
        The supercell with the migrating ion at the initial / final site (and the other site
        empty). Atom orders may differ; other atoms may be slightly relaxed.
    working_ion : str
        Element symbol of the migrating ion.
    lattice_tol_angstrom : float
        Largest allowed difference between the two lattices' vectors, in Å.

    Returns
    -------
    Crystal
        ``len(initial) + 4`` atoms on the initial lattice: five ion copies (t = 0, ¼, ½, ¾, 1)
        first, then the atoms of ``initial`` other than the migrating ion, in their order.

    Raises
    ------
    BandError
        If the lattices or atom counts differ or no working ion is present.

    """
    ini, fin = _as_atoms(initial), _as_atoms(final)
    if len(ini) != len(fin):
        raise BandError(f"initial has {len(ini)} atoms and final {len(fin)}")
    if np.abs(ini.lattice - fin.lattice).max() > lattice_tol_angstrom:
        raise BandError("initial and final endpoints have different lattices")
    i_idx, f_idx = find_moving_ion(ini, fin, working_ion)
    start = ini.frac_coords[i_idx]
    step = _min_image_frac(fin.frac_coords[f_idx] - start)
    copies = start[None, :] + BAND_FRACTIONS[:, None] * step[None, :]
    host = np.delete(np.arange(len(ini)), i_idx)
    return Crystal(
        lattice=ini.lattice,
        frac_coords=np.concatenate([copies, ini.frac_coords[host]]),
        numbers=np.concatenate([np.full(N_ION_COPIES, ini.numbers[i_idx]), ini.numbers[host]]),
    )


def band_from_hop(
    hop: Hop,
    options: SupercellOptions | None = None,
    *,
    length_tol_angstrom: float = 1e-3,
) -> Crystal:
    """Build the band of an enumerated hop in a vacancy-mode supercell.

    Parameters
    ----------
    hop : Hop
        A hop from :func:`~hopscreen.hops.enumerate.enumerate_hops`.
    options : SupercellOptions, optional
        Supercell size.
    length_tol_angstrom : float
        Allowed difference (Å) between the band's end-to-end distance and the hop length.

    Returns
    -------
    Crystal
        The band (n + 3 atoms for an n-atom supercell; ion copies at indices 0–4).

    Raises
    ------
    SupercellError
        If the supercell endpoints have wrong atom counts.
    BandError
        If the straight minimum-image line is not the hop (supercell too small for it).

    """
    endpoints = supercell_endpoint_crystals(hop, options)
    band = build_band(endpoints.initial, endpoints.final, hop.working_ion)
    travelled = float(np.linalg.norm((band.frac_coords[4] - band.frac_coords[0]) @ band.lattice))
    if abs(travelled - hop.length_angstrom) > length_tol_angstrom:
        raise BandError(
            f"band spans {travelled:.3f} Å but the hop is {hop.length_angstrom:.3f} Å long: "
            "the supercell is too small for this hop (raise min_length_angstrom)"
        )
    return band


def endpoints_from_band(band: Crystal) -> tuple[Crystal, Crystal]:
    """Recover the vacancy-mode endpoints from a band.

    Parameters
    ----------
    band : Crystal
        A band (ion copies at indices 0–4, host atoms after).

    Returns
    -------
    tuple of Crystal
        (initial, final): ion copy 0 (resp. 4) followed by the host atoms; ``len(band) - 4``
        atoms each, in the layout of the published ``atoms_ini`` / ``atoms_fin`` records.

    """
    if len(band) < N_ION_COPIES or len(set(band.numbers[:N_ION_COPIES].tolist())) != 1:
        raise BandError("not a band: the first five atoms must be copies of one ion")
    host = slice(N_ION_COPIES, None)
    out = []
    for k in (0, N_ION_COPIES - 1):
        out.append(
            Crystal(
                lattice=band.lattice,
                frac_coords=np.concatenate([band.frac_coords[k : k + 1], band.frac_coords[host]]),
                numbers=np.concatenate([band.numbers[k : k + 1], band.numbers[host]]),
            )
        )
    return out[0], out[1]
