"""Hop classes of a host, found on its canonical cell, and the class of every graph edge.

A hop class is an orbit of hops of the working ion under the host's space group (spglib, at
``symprec``; two hops are related only if their lengths also agree within 1e-3 Å, as in
pymatgen-analysis-diffusion), found on the host's
:func:`~hopscreen.hops.canonical.canonical_cell`; classes that end up with one id are merged.
Every hop there gets its :func:`~hopscreen.hops.hop_id.compute_hop_id`; a class's id is the
smallest id among its hops (all its hops have that id unless the host is only approximately
symmetric), and its representative, the hop whose band is built, is the class's hop with
that id from the lowest-numbered canonical site, then to the lowest-numbered site, then the
smallest cell image. Classes, ids, representatives and multiplicities therefore depend on the
crystal only, not on the cell it was given in. (pymatgen-analysis-diffusion's own grouping
does not: it compares hops with ``symprec`` as a tolerance in fractional coordinates, so it
merges distinct hops in some cells and splits classes in others, and it picks the
representative in the input cell.)

The hops of the input cell's migration graph are then mapped onto the canonical cell to be
labelled by their class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pymatgen.core import Element, Structure

from hopscreen.hops.hop_id import compute_hop_id

if TYPE_CHECKING:
    from pymatgen.analysis.graphs import StructureGraph

    from hopscreen.hops.canonical import CanonicalCell

Edge = tuple[int, int, tuple[int, int, int]]

# Added to the cut-off on the canonical cell, so that a hop the input graph kept at the
# cut-off (within rounding) is found there too.
_CUTOFF_SLACK_ANGSTROM = 1e-6
# Longest difference (Å) between the lengths of two hops of one class (pymatgen-analysis-
# diffusion's MigrationHop equality uses the same).
_LENGTH_TOLERANCE_ANGSTROM = 1e-3
# Largest distance (Å) between an input site mapped onto the canonical cell and its site there.
_MATCH_TOLERANCE_ANGSTROM = 0.05


@dataclass(frozen=True)
class HopClass:
    """One class of hops, on the canonical cell.

    Attributes
    ----------
    hop_id : str
        The id every hop of the class has.
    start, end : numpy.ndarray
        (3,) canonical fractional coordinates of the representative's sites (``end`` may lie
        outside [0, 1)).
    length_angstrom : float
        Length of the representative, Å.
    multiplicity : int
        Hops of the class per canonical (primitive) cell, each undirected hop once.

    """

    hop_id: str
    start: np.ndarray
    end: np.ndarray
    length_angstrom: float
    multiplicity: int


def ion_sites(structure: Structure, ion: Element) -> np.ndarray:
    """(n,) indices of the sites of ``ion`` in ``structure``."""
    return np.array([i for i, site in enumerate(structure) if site.specie == ion], dtype=int)


def ion_edges(structure: Structure, ion: Element, cutoff_angstrom: float) -> list[Edge]:
    """Every hop between ``ion`` sites up to the cut-off, each undirected hop once.

    Returns
    -------
    list of (u, v, image)
        ``u <= v`` index the ion sites (in order); the hop runs from ``u`` in cell 0 to ``v``
        in cell ``image`` (for ``u == v``, ``image`` is lexicographically positive). Sorted.

    """
    only = Structure.from_sites([structure[int(i)] for i in ion_sites(structure, ion)])
    centers, points, images, _ = only.get_neighbor_list(cutoff_angstrom)
    edges = set()
    for u, v, image in zip(centers.tolist(), points.tolist(), images.tolist(), strict=True):
        a, b, c = (round(x) for x in image)
        if u < v or (u == v and (a, b, c) > (0, 0, 0)):
            edges.add((u, v, (a, b, c)))
    return sorted(edges)


def _reverse(edge: Edge) -> Edge:
    u, v, (a, b, c) = edge
    return (v, u, (-a, -b, -c))


def _site_images(
    frac: np.ndarray, lattice: np.ndarray, rotation: np.ndarray, translation: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where a symmetry operation sends each ion site: (site index, lattice translation)."""
    moved = frac @ rotation.T + translation
    delta = moved[:, None, :] - frac[None, :, :]
    image = np.rint(delta)
    distance = np.linalg.norm((delta - image) @ lattice, axis=-1)
    target = np.argmin(distance, axis=1)
    return target, image[np.arange(len(frac)), target].astype(int)


def _orbits(
    edges: list[Edge], frac: np.ndarray, lattice: np.ndarray, operations: tuple
) -> list[int]:
    """Orbit index (the smallest member's index) of each edge under the operations.

    An operation relates two edges only if their lengths agree within
    :data:`_LENGTH_TOLERANCE_ANGSTROM` (the operations are found with a tolerance).
    """
    index = {}
    for k, edge in enumerate(edges):
        index[edge] = index[_reverse(edge)] = k
    parent = list(range(len(edges)))
    ends = np.array([frac[v] + image - frac[u] for u, v, image in edges]).reshape(-1, 3)
    lengths = np.linalg.norm(ends @ lattice, axis=1)

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for rotation, translation in zip(*operations, strict=True):
        target, shift = _site_images(frac, lattice, rotation, translation)
        for k, (u, v, image) in enumerate(edges):
            moved = shift[v] + rotation @ np.array(image) - shift[u]
            other = index.get((int(target[u]), int(target[v]), tuple(int(x) for x in moved)))
            if other is None:  # an approximate image beyond the cut-off
                continue
            if abs(lengths[k] - lengths[other]) <= _LENGTH_TOLERANCE_ANGSTROM:
                a, b = root(k), root(other)
                parent[max(a, b)] = min(a, b)
    return [root(k) for k in range(len(edges))]


def hop_classes(
    cell: CanonicalCell,
    ion: Element,
    cutoff_angstrom: float,
    host: dict,
    operations: tuple[np.ndarray, np.ndarray],
) -> tuple[list[HopClass], dict[Edge, str]]:
    """The hop classes of ``ion`` on a canonical cell, shortest first.

    Parameters
    ----------
    cell : CanonicalCell
        The host's canonical cell.
    ion : pymatgen.core.Element
        The working ion.
    cutoff_angstrom : float
        Longest hop, Å.
    host : dict
        The host's :func:`~hopscreen.hops.hop_id.host_fingerprint`.
    operations : tuple of numpy.ndarray
        The canonical cell's space group (spglib): (k, 3, 3) integer rotations and (k, 3)
        translations acting on fractional coordinates.

    Returns
    -------
    tuple of (list of HopClass, dict)
        The classes, sorted by (length, id), and the class id of every canonical hop, keyed
        by ``(u, v, image)`` in both directions (``u``, ``v`` index the canonical ion sites).

    """
    structure = cell.structure
    frac = structure.frac_coords[ion_sites(structure, ion)]
    edges = ion_edges(structure, ion, cutoff_angstrom + _CUTOFF_SLACK_ANGSTROM)
    own = [
        compute_hop_id(structure, ion.symbol, frac[u], frac[v] + image, host=host)
        for u, v, image in edges
    ]
    orbits = _orbits(edges, frac, structure.lattice.matrix, operations)
    orbit_id: dict[int, str] = {}
    for orbit, this_id in zip(orbits, own, strict=True):
        orbit_id[orbit] = min(this_id, orbit_id.get(orbit, this_id))
    edge_ids: dict[Edge, str] = {}
    members: dict[str, list[Edge]] = {}  # by class id: two orbits with one id are one class
    candidates: dict[str, list[Edge]] = {}  # the members whose own id is the class id
    for edge, orbit, this_id in zip(edges, orbits, own, strict=True):
        class_id = orbit_id[orbit]
        edge_ids[edge] = edge_ids[_reverse(edge)] = class_id
        members.setdefault(class_id, []).append(edge)
        if this_id == class_id:
            candidates.setdefault(class_id, []).append(edge)
    classes = []
    for class_id, edges_of_class in members.items():
        u, v, image = min(min(e, _reverse(e)) for e in candidates[class_id])
        start, end = frac[u], frac[v] + np.array(image)
        length = float(np.linalg.norm(structure.lattice.get_cartesian_coords(end - start)))
        classes.append(HopClass(class_id, start, end, length, len(edges_of_class)))
    return sorted(classes, key=lambda c: (c.length_angstrom, c.hop_id)), edge_ids


def _site_map(only: Structure, cell: CanonicalCell, ion: Element) -> list[tuple[int, np.ndarray]]:
    """For each input ion site: its canonical ion site and the cell it lies in there."""
    canonical = cell.structure
    frac = canonical.frac_coords[ion_sites(canonical, ion)]
    lattice = canonical.lattice.matrix
    out = []
    for x in cell.to_canonical(only.frac_coords):
        delta = x - frac
        image = np.rint(delta)
        distance = np.linalg.norm((delta - image) @ lattice, axis=1)
        j = int(np.argmin(distance))
        if distance[j] > _MATCH_TOLERANCE_ANGSTROM:
            raise LookupError(f"site at {x} is not on the canonical cell ({distance[j]:.3f} Å)")
        out.append((j, image[j]))
    return out


def label_graph(
    m_graph: StructureGraph,
    structure: Structure,
    ion: Element,
    cell: CanonicalCell,
    classes: list[HopClass],
    edge_ids: dict[Edge, str],
    host: dict,
) -> dict[int, str]:
    """Set each edge's ``hop_label`` to its class; return the id of every label.

    Parameters
    ----------
    m_graph : pymatgen.analysis.graphs.StructureGraph
        The input cell's graph of ion sites (edges carry ``to_jimage``); relabelled in place.
    structure : pymatgen.core.Structure
        The input cell (for an edge that does not map onto the canonical cell, whose id is
        then computed on it directly; not expected outside numerical corner cases).
    ion : pymatgen.core.Element
        The working ion.
    cell, classes, edge_ids, host
        The host's canonical cell, :func:`hop_classes` and host fingerprint.

    Returns
    -------
    dict of int to str
        Label ``k`` is ``classes[k]`` (further labels only for edges the classes miss).

    """
    only = m_graph.structure
    label_of = {c.hop_id: k for k, c in enumerate(classes)}
    id_by_label = {k: c.hop_id for k, c in enumerate(classes)}
    sites = _site_map(only, cell, ion)
    for u, v, data in m_graph.graph.edges(data=True):
        image = np.array(data["to_jimage"], dtype=float)
        (ju, tu), (jv, tv) = sites[u], sites[v]
        offset = np.rint(tv + image @ cell.matrix - tu).astype(int)
        key = (ju, jv, (int(offset[0]), int(offset[1]), int(offset[2])))
        this_id = edge_ids.get(key)
        if this_id is None:
            start, end = only[u].frac_coords, only[v].frac_coords + image
            this_id = compute_hop_id(structure, ion.symbol, start, end, host=host)
        if this_id not in label_of:
            label_of[this_id] = len(label_of)
            id_by_label[label_of[this_id]] = this_id
        data["hop_label"] = label_of[this_id]
    return id_by_label
