"""Dimensionality of a periodic migration network and the barriers at which it percolates.

A crystal conducts the working ion in ``d`` dimensions once its hops of barrier at most ``E``
connect into a network that spans the crystal in ``d`` independent lattice directions. The
network is periodic: a finite quotient graph (sites of one cell) whose edges carry the cell
translation of their end. A connected component of the quotient graph is walked once, each
site getting a lattice offset; an edge whose ends' offsets disagree with its own translation
closes a cycle of the infinite crystal through that translation. The component's dimension
is the rank of those translations (0 for a finite cluster, 3 for a network filling space).

Pure graph code: the network's edges need ``u``, ``v``, ``image`` and ``hop_id`` attributes
(:class:`~hopscreen.hops.network.NetworkEdge`); numpy only.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from hopscreen.hops.network import MigrationNetwork, NetworkEdge

#: The dimensions a percolation barrier is reported for.
DIMENSIONS: tuple[int, ...] = (1, 2, 3)

_EdgeArrays = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Percolation:
    """The percolation barrier of one host in one dimension.

    Attributes
    ----------
    dimension : int
        The dimension asked for (1, 2 or 3).
    barrier_ev : float or None
        Lowest barrier E (eV) such that the hops of barrier ≤ E span the crystal in at least
        ``dimension`` dimensions; None when the enumerated hops never do.
    bottleneck_hop_id : str or None
        The hop class whose barrier is ``barrier_ev`` (None with it).

    """

    dimension: int
    barrier_ev: float | None
    bottleneck_hop_id: str | None


def _edge_arrays(n_sites: int, edges: Iterable[NetworkEdge]) -> _EdgeArrays:
    """``u`` (m,), ``v`` (m,) and ``image`` (m, 3) integer arrays, indices checked."""
    rows = [(e.u, e.v, *e.image) for e in edges]
    table = np.array(rows, dtype=np.int64).reshape(-1, 5)
    u, v, image = table[:, 0], table[:, 1], table[:, 2:]
    if len(table) and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= n_sites):
        raise ValueError(f"an edge joins a site outside 0..{n_sites - 1}")
    return u, v, image


def _components(
    n_sites: int, u: np.ndarray, v: np.ndarray, image: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Component label (n_sites,) and lattice offset (n_sites, 3) of every site, by BFS."""
    neighbours: list[list[tuple[int, np.ndarray]]] = [[] for _ in range(n_sites)]
    for a, b, shift in zip(u.tolist(), v.tolist(), image, strict=True):
        neighbours[a].append((b, shift))
        neighbours[b].append((a, -shift))
    label = np.full(n_sites, -1, dtype=np.int64)
    offset = np.zeros((n_sites, 3), dtype=np.int64)
    for start in range(n_sites):
        if label[start] >= 0:
            continue
        label[start] = start
        queue = deque([start])
        while queue:
            site = queue.popleft()
            for other, shift in neighbours[site]:
                if label[other] < 0:
                    label[other] = start
                    offset[other] = offset[site] + shift
                    queue.append(other)
    return label, offset


def _dimension(n_sites: int, u: np.ndarray, v: np.ndarray, image: np.ndarray) -> int:
    """Largest rank of the cycle translations of any component."""
    if len(u) == 0:
        return 0
    label, offset = _components(n_sites, u, v, image)
    translation = offset[u] + image - offset[v]
    closes = np.any(translation != 0, axis=1)
    best = 0
    for component in np.unique(label[u[closes]]):
        vectors = np.unique(translation[closes & (label[u] == component)], axis=0)
        best = max(best, int(np.linalg.matrix_rank(vectors.astype(float))))
        if best == 3:
            break
    return best


def network_dimension(n_sites: int, edges: Iterable[NetworkEdge]) -> int:
    """Dimensionality of a periodic graph: the most of any of its connected components.

    Parameters
    ----------
    n_sites : int
        Number of sites in the cell (nodes ``0 .. n_sites - 1``).
    edges : iterable of NetworkEdge
        Undirected edges from ``u`` in cell 0 to ``v`` in cell ``image``; a self-loop
        (``u == v``) to another cell counts, both directions of one edge may be given.

    Returns
    -------
    int
        0 (finite clusters only, or no edge), 1 (chains), 2 (layers) or 3.

    Raises
    ------
    ValueError
        If an edge names a site outside ``0 .. n_sites - 1``.

    """
    return _dimension(n_sites, *_edge_arrays(n_sites, edges))


def _dimension_oracle(network: MigrationNetwork) -> Callable[[frozenset[str]], int]:
    """``network_dimension`` of the sub-network of a set of hop classes, memoised."""
    by_class: dict[str, _EdgeArrays] = {
        hop_id: _edge_arrays(network.n_sites, [e for e in network.edges if e.hop_id == hop_id])
        for hop_id in network.hop_ids
    }

    @cache
    def dimension_of(hop_ids: frozenset[str]) -> int:
        if not hop_ids:
            return 0
        parts = [by_class[hop_id] for hop_id in sorted(hop_ids)]
        u, v, image = (np.concatenate([p[i] for p in parts]) for i in range(3))
        return _dimension(network.n_sites, u, v, image)

    return dimension_of


def _first_groups(
    groups: Sequence[frozenset[str]], dimension_of: Callable[[frozenset[str]], int]
) -> dict[int, int | None]:
    """Index of the first group whose addition makes the network span each dimension.

    The scan stops as soon as the growing network spans as many dimensions as the whole
    network does (switching classes on never lowers the dimension, and the whole network is
    the same set of classes for every draw, so its dimension is computed once).
    """
    first: dict[int, int | None] = dict.fromkeys(DIMENSIONS)
    if not groups:
        return first
    top = dimension_of(frozenset().union(*groups))
    active: frozenset[str] = frozenset()
    for index, group in enumerate(groups):
        if top == 0:
            break
        active = active | group
        reached = dimension_of(active)
        for dim in DIMENSIONS:
            if dim <= reached and first[dim] is None:
                first[dim] = index
        if reached >= top:
            break
    return first


def _bottleneck(
    groups: Sequence[frozenset[str]],
    index: int,
    dim: int,
    dimension_of: Callable[[frozenset[str]], int],
) -> str:
    """The class of tied group ``index`` that alone (with lower ones) reaches ``dim``.

    When no single tied class does, the whole tie is needed and the first id is returned.
    """
    below = frozenset().union(*groups[:index])
    tied = sorted(groups[index])
    for hop_id in tied:
        if dimension_of(below | {hop_id}) >= dim:
            return hop_id
    return tied[0]


def _check_barrier(hop_id: str, value: float) -> float:
    """``value`` as a float, refusing NaN and infinities."""
    barrier = float(value)
    if not np.isfinite(barrier):
        raise ValueError(f"barrier of hop {hop_id} is {barrier}; barriers must be finite (eV)")
    return barrier


def _missing(network: MigrationNetwork, given: Mapping[str, object]) -> None:
    """Refuse a mapping lacking a hop class of the network."""
    missing = [hop_id for hop_id in network.hop_ids if hop_id not in given]
    if missing:
        raise ValueError(
            f"no barrier for {len(missing)} of the network's {len(network.hop_ids)} hop "
            f"classes: {', '.join(missing)}"
        )


def _tie_groups(barriers: Mapping[str, float]) -> list[frozenset[str]]:
    """Hop classes grouped by equal barrier, lowest barrier first."""
    groups: list[frozenset[str]] = []
    ordered = sorted(barriers, key=lambda hop_id: (barriers[hop_id], hop_id))
    start = 0
    for end in range(1, len(ordered) + 1):
        if end == len(ordered) or barriers[ordered[end]] != barriers[ordered[start]]:
            groups.append(frozenset(ordered[start:end]))
            start = end
    return groups


def percolation_barriers(
    network: MigrationNetwork, barrier_by_hop_id: Mapping[str, float]
) -> dict[int, Percolation]:
    """Lowest barrier at which the network percolates in 1, 2 and 3 dimensions.

    Hop classes are switched on in increasing barrier order (tied classes together); the
    barrier of dimension ``d`` is the first at which the switched-on hops span the crystal
    in at least ``d`` dimensions.

    Parameters
    ----------
    network : MigrationNetwork
        The periodic network of the host (:func:`~hopscreen.hops.network.migration_network`).
    barrier_by_hop_id : Mapping of str to float
        Migration barrier (eV) of every hop class of the network; other keys are ignored.

    Returns
    -------
    dict of int to Percolation
        Keyed by dimension 1, 2, 3; barrier and bottleneck None where the network never
        percolates in that dimension. The bottleneck of a tie is the first (by id) tied class
        that reaches the dimension on its own with the lower classes.

    Raises
    ------
    ValueError
        If a hop class has no barrier, or a barrier is NaN or infinite.

    """
    _missing(network, barrier_by_hop_id)
    barriers = {h: _check_barrier(h, barrier_by_hop_id[h]) for h in network.hop_ids}
    groups = _tie_groups(barriers)
    dimension_of = _dimension_oracle(network)
    result = {}
    for dim, index in _first_groups(groups, dimension_of).items():
        if index is None:
            result[dim] = Percolation(dimension=dim, barrier_ev=None, bottleneck_hop_id=None)
            continue
        hop_id = _bottleneck(groups, index, dim, dimension_of)
        result[dim] = Percolation(
            dimension=dim, barrier_ev=barriers[hop_id], bottleneck_hop_id=hop_id
        )
    return result


def _sample_matrix(network: MigrationNetwork, samples: Mapping[str, np.ndarray]) -> np.ndarray:
    """The draws as an (n_draws, n_classes) array, columns in ``network.hop_ids`` order."""
    _missing(network, samples)
    columns = [np.asarray(samples[h], dtype=float) for h in network.hop_ids]
    lengths = {c.shape for c in columns}
    if any(c.ndim != 1 for c in columns) or len(lengths) > 1:
        raise ValueError(f"samples must be 1-D arrays of one length, got shapes {lengths}")
    for hop_id, column in zip(network.hop_ids, columns, strict=True):
        if not np.all(np.isfinite(column)):
            raise ValueError(f"samples of hop {hop_id} are not all finite (eV)")
    n_draws = len(columns[0]) if columns else _n_draws_without_classes(samples)
    return np.stack(columns, axis=1) if columns else np.empty((n_draws, 0))


def _n_draws_without_classes(samples: Mapping[str, np.ndarray]) -> int:
    """Number of draws when the network has no class (from any array given, else 0)."""
    return len(np.asarray(next(iter(samples.values())))) if samples else 0


def percolation_barrier_samples(
    network: MigrationNetwork, samples: Mapping[str, np.ndarray]
) -> dict[int, np.ndarray]:
    """:func:`percolation_barriers`' barriers for many draws of the class barriers at once.

    The outcome of a draw depends only on the order of its class barriers (and their ties),
    so each distinct order is solved once and the network's dimension is memoised per set
    of switched-on classes; a draw then costs a sort.

    Parameters
    ----------
    network : MigrationNetwork
        The periodic network of the host.
    samples : Mapping of str to numpy.ndarray
        Barrier draws (eV), shape (n_draws,), of every hop class of the network; other keys
        are ignored.

    Returns
    -------
    dict of int to numpy.ndarray
        Keyed by dimension 1, 2, 3: the percolation barrier (eV) of each draw, shape
        (n_draws,), NaN where that draw never percolates in that dimension.

    Raises
    ------
    ValueError
        If a class has no draws, the draws differ in shape or are not 1-D, or one is not
        finite.

    """
    values = _sample_matrix(network, samples)
    n_draws, n_classes = values.shape
    if n_classes == 0:
        return {dim: np.full(n_draws, np.nan) for dim in DIMENSIONS}
    order = np.argsort(values, axis=1, kind="stable")
    ordered = np.take_along_axis(values, order, axis=1)
    ties = (ordered[:, 1:] == ordered[:, :-1]).astype(order.dtype)
    keys, inverse = np.unique(np.concatenate([order, ties], axis=1), axis=0, return_inverse=True)
    dimension_of = _dimension_oracle(network)
    position = np.full((len(keys), len(DIMENSIONS)), -1, dtype=np.int64)
    for row, key in enumerate(keys):
        groups, starts = _groups_of_order(network.hop_ids, key[:n_classes], key[n_classes:])
        for col, index in enumerate(_first_groups(groups, dimension_of).values()):
            if index is not None:
                position[row, col] = starts[index]
    position = position[inverse.reshape(-1)]
    result = {}
    for col, dim in enumerate(DIMENSIONS):
        barrier = np.full(n_draws, np.nan)
        hit = position[:, col] >= 0
        barrier[hit] = ordered[np.flatnonzero(hit), position[hit, col]]
        result[dim] = barrier
    return result


def _groups_of_order(
    hop_ids: Sequence[str], order: np.ndarray, tied_to_previous: np.ndarray
) -> tuple[list[frozenset[str]], list[int]]:
    """Tie groups of one sorted draw, and the sorted position where each group starts."""
    groups: list[frozenset[str]] = []
    starts: list[int] = []
    for position, column in enumerate(order.tolist()):
        if position > 0 and tied_to_previous[position - 1]:
            groups[-1] = groups[-1] | {hop_ids[column]}
        else:
            groups.append(frozenset({hop_ids[column]}))
            starts.append(position)
    return groups, starts
