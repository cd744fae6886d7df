"""Enumerate the distinct migration hops of a working ion in a host structure.

pymatgen-analysis-diffusion's :class:`MigrationGraph` connects every working-ion site of the
input cell to the working-ion sites within ``max_hop_length_angstrom`` (the periodic network
of :mod:`hopscreen.hops.network`). The hops are grouped into classes by
:mod:`hopscreen.hops.classes`, on the host's canonical cell (:mod:`hopscreen.hops.canonical`),
not by pymatgen: one representative :class:`Hop` is kept per class, and the class, its
``hop_id``, its multiplicity and its representative (hence its supercell and band) are the
same whatever cell, origin, atom order or orientation the host was given in.

Every structure first passes the input gate
(:func:`~hopscreen.candidates.validate.gate_structure`, the one the candidates stage uses):
degenerate, overlapping, disordered, non-finite, host-less and oversized cells are refused
before the neighbour search, and oxidation states are removed. The caps are
:class:`~hopscreen.candidates.validate.InputLimits`, held by :class:`HopOptions` as ``limits``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field, model_validator
from pymatgen.analysis.diffusion.neb.full_path_mapper import (
    MigrationGraph,
    get_only_sites_from_structure,
)
from pymatgen.analysis.graphs import StructureGraph
from pymatgen.analysis.local_env import MinimumDistanceNN
from pymatgen.core import Element, PeriodicSite
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from hopscreen.candidates.validate import (
    InputLimits,
    check_hop_length,
    check_working_ion,
    gate_structure,
)
from hopscreen.hops.canonical import CanonicalCell, canonical_cell
from hopscreen.hops.classes import HopClass, hop_classes, label_graph
from hopscreen.hops.hop import DEFAULT_SYMPREC, Hop
from hopscreen.hops.hop_id import host_fingerprint
from hopscreen.hops.supercell import SharedSupercellHop, SupercellOptions
from hopscreen.schemas.base import Config

if TYPE_CHECKING:
    from pymatgen.core import Structure

#: Default longest hop considered, in Å. Nearest-neighbour hops of the working ion in
#: intercalation hosts are 2.5–4.5 Å; 5 Å keeps them all and 87 % of the 619 hops of the
#: published E_m dataset (65 % are within 4 Å, 94 % within 6 Å; median 3.6 Å) while keeping
#: the number of hops, and of supercell/band constructions, small for large hosts.
DEFAULT_MAX_HOP_LENGTH_ANGSTROM = 5.0


def gate_for_hops(
    structure: Structure,
    working_ion: str,
    *,
    max_hop_length_angstrom: float,
    limits: InputLimits | None = None,
) -> tuple[Structure, Element]:
    """The input gate as the hops stage applies it.

    The hop cut-off is checked against ``limits.hop_length_cap_angstrom`` and used as the
    single-ion-site rule's longest hop (one ion site whose images lie beyond the cut-off has
    no hop).

    Parameters
    ----------
    structure : pymatgen.core.Structure
        The host (oxidation states allowed).
    working_ion : str
        Element symbol of the migrating ion (any case).
    max_hop_length_angstrom : float
        Longest hop considered, Å.
    limits : InputLimits, optional
        Caps and tolerances (defaults when None).

    Returns
    -------
    tuple of (pymatgen.core.Structure, pymatgen.core.Element)
        The host without oxidation states and the working ion.

    Raises
    ------
    InvalidInputError
        When the gate refuses the structure (one-line reason, failure code).
    ValueError
        When the ion is not an element or the cut-off is not in (0, cap] Å.

    """
    limits = limits or InputLimits()
    cutoff = check_hop_length(max_hop_length_angstrom, limits.hop_length_cap_angstrom)
    ion = Element(check_working_ion(working_ion))
    rules = limits.model_copy(update={"max_hop_angstrom": cutoff})
    return gate_structure(structure, ion.symbol, limits=rules), ion


def enumerate_hops(
    structure: Structure,
    working_ion: str,
    *,
    max_hop_length_angstrom: float = DEFAULT_MAX_HOP_LENGTH_ANGSTROM,
    symprec: float = DEFAULT_SYMPREC,
    limits: InputLimits | None = None,
) -> list[Hop]:
    """Find the symmetry-distinct hops of ``working_ion`` in ``structure``.

    Parameters
    ----------
    structure : pymatgen.core.Structure
        Ordered host structure with every working-ion site occupied; sites may carry
        oxidation states (removed by the input gate; the hops hold the plain structure).
    working_ion : str
        Element symbol of the migrating ion, e.g. ``"Li"`` (any case).
    max_hop_length_angstrom : float
        Longest site-to-site distance (Å) taken as a hop (default 5 Å, see
        :data:`DEFAULT_MAX_HOP_LENGTH_ANGSTROM`; at most ``limits.hop_length_cap_angstrom``).
    symprec : float
        spglib symmetry precision (Å) used to group equivalent hops.
    limits : InputLimits, optional
        Caps and tolerances of the input gate (see :func:`gate_for_hops`).

    Returns
    -------
    list of Hop
        One hop per class (hops with one ``hop_id``), sorted by length (shortest first);
        empty when no two working-ion sites are closer than ``max_hop_length_angstrom``.
        The same crystal gives the same ids, lengths, multiplicities and bands in any cell.

    Notes
    -----
    The classes are not pymatgen-analysis-diffusion's (``MigrationGraph.unique_hops``), which
    depend on the cell: it splits a class in two in a 2×1×1 supercell of a rhombohedral
    primitive cell, merges two distinct hops in some triclinic cells (it compares hops with
    ``symprec`` as a tolerance in fractional coordinates) and picks each representative from
    the input cell. See :mod:`hopscreen.hops.classes`.

    Raises
    ------
    InvalidInputError
        If the input gate refuses the structure (disordered, no ``working_ion``, degenerate
        or oversized cell, overlapping atoms, no host framework, ...).
    ValueError
        If the ion is not an element or the cut-off is not in (0, cap] Å.

    """
    graph, structure, ion = hop_graph(
        structure,
        working_ion,
        max_hop_length_angstrom=max_hop_length_angstrom,
        symprec=symprec,
        limits=limits,
    )
    hops, _ = distinct_hops(graph, structure, ion, symprec)
    return hops


class HopGraph(MigrationGraph):
    """pymatgen's periodic migration graph, without pymatgen's hop grouping.

    ``MigrationGraph.__init__`` builds a ``MigrationHop`` on every edge (one spglib call
    each) and groups the edges by its own, cell-dependent, equivalence; hopscreen labels the
    edges by hop class instead (:func:`distinct_hops`). The edges and ``to_jimage`` are
    pymatgen's (``MigrationGraph.with_distance``).

    Parameters
    ----------
    structure : pymatgen.core.Structure
        The host with every working-ion site occupied.
    m_graph : pymatgen.analysis.graphs.StructureGraph
        Graph of the working-ion sites.
    symprec : float
        spglib symmetry precision (Å).
    max_distance_angstrom : float
        The cut-off the edges were found with, Å.

    """

    def __init__(
        self,
        structure: Structure,
        m_graph: StructureGraph,
        symprec: float,
        max_distance_angstrom: float,
    ) -> None:
        # Deliberately not MigrationGraph.__init__ (see the class docstring).
        self.structure = structure
        self.m_graph = m_graph
        self.symprec = symprec
        self.vac_mode = False
        self.max_distance_angstrom = max_distance_angstrom
        self.m_graph.set_node_attributes()


def hop_graph(
    structure: Structure,
    working_ion: str,
    *,
    max_hop_length_angstrom: float = DEFAULT_MAX_HOP_LENGTH_ANGSTROM,
    symprec: float = DEFAULT_SYMPREC,
    limits: InputLimits | None = None,
) -> tuple[HopGraph, Structure, Element]:
    """The input gate, then the periodic migration graph of ``working_ion``.

    Parameters are those of :func:`enumerate_hops`.

    Returns
    -------
    tuple of (HopGraph, pymatgen.core.Structure, pymatgen.core.Element)
        The graph (its nodes are the working-ion sites of the input cell, its edges every hop
        up to the cut-off, not yet labelled: :func:`distinct_hops` labels them), the gated
        host and the ion.

    Raises
    ------
    InvalidInputError
        If the input gate refuses the structure.
    ValueError
        If the ion is not an element or the cut-off is not in (0, cap] Å.

    """
    structure, ion = gate_for_hops(
        structure, working_ion, max_hop_length_angstrom=max_hop_length_angstrom, limits=limits
    )
    only_sites = get_only_sites_from_structure(structure, ion)
    m_graph = StructureGraph.from_local_env_strategy(
        only_sites, MinimumDistanceNN(cutoff=max_hop_length_angstrom, get_all_sites=True)
    )
    return HopGraph(structure, m_graph, symprec, max_hop_length_angstrom), structure, ion


def _hop(
    hop_class: HopClass,
    structure: Structure,
    ion: Element,
    cell: CanonicalCell,
    migration_hop: SharedSupercellHop,
    symprec: float,
) -> Hop:
    """The :class:`Hop` of a class: its representative, written in the input cell too."""
    start, end = cell.to_input(hop_class.start), cell.to_input(hop_class.end)
    cell_of_start = np.floor(start + 1e-9)
    return Hop(
        structure=structure,
        working_ion=ion.symbol,
        isite_frac=start - cell_of_start,
        esite_frac=end - cell_of_start,
        length_angstrom=hop_class.length_angstrom,
        multiplicity=hop_class.multiplicity,
        hop_id=hop_class.hop_id,
        migration_hop=migration_hop,
        symprec=symprec,
    )


def distinct_hops(
    graph: HopGraph, structure: Structure, ion: Element, symprec: float
) -> tuple[list[Hop], dict[int, str]]:
    """One :class:`Hop` per hop class, shortest first; the graph's edges labelled by class.

    Parameters
    ----------
    graph : HopGraph
        The graph of :func:`hop_graph`; each edge's ``hop_label`` is set here.
    structure : pymatgen.core.Structure
        The gated host the graph was built on.
    ion : pymatgen.core.Element
        The working ion.
    symprec : float
        spglib symmetry precision (Å): hops related by the host's space group at this
        precision are one class.

    Returns
    -------
    tuple of (list of Hop, dict of int to str)
        The hops (as :func:`enumerate_hops` returns them) and the ``hop_id`` of every
        ``hop_label`` of the graph.

    """
    cell = canonical_cell(structure)
    host = host_fingerprint(cell.structure, symprec=symprec)
    analyzer = SpacegroupAnalyzer(cell.structure, symprec=symprec)
    dataset = analyzer.get_symmetry_dataset()
    operations = (np.asarray(dataset.rotations), np.asarray(dataset.translations))
    classes, edge_ids = hop_classes(cell, ion, graph.max_distance_angstrom, host, operations)
    id_by_label = label_graph(graph.m_graph, structure, ion, cell, classes, edge_ids, host)
    if not classes:
        return [], id_by_label
    symmetrized = analyzer.get_symmetrized_structure()
    lattice = cell.structure.lattice
    matrices: dict = {}  # one supercell search for all hops of the host
    hops = []
    for hop_class in classes:
        migration_hop = SharedSupercellHop(
            PeriodicSite(ion, hop_class.start, lattice),
            PeriodicSite(ion, hop_class.end, lattice),
            symmetrized,
            symprec=symprec,
            matrices=matrices,
        )
        hops.append(_hop(hop_class, structure, ion, cell, migration_hop, symprec))
    return hops, id_by_label


class HopOptions(Config):
    """Parameters of the hops stage, with the caps of its input gate (``limits``)."""

    max_hop_length_angstrom: float = Field(
        DEFAULT_MAX_HOP_LENGTH_ANGSTROM,
        gt=0,
        allow_inf_nan=False,
        description="Longest hop considered, in Å (at most limits.hop_length_cap_angstrom).",
    )
    symprec: float = Field(DEFAULT_SYMPREC, gt=0, description="spglib symmetry precision, Å.")
    supercell: SupercellOptions = Field(default_factory=SupercellOptions)
    limits: InputLimits = Field(
        default_factory=InputLimits,
        description="Caps of the input gate: atoms per cell, hop cut-off, hops per host, ...",
    )

    @model_validator(mode="after")
    def _cutoff_within_cap(self) -> HopOptions:
        check_hop_length(self.max_hop_length_angstrom, self.limits.hop_length_cap_angstrom)
        return self

    def gate_limits(self) -> InputLimits:
        """``limits`` as the hops stage applies them (single-ion rule at the hop cut-off)."""
        return self.limits.model_copy(update={"max_hop_angstrom": self.max_hop_length_angstrom})
