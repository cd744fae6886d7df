import numpy as np
import pytest
import torch
from tests.model_fixtures import rocksalt, tiny_band

from hopscreen.graphs.batch import collate, line_graph
from hopscreen.graphs.build import GraphConfig, build_graph
from hopscreen.graphs.cache import GraphCache
from hopscreen.graphs.features import N_FEATURES, build_feature_table, feature_table
from hopscreen.schemas.structure import Crystal


def _neighbour_profile(atoms: Crystal) -> list[tuple[int, tuple[float, ...]]]:
    g = build_graph(atoms)
    lengths = np.linalg.norm(g.vec, axis=1)
    profile = []
    for i in range(len(atoms)):
        profile.append((int(atoms.numbers[i]), tuple(np.round(np.sort(lengths[g.src == i]), 4))))
    return sorted(profile)


def test_knn_graph_of_rocksalt_has_twelve_or_more_neighbours_and_is_symmetric():
    g = build_graph(rocksalt(4.2))
    counts = np.bincount(g.src, minlength=8)
    assert counts.min() >= 12
    # rocksalt: 6 nearest at a/2, then 12 at a/sqrt(2): the 12th neighbour is at a/sqrt(2)
    lengths = np.linalg.norm(g.vec, axis=1)
    assert lengths.min() == pytest.approx(2.1, abs=1e-6)
    assert lengths.max() == pytest.approx(4.2 / np.sqrt(2), abs=1e-4)
    forward = {(s, d, tuple(np.round(v, 4))) for s, d, v in zip(g.src, g.dst, g.vec, strict=True)}
    for s, d, v in forward:
        assert (d, s, tuple(np.round(-np.array(v), 4) + 0.0)) in forward


def test_graph_invariant_to_atom_order_origin_and_supercell():
    band = tiny_band(0)
    ref = _neighbour_profile(band)
    perm = np.random.default_rng(1).permutation(len(band))
    shuffled = Crystal(band.lattice, band.frac_coords[perm], band.numbers[perm])
    shifted = Crystal(band.lattice, band.frac_coords + [0.13, -0.27, 0.41], band.numbers)
    assert _neighbour_profile(shuffled) == ref
    assert _neighbour_profile(shifted) == ref
    # 2x1x1 supercell: every atom keeps its neighbour shell
    frac = np.vstack([band.frac_coords / [2, 1, 1], (band.frac_coords + [1, 0, 0]) / [2, 1, 1]])
    sc = Crystal(band.lattice * [[2], [1], [1]], frac, np.tile(band.numbers, 2))
    sc_profile = _neighbour_profile(sc)
    assert sorted(set(sc_profile)) == sorted(set(ref))


def test_small_cell_enlarges_cutoff_until_enough_neighbours():
    lone = Crystal(np.eye(3) * 9.0, [[0, 0, 0]], [3])
    g = build_graph(lone, GraphConfig(cutoff_angstrom=8.0, max_neighbors=12))
    assert g.n_edges >= 12
    assert np.linalg.norm(g.vec, axis=1).min() == pytest.approx(9.0)


def test_degenerate_lattice_is_rejected():
    with pytest.raises(ValueError, match="degenerate"):
        build_graph(Crystal(np.zeros((3, 3)), [[0, 0, 0]], [3]))


def test_line_graph_pairs_consecutive_bonds():
    src = torch.tensor([0, 1, 1, 2])
    dst = torch.tensor([1, 0, 2, 1])
    lg_src, lg_dst = line_graph(src, dst, 3)
    pairs = set(zip(lg_src.tolist(), lg_dst.tolist(), strict=True))
    # bond e ends where bond f starts, for every pair and only those
    expected = {(e, f) for e in range(4) for f in range(4) if dst[e] == src[f]}
    assert pairs == expected


def test_collate_offsets_marker_and_angles():
    graphs = [build_graph(tiny_band(0)), build_graph(tiny_band(1))]
    batch = collate(graphs, mark_ion_copies=True)
    n0 = graphs[0].n_atoms
    assert batch.atom_features.shape == (n0 + graphs[1].n_atoms, N_FEATURES + 1)
    marker = batch.atom_features[:, -1]
    assert marker[:5].sum() == 5 and marker[n0 : n0 + 5].sum() == 5 and marker.sum() == 10
    assert int(batch.edge_src[graphs[0].n_edges :].min()) >= n0
    assert torch.equal(batch.edge_dst[batch.lg_src], batch.edge_src[batch.lg_dst])
    assert float(batch.angle_cos.min()) >= -1.0 and float(batch.angle_cos.max()) <= 1.0
    unmarked = collate(graphs)
    assert unmarked.atom_features.shape[1] == N_FEATURES


def test_shipped_feature_table_matches_element_data():
    table = feature_table()
    assert table.shape == (104, 92)
    np.testing.assert_array_equal(table, build_feature_table())
    assert not table[0].any()
    # Li and Na share group, block and valence but not period
    assert (table[3] != table[11]).any()


def test_graph_cache_hits_and_rebuilds_corrupt_entries(tmp_path):
    cache = GraphCache(tmp_path)
    band = tiny_band(3)
    first = cache.get(band)
    assert cache.misses == 1
    again = GraphCache(tmp_path).get(band)
    np.testing.assert_array_equal(first.src, again.src)
    files = list(tmp_path.rglob("*.npz"))
    assert len(files) == 1
    files[0].write_bytes(b"not a zip file")
    fresh = GraphCache(tmp_path)
    rebuilt = fresh.get(band)
    assert fresh.misses == 1
    np.testing.assert_array_equal(rebuilt.vec, first.vec)
