from __future__ import annotations

import re

import numpy as np
import pytest
from hops_structures import shuffled_and_shifted

from hopscreen.hops import compute_hop_id, enumerate_hops, hop_id


def _ids(structure, ion="Li"):
    return [h.hop_id for h in enumerate_hops(structure, ion)]


@pytest.mark.parametrize("name", ["olivine", "layered"])
def test_hop_id_invariance(name, request):
    structure = request.getfixturevalue(name)
    reference = _ids(structure)
    assert len(set(reference)) == len(reference) >= 2  # distinct hops, distinct ids
    assert all(re.fullmatch(r"hop-[0-9a-f]{32}", i) for i in reference)
    assert _ids(shuffled_and_shifted(structure)) == reference
    assert _ids(structure * [2, 1, 1]) == reference
    assert _ids(shuffled_and_shifted(structure * [2, 1, 1], seed=3)) == reference


def test_hop_id_recomputed_matches_and_ignores_direction(olivine):
    for hop in enumerate_hops(olivine, "Li"):
        assert hop_id(hop) == hop.hop_id
        reverse = compute_hop_id(olivine, "Li", hop.esite_frac, hop.isite_frac)
        assert reverse == hop.hop_id


def test_hop_id_depends_on_host_and_ion(olivine):
    mn = olivine.copy()
    mn.replace_species({"Fe": "Mn"})
    assert set(_ids(mn)).isdisjoint(_ids(olivine))
    hop = enumerate_hops(olivine, "Li")[0]
    assert compute_hop_id(olivine, "Na", hop.isite_frac, hop.esite_frac) != hop.hop_id


def test_hop_id_tolerates_numerical_noise(olivine):
    rng = np.random.default_rng(0)
    noisy = olivine.copy()
    for i in range(len(noisy)):
        noisy.translate_sites([i], rng.normal(size=3) * 1e-6, frac_coords=False, to_unit_cell=False)
    assert _ids(noisy) == _ids(olivine)
