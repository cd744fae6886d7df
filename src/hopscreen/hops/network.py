"""The periodic migration network of a working ion: every hop of the crystal, by class.

:func:`~hopscreen.hops.enumerate.enumerate_hops` keeps one representative per hop class; the
network keeps every edge of the periodic migration graph (pymatgen-analysis-diffusion's
edges, :class:`~hopscreen.hops.enumerate.HopGraph`: each working-ion site of the cell joined
to its neighbours in this and the adjacent cells), tagged with the ``hop_id`` of its class
(hopscreen's symmetry classes on the canonical cell, :mod:`hopscreen.hops.classes`, not
pymatgen's cell-dependent grouping). Which classes percolate, and at which barrier, is
:mod:`hopscreen.hops.percolation`'s business.

Direction of an edge: pymatgen's ``StructureGraph`` stores each undirected edge once, from
the lower site index ``u`` (in cell 0) to site ``v`` translated by ``to_jimage`` (for
``u == v`` the first non-zero component of ``to_jimage`` is positive). ``MigrationGraph``
builds each edge's hop from ``only_sites[u]`` to ``only_sites[v].frac_coords + to_jimage``,
so :attr:`NetworkEdge.image` is the cell of ``v`` as seen from ``u`` in cell 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hopscreen.hops.enumerate import (
    DEFAULT_MAX_HOP_LENGTH_ANGSTROM,
    distinct_hops,
    hop_graph,
)
from hopscreen.hops.hop import DEFAULT_SYMPREC
from hopscreen.schemas.hop import HostNetworkDoc

if TYPE_CHECKING:
    from pymatgen.analysis.diffusion.neb.full_path_mapper import MigrationGraph
    from pymatgen.core import Structure

    from hopscreen.candidates.validate import InputLimits
    from hopscreen.hops.hop import Hop


@dataclass(frozen=True)
class NetworkEdge:
    """One hop of the periodic network.

    Attributes
    ----------
    u : int
        Working-ion site the hop starts from, in cell (0, 0, 0).
    v : int
        Working-ion site the hop ends on, in cell ``image``.
    image : tuple of int
        Lattice translation (fractional, integers) of the cell holding ``v``.
    hop_id : str
        Content id of the hop's class (as :func:`enumerate_hops` gives it).

    """

    u: int
    v: int
    image: tuple[int, int, int]
    hop_id: str


@dataclass(frozen=True)
class MigrationNetwork:
    """The periodic migration network of one host.

    Attributes
    ----------
    n_sites : int
        Number of working-ion sites in the cell (the nodes are ``0 .. n_sites - 1``).
    edges : tuple of NetworkEdge
        Every hop of the cell, each undirected hop once.
    hop_ids : tuple of str
        The distinct hop classes present among ``edges``, sorted.

    """

    n_sites: int
    edges: tuple[NetworkEdge, ...]
    hop_ids: tuple[str, ...]


def _image(to_jimage: tuple[int, ...]) -> tuple[int, int, int]:
    """A pymatgen ``to_jimage`` as a tuple of three Python ints."""
    a, b, c = (int(x) for x in to_jimage)
    return (a, b, c)


def network_from_graph(graph: MigrationGraph, id_by_label: dict[int, str]) -> MigrationNetwork:
    """The :class:`MigrationNetwork` of a built :class:`MigrationGraph`.

    Parameters
    ----------
    graph : MigrationGraph
        A migration graph whose edges carry a ``hop_label`` (from
        :func:`~hopscreen.hops.enumerate.hop_graph` and
        :func:`~hopscreen.hops.enumerate.distinct_hops`, which label every edge by its class).
    id_by_label : dict of int to str
        ``hop_id`` of each edge label (from :func:`~hopscreen.hops.enumerate.distinct_hops`).

    Returns
    -------
    MigrationNetwork
        Edges sorted by ``(u, v, image)``.

    Raises
    ------
    KeyError
        If an edge carries a label missing from ``id_by_label``.

    """
    edges = sorted(
        (
            NetworkEdge(
                u=int(u),
                v=int(v),
                image=_image(data["to_jimage"]),
                hop_id=id_by_label[data["hop_label"]],
            )
            for u, v, data in graph.m_graph.graph.edges(data=True)
        ),
        key=lambda e: (e.u, e.v, e.image, e.hop_id),
    )
    return MigrationNetwork(
        n_sites=len(graph.only_sites),
        edges=tuple(edges),
        hop_ids=tuple(sorted({e.hop_id for e in edges})),
    )


def enumerate_hops_and_network(
    structure: Structure,
    working_ion: str,
    *,
    max_hop_length_angstrom: float = DEFAULT_MAX_HOP_LENGTH_ANGSTROM,
    symprec: float = DEFAULT_SYMPREC,
    limits: InputLimits | None = None,
) -> tuple[list[Hop], MigrationNetwork]:
    """The distinct hops of :func:`enumerate_hops` and the network, from one graph.

    Parameters
    ----------
    structure : pymatgen.core.Structure
        Ordered host structure with every working-ion site occupied.
    working_ion : str
        Element symbol of the migrating ion, e.g. ``"Li"``.
    max_hop_length_angstrom : float
        Longest site-to-site distance (Å) taken as a hop.
    symprec : float
        spglib symmetry precision (Å) used to group equivalent hops.
    limits : InputLimits, optional
        Caps and tolerances of the input gate.

    Returns
    -------
    tuple of (list of Hop, MigrationNetwork)
        Exactly what :func:`enumerate_hops` returns, and the network whose ``hop_ids`` are
        those hops' ids (no edge and no id when there is no hop).

    Raises
    ------
    InvalidInputError
        If the input gate refuses the structure.
    ValueError
        If the ion is not an element or the cut-off is not in (0, cap] Å.

    """
    graph, gated, ion = hop_graph(
        structure,
        working_ion,
        max_hop_length_angstrom=max_hop_length_angstrom,
        symprec=symprec,
        limits=limits,
    )
    hops, id_by_label = distinct_hops(graph, gated, ion, symprec)
    return hops, network_from_graph(graph, id_by_label)


def migration_network(
    structure: Structure,
    working_ion: str,
    *,
    max_hop_length_angstrom: float = DEFAULT_MAX_HOP_LENGTH_ANGSTROM,
    symprec: float = DEFAULT_SYMPREC,
    limits: InputLimits | None = None,
) -> MigrationNetwork:
    """The periodic migration network of ``working_ion`` in ``structure``.

    Parameters and errors are those of :func:`enumerate_hops_and_network`.

    Returns
    -------
    MigrationNetwork
        Every hop of the cell up to the cut-off, tagged with its class's ``hop_id``.

    """
    _, network = enumerate_hops_and_network(
        structure,
        working_ion,
        max_hop_length_angstrom=max_hop_length_angstrom,
        symprec=symprec,
        limits=limits,
    )
    return network


def network_doc(
    network: MigrationNetwork,
    *,
    candidate_name: str,
    working_ion: str,
    candidate_id: str | None = None,
) -> HostNetworkDoc:
    """The document of a network: one ``[u, v, a, b, c, k]`` row per edge.

    Parameters
    ----------
    network : MigrationNetwork
        The host's network.
    candidate_name : str
        Name of the host.
    working_ion : str
        Element symbol of the migrating ion.
    candidate_id : str, optional
        Id of the candidate document.

    Returns
    -------
    HostNetworkDoc
        ``k`` indexes ``network.hop_ids``; :func:`network_from_doc` gives the network back.

    """
    index = {hop_id: k for k, hop_id in enumerate(network.hop_ids)}
    return HostNetworkDoc(
        candidate_id=candidate_id,
        candidate_name=candidate_name,
        working_ion=working_ion,
        n_sites=network.n_sites,
        hop_ids=list(network.hop_ids),
        edges=[[e.u, e.v, *e.image, index[e.hop_id]] for e in network.edges],
    )


def network_from_doc(doc: HostNetworkDoc) -> MigrationNetwork:
    """The :class:`MigrationNetwork` a :class:`HostNetworkDoc` stores.

    Parameters
    ----------
    doc : HostNetworkDoc
        A document written by :func:`network_doc` (or read back from a store).

    Returns
    -------
    MigrationNetwork
        The network, its ``hop_ids`` sorted.

    Raises
    ------
    ValueError
        If a row is not six integers, names a site outside ``0 .. n_sites - 1`` or a class
        outside ``hop_ids``, or ``hop_ids`` repeat a class.

    """
    if len(set(doc.hop_ids)) != len(doc.hop_ids):
        raise ValueError(f"{doc.candidate_name}: hop_ids repeat a class")
    edges = []
    for row in doc.edges:
        if len(row) != 6:
            raise ValueError(f"{doc.candidate_name}: edge row {row} is not [u, v, a, b, c, k]")
        u, v, a, b, c, k = row
        if not (0 <= u < doc.n_sites and 0 <= v < doc.n_sites and 0 <= k < len(doc.hop_ids)):
            raise ValueError(
                f"{doc.candidate_name}: edge row {row} names a site outside "
                f"0..{doc.n_sites - 1} or a class outside 0..{len(doc.hop_ids) - 1}"
            )
        edges.append(NetworkEdge(u=u, v=v, image=(a, b, c), hop_id=doc.hop_ids[k]))
    return MigrationNetwork(
        n_sites=doc.n_sites, edges=tuple(edges), hop_ids=tuple(sorted(doc.hop_ids))
    )
