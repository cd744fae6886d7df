from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Structure

from hopscreen.hops import (
    SupercellOptions,
    band_from_hop,
    endpoints_from_band,
    enumerate_hops,
    idpp_images,
    supercell_endpoints,
)

SMALL = SupercellOptions(min_atoms=10, max_atoms=40, min_length_angstrom=5.0)


@pytest.fixture(scope="module")
def small_endpoints(layered):
    hop = enumerate_hops(layered, "Li")[0]
    return endpoints_from_band(band_from_hop(hop, SMALL))


@pytest.mark.parametrize("n_images", [3, 5])
def test_idpp_count_and_endpoints(small_endpoints, n_images):
    initial, final = small_endpoints
    images = idpp_images(initial, final, n_images=n_images, maxiter=200)
    assert len(images) == n_images
    assert np.allclose(images[0].frac_coords, initial.frac_coords)
    assert np.allclose(images[-1].frac_coords, final.frac_coords)
    # the migrating ion (index 0) moves monotonically from one end to the other
    lattice = images[0].lattice
    start, end = images[0][0].frac_coords, images[-1][0].frac_coords
    d = [lattice.get_distance_and_image(start, im[0].frac_coords)[0] for im in images]
    assert d == sorted(d)
    assert d[-1] == pytest.approx(lattice.get_distance_and_image(start, end)[0])


def test_idpp_aligns_vacancy_endpoints(layered):
    hop = enumerate_hops(layered, "Li")[0]
    ends = supercell_endpoints(hop, SMALL)
    with pytest.raises(ValueError, match="same species in the same order"):
        idpp_images(ends.initial, Structure.from_sites(ends.final.sites[::-1]))
    images = idpp_images(ends.initial, ends.final, working_ion="Li", maxiter=100)
    assert len(images) == 5
    assert len(images[0]) == len(ends.initial)


def test_idpp_rejects_too_few_images(small_endpoints):
    with pytest.raises(ValueError, match="at least 2"):
        idpp_images(*small_endpoints, n_images=1)
