from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Element

from hopscreen.hops import enumerate_hops
from hopscreen.hops.enumerate import gate_for_hops
from hopscreen.hops.network import (
    MigrationNetwork,
    NetworkEdge,
    enumerate_hops_and_network,
    migration_network,
    network_doc,
    network_from_doc,
)
from hopscreen.hops.percolation import network_dimension


def _class_edges(network: MigrationNetwork, hop_id: str) -> list[NetworkEdge]:
    return [e for e in network.edges if e.hop_id == hop_id]


@pytest.fixture(scope="module")
def olivine_hops_and_network(olivine):
    return enumerate_hops_and_network(olivine, "Li")


def test_olivine_network_classes_are_the_enumerated_hops(olivine, olivine_hops_and_network):
    hops, network = olivine_hops_and_network
    alone = enumerate_hops(olivine, "Li")
    assert [(h.hop_id, h.length_angstrom, h.multiplicity) for h in hops] == [
        (h.hop_id, h.length_angstrom, h.multiplicity) for h in alone
    ]
    assert network.hop_ids == tuple(sorted(h.hop_id for h in alone))
    assert network.n_sites == 4
    # each class: 4 Li per cell, two neighbours each, every undirected edge once
    assert [len(_class_edges(network, h.hop_id)) for h in hops] == [4, 4]
    assert migration_network(olivine, "Li") == network


def test_edges_run_from_u_in_cell_zero_to_v_in_image(olivine, olivine_hops_and_network):
    """The direction of ``to_jimage``: ``v + image - u`` is the hop, of its class's length."""
    hops, network = olivine_hops_and_network
    gated, _ = gate_for_hops(olivine, "Li", max_hop_length_angstrom=5.0)
    li = [site for site in gated if site.specie == Element("Li")]
    length_of = {h.hop_id: h.length_angstrom for h in hops}
    assert any(e.image != (0, 0, 0) for e in network.edges)
    for edge in network.edges:
        delta = li[edge.v].frac_coords + np.array(edge.image) - li[edge.u].frac_coords
        length = np.linalg.norm(gated.lattice.get_cartesian_coords(delta))
        assert length == pytest.approx(length_of[edge.hop_id], abs=1e-6)


def test_olivine_channels_along_b_and_c(olivine_hops_and_network):
    hops, network = olivine_hops_and_network
    short, long_ = hops
    assert short.length_angstrom == pytest.approx(3.005, abs=1e-3)
    assert long_.length_angstrom == pytest.approx(4.692, abs=1e-3)
    short_edges = _class_edges(network, short.hop_id)
    # every image of the short class is a multiple of b: its chains run along [010]
    assert {e.image for e in short_edges} <= {(0, -1, 0), (0, 0, 0), (0, 1, 0)}
    assert network_dimension(network.n_sites, short_edges) == 1
    long_edges = _class_edges(network, long_.hop_id)
    assert {e.image for e in long_edges} == {(0, 0, 1)}  # self-loops along c
    assert network_dimension(network.n_sites, long_edges) == 1
    assert network_dimension(network.n_sites, network.edges) == 2


def test_supercell_network_has_the_same_classes_and_dimensions(olivine, olivine_hops_and_network):
    hops, network = olivine_hops_and_network
    super_hops, super_net = enumerate_hops_and_network(olivine * [1, 2, 1], "Li")
    assert super_net.hop_ids == network.hop_ids
    assert [h.hop_id for h in super_hops] == [h.hop_id for h in hops]
    assert super_net.n_sites == 8 and len(super_net.edges) == 2 * len(network.edges)
    for h in hops:
        assert network_dimension(super_net.n_sites, _class_edges(super_net, h.hop_id)) == 1
    assert network_dimension(super_net.n_sites, super_net.edges) == 2


def test_layered_in_plane_class_is_two_dimensional(layered):
    hops, network = enumerate_hops_and_network(layered, "Li")
    in_plane = hops[0]
    assert in_plane.length_angstrom == pytest.approx(2.816, abs=1e-3)
    assert network.n_sites == 1
    assert network_dimension(1, _class_edges(network, in_plane.hop_id)) == 2
    assert network_dimension(1, network.edges) == 3


def test_split_classes_are_merged_in_the_supercell_network(layered):
    """pymatgen splits a class of the 2x1x1 cell in two labels; both get one hop id."""
    hops = enumerate_hops(layered, "Li")
    network = migration_network(layered * [2, 1, 1], "Li")
    assert network.hop_ids == tuple(sorted(h.hop_id for h in hops))
    assert network.n_sites == 2 and len(network.edges) == 18
    assert network_dimension(2, _class_edges(network, hops[0].hop_id)) == 2


def test_no_hop_gives_an_empty_network(olivine):
    hops, network = enumerate_hops_and_network(olivine, "Li", max_hop_length_angstrom=2.0)
    assert hops == []
    assert network == MigrationNetwork(n_sites=4, edges=(), hop_ids=())
    assert network_dimension(network.n_sites, network.edges) == 0


def test_network_document_round_trip(olivine_hops_and_network):
    _, network = olivine_hops_and_network
    doc = network_doc(network, candidate_name="olivine", working_ion="Li", candidate_id="c-1")
    assert doc.n_sites == 4 and len(doc.edges) == 8
    assert all(len(row) == 6 for row in doc.edges)
    assert network_from_doc(doc) == network
    assert network_from_doc(type(doc).model_validate(doc.model_dump())) == network


def test_bad_network_document_is_refused(olivine_hops_and_network):
    _, network = olivine_hops_and_network
    doc = network_doc(network, candidate_name="olivine", working_ion="Li")
    for bad_row in ([0, 1, 0, 0, 0], [0, 9, 0, 0, 0, 0], [0, 1, 0, 0, 0, 2]):
        bad = doc.model_copy(update={"edges": [*doc.edges, bad_row]})
        with pytest.raises(ValueError, match="olivine: edge row"):
            network_from_doc(bad)
