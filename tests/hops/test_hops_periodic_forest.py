from __future__ import annotations

import numpy as np

from hopscreen.hops.periodic_forest import PeriodicForest


def add(forest: PeriodicForest, row: int, u: int, v: int, image: tuple[int, int, int]) -> int:
    rows = np.array([row])
    return int(forest.join(rows, np.array([u]), np.array([v]), np.array([image]))[0])


def test_offsets_follow_the_edges_to_the_root():
    forest = PeriodicForest.of_sites(1, 4)
    assert add(forest, 0, 0, 1, (1, 0, 0)) == 0
    assert add(forest, 0, 2, 1, (0, 2, 0)) == 0  # site 1 is site 2's cell + (0, 2, 0)
    assert add(forest, 0, 3, 2, (0, 0, -1)) == 0
    roots, offsets = forest.find(np.zeros(4, dtype=np.int64), np.arange(4))
    assert len(set(roots.tolist())) == 1
    # positions relative to site 0: 1 at +x, 2 at +x -2y, 3 at +x -2y +z (2 is 3's cell -z)
    relative = offsets - offsets[0]
    assert relative.tolist() == [[0, 0, 0], [1, 0, 0], [1, -2, 0], [1, -2, 1]]


def test_cycles_raise_the_rank_only_with_new_directions():
    forest = PeriodicForest.of_sites(1, 2)
    assert add(forest, 0, 0, 1, (0, 0, 0)) == 0
    assert add(forest, 0, 1, 0, (0, 0, 0)) == 0  # a cycle with no translation: still finite
    assert add(forest, 0, 0, 1, (1, 1, 0)) == 1
    assert add(forest, 0, 1, 1, (2, 2, 0)) == 1  # parallel to the first chain
    assert add(forest, 0, 0, 0, (1, -1, 0)) == 2
    assert add(forest, 0, 1, 0, (3, 1, 0)) == 2  # in the plane of the two
    assert add(forest, 0, 1, 1, (1, 1, 1)) == 3


def test_rows_are_independent_forests():
    forest = PeriodicForest.of_sites(3, 2)
    rows = np.arange(3)
    ranks = forest.join(rows, np.array([0, 0, 1]), np.array([0, 1, 1]), np.eye(3, dtype=int))
    assert ranks.tolist() == [1, 0, 1]  # rows 0 and 2: a loop on one site; row 1: a bond
    ranks = forest.join(rows, np.array([1, 1, 0]), np.array([1, 0, 1]), np.eye(3, dtype=int))
    # row 0: a second, separate x chain on site 1; row 1: 0 -> 1 -> 0 closes along 2y;
    # row 2: site 0 joins the z chain of site 1, still a chain
    assert ranks.tolist() == [1, 1, 1]


def test_merging_trees_pools_their_translations():
    forest = PeriodicForest.of_sites(1, 3)
    add(forest, 0, 0, 0, (1, 0, 0))  # site 0: chain along x
    add(forest, 0, 1, 1, (0, 1, 0))
    assert add(forest, 0, 1, 1, (0, 0, 1)) == 2  # site 1: a yz layer
    assert add(forest, 0, 2, 0, (0, 0, 0)) == 1  # site 2 joins the x chain (it grows)
    assert add(forest, 0, 1, 2, (5, 5, 5)) == 3  # the layer joins the chain: space filled
