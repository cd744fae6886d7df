"""Periodic geometry helpers: image shifts, neighbour distances and Ewald site potentials.

All functions take fractional coordinates and a (3, 3) lattice with vectors as rows (Å), and
work on the full periodic crystal (every image within the cutoff, not only the minimum image).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erfc

#: e² / (4π ε₀) in eV·Å: converts the Gaussian-unit potential of unit charges to volts.
COULOMB_EV_ANGSTROM = 14.399645
#: Real-space cutoff (Å) and the splitting parameter follows as ``_ALPHA_RC / cutoff``.
EWALD_CUTOFF_ANGSTROM = 9.0
_ALPHA_RC = 3.2  # erfc(3.2) ≈ 6e-6: the real-space tail beyond the cutoff is negligible
_KMAX_ALPHA = 6.4  # exp(-(6.4 α)² / 4α²) = exp(-10.24) ≈ 4e-5 for the last k-vectors


def image_shifts(lattice: np.ndarray, cutoff: float) -> np.ndarray:
    """Integer cell shifts that cover every image within ``cutoff`` of a wrapped displacement.

    For a displacement whose fractional components lie in [−0.5, 0.5], an image n can be
    within ``cutoff`` only if ``|n_i| <= cutoff * |b_i| + 0.5`` (b_i the reciprocal vectors
    without 2π), so the box of shifts below is complete.

    Returns
    -------
    numpy.ndarray
        (m, 3) integer shifts, including (0, 0, 0).
    """
    recip = np.linalg.inv(lattice).T
    reach = np.floor(cutoff * np.linalg.norm(recip, axis=1) + 0.5).astype(int)
    axes = [np.arange(-r, r + 1) for r in reach]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)


def image_displacements(
    points_frac: np.ndarray, sources_frac: np.ndarray, lattice: np.ndarray, cutoff: float
) -> np.ndarray:
    """Cartesian vectors from each point to every periodic image of every source.

    Parameters
    ----------
    points_frac : numpy.ndarray
        (p, 3) fractional coordinates of the points.
    sources_frac : numpy.ndarray
        (n, 3) fractional coordinates of the sources.
    lattice : numpy.ndarray
        (3, 3) lattice vectors as rows, Å.
    cutoff : float
        Every image within this distance (Å) of a point is included (others may be too).

    Returns
    -------
    numpy.ndarray
        (p, n, m, 3) vectors source image − point in Å, m the number of image shifts.
    """
    d = sources_frac[None, :, :] - points_frac[:, None, :]
    d -= np.round(d)
    shifts = image_shifts(lattice, cutoff).astype(float)
    return (d[:, :, None, :] + shifts[None, None, :, :]) @ lattice


def _reciprocal_vectors(lattice: np.ndarray, kmax: float) -> tuple[np.ndarray, np.ndarray]:
    """Half of the k-vectors with 0 < |k| <= kmax (one of each ±k pair).

    Returns
    -------
    m : numpy.ndarray
        (nk, 3) integer coordinates of the k-vectors in the reciprocal basis.
    k : numpy.ndarray
        (nk, 3) Cartesian k-vectors, 1/Å.
    """
    recip = 2.0 * math.pi * np.linalg.inv(lattice).T
    reach = np.ceil(kmax * np.linalg.norm(lattice, axis=1) / (2.0 * math.pi)).astype(int)
    axes = [np.arange(-r, r + 1) for r in reach]
    m = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    # keep one of ±m: the first non-zero component positive
    first = np.where(m[:, 0] != 0, m[:, 0], np.where(m[:, 1] != 0, m[:, 1], m[:, 2]))
    m = m[first > 0]
    k = m @ recip
    within = np.linalg.norm(k, axis=1) <= kmax
    return m[within], k[within]


def _structure_factor(m: np.ndarray, sources_frac: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Σ_j q_j e^{−ik·r_j} for the k-vectors with reciprocal coordinates ``m`` (nk, 3).

    k·r_j = 2π m·f_j, so e^{−ik·r_j} is a product of one phase per axis: the phases are
    tabulated per axis (a few complex exponentials per source), multiplied for each
    (m_0, m_1) pair present, and contracted with the third axis' phases by ``einsum``, not
    by a matrix product: a multi-threaded BLAS call here costs more in thread start-up and
    spinning than it saves.
    """
    if len(m) == 0:
        return np.zeros(0, dtype=complex)
    lo = m.min(axis=0)
    phases = [
        np.exp(-2j * math.pi * np.outer(np.arange(lo[a], m[:, a].max() + 1), sources_frac[:, a]))
        for a in range(3)
    ]  # (n_a, n_sources) each
    i = m - lo
    n1 = len(phases[1])
    pairs, row = np.unique(i[:, 0] * n1 + i[:, 1], return_inverse=True)
    plane = phases[0][pairs // n1] * phases[1][pairs % n1] * q  # (n_pairs, n_sources)
    return np.einsum("aj,bj->ab", plane, phases[2])[row, i[:, 2]]


def ewald_potentials(
    points_frac: np.ndarray,
    sources_frac: np.ndarray,
    charges: np.ndarray,
    lattice: np.ndarray,
    *,
    cutoff: float = EWALD_CUTOFF_ANGSTROM,
) -> np.ndarray:
    """Electrostatic potential (V) of periodic point charges at the given points (Ewald sum).

    φ(r) = k_e [Σ_j Σ_n q_j erfc(α d)/d + (4π/V) Σ_{k≠0} e^{−k²/4α²}/k² Re Σ_j q_j e^{ik·(r−r_j)}
    − π Q/(V α²)], with d = |r − r_j − n|, α = 3.2 / cutoff and k_e = 14.3996 eV·Å/e². A
    non-neutral set of sources (Q ≠ 0) is neutralised by a uniform background, which shifts φ
    by the same constant at every point, so potential *differences* are exact. A source that
    sits on a point contributes only its periodic images (its bare 1/d term is removed), so
    the potential at an ion's own site is its Madelung potential.

    Parameters
    ----------
    points_frac : numpy.ndarray
        (p, 3) fractional coordinates where φ is wanted.
    sources_frac : numpy.ndarray
        (n, 3) fractional coordinates of the charges.
    charges : numpy.ndarray
        (n,) charges in e.
    lattice : numpy.ndarray
        (3, 3) lattice vectors as rows, Å.
    cutoff : float
        Real-space cutoff (Å); the result does not depend on it beyond ~1e-5 relative.

    Returns
    -------
    numpy.ndarray
        (p,) potentials in V (eV per unit positive charge).
    """
    points_frac = np.atleast_2d(np.asarray(points_frac, dtype=float))
    sources_frac = np.asarray(sources_frac, dtype=float).reshape(-1, 3)
    q = np.asarray(charges, dtype=float)
    alpha = _ALPHA_RC / cutoff
    volume = abs(float(np.linalg.det(lattice)))

    vec = image_displacements(points_frac, sources_frac, lattice, cutoff)
    d = np.linalg.norm(vec, axis=-1)
    on_site = d < 1e-8
    near = (d <= cutoff) & ~on_site  # erfc only where it counts (~10 % of the images)
    kernel = np.zeros_like(d)
    kernel[near] = erfc(alpha * d[near]) / d[near]
    kernel[on_site] = -2.0 * alpha / math.sqrt(math.pi)
    real = np.einsum("pnm,n->p", kernel, q)

    m, k = _reciprocal_vectors(lattice, _KMAX_ALPHA * alpha)
    k2 = np.einsum("ij,ij->i", k, k)
    weight = 2.0 * np.exp(-k2 / (4.0 * alpha**2)) / k2  # factor 2: the ±k pair
    pts_cart = points_frac @ lattice
    structure = _structure_factor(m, sources_frac, q)  # (nk,) Σ_j q_j e^{-ik·r_j}
    phase = np.exp(1j * (pts_cart @ k.T))  # (p, nk)
    recip = (4.0 * math.pi / volume) * np.real(phase @ (weight * structure))

    background = -math.pi * q.sum() / (volume * alpha**2)
    return COULOMB_EV_ANGSTROM * (real + recip + background)
