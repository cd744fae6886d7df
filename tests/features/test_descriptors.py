from __future__ import annotations

import math

import numpy as np
import pytest
from tests.model_fixtures import rocksalt, tiny_band

from hopscreen.features.charges import ion_charge, nominal_charges
from hopscreen.features.descriptors import DESCRIPTOR_NAMES, descriptor_matrix, hop_descriptors
from hopscreen.features.ewald import COULOMB_EV_ANGSTROM, ewald_potentials
from hopscreen.schemas.structure import SYMBOL_TO_Z, Crystal

A = 8.0  # cubic cell edge of the hand-built bands, Å


def straight_band(host: list[tuple[str, tuple[float, float, float]]], ion: str = "Li") -> Crystal:
    """Ion path from (0.25, 0.5, 0.5) to (0.75, 0.5, 0.5) in an 8 Å cube: a 4 Å hop."""
    start, end = np.array([0.25, 0.5, 0.5]), np.array([0.75, 0.5, 0.5])
    path = [start + t * (end - start) for t in np.linspace(0.0, 1.0, 5)]
    frac = np.array(path + [np.array(x) for _, x in host])
    numbers = [SYMBOL_TO_Z[ion]] * 5 + [SYMBOL_TO_Z[el] for el, _ in host]
    return Crystal(np.eye(3) * A, frac, numbers)


def z(symbol: str) -> int:
    return SYMBOL_TO_Z[symbol]


def test_ewald_reproduces_the_rocksalt_madelung_constant() -> None:
    cell = rocksalt(a=4.2)
    charges = np.array([1.0] * 4 + [-1.0] * 4)
    phi = ewald_potentials(cell.frac_coords[:1], cell.frac_coords, charges, cell.lattice)
    expected = -1.747565 * COULOMB_EV_ANGSTROM / 2.1
    assert phi[0] == pytest.approx(expected, rel=1e-4)


def test_ewald_does_not_depend_on_the_cutoff_even_for_a_charged_cell() -> None:
    rng = np.random.default_rng(1)
    lattice = np.array([[5.0, 0.0, 0.0], [1.0, 5.5, 0.0], [0.5, 0.7, 6.0]])
    sources, charges = rng.random((7, 3)), rng.normal(size=7)  # net charge != 0
    points = rng.random((4, 3))
    ref = ewald_potentials(points, sources, charges, lattice, cutoff=9.0)
    for cutoff in (6.0, 12.0):
        got = ewald_potentials(points, sources, charges, lattice, cutoff=cutoff)
        np.testing.assert_allclose(got - got[0], ref - ref[0], atol=2e-3)


def test_ewald_supercell_gives_the_same_potential() -> None:
    rng = np.random.default_rng(2)
    lattice = np.array([[5.0, 0.0, 0.0], [1.0, 5.5, 0.0], [0.5, 0.7, 6.0]])
    frac, q = rng.random((6, 3)), rng.normal(size=6)
    q -= q.mean()
    points = rng.random((3, 3))
    small = ewald_potentials(points, frac, q, lattice)
    sc_frac = np.vstack([(frac + [i, j, 0]) / [2, 2, 1] for i in (0, 1) for j in (0, 1)])
    big = ewald_potentials(
        points / [2, 2, 1], sc_frac, np.tile(q, 4), lattice * np.array([[2], [2], [1]])
    )
    np.testing.assert_allclose(big, small, atol=1e-6)


@pytest.mark.parametrize(
    ("symbols", "ion", "expected"),
    [
        (["Li", "Fe", "P", "O", "O", "O", "O"], "Li", {"Fe": 2.0, "P": 5.0, "O": -2.0}),
        (["Li", "Li", "Li", "P", "S", "S", "S", "S"], "Li", {"P": 5.0, "S": -2.0}),
        (["Na", "Na", "S", "O", "O", "O", "O"], "Na", {"S": 6.0, "O": -2.0}),
        (["Ca", "Fe", "S", "O"], "Ca", {"S": -2.0, "O": -2.0, "Fe": 2.0}),  # oxysulfide
        (["Fe", "C", "C", "C", "C", "C", "C", "N", "N", "N", "N", "N", "N"], "K", {"C": 2.0}),
    ],
)
def test_nominal_charges_follow_the_rules(
    symbols: list[str], ion: str, expected: dict[str, float]
) -> None:
    numbers = [z(s) for s in symbols]
    result = nominal_charges(numbers, ion, extra_ion=False)
    for el, q in expected.items():
        assert set(result.charges[np.array(numbers) == z(el)]) == {q}
    assert result.charges.sum() == pytest.approx(0.0, abs=1e-9)
    assert result.residual_e == 0.0


def test_nominal_charges_balance_the_endpoint_with_the_migrating_ion() -> None:
    # Co16O32 + one Ca: Co must average +3.875 for the endpoint to be neutral
    numbers = [z("Co")] * 16 + [z("O")] * 32
    result = nominal_charges(numbers, "Ca")
    assert result.balancing_charge == pytest.approx(3.875)
    assert result.charges.sum() + ion_charge("Ca") == pytest.approx(0.0)
    assert result.residual_e == 0.0


def test_nominal_charges_report_what_they_cannot_balance() -> None:
    result = nominal_charges([z("Mg"), z("F")], "Li")  # Li + Mg + F: +2 left over
    assert result.residual_e == pytest.approx(2.0)
    assert result.balancing_charge == 0.0
    # too many fixed cations: Mn would need -6; it is clipped to 0 and the rest reported
    clipped = nominal_charges([z("Mn")] + [z("P")] * 2 + [z("O")] * 2, "Li", extra_ion=False)
    assert clipped.balancing_charge == 0.0
    assert clipped.residual_e == pytest.approx(6.0)


def test_known_bottleneck_distances_and_coordination() -> None:
    host = [
        ("O", (0.5, 0.25, 0.5)),  # 2.0 Å from the midpoint
        ("O", (0.5, 0.75, 0.5)),  # 2.0 Å
        ("O", (0.5, 0.5, 0.8125)),  # 2.5 Å
        ("Mn", (0.0, 0.0, 0.0)),  # 6.9 Å from the midpoint
    ]
    d = hop_descriptors(straight_band(host))
    assert d["hop_length_angstrom"] == pytest.approx(4.0)
    assert d["dmin_t50_angstrom"] == pytest.approx(2.0)
    assert d["dmean3_t50_angstrom"] == pytest.approx((2.0 + 2.0 + 2.5) / 3)
    assert d["dmin_anion_t50_angstrom"] == pytest.approx(2.0)
    assert d["cn_all_2p6_t50"] == 3
    assert d["cn_all_2p6_t0"] == 0  # from an endpoint the two side O are at sqrt(8) = 2.83 Å
    assert d["cn_all_3p0_t0"] == 2
    assert d["cn_anion_3p0_t50"] == 3
    assert d["ion_charge"] == 1
    assert d["frac_O"] == pytest.approx(0.75)
    assert d["tm_oxidation"] == pytest.approx(5.0)  # Li + Mn + 3 O^2-
    assert d["dmin_ion_t50_angstrom"] == pytest.approx(6.0)  # no other Li: capped


def test_coulomb_sign_follows_the_charges_near_the_midpoint() -> None:
    near_mid = [(0.5, 0.25, 0.5), (0.5, 0.75, 0.5)]
    near_ends = [(0.0, 0.5, 0.5)]  # 2 Å from both endpoints (periodic)
    anions_mid = straight_band([("F", x) for x in near_mid] + [("Mg", x) for x in near_ends])
    cations_mid = straight_band([("Mg", x) for x in near_mid] + [("F", x) for x in near_ends])
    low, high = hop_descriptors(anions_mid), hop_descriptors(cations_mid)
    assert low["es_dphi_mid_v"] < -0.5
    assert high["es_dphi_mid_v"] > 0.5
    assert high["es_barrier_ev"] > 0.5
    # symmetric path: both endpoints sit at the same potential
    assert low["es_dphi_t100_v"] == pytest.approx(0.0, abs=1e-6)


def test_descriptors_do_not_depend_on_host_order_or_origin() -> None:
    band = tiny_band(3, ion=z("Na"))
    ref = hop_descriptors(band)
    rng = np.random.default_rng(0)
    order = np.r_[np.arange(5), 5 + rng.permutation(len(band) - 5)]
    shuffled = Crystal(band.lattice, band.frac_coords[order], band.numbers[order])
    shifted = Crystal(band.lattice, (band.frac_coords + [0.37, -0.21, 0.6]) % 1.0, band.numbers)
    for other in (shuffled, shifted):
        got = hop_descriptors(other)
        for name in DESCRIPTOR_NAMES:
            assert got[name] == pytest.approx(ref[name], rel=1e-6, abs=1e-6, nan_ok=True), name


def test_descriptor_matrix_has_fixed_columns() -> None:
    bands = [tiny_band(s) for s in range(3)]
    X, names = descriptor_matrix(bands)
    assert names == list(DESCRIPTOR_NAMES)
    assert X.shape == (3, len(DESCRIPTOR_NAMES))
    assert len(set(names)) == len(names)
    assert np.isfinite(X).all()
    X2, _ = descriptor_matrix(bands, ["Li", "Li", "Li"])
    np.testing.assert_array_equal(X, X2)
    with pytest.raises(ValueError, match="ions"):
        descriptor_matrix(bands, ["Li"])


def test_descriptors_of_published_hops_are_finite(data_dir) -> None:
    from hopscreen.data.em_dataset import load_em_dataset

    records = load_em_dataset(data_dir, splits=("test",))[:12]
    X, names = descriptor_matrix([r.band for r in records], [r.working_ion for r in records])
    bad = {n for n, ok in zip(names, np.isfinite(X).all(axis=0), strict=True) if not ok}
    assert not bad
    assert (X[:, names.index("hop_length_angstrom")] > 1.0).all()
    # endpoint sites are physical; a straight path may graze an atom (0.8 Å in test-0001)
    assert (X[:, names.index("dmin_t0_angstrom")] > 1.3).all()
    assert (X[:, names.index("dmin_t50_angstrom")] > 0.5).all()
    assert not math.isnan(X[:, names.index("es_barrier_ev")].sum())
