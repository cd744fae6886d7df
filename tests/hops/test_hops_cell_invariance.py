"""Hop ids, hop classes and bands depend on the crystal, not on the cell it is written in.

Property tests over low-symmetry (monoclinic, triclinic) hosts built in code, each written in
eight cells: as built, primitive, 2×1×1, a sheared basis, a det-2 non-diagonal supercell,
spglib's conventional cell, shuffled with a moved origin, and rotated in a left-handed basis.
"""

from __future__ import annotations

import numpy as np
import pytest
from low_symmetry_structures import LOW_SYMMETRY_HOSTS, cell_choices
from pymatgen.core import Structure

from hopscreen.hops import (
    HopOptions,
    SupercellOptions,
    enumerate_hops,
    hop_id,
    hops_for_structure,
)
from hopscreen.hops.canonical import canonical_cell
from hopscreen.hops.network import enumerate_hops_and_network

HOSTS = sorted(LOW_SYMMETRY_HOSTS)
# Small supercells keep the band checks quick; a hop too long for them fails alike in every cell.
SMALL = HopOptions(supercell=SupercellOptions(min_atoms=20, max_atoms=80, min_length_angstrom=7.0))


def _summary(hops) -> list[tuple[str, int | None, float]]:
    return sorted((h.hop_id, h.multiplicity, round(h.length_angstrom, 6)) for h in hops)


def _band_input(hop) -> tuple:
    """Everything a hop's band is built from: the canonical cell and the representative."""
    cell = hop.migration_hop.symm_structure
    return (
        cell.lattice.matrix.tobytes(),
        cell.frac_coords.tobytes(),
        tuple(site.specie.Z for site in cell),
        hop.migration_hop.isite.frac_coords.tobytes(),
        hop.migration_hop.esite.frac_coords.tobytes(),
    )


def _on_a_site(structure: Structure, frac: np.ndarray, symbol: str) -> bool:
    delta = structure.frac_coords - frac
    delta -= np.rint(delta)
    distance = np.linalg.norm(delta @ structure.lattice.matrix, axis=1)
    symbols = np.array([site.specie.symbol for site in structure])
    return bool(distance[symbols == symbol].min() < 1e-6)


def test_the_hosts_are_low_symmetry_and_sane():
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    for name in HOSTS:
        structure = LOW_SYMMETRY_HOSTS[name]()
        assert len(structure) <= 30, name
        number = SpacegroupAnalyzer(structure, symprec=0.1).get_space_group_number()
        # monoclinic or triclinic, but for strained LiCoO2 (rhombohedral at symprec 0.1)
        assert number <= 15 or name.startswith("LiCoO2-strained"), name
        distances = structure.distance_matrix + 10 * np.eye(len(structure))
        assert distances.min() > 1.45, name  # P–O in olivine: 1.5 Å


@pytest.mark.parametrize("name", HOSTS)
def test_canonical_cell_is_the_same_for_every_cell(name):
    cells = cell_choices(LOW_SYMMETRY_HOSTS[name]())
    reference = canonical_cell(cells["given"]).structure
    n_primitive = len(cells["primitive"].get_primitive_structure())
    assert len(reference) == n_primitive
    for cell_name, structure in cells.items():
        cell = canonical_cell(structure)
        assert cell.structure.lattice.matrix.tobytes() == reference.lattice.matrix.tobytes()
        assert cell.structure.frac_coords.tobytes() == reference.frac_coords.tobytes()
        assert cell.structure.species == reference.species, cell_name
        # every input site lies on a canonical site of its element
        for site, x in zip(structure, cell.to_canonical(structure.frac_coords), strict=True):
            assert _on_a_site(cell.structure, x, site.specie.symbol), cell_name


def test_mirror_image_has_the_same_canonical_cell():
    chiral = LOW_SYMMETRY_HOSTS["Li2VO3-P2_1"]()  # P2_1: no mirror, no inversion
    mirrored = Structure(chiral.lattice, chiral.species, -chiral.frac_coords)
    a, b = canonical_cell(chiral).structure, canonical_cell(mirrored).structure
    assert a.frac_coords.tobytes() == b.frac_coords.tobytes()
    assert [h.hop_id for h in enumerate_hops(mirrored, "Li")] == [
        h.hop_id for h in enumerate_hops(chiral, "Li")
    ]


@pytest.mark.parametrize("name", HOSTS)
def test_hops_do_not_depend_on_the_cell(name):
    """Same ids, multiplicities, lengths, and the same band input for each id."""
    cells = cell_choices(LOW_SYMMETRY_HOSTS[name]())
    reference = enumerate_hops(cells["given"], "Li")
    assert reference and len({h.hop_id for h in reference}) == len(reference)
    band_inputs = {h.hop_id: _band_input(h) for h in reference}
    for cell_name, structure in cells.items():
        hops = enumerate_hops(structure, "Li")
        assert _summary(hops) == _summary(reference), cell_name
        for hop in hops:
            assert _band_input(hop) == band_inputs[hop.hop_id], cell_name
            assert hop_id(hop) == hop.hop_id  # recomputed on the cell as given
            # the hop is written in the cell as given: its ends are Li sites there
            assert _on_a_site(structure, hop.isite_frac, "Li")
            assert _on_a_site(structure, hop.esite_frac, "Li")
            ends = structure.lattice.get_cartesian_coords([hop.isite_frac, hop.esite_frac])
            assert np.linalg.norm(ends[1] - ends[0]) == pytest.approx(hop.length_angstrom)


@pytest.mark.parametrize("name", ["Li3Co2O6-P1", "LiCoO2-strained-C2/m", "Li2MnO3-C2/m"])
def test_network_edges_are_labelled_by_class(name):
    """Each class has multiplicity × (cells in the input) edges in every cell's network."""
    for structure in cell_choices(LOW_SYMMETRY_HOSTS[name]()).values():
        hops, network = enumerate_hops_and_network(structure, "Li")
        assert network.hop_ids == tuple(sorted(h.hop_id for h in hops))
        n_cells = len(structure) // len(canonical_cell(structure).structure)
        for hop in hops:
            n_edges = sum(e.hop_id == hop.hop_id for e in network.edges)
            assert n_edges == hop.multiplicity * n_cells


@pytest.mark.parametrize("name", ["LiMnO2-C2/m", "LiNiO2-Cc", "LiCoO2-strained-C2/m"])
def test_same_band_for_the_same_hop_in_every_cell(name):
    reference = None
    for cell_name, structure in cell_choices(LOW_SYMMETRY_HOSTS[name]()).items():
        result = hops_for_structure(structure, "Li", name, options=SMALL)
        bands = {
            doc.hop_id: band.fingerprint()
            for doc, band in zip(result.docs, result.bands, strict=True)
        }
        failed = sorted(f.hop_id for f in result.failures)
        if reference is None:
            reference = (bands, failed)
            assert bands
        assert (bands, failed) == reference, cell_name


@pytest.mark.slow
@pytest.mark.parametrize("name", HOSTS)
def test_same_default_band_for_the_same_hop_in_three_cells(name):
    """Default supercells (80–240 atoms); about 60 s for all hosts."""
    reference = None
    cells = cell_choices(LOW_SYMMETRY_HOSTS[name]())
    for cell_name in ("given", "non-diagonal", "rotated"):
        structure = cells[cell_name]
        result = hops_for_structure(structure, "Li", name)
        assert not result.failures, cell_name
        bands = {d.hop_id: b.fingerprint() for d, b in zip(result.docs, result.bands, strict=True)}
        reference = reference or bands
        assert bands == reference, cell_name
