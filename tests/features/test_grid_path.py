from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from hopscreen.features.grid_path import lowest_voxel, minimax_level, shortest_route

FULL = np.ones((3, 3, 3), dtype=bool)


def rough_grid(seed: int, shape: tuple[int, int, int] = (9, 7, 6)) -> np.ndarray:
    """Random energies with a wall of infinite voxels (a hole in it) and a few holes around."""
    rng = np.random.default_rng(seed)
    energy = ndimage.gaussian_filter(rng.normal(size=shape), 1.0) + 0.05 * rng.random(shape)
    energy[4] = np.inf
    energy[4, 2:4, 2:4] = rng.random((2, 2)) + 0.5
    energy[rng.random(shape) < 0.05] = np.inf
    energy[0, 3, 3] = energy[-1, 3, 3] = -1.0
    return energy


def scan_level(energy: np.ndarray, a: int, b: int) -> float:
    """The minimax level by trying every distinct energy from the lowest up."""
    for level in np.unique(energy[np.isfinite(energy)]):
        labels, _ = ndimage.label(energy <= level, structure=FULL)
        if labels.flat[a] and labels.flat[a] == labels.flat[b]:
            return float(level)
    raise AssertionError("never connected")


def full_graph_route(points: np.ndarray, allowed: np.ndarray, a: int, b: int) -> np.ndarray:
    """Shortest route on the graph of the whole grid, every offset measured."""
    shape, flat = allowed.shape, np.arange(allowed.size).reshape(allowed.shape)
    rows, cols = [], []
    for off in np.argwhere(FULL) - 1:
        if not off.any():
            continue
        src = tuple(slice(max(0, -o), shape[k] - max(0, o)) for k, o in enumerate(off))
        dst = tuple(slice(max(0, o), shape[k] - max(0, -o)) for k, o in enumerate(off))
        ok = allowed[src] & allowed[dst]
        rows.append(flat[src][ok])
        cols.append(flat[dst][ok])
    r, c = np.concatenate(rows), np.concatenate(cols)
    pts = points.reshape(-1, 3)
    w = np.linalg.norm(pts[r] - pts[c], axis=1)
    graph = coo_matrix((w, (r, c)), shape=(allowed.size,) * 2).tocsr()
    _, pred = dijkstra(graph, indices=a, return_predecessors=True)
    route = [b]
    while route[-1] != a:
        route.append(int(pred[route[-1]]))
    return np.array(route[::-1])


@pytest.mark.parametrize("seed", range(6))
def test_minimax_level_is_the_lowest_connecting_level(seed: int) -> None:
    energy = rough_grid(seed)
    a = int(np.ravel_multi_index((0, 3, 3), energy.shape))
    b = int(np.ravel_multi_index((8, 3, 3), energy.shape))
    level = minimax_level(energy, a, b)
    assert level == scan_level(energy, a, b)
    assert level >= energy[4, 2:4, 2:4].min()  # the only way through the wall


@pytest.mark.parametrize("seed", range(6))
def test_shortest_route_is_the_whole_grid_route(seed: int) -> None:
    energy = rough_grid(seed)
    shape = energy.shape
    grid = np.stack(np.meshgrid(*(np.arange(n) for n in shape), indexing="ij"), axis=-1)
    skew = np.array([[0.2, 0.0, 0.0], [0.03, 0.21, 0.0], [-0.02, 0.05, 0.19]])
    points = grid @ skew + 1.5
    a = int(np.ravel_multi_index((0, 3, 3), shape))
    b = int(np.ravel_multi_index((8, 3, 3), shape))
    allowed = energy <= minimax_level(energy, a, b) + 0.05
    route = shortest_route(points, allowed, a, b)
    np.testing.assert_array_equal(route, full_graph_route(points, allowed, a, b))
    steps = np.abs(np.diff(np.array(np.unravel_index(route, shape)), axis=1))
    assert steps.max() == 1 and allowed.flat[route].all()


def test_lowest_voxel_looks_only_near_the_point() -> None:
    energy = rough_grid(0)
    points = np.stack(np.meshgrid(*(np.arange(n) for n in energy.shape), indexing="ij"), -1)
    energy[2, 2, 2] = -5.0  # deeper, but 1.4 voxels away
    assert lowest_voxel(energy, points.astype(float), np.array([0.0, 3.0, 3.0]), 1.1) == (
        np.ravel_multi_index((0, 3, 3), energy.shape)
    )


def test_equal_detours_are_broken_as_on_the_whole_grid() -> None:
    # a block in the middle of a square grid: mirror-image detours of exactly equal length
    shape = (9, 9, 3)
    grid = np.stack(np.meshgrid(*(np.arange(n) for n in shape), indexing="ij"), axis=-1)
    points = 0.25 * grid.astype(float)
    allowed = np.ones(shape, dtype=bool)
    allowed[3:6, 2:7, :] = False
    allowed[0] = allowed[-1] = False  # the bounding box is smaller than the grid
    a = int(np.ravel_multi_index((1, 4, 1), shape))
    b = int(np.ravel_multi_index((7, 4, 1), shape))
    route = shortest_route(points, allowed, a, b)
    np.testing.assert_array_equal(route, full_graph_route(points, allowed, a, b))
