"""The lowest route between two voxels of an energy grid (used by the BVSE profile).

Voxels are 26-connected (faces, edges and corners). The *minimax level* of two voxels is
the lowest energy level at which they are connected through voxels at or below it: the
highest point of the best route. Among the routes that stay at or below a level, the
*shortest route* is the one of least Cartesian length. Voxels outside the region of
interest carry an infinite energy and are never crossed.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

_NEIGHBOURS = np.ones((3, 3, 3), dtype=bool)


def _walk_level(energy: np.ndarray, a: int, b: int) -> float:
    """Highest energy on the straight 26-connected voxel walk from a to b (flat indices).

    The walk is a route from a to b, so its highest point bounds the minimax level from
    above (inf when it crosses a voxel of infinite energy).
    """
    ia = np.array(np.unravel_index(a, energy.shape))
    ib = np.array(np.unravel_index(b, energy.shape))
    n = max(int(np.abs(ib - ia).max()), 1)
    # consecutive points move by at most one voxel along each axis: a 26-connected walk
    steps = np.rint(ia + np.outer(np.arange(n + 1) / n, ib - ia)).astype(int)
    return float(energy[tuple(steps.T)].max())


def minimax_level(energy: np.ndarray, a: int, b: int) -> float:
    """Lowest level at which voxels a and b are 26-connected through voxels at or below it.

    Bisection over the distinct finite energies, between the higher of the two endpoints
    and the highest point of the straight walk from a to b (both bound the answer), with
    connected-component labelling at each step.

    Parameters
    ----------
    energy : numpy.ndarray
        (n0, n1, n2) energies; inf marks voxels that cannot be crossed.
    a, b : int
        Flat indices of the two voxels (finite energies).

    Returns
    -------
    float
        The minimax level, one of the values of ``energy``.
    """
    levels = np.unique(energy[np.isfinite(energy)])
    lo = int(np.searchsorted(levels, max(energy.flat[a], energy.flat[b])))
    bound = _walk_level(energy, a, b)
    hi = int(np.searchsorted(levels, bound)) if np.isfinite(bound) else len(levels) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        labels, _ = ndimage.label(energy <= levels[mid], structure=_NEIGHBOURS)
        if labels.flat[a] == labels.flat[b]:
            hi = mid
        else:
            lo = mid + 1
    return float(levels[lo])


def _route_graph(points: np.ndarray, allowed: np.ndarray) -> coo_matrix:
    """The 26-neighbour graph of the allowed voxels, weighted by Cartesian edge length.

    Edges are listed offset by offset (offsets in C order); the edges of offset −o are those
    of o reversed, so only the first 13 offsets are sliced and measured.
    """
    shape = allowed.shape
    flat = np.arange(allowed.size).reshape(shape)
    pts = points.reshape(-1, 3)
    offsets = np.argwhere(_NEIGHBOURS) - 1
    half = []
    for off in offsets[:13]:  # offsets[13] is 0, offsets[26 - i] = -offsets[i]
        src = tuple(slice(max(0, -o), shape[k] - max(0, o)) for k, o in enumerate(off))
        dst = tuple(slice(max(0, o), shape[k] - max(0, -o)) for k, o in enumerate(off))
        ok = allowed[src] & allowed[dst]
        r, c = flat[src][ok], flat[dst][ok]
        half.append((r, c, np.linalg.norm(pts[r] - pts[c], axis=1)))
    edges = half + [(c, r, w) for r, c, w in reversed(half)]
    rows, cols, weights = (np.concatenate(x) for x in zip(*edges, strict=True))
    return coo_matrix((weights, (rows, cols)), shape=(flat.size,) * 2)


def shortest_route(points: np.ndarray, allowed: np.ndarray, a: int, b: int) -> np.ndarray:
    """Shortest 26-connected route from voxel a to voxel b through allowed voxels.

    The graph covers only the bounding box of the allowed voxels, numbered in the same
    order as in the whole grid, so the route (ties included) is the one the whole grid gives.

    Parameters
    ----------
    points : numpy.ndarray
        (n0, n1, n2, 3) Cartesian position of each voxel, Å.
    allowed : numpy.ndarray
        (n0, n1, n2) bool, the voxels the route may use (a and b among them).
    a, b : int
        Flat indices of the start and end voxels.

    Returns
    -------
    numpy.ndarray
        Flat indices of the route's voxels, from a to b.
    """
    box = np.argwhere(allowed)
    lo, hi = box.min(axis=0), box.max(axis=0) + 1
    crop = tuple(slice(int(i), int(j)) for i, j in zip(lo, hi, strict=True))
    sub_shape = tuple(int(n) for n in hi - lo)

    def to_sub(i: int) -> int:
        return int(np.ravel_multi_index(np.unravel_index(i, allowed.shape) - lo, sub_shape))

    graph = _route_graph(points[crop], allowed[crop])
    sub_a, sub_b = to_sub(a), to_sub(b)
    _, pred = dijkstra(graph.tocsr(), indices=sub_a, return_predecessors=True)
    route = [sub_b]
    while route[-1] != sub_a:
        route.append(int(pred[route[-1]]))
    sub = np.unravel_index(np.array(route[::-1]), sub_shape)
    return np.ravel_multi_index(tuple(i + o for i, o in zip(sub, lo, strict=True)), allowed.shape)


def lowest_voxel(energy: np.ndarray, points: np.ndarray, at: np.ndarray, radius: float) -> int:
    """Flat index of the lowest finite-energy voxel within ``radius`` Å of ``at`` (Cartesian)."""
    near = np.linalg.norm(points - at, axis=-1) <= radius
    masked = np.where(near & np.isfinite(energy), energy, np.inf)
    return int(np.argmin(masked))
