"""Physics descriptors of one hop, read from its Model-3 band, for the classical baselines.

A band holds the five copies of the migrating ion at t = 0, ¼, ½, ¾, 1 (atoms 0–4: the path)
and then the host supercell with both the initial and the final site empty (atoms 5 onward).
Every descriptor below is a float; names carry their unit. All distances are periodic (every
image, not only the minimum image), so the values do not depend on the choice of origin, on
the order of the host atoms or on the cell's periodic wrapping.

Electrostatics (sources: host atoms with the nominal charges of
:func:`hopscreen.features.charges.nominal_charges`; Ewald sum in
:func:`hopscreen.features.ewald.ewald_potentials`; φ in V, the ion does not see itself)

``es_dphi_t25_v``, ``es_dphi_t50_v``, ``es_dphi_t75_v``, ``es_dphi_t100_v``
    φ(t) − φ(0): site-potential change along the path.
``es_dphi_mid_v``
    φ(½) − ½[φ(0) + φ(1)]: midpoint relative to the mean of the endpoints.
``es_dphi_max_v``
    max over the 5 points of φ(t) − ½[φ(0) + φ(1)].
``es_barrier_ev``
    q_ion · (max_t φ(t) − φ(0)): electrostatic energy rise along the path, eV.
``es_mid_ev``
    q_ion · ``es_dphi_mid_v``, eV.
``oxi_residual_e_per_atom``
    Net charge per host atom left when the charge rules could not balance the cell (0 mostly).

Geometry (``tXX`` = path point t = 0, 0.25, 0.5, 0.75, 1; neighbours are host atoms)

``hop_length_angstrom``
    Length of the path (sum of the four minimum-image segments between the copies).
``dmin_tXX_angstrom``, ``dmean3_tXX_angstrom``
    Shortest distance, and mean of the 3 shortest distances, from the ion copy to host atoms:
    the bottleneck at t = ¼, ½, ¾ and the site size at the endpoints.
``dmin_anion_tXX_angstrom``, ``dmin_cation_tXX_angstrom``
    Shortest distance to a host anion (negative nominal charge) / cation (positive), for
    t = 0, ½, 1; cations include the other working-ion atoms.
``dmin_ion_t50_angstrom``
    Shortest distance from the midpoint to another working-ion atom of the host, capped at
    6 Å (the value of a host without any within 6 Å, e.g. an empty, charged framework).
``bottleneck_ratio``
    ``dmin_anion_t50`` / mean(``dmin_anion_t0``, ``dmin_anion_t100``): < 1 when the ion
    squeezes through a window narrower than its sites.
``cn_all_2p6_tXX``, ``cn_all_3p0_tXX``, ``cn_anion_3p0_tXX``
    Host atoms within 2.6 Å / 3.0 Å, and anions within 3.0 Å, of the copy at t = 0, ½, 1.

Ion (pymatgen element data)

``ion_charge``
    Nominal charge (+1 alkali, +2 Mg/Ca/Zn/Sr, +3 Al).
``ion_radius_angstrom``
    pymatgen ``Element.ionic_radii`` at the nominal charge (NaN when missing).
``ion_electronegativity``, ``ion_mass_amu``
    Pauling electronegativity, atomic mass.

Host composition (over the host atoms, atom-weighted)

``host_x_mean``, ``host_x_max``, ``host_x_min``
    Pauling electronegativity statistics.
``host_radius_mean_angstrom``
    Mean atomic radius (pymatgen ``Element.atomic_radius``).
``frac_anion``
    Fraction of host atoms with a negative nominal charge.
``frac_O``, ``frac_S``, ``frac_Se``, ``frac_F``, ``frac_N``, ``frac_halide``
    Fractions of host atoms that are O, S, Se, F, N and Cl/Br/I (element counts, whatever
    their charge).
``tm_oxidation``
    Average oxidation state of the charge-balancing (redox-active) cations; 0 when none.
``ion_content``
    Working-ion atoms of the initial endpoint (host ions + the migrating one) per framework
    atom: small for a charged (empty) host, large for a discharged one.
``volume_per_atom_angstrom3``, ``density_g_cm3``
    Of the initial endpoint (host + one ion).
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Sequence
from functools import cache

import numpy as np
from pymatgen.core import Element

from hopscreen.data.em_dataset import working_ion
from hopscreen.features.charges import ion_charge, nominal_charges
from hopscreen.features.ewald import ewald_potentials, image_displacements
from hopscreen.schemas.structure import N_ION_COPIES, SYMBOL_TO_Z, Crystal

_T_LABELS = ("t0", "t25", "t50", "t75", "t100")
_NEIGHBOUR_CUTOFF_ANGSTROM = 6.0
_AMU_PER_A3_TO_G_CM3 = 1.66053907
_HALIDES = ("Cl", "Br", "I")


def _column_names() -> list[str]:
    names = [f"es_dphi_{t}_v" for t in _T_LABELS[1:]]
    names += ["es_dphi_mid_v", "es_dphi_max_v", "es_barrier_ev", "es_mid_ev"]
    names += ["oxi_residual_e_per_atom", "hop_length_angstrom"]
    for t in _T_LABELS:
        names += [f"dmin_{t}_angstrom", f"dmean3_{t}_angstrom"]
    for t in ("t0", "t50", "t100"):
        names += [f"dmin_anion_{t}_angstrom", f"dmin_cation_{t}_angstrom"]
    names += ["dmin_ion_t50_angstrom", "bottleneck_ratio"]
    for t in ("t0", "t50", "t100"):
        names += [f"cn_all_2p6_{t}", f"cn_all_3p0_{t}", f"cn_anion_3p0_{t}"]
    names += ["ion_charge", "ion_radius_angstrom", "ion_electronegativity", "ion_mass_amu"]
    names += ["host_x_mean", "host_x_max", "host_x_min", "host_radius_mean_angstrom"]
    names += ["frac_anion", "frac_O", "frac_S", "frac_Se", "frac_F", "frac_N", "frac_halide"]
    names += ["tm_oxidation", "ion_content", "volume_per_atom_angstrom3", "density_g_cm3"]
    return names


#: The fixed column order of :func:`descriptor_matrix` (and the keys of :func:`hop_descriptors`).
DESCRIPTOR_NAMES: tuple[str, ...] = tuple(_column_names())


@cache
def _element_table() -> dict[str, np.ndarray]:
    """Per-Z arrays (index = atomic number) of electronegativity, atomic radius and mass."""
    n = max(SYMBOL_TO_Z.values()) + 1
    table = {key: np.full(n, np.nan) for key in ("x", "radius", "mass")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen warns for elements without a value
        for symbol, z in SYMBOL_TO_Z.items():
            el = Element(symbol)
            table["x"][z] = float(el.X) if el.X == el.X else np.nan
            table["radius"][z] = float(el.atomic_radius) if el.atomic_radius else np.nan
            table["mass"][z] = float(el.atomic_mass)
    return table


@cache
def _ion_properties(ion: str) -> tuple[float, float, float, float]:
    q = ion_charge(ion)
    el = Element(ion)
    radius = el.ionic_radii.get(q)
    return (
        float(q),
        float(radius) if radius is not None else math.nan,
        float(el.X),
        float(el.atomic_mass),
    )


def _infer_ion(band: Crystal) -> str:
    return working_ion(band)


def _nearest(dist: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per point, the shortest distance among the host atoms selected by ``mask``."""
    if not mask.any():
        return np.full(dist.shape[0], np.nan)
    d = dist[:, mask, :].reshape(dist.shape[0], -1).min(axis=1)
    return np.where(np.isfinite(d), d, np.nan)


def _geometry(band: Crystal, host_charges: np.ndarray, ion_z: int) -> dict[str, float]:
    path = band.frac_coords[:N_ION_COPIES]
    host = band.frac_coords[N_ION_COPIES:]
    lattice = band.lattice
    seg = np.diff(path, axis=0)
    seg -= np.round(seg)
    out = {"hop_length_angstrom": float(np.linalg.norm(seg @ lattice, axis=1).sum())}

    vec = image_displacements(path, host, lattice, _NEIGHBOUR_CUTOFF_ANGSTROM)
    dist = np.linalg.norm(vec, axis=-1)  # (5, n_host, n_images)
    dist[dist > _NEIGHBOUR_CUTOFF_ANGSTROM] = np.inf
    flat = np.sort(dist.reshape(N_ION_COPIES, -1), axis=1)
    with np.errstate(invalid="ignore"):
        for i, t in enumerate(_T_LABELS):
            nearest = flat[i, :3]
            out[f"dmin_{t}_angstrom"] = float(nearest[0]) if np.isfinite(nearest[0]) else math.nan
            out[f"dmean3_{t}_angstrom"] = (
                float(nearest.mean()) if np.isfinite(nearest).all() else math.nan
            )
    anion, cation = host_charges < 0, host_charges > 0
    host_z = band.numbers[N_ION_COPIES:]
    d_anion, d_cation = _nearest(dist, anion), _nearest(dist, cation)
    for i, t in ((0, "t0"), (2, "t50"), (4, "t100")):
        out[f"dmin_anion_{t}_angstrom"] = float(d_anion[i])
        out[f"dmin_cation_{t}_angstrom"] = float(d_cation[i])
    d_ion = _nearest(dist, host_z == ion_z)[2]
    out["dmin_ion_t50_angstrom"] = (
        float(d_ion) if np.isfinite(d_ion) else _NEIGHBOUR_CUTOFF_ANGSTROM
    )
    end_mean = 0.5 * (d_anion[0] + d_anion[4])
    out["bottleneck_ratio"] = float(d_anion[2] / end_mean) if end_mean > 0 else math.nan
    for i, t in ((0, "t0"), (2, "t50"), (4, "t100")):
        out[f"cn_all_2p6_{t}"] = float((dist[i] <= 2.6).sum())
        out[f"cn_all_3p0_{t}"] = float((dist[i] <= 3.0).sum())
        out[f"cn_anion_3p0_{t}"] = float((dist[i][anion] <= 3.0).sum())
    return out


def _electrostatics(band: Crystal, host_charges: np.ndarray, q_ion: float) -> dict[str, float]:
    phi = ewald_potentials(
        band.frac_coords[:N_ION_COPIES], band.frac_coords[N_ION_COPIES:], host_charges, band.lattice
    )
    rel = phi - phi[0]
    ends = 0.5 * (phi[0] + phi[-1])
    out = {f"es_dphi_{t}_v": float(rel[i]) for i, t in enumerate(_T_LABELS) if i > 0}
    out["es_dphi_mid_v"] = float(phi[2] - ends)
    out["es_dphi_max_v"] = float(phi.max() - ends)
    out["es_barrier_ev"] = float(q_ion * rel.max())
    out["es_mid_ev"] = float(q_ion * (phi[2] - ends))
    return out


def _composition(band: Crystal, host_charges: np.ndarray, ion_z: int) -> dict[str, float]:
    table = _element_table()
    host_z = band.numbers[N_ION_COPIES:]
    x = table["x"][host_z]
    n_host = len(host_z)
    out = {
        "host_x_mean": float(np.nanmean(x)),
        "host_x_max": float(np.nanmax(x)),
        "host_x_min": float(np.nanmin(x)),
        "host_radius_mean_angstrom": float(np.nanmean(table["radius"][host_z])),
        "frac_anion": float((host_charges < 0).mean()),
    }
    for el in ("O", "S", "Se", "F", "N"):
        out[f"frac_{el}"] = float((host_z == SYMBOL_TO_Z[el]).mean())
    out["frac_halide"] = float(np.isin(host_z, [SYMBOL_TO_Z[h] for h in _HALIDES]).mean())
    n_ion = int((host_z == ion_z).sum()) + 1
    n_framework = n_host + 1 - n_ion
    out["ion_content"] = n_ion / n_framework if n_framework else math.nan
    volume = abs(float(np.linalg.det(band.lattice)))
    mass = float(table["mass"][host_z].sum() + table["mass"][ion_z])
    out["volume_per_atom_angstrom3"] = volume / (n_host + 1)
    out["density_g_cm3"] = mass * _AMU_PER_A3_TO_G_CM3 / volume
    return out


def hop_descriptors(band: Crystal, ion: str | None = None) -> dict[str, float]:
    """Physics descriptors of the hop in a Model-3 band (documented in the module docstring).

    Parameters
    ----------
    band : Crystal
        Five copies of the migrating ion (atoms 0–4, t = 0 … 1), then the host atoms.
    ion : str, optional
        Element of the migrating ion; read from atoms 0–4 when omitted.

    Returns
    -------
    dict of str to float
        One value per name of :data:`DESCRIPTOR_NAMES`, in that order. NaN marks a value that
        cannot be computed for this hop (e.g. no host atom within 6 Å of a path point).
    """
    if len(band) <= N_ION_COPIES:
        raise ValueError(f"a band needs more than {N_ION_COPIES} atoms, got {len(band)}")
    ion = ion or _infer_ion(band)
    ion_z = SYMBOL_TO_Z[ion]
    host_z = band.numbers[N_ION_COPIES:]
    assignment = nominal_charges(host_z, ion)
    charges = assignment.charges
    q_ion, radius, x_ion, mass_ion = _ion_properties(ion)

    values: dict[str, float] = {}
    values.update(_electrostatics(band, charges, q_ion))
    values["oxi_residual_e_per_atom"] = assignment.residual_e / len(host_z)
    values.update(_geometry(band, charges, ion_z))
    values.update(
        {
            "ion_charge": q_ion,
            "ion_radius_angstrom": radius,
            "ion_electronegativity": x_ion,
            "ion_mass_amu": mass_ion,
        }
    )
    values.update(_composition(band, charges, ion_z))
    values["tm_oxidation"] = assignment.balancing_charge
    return {name: float(values[name]) for name in DESCRIPTOR_NAMES}


def descriptor_matrix(
    bands: Sequence[Crystal],
    ions: Sequence[str] | None = None,
    *,
    progress: bool = False,
) -> tuple[np.ndarray, list[str]]:
    """Descriptors of many hops as a matrix with a fixed column order.

    Parameters
    ----------
    bands : sequence of Crystal
        Model-3 bands (see :func:`hop_descriptors`).
    ions : sequence of str, optional
        Working ion of each band; read from the bands when omitted.
    progress : bool
        Print a progress line every 50 hops (to stderr).

    Returns
    -------
    X : numpy.ndarray
        (n_hops, n_descriptors) float64, NaN where a descriptor does not exist.
    names : list of str
        Column names, :data:`DESCRIPTOR_NAMES` (the same for every call).
    """
    if ions is not None and len(ions) != len(bands):
        raise ValueError(f"{len(bands)} bands but {len(ions)} ions")
    rows = np.empty((len(bands), len(DESCRIPTOR_NAMES)))
    for i, band in enumerate(bands):
        d = hop_descriptors(band, None if ions is None else ions[i])
        rows[i] = [d[name] for name in DESCRIPTOR_NAMES]
        if progress and ((i + 1) % 50 == 0 or i + 1 == len(bands)):
            print(f"descriptors: {i + 1}/{len(bands)} hops", file=sys.stderr)
    return rows, list(DESCRIPTOR_NAMES)
