from __future__ import annotations

import math

import numpy as np
import pytest

from hopscreen.features.bvse import (
    BVSE_NAMES,
    BvseSettings,
    _energies,
    _framework,
    _near_field,
    _path_ends,
    _tube,
    _tube_energies,
    bvse_descriptors,
    bvse_profile,
)
from hopscreen.schemas.structure import SYMBOL_TO_Z, Crystal

A = 4.03  # LiF rock-salt conventional edge, Å


def lif_band(anion: str = "F", ion: str = "Li", shift: float = 0.0) -> Crystal:
    """A 2x2x2 rock-salt supercell with a hop between two neighbouring cation sites."""
    fcc = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    cells = np.array([[i, j, k] for i in range(2) for j in range(2) for k in range(2)])
    cations = ((fcc[None] + cells[:, None]).reshape(-1, 3)) / 2
    anions = ((fcc[None] + [0.5, 0, 0] + cells[:, None]).reshape(-1, 3)) / 2
    start, end = cations[0], cations[1]
    copies = np.array([start + t * (end - start) for t in np.linspace(0, 1, 5)])
    host = np.vstack([cations[2:], anions])
    frac = (np.vstack([copies, host]) + shift) % 1.0
    numbers = [SYMBOL_TO_Z[ion]] * 5 + [SYMBOL_TO_Z[ion]] * 30 + [SYMBOL_TO_Z[anion]] * 32
    return Crystal(np.eye(3) * 2 * A, frac, numbers)


def test_symmetric_hop_has_a_centred_saddle_and_no_asymmetry() -> None:
    d = bvse_descriptors(lif_band(), "Li")
    assert list(d) == list(BVSE_NAMES)
    assert d["bvse_ok"] == 1.0
    assert 0.05 < d["bvse_barrier_ev"] < 5.0
    assert d["bvse_asym_ev"] < 0.05
    assert d["bvse_saddle_frac"] == pytest.approx(0.5, abs=0.15)
    # the minimax path never climbs higher than the straight segment it may follow
    assert d["bvse_barrier_ev"] <= d["bvse_line_barrier_ev"] + 1e-9
    assert d["bvse_tortuosity"] >= 0.9


def test_descriptors_do_not_depend_on_the_origin_or_host_order() -> None:
    band = lif_band()
    moved = lif_band(shift=0.137)
    order = np.concatenate([np.arange(5), 5 + np.random.default_rng(0).permutation(len(band) - 5)])
    shuffled = Crystal(band.lattice, band.frac_coords[order], band.numbers[order])
    ref = bvse_descriptors(band, "Li")
    for other in (moved, shuffled):
        got = bvse_descriptors(other, "Li")
        for name in BVSE_NAMES:
            # energies are exact; the route between two symmetric, equally good detours may
            # differ by a grid step, which moves the saddle position a little
            tol = 0.1 if name in ("bvse_saddle_frac", "bvse_tortuosity") else 1e-6
            assert got[name] == pytest.approx(ref[name], abs=tol), name


def _bvlain_for(band):
    """bvlain's ``Lain`` on the host of ``band`` (ion copies removed), nominal charges set."""
    from ase import Atoms
    from bvlain import Lain

    from hopscreen.features.charges import nominal_charges

    host_z = band.numbers[5:]
    atoms = Atoms(numbers=host_z, scaled_positions=band.frac_coords[5:], cell=band.lattice)
    atoms.pbc = True
    atoms.set_array("oxi_states", nominal_charges(host_z, "Li").charges.astype(float))
    lain = Lain(verbose=False)
    lain.atoms_copy, lain.cell = atoms, atoms.cell
    return lain


def test_energies_match_bvlains_own_grid() -> None:
    band = lif_band()
    lain = _bvlain_for(band)
    grid = lain.bvse_distribution(mobile_ion="Li1+", r_cut=5.0, resolution=0.8, k=400)
    settings = BvseSettings(r_cut_angstrom=5.0)
    centre = band.lattice.sum(axis=0) / 2
    field = _near_field(band, "Li", centre, reach=30.0)
    ours = _energies(lain.sites, field, settings)
    finite = np.isfinite(grid.ravel())
    assert finite.mean() > 0.99
    np.testing.assert_allclose(ours[finite], grid.ravel()[finite], rtol=1e-6, atol=1e-6)


def test_unphysical_bvlain_parameters_give_nan_not_a_number() -> None:
    # bvlain 0.25.1 has a negative Morse alpha for Mg-Se: no profile, flagged
    d = bvse_descriptors(lif_band(anion="Se", ion="Mg"), "Mg")
    assert d["bvse_ok"] == 0.0
    assert all(math.isnan(d[n]) for n in BVSE_NAMES if n != "bvse_ok")


def test_profile_runs_along_the_path_from_site_to_site() -> None:
    prof = bvse_profile(lif_band(), "Li")
    path, arc = np.asarray(prof["path_ev"]), np.asarray(prof["path_angstrom"])
    assert path[0] == pytest.approx(prof["e_a_ev"])
    assert path[-1] == pytest.approx(prof["e_b_ev"])
    assert np.all(np.diff(arc) > 0)
    assert prof["length_angstrom"] == pytest.approx(A / math.sqrt(2), rel=1e-6)


def test_coincident_endpoints_are_refused() -> None:
    band = lif_band()
    frac = band.frac_coords.copy()
    frac[:5] = frac[0]
    with pytest.raises(ValueError, match="coincide"):
        bvse_profile(Crystal(band.lattice, frac, band.numbers), "Li")


def olivine_like_band() -> Crystal:
    """A small triclinic Li-Fe-P-O band: Morse (O) and Coulomb (Fe, P) species, Li removed."""
    rng = np.random.default_rng(7)
    lattice = np.array([[6.1, 0.0, 0.0], [0.8, 5.7, 0.0], [-0.5, 0.6, 6.4]])
    start, end = np.array([0.2, 0.3, 0.25]), np.array([0.55, 0.45, 0.3])
    copies = [start + t * (end - start) for t in np.linspace(0, 1, 5)]
    host = rng.random((14, 3))
    symbols = ["Li"] * 2 + ["Fe"] * 2 + ["P"] * 2 + ["O"] * 8
    numbers = [SYMBOL_TO_Z["Li"]] * 5 + [SYMBOL_TO_Z[s] for s in symbols]
    return Crystal(lattice, np.vstack([copies, host]), numbers)


def test_tube_energies_equal_a_plain_sum_over_every_atom_and_point() -> None:
    from bvlain.potentials import BVSEPotential as pot

    band, s = olivine_like_band(), BvseSettings()
    start, end = _path_ends(band)
    tube = _tube(start, end, s)
    field = _near_field(band, "Li", (start + end) / 2, reach=20.0)
    p = field.params
    kinds = {p.q[k] * p.q_ion < 0 for k in set(field.species.tolist())}
    assert kinds == {True, False}  # both pair terms are exercised
    fast = _tube_energies(tube, field, s)
    # reference: every point against every atom, per-atom parameters, the two bvlain terms
    pts = tube.points[tube.inside]
    r = np.linalg.norm(pts[:, None, :] - field.positions[None, :, :], axis=-1)
    r = np.maximum(r, 1e-3)
    sp = field.species
    counter, like = p.q[sp] * p.q_ion < 0, p.q[sp] * p.q_ion > 0
    morse = pot.Morse(r, p.r_min[sp], p.d0[sp], p.alpha[sp])
    coulomb = pot.Coulomb(r, p.q_ion, p.q[sp], p.r_c_ion, p.r_c[sp], p.n_ion, p.n[sp], f=0.74)
    pair = np.where(counter, morse, 0.0) + np.where(like, coulomb, 0.0)
    plain = np.where(r <= s.r_cut_angstrom, pair, 0.0).sum(axis=1)
    assert len(fast) == len(pts)
    np.testing.assert_allclose(fast, plain, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_energies(pts, field, s), plain, rtol=1e-12, atol=1e-12)


def test_species_parameters_equal_bvlains_per_atom_lookup() -> None:
    band = olivine_like_band()
    lain = _bvlain_for(band)
    lain._get_params(mobile_ion="Li1+")
    frac, species, params = _framework(band, "Li")
    np.testing.assert_allclose(frac, lain.atoms.get_scaled_positions(wrap=False), atol=1e-12)
    for name in ("r_min", "alpha", "d0", "r_c", "n"):
        np.testing.assert_array_equal(getattr(params, name)[species], lain.atoms.get_array(name))
    np.testing.assert_array_equal(params.q[species], lain.atoms.get_array("oxi_states"))
    assert (params.q_ion, params.n_ion) == (lain.q_mi, lain.n_mi)
