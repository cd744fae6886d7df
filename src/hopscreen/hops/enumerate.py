"""Enumerate the symmetry-distinct migration hops of a working ion in a host structure.

The heavy lifting is done by pymatgen-analysis-diffusion: a :class:`MigrationGraph` connects
every working-ion site to the working-ion sites within ``max_hop_length_angstrom`` and groups
the edges into symmetry-equivalent classes. One representative :class:`Hop` is kept per class.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field
from pymatgen.analysis.diffusion.neb.full_path_mapper import MigrationGraph
from pymatgen.core import Element
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from hopscreen.hops.band import N_ION_COPIES, band_from_hop
from hopscreen.hops.hop import DEFAULT_SYMPREC, Hop
from hopscreen.hops.hop_id import compute_hop_id, host_fingerprint
from hopscreen.hops.supercell import SupercellOptions
from hopscreen.schemas.base import Config
from hopscreen.schemas.hop import HopDoc, HopFailure
from hopscreen.schemas.structure import Crystal

if TYPE_CHECKING:
    from pymatgen.core import Structure

#: Default longest hop considered, in Å. Nearest-neighbour hops of the working ion in
#: intercalation hosts are 2.5–4.5 Å; 5 Å keeps them all and 87 % of the 619 hops of the
#: published E_m dataset (65 % are within 4 Å, 94 % within 6 Å; median 3.6 Å) while keeping
#: the number of hops, and of supercell/band constructions, small for large hosts.
DEFAULT_MAX_HOP_LENGTH_ANGSTROM = 5.0


def _check_structure(structure: Structure, working_ion: str) -> Element:
    """Raise a ``ValueError`` naming the problem when ``structure`` cannot host hops."""
    ion = Element(working_ion)
    if not structure.is_ordered:
        raise ValueError("structure has partial occupancies; order it first")
    n_ion = sum(1 for site in structure if site.specie.symbol == ion.symbol)
    if n_ion == 0:
        raise ValueError(f"structure {structure.reduced_formula} contains no {ion.symbol}")
    return ion


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
) -> list[Hop]:
    """Find the symmetry-distinct hops of ``working_ion`` in ``structure``.

    Parameters
    ----------
    structure : pymatgen.core.Structure
        Ordered host structure with every working-ion site occupied.
    working_ion : str
        Element symbol of the migrating ion, e.g. ``"Li"``.
    max_hop_length_angstrom : float
        Longest site-to-site distance (Å) taken as a hop (default 5 Å, see
        :data:`DEFAULT_MAX_HOP_LENGTH_ANGSTROM`).
    symprec : float
        spglib symmetry precision (Å) used to group equivalent hops.

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
    ValueError
        If the structure is disordered or contains no ``working_ion``.

    """
    ion = _check_structure(structure, working_ion)
    graph = MigrationGraph.with_distance(
        structure, migrating_specie=ion, max_distance=max_hop_length_angstrom, symprec=symprec
    )
    unique = graph.unique_hops
    if not unique:
        return []
    counts = Counter(d["hop_label"] for _, _, d in graph.m_graph.graph.edges(data=True))
    n_cells = _primitive_cells_in(structure, symprec)
    host = host_fingerprint(structure, symprec=symprec)
    by_id: dict[str, Hop] = {}
    edge_counts: Counter[str] = Counter()
    for label, data in unique.items():
        m_hop = data["hop"]
        isite = np.array(m_hop.isite.frac_coords, dtype=float)
        esite = np.array(m_hop.esite.frac_coords, dtype=float)
        this_id = compute_hop_id(structure, ion.symbol, isite, esite, host=host)
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
    return sorted(hops, key=lambda h: (h.length_angstrom, h.hop_id))


class HopOptions(Config):
    """Parameters of the hops stage."""

    max_hop_length_angstrom: float = Field(
        DEFAULT_MAX_HOP_LENGTH_ANGSTROM, gt=0, description="Longest hop considered, in Å."
    )
    symprec: float = Field(DEFAULT_SYMPREC, gt=0, description="spglib symmetry precision, Å.")
    supercell: SupercellOptions = Field(default_factory=SupercellOptions)


@dataclass
class HopsResult:
    """What :func:`hops_for_structure` found for one host.

    Attributes
    ----------
    docs : list of HopDoc
        One document per distinct hop that succeeded.
    hops : list of Hop
        The hops of ``docs``, in the same order.
    bands : list of Crystal or None
        The band of each hop (``None`` when bands were not requested).
    failures : list of HopFailure
        The host's failure, or one per hop whose band failed.

    """

    docs: list[HopDoc] = field(default_factory=list)
    hops: list[Hop] = field(default_factory=list)
    bands: list[Crystal | None] = field(default_factory=list)
    failures: list[HopFailure] = field(default_factory=list)


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def hops_for_structure(
    structure: Structure,
    working_ion: str,
    name: str,
    *,
    candidate_id: str | None = None,
    options: HopOptions | None = None,
    build_bands: bool = True,
) -> HopsResult:
    """Enumerate, identify and (optionally) build the bands of the hops of one host.

    Never raises for a bad structure: problems are returned as :class:`HopFailure` documents
    (one for the host when enumeration fails or finds no hop, one per hop whose supercell or
    band fails; the other hops are kept).

    Parameters
    ----------
    structure : pymatgen.core.Structure
        Ordered host with every working-ion site occupied.
    working_ion : str
        Element symbol of the migrating ion.
    name : str
        Name of the host, copied into the documents.
    candidate_id : str, optional
        Id of the candidate document, copied into the documents.
    options : HopOptions, optional
        Hop length cut-off, symmetry precision, supercell size.
    build_bands : bool
        Build each hop's supercell endpoints and band (which checks them too).

    Returns
    -------
    HopsResult
        Documents, hops, bands and failures.

    """
    options = options or HopOptions()
    result = HopsResult()
    try:
        hops = enumerate_hops(
            structure,
            working_ion,
            max_hop_length_angstrom=options.max_hop_length_angstrom,
            symprec=options.symprec,
        )
        if not hops:
            raise ValueError(
                f"no two {working_ion} sites within {options.max_hop_length_angstrom} Å"
            )
    except Exception as exc:  # one bad host must not stop a batch
        result.failures.append(HopFailure(candidate_name=name, reason=_reason(exc)))
        return result
    for hop in hops:
        this_id = hop.hop_id
        band = None
        n_supercell = None
        if build_bands:
            try:
                band = band_from_hop(hop, options.supercell)
            except Exception as exc:
                result.failures.append(
                    HopFailure(candidate_name=name, reason=_reason(exc), hop_id=this_id)
                )
                continue
            n_supercell = len(band) - N_ION_COPIES + 2
        result.docs.append(_hop_doc(hop, band, n_supercell, name, candidate_id, structure))
        result.hops.append(hop)
        result.bands.append(band)
    return result


def _hop_doc(
    hop: Hop,
    band: Crystal | None,
    n_supercell: int | None,
    name: str,
    candidate_id: str | None,
    structure: Structure,
) -> HopDoc:
    """The document of one enumerated hop (its band's size when one was built)."""
    return HopDoc(
        hop_id=hop.hop_id,
        candidate_id=candidate_id,
        candidate_name=name,
        working_ion=hop.working_ion,
        length_angstrom=hop.length_angstrom,
        isite_frac=[float(x) for x in hop.isite_frac],
        esite_frac=[float(x) for x in hop.esite_frac],
        multiplicity=hop.multiplicity,
        band_n_atoms=None if band is None else len(band),
        supercell_n_atoms=n_supercell,
        host_formula=structure.composition.reduced_formula,
    )
