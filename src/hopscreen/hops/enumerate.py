"""Enumerate the symmetry-distinct migration hops of a working ion in a host structure.

The heavy lifting is done by pymatgen-analysis-diffusion: a :class:`MigrationGraph` connects
every working-ion site to the working-ion sites within ``max_hop_length_angstrom`` and groups
the edges into symmetry-equivalent classes. One representative :class:`Hop` is kept per class.

Every structure first passes the input gate
(:func:`~hopscreen.candidates.validate.gate_structure`, the one the candidates stage uses):
degenerate, overlapping, disordered, non-finite, host-less and oversized cells are refused
before the neighbour search, and oxidation states are removed. The caps are
:class:`~hopscreen.candidates.validate.InputLimits`, held by :class:`HopOptions` as ``limits``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field, model_validator
from pymatgen.analysis.diffusion.neb.full_path_mapper import MigrationGraph
from pymatgen.core import Element
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from hopscreen.candidates.validate import (
    InputLimits,
    check_hop_length,
    check_working_ion,
    gate_structure,
)
from hopscreen.hops.hop import DEFAULT_SYMPREC, Hop
from hopscreen.hops.hop_id import compute_hop_id, host_fingerprint
from hopscreen.hops.supercell import SupercellOptions
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


def _primitive_cells_in(structure: Structure, symprec: float) -> int | None:
    """How many primitive cells ``structure`` holds (``None`` if not a whole number)."""
    primitive = SpacegroupAnalyzer(structure, symprec=symprec).find_primitive()
    if primitive is None:
        return None
    ratio = len(structure) / len(primitive)
    n = round(ratio)
    return n if n >= 1 and abs(ratio - n) < 1e-6 else None


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
        One hop per symmetry class, sorted by length (shortest first); empty when no two
        working-ion sites are closer than ``max_hop_length_angstrom``.

    Notes
    -----
    pymatgen-analysis-diffusion's grouping (``MigrationGraph.unique_hops``) can split one
    symmetry class in two, e.g. in a 2×1×1 supercell of a rhombohedral primitive cell. Classes
    are therefore merged again by :func:`~hopscreen.hops.hop_id.hop_id` (their multiplicities
    added), so the same host gives the same hops whichever cell it is written in.

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


def hop_graph(
    structure: Structure,
    working_ion: str,
    *,
    max_hop_length_angstrom: float = DEFAULT_MAX_HOP_LENGTH_ANGSTROM,
    symprec: float = DEFAULT_SYMPREC,
    limits: InputLimits | None = None,
) -> tuple[MigrationGraph, Structure, Element]:
    """The input gate, then the periodic migration graph of ``working_ion``.

    Parameters are those of :func:`enumerate_hops`.

    Returns
    -------
    tuple of (MigrationGraph, pymatgen.core.Structure, pymatgen.core.Element)
        The graph (its nodes are the working-ion sites, its edges every hop up to the
        cut-off, labelled by pymatgen's symmetry class), the gated host and the ion.

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
    graph = MigrationGraph.with_distance(
        structure, migrating_specie=ion, max_distance=max_hop_length_angstrom, symprec=symprec
    )
    return graph, structure, ion


def distinct_hops(
    graph: MigrationGraph, structure: Structure, ion: Element, symprec: float
) -> tuple[list[Hop], dict[int, str]]:
    """One :class:`Hop` per hop-id class of the graph's unique hops, shortest first.

    Parameters
    ----------
    graph : MigrationGraph
        The graph of :func:`hop_graph`.
    structure : pymatgen.core.Structure
        The gated host the graph was built on.
    ion : pymatgen.core.Element
        The working ion.
    symprec : float
        spglib symmetry precision (Å).

    Returns
    -------
    tuple of (list of Hop, dict of int to str)
        The hops (as :func:`enumerate_hops` returns them) and the ``hop_id`` of every
        pymatgen ``hop_label`` of the graph (two labels may share one id).

    """
    unique = graph.unique_hops
    if not unique:
        return [], {}
    counts = Counter(d["hop_label"] for _, _, d in graph.m_graph.graph.edges(data=True))
    n_cells = _primitive_cells_in(structure, symprec)
    host = host_fingerprint(structure, symprec=symprec)
    by_id: dict[str, Hop] = {}
    id_by_label: dict[int, str] = {}
    edge_counts: Counter[str] = Counter()
    for label, data in unique.items():
        m_hop = data["hop"]
        isite = np.array(m_hop.isite.frac_coords, dtype=float)
        esite = np.array(m_hop.esite.frac_coords, dtype=float)
        this_id = compute_hop_id(structure, ion.symbol, isite, esite, host=host)
        id_by_label[label] = this_id
        edge_counts[this_id] += counts[label]
        if this_id not in by_id:
            by_id[this_id] = Hop(
                structure=structure,
                working_ion=ion.symbol,
                isite_frac=isite,
                esite_frac=esite,
                length_angstrom=float(m_hop.length),
                multiplicity=None,
                hop_id=this_id,
                migration_hop=m_hop,
                symprec=symprec,
            )
    hops = []
    for this_id, hop in by_id.items():
        n_edges = edge_counts[this_id]
        multiplicity = None
        if n_cells is not None and n_edges % n_cells == 0:
            multiplicity = n_edges // n_cells
        hops.append(replace(hop, multiplicity=multiplicity))
    return sorted(hops, key=lambda h: (h.length_angstrom, h.hop_id)), id_by_label


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
