"""Ordered endpoints: one function gives every tier endpoints in which only the ion moves."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.vasp import Poscar

from hopscreen.candidates.demo import list_demo, read_demo_structure
from hopscreen.hops import SupercellOptions, hops_for_structure, supercell_endpoints
from hopscreen.verification import EndpointError, check_single_mover, displacements_angstrom
from hopscreen.verification.endpoints import ordered_endpoints
from hopscreen.verification.umlip import hop_endpoints

SMALL = SupercellOptions(min_atoms=1, max_atoms=120, min_length_angstrom=6.0)
HOSTS = ["LiCoO2-O3", "LiFePO4-olivine", "LiMn2O4-spinel", "NaFeO2-O3"]


def _hops(name: str):
    entry = next(e for e in list_demo() if e.name == name)
    result = hops_for_structure(
        read_demo_structure(entry), entry.working_ion, name, build_bands=False
    )
    assert result.hops, result.failures
    return result.hops


def _distance_to_site(cart: np.ndarray, site) -> float:
    """Periodic distance (Å) from a Cartesian point to a site of the canonical cell."""
    lattice = site.lattice
    delta = lattice.get_fractional_coords(cart) - site.frac_coords
    delta -= np.round(delta)
    return float(np.linalg.norm(lattice.get_cartesian_coords(delta)))


@pytest.mark.parametrize("name", HOSTS)
def test_only_the_ion_moves_by_the_hop_length_between_the_hop_sites(name):
    for hop in _hops(name):
        initial, final = ordered_endpoints(hop)  # the supercell of the VASP tier
        moved = displacements_angstrom(initial, final)
        assert np.flatnonzero(moved > 1e-6).tolist() == [0]
        assert initial[0].specie.symbol == hop.working_ion
        assert moved[0] == pytest.approx(hop.length_angstrom, abs=1e-3)
        # the ion sits on the hop's sites (canonical cell, in which the supercell is built)
        mh = hop.migration_hop
        assert _distance_to_site(initial[0].coords, mh.isite) < 1e-3
        assert _distance_to_site(final[0].coords, mh.esite) < 1e-3
        # and travels along the hop's vector, not another image of it (in a supercell less
        # than twice the hop length wide, an equally long image can win the minimum image)
        travel = final[0].coords - initial[0].coords
        assert np.allclose(travel, mh.esite.coords - mh.isite.coords, atol=1e-3)
        # one species block per element, so a POSCAR lists each POTCAR once
        symbols = Poscar(initial).site_symbols
        assert len(symbols) == len(set(symbols)) and symbols[0] == hop.working_ion


def test_raw_vacancy_endpoints_are_refused_and_the_old_name_still_works():
    hop = _hops("LiCoO2-O3")[1]
    ends = supercell_endpoints(hop, SMALL)
    with pytest.raises(EndpointError, match="besides the migrating ion"):
        check_single_mover(ends.initial, ends.final)
    initial, final = hop_endpoints(hop, SMALL)
    assert initial == ordered_endpoints(hop, SMALL)[0] and len(final) == len(initial)


def test_check_single_mover_names_what_is_wrong():
    lattice = Lattice.cubic(4.0)
    initial = Structure(lattice, ["Li", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    final = Structure(lattice, ["Li", "O"], [[0.5, 0, 0], [0.5, 0.5, 0.5]])
    check_single_mover(initial, final, "Li", 2.0)
    with pytest.raises(EndpointError, match=r"hop is 2\.5000"):
        check_single_mover(initial, final, "Li", 2.5)
    with pytest.raises(EndpointError, match="not the Na ion"):
        check_single_mover(initial, final, "Na")
    swapped = Structure(lattice, ["O", "Li"], [[0.5, 0.5, 0.5], [0.5, 0, 0]])
    with pytest.raises(EndpointError, match="same species"):
        check_single_mover(initial, swapped)
    # minimum image: 0.9 → 0.1 across the boundary is 0.8 Å, not 3.2 Å
    a = Structure(lattice, ["Li"], [[0.9, 0, 0]])
    b = Structure(lattice, ["Li"], [[0.1, 0, 0]])
    assert displacements_angstrom(a, b)[0] == pytest.approx(0.8)
