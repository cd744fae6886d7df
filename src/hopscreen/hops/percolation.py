"""Dimensionality of a periodic migration network and the barriers at which it percolates.

A crystal conducts the working ion in ``d`` dimensions once its hops of barrier at most ``E``
connect into a network that spans the crystal in ``d`` independent lattice directions. The
network is periodic: a finite quotient graph (sites of one cell) whose edges carry the cell
translation of their end. A connected component of the quotient graph is walked once, each
site getting a lattice offset; an edge whose ends' offsets disagree with its own translation
closes a cycle of the infinite crystal through that translation. The component's dimension
is the rank of those translations (0 for a finite cluster, 3 for a network filling space).

The percolation barriers switch hop classes on in barrier order. Rather than walking the
network again after each class, the edges are added one at a time to a union-find forest
that keeps lattice offsets and cycle translations
(:class:`~hopscreen.hops.periodic_forest.PeriodicForest`): one pass over the edges gives
the dimension after every class, and the many draws of :func:`percolation_barrier_samples`
go through their forests side by side, a few numpy operations per edge for all draws.

Pure graph code: the network's edges need ``u``, ``v``, ``image`` and ``hop_id`` attributes
(:class:`~hopscreen.hops.network.NetworkEdge`); numpy only.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from hopscreen.hops.periodic_forest import PeriodicForest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from hopscreen.hops.network import MigrationNetwork, NetworkEdge

#: The dimensions a percolation barrier is reported for.
DIMENSIONS: tuple[int, ...] = (1, 2, 3)

_EdgeArrays = tuple[np.ndarray, np.ndarray, np.ndarray]

#: Draws times sites (or edges, if more) handled at once: bounds the memory of many draws.
_FOREST_CELLS = 1 << 19


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


def _class_edges(network: MigrationNetwork) -> tuple[_EdgeArrays, np.ndarray]:
    """Edge arrays of the network's classes and each edge's class (index in ``hop_ids``)."""
    column = {hop_id: index for index, hop_id in enumerate(network.hop_ids)}
    kept = [e for e in network.edges if e.hop_id in column]
    edge_class = np.array([column[e.hop_id] for e in kept], dtype=np.int64)
    return _edge_arrays(network.n_sites, kept), edge_class


def _edge_sequences(edge_class: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each draw's edges in its class order: edge index and class position, (n_draws, m)."""
    n_draws, n_classes = order.shape
    by_class = np.argsort(edge_class, kind="stable")
    counts = np.bincount(edge_class, minlength=n_classes)
    starts = np.cumsum(counts) - counts
    runs = counts[order].ravel()
    run_start = np.repeat(np.cumsum(runs) - runs, runs)
    within = np.arange(len(run_start)) - run_start
    edge = by_class[np.repeat(starts[order.ravel()], runs) + within]
    position = np.repeat(np.tile(np.arange(n_classes), n_draws), runs)
    return edge.reshape(n_draws, -1), position.reshape(n_draws, -1)


def _first_positions_of(
    n_sites: int, edges: _EdgeArrays, edge_class: np.ndarray, order: np.ndarray, top: int
) -> np.ndarray:
    """:func:`_first_positions` for draws that fit in one forest."""
    u, v, image = edges
    sequence, class_position = _edge_sequences(edge_class, order)
    forest = PeriodicForest.of_sites(len(order), n_sites)
    reached = np.zeros(len(order), dtype=np.int64)
    first = np.full((len(order), len(DIMENSIONS)), -1, dtype=np.int64)
    wanted = np.array(DIMENSIONS)
    live = np.flatnonzero(reached < top)
    for step in range(sequence.shape[1]):
        if not live.size:
            break
        edge = sequence[live, step]
        reached[live] = np.maximum(reached[live], forest.join(live, u[edge], v[edge], image[edge]))
        new = (reached[live, None] >= wanted) & (first[live] < 0)
        first[live] = np.where(new, class_position[live, step, None], first[live])
        live = live[reached[live] < top]
    return first


def _first_positions(network: MigrationNetwork, order: np.ndarray) -> np.ndarray:
    """Where each draw's network first spans 1, 2 and 3 dimensions.

    Parameters
    ----------
    network : MigrationNetwork
        The periodic network; its classes are the columns of ``order``.
    order : numpy.ndarray
        (n_draws, n_classes) the classes of each draw in the order they are switched on.

    Returns
    -------
    numpy.ndarray
        (n_draws, 3) position in ``order`` of the class whose edges first make the switched-on
        network span 1, 2 and 3 dimensions; -1 where it never does.

    """
    edges, edge_class = _class_edges(network)
    top = _dimension(network.n_sites, *edges)
    first = np.full((len(order), len(DIMENSIONS)), -1, dtype=np.int64)
    if top == 0:
        return first
    chunk = max(1, _FOREST_CELLS // max(network.n_sites, len(edge_class)))
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        first[start : start + chunk] = _first_positions_of(
            network.n_sites, edges, edge_class, part, top
        )
    return first


def _dimension_oracle(network: MigrationNetwork) -> Callable[[frozenset[str]], int]:
    """``network_dimension`` of the sub-network of a set of hop classes, memoised."""
    grouped: dict[str, list[NetworkEdge]] = {hop_id: [] for hop_id in network.hop_ids}
    for e in network.edges:
        if e.hop_id in grouped:
            grouped[e.hop_id].append(e)
    by_class = {h: _edge_arrays(network.n_sites, edges) for h, edges in grouped.items()}

    @cache
    def dimension_of(hop_ids: frozenset[str]) -> int:
        if not hop_ids:
            return 0
        parts = [by_class[hop_id] for hop_id in sorted(hop_ids)]
        u, v, image = (np.concatenate([p[i] for p in parts]) for i in range(3))
        return _dimension(network.n_sites, u, v, image)

    return dimension_of


def _bottleneck(
    groups: Sequence[frozenset[str]],
    index: int,
    dim: int,
    dimension_of: Callable[[frozenset[str]], int],
) -> str:
    """The class of tied group ``index`` that alone (with lower ones) reaches ``dim``.

    When no single tied class does, the whole tie is needed and the first id is returned.
    """
    tied = sorted(groups[index])
    if len(tied) == 1:
        return tied[0]
    below = frozenset().union(*groups[:index])
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
    group_of = {hop_id: index for index, group in enumerate(groups) for hop_id in group}
    ordered = [hop_id for group in groups for hop_id in sorted(group)]
    column = {hop_id: index for index, hop_id in enumerate(network.hop_ids)}
    order = np.array([[column[hop_id] for hop_id in ordered]], dtype=np.int64)
    dimension_of = _dimension_oracle(network)
    result = {}
    first = _first_positions(network, order)[0].tolist()
    for dim, position in zip(DIMENSIONS, first, strict=True):
        if position < 0:
            result[dim] = Percolation(dimension=dim, barrier_ev=None, bottleneck_hop_id=None)
            continue
        hop_id = _bottleneck(groups, group_of[ordered[position]], dim, dimension_of)
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

    Each draw switches its classes on in the order of its barriers; all draws are added to
    union-find forests side by side, edge position by edge position, and a draw stops once
    it spans as many dimensions as the whole network. A draw's barrier in dimension ``d`` is
    the barrier of the class whose edges first make it span ``d`` dimensions (classes of
    equal barrier give the same value in whatever order they come).

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
    # the first position of each run of equal values (its value stands for the whole run)
    starts = np.ones((n_draws, n_classes), dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    run_start = np.maximum.accumulate(np.where(starts, np.arange(n_classes), 0), axis=1)
    first = _first_positions(network, order)
    rows = np.arange(n_draws)
    result = {}
    for col, dim in enumerate(DIMENSIONS):
        hit = first[:, col] >= 0
        barrier = np.full(n_draws, np.nan)
        barrier[hit] = ordered[rows[hit], run_start[rows[hit], first[hit, col]]]
        result[dim] = barrier
    return result
