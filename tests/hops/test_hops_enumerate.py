from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Structure

from hopscreen.candidates.validate import InvalidInputError
from hopscreen.hops import HopOptions, enumerate_hops, hops_for_structure


def test_olivine_distinct_li_hops(olivine):
    hops = enumerate_hops(olivine, "Li")
    lengths = [round(h.length_angstrom, 3) for h in hops]
    assert lengths == [3.005, 4.692]
    shortest = hops[0]
    # the 1D channel along b: the endpoints differ by half a b vector only
    delta = shortest.esite_frac - shortest.isite_frac
    assert np.allclose(np.abs(delta), [0.0, 0.5, 0.0])
    assert shortest.length_angstrom == pytest.approx(6.010 / 2, abs=1e-3)
    assert all(h.multiplicity == 4 for h in hops)  # 4 Li per cell, 2 neighbours each, /2
    assert len({h.hop_id for h in hops}) == len(hops)


def test_max_length_limits_hops(olivine):
    assert [
        round(h.length_angstrom, 3)
        for h in enumerate_hops(olivine, "Li", max_hop_length_angstrom=4.0)
    ] == [3.005]
    assert enumerate_hops(olivine, "Li", max_hop_length_angstrom=2.0) == []


def test_layered_hops_merged_across_cells(layered):
    """pymatgen splits a symmetry class in this supercell; hop ids merge it again."""
    primitive = enumerate_hops(layered, "Li")
    supercell = enumerate_hops(layered * [2, 1, 1], "Li")
    assert [round(h.length_angstrom, 3) for h in primitive] == [2.816, 4.877, 4.958]
    assert [h.hop_id for h in supercell] == [h.hop_id for h in primitive]
    assert [h.multiplicity for h in supercell] == [h.multiplicity for h in primitive] == [3, 3, 3]


def test_bad_structures_raise_clear_errors(olivine):
    with pytest.raises(InvalidInputError, match="no Na in LiFePO4") as info:
        enumerate_hops(olivine, "Na")
    assert info.value.code == "no_working_ion"
    disordered = olivine.copy()
    disordered.replace_species({"Li": {"Li": 0.5}})
    with pytest.raises(InvalidInputError, match="partially occupied"):
        enumerate_hops(disordered, "Li")


def test_hops_for_structure_docs_and_failures(olivine):
    result = hops_for_structure(olivine, "Li", "olivine", candidate_id="cand-1")
    assert not result.failures
    assert len(result.docs) == len(result.hops) == len(result.bands) == 2
    doc = result.docs[0]
    assert doc.candidate_id == "cand-1"
    assert doc.host_formula == "LiFePO4"
    assert doc.supercell_n_atoms == 168  # 1x2x3 olivine cell
    assert doc.band_n_atoms == 171 == len(result.bands[0])
    assert doc.hop_id == result.hops[0].hop_id

    no_li = Structure(
        olivine.lattice,
        ["Na" if s.specie.symbol == "Li" else s.specie for s in olivine],
        olivine.frac_coords,
    )
    bad = hops_for_structure(no_li, "Li", "no-li")
    assert bad.docs == [] and len(bad.failures) == 1
    assert "[no_working_ion] no Li in NaFePO4" in bad.failures[0].reason and bad.rejected

    too_short = hops_for_structure(
        olivine, "Li", "short", options=HopOptions(max_hop_length_angstrom=2.0), build_bands=False
    )
    assert "no two Li sites within 2.0" in too_short.failures[0].reason
    assert not too_short.rejected
