"""CHGNet hop descriptor: runs the real pretrained CHGNet on a tiny rocksalt band."""

from __future__ import annotations

import numpy as np
import pytest

from hopscreen.models.chgnet_backbone import (
    STRUCTURES,
    ChgnetFeatureConfig,
    feature_names,
    hop_structures,
)
from hopscreen.models.hop_features import extract_hop_features, hop_features
from hopscreen.schemas.structure import Crystal

pytest.importorskip("chgnet")


def tiny_band(host_order: np.ndarray | None = None) -> Crystal:
    """Rocksalt LiF (conventional cell, a = 4.03 Å): Li hops from (0,0,0) to (½,½,0).

    Crystal 0–4 are the ion copies on the straight line, then the host: 2 Li and 4 F.
    """
    li = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    f = li + np.array([0.5, 0, 0])
    start, end = li[0], li[1]
    copies = np.array([start + t * (end - start) for t in (0, 0.25, 0.5, 0.75, 1.0)])
    host_frac = np.vstack([li[2:], np.mod(f, 1.0)])
    host_z = np.array([3, 3, 9, 9, 9, 9])
    if host_order is not None:
        host_frac, host_z = host_frac[host_order], host_z[host_order]
    frac = np.vstack([copies, host_frac])
    numbers = np.r_[[3] * 5, host_z]
    return Crystal(np.eye(3) * 4.03, frac, numbers)


@pytest.fixture(scope="module")
def chgnet_model():
    from hopscreen.models.chgnet_backbone import load_chgnet

    return load_chgnet()


def test_hop_structures_keep_ion_first_and_host_in_order():
    band = tiny_band()
    structures = hop_structures(band)
    assert tuple(structures) == STRUCTURES
    for name, copy in zip(STRUCTURES, (0, 2, 4), strict=True):
        s = structures[name]
        assert len(s) == len(band) - 4
        np.testing.assert_allclose(s.frac_coords[0], band.frac_coords[copy])
        np.testing.assert_array_equal(s.numbers[1:], band.numbers[5:])


def test_hop_structures_reject_mixed_copies():
    band = tiny_band()
    bad = Crystal(band.lattice, band.frac_coords, np.r_[3, 3, 11, 3, 3, band.numbers[5:]])
    with pytest.raises(ValueError, match="copies of one ion"):
        hop_structures(bad)


def test_hop_features_shape_and_determinism(chgnet_model):
    band = tiny_band()
    a = hop_features(band, model=chgnet_model)
    b = hop_features(band, model=chgnet_model)
    names = feature_names(64)
    assert a.shape == (len(names),) == (8 * 64 + 20,)
    assert np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, b)
    col = dict(zip(names, a, strict=True))
    assert col["geo_hop_length_angstrom"] == pytest.approx(4.03 / np.sqrt(2))
    # the ion squeezes between two F at the midpoint: the unrelaxed energy goes up
    assert col["e_dmid_ev"] > 0
    assert col["geo_dmin_mid_angstrom"] < col["geo_dmin_init_angstrom"]


def test_hop_features_invariant_to_host_order(chgnet_model):
    ref = hop_features(tiny_band(), model=chgnet_model)
    perm = np.random.default_rng(0).permutation(6)
    shuffled = hop_features(tiny_band(perm), model=chgnet_model)
    np.testing.assert_allclose(shuffled, ref, rtol=1e-5, atol=1e-5)


def test_extract_hop_features_caches_by_fingerprint(tmp_path, chgnet_model):
    bands = [tiny_band(), tiny_band(np.arange(6)[::-1])]
    first = extract_hop_features(bands, cache_dir=tmp_path, model=chgnet_model)
    assert first.n_cached == 0
    assert first.X.shape == (2, len(first.names))
    second = extract_hop_features(bands, cache_dir=tmp_path, model=None)
    assert second.n_cached == 2
    np.testing.assert_array_equal(second.X, first.X)
    other = extract_hop_features(
        bands[:1],
        cache_dir=tmp_path,
        model=chgnet_model,
        config=ChgnetFeatureConfig(local_width_angstrom=0.3),
    )
    assert other.n_cached == 0
