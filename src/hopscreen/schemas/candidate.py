"""Documents of the candidates stage: one host structure to screen, or why one was rejected.

The content id
--------------
``CandidateDoc.candidate_id`` is a sha256 (hex) over a canonical, symmetry-aware description of
the structure, so that the same crystal read from different files gets the same id whatever
the atom order, the origin, the cell setting or a supercell (see :func:`compute_candidate_id`).
It is *not* a similarity measure: two relaxations of one material differing by more than the
rounding give two ids.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field
from pymatgen.core import Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from hopscreen.schemas.base import Document

if TYPE_CHECKING:
    from pymatgen.core import Structure

CandidateSource = Literal["file", "mp", "demo"]

FailureCode = Literal[
    "not_found",
    "unparsable",
    "partial_occupancy",
    "no_working_ion",
    "single_ion_site",
    "overlapping_atoms",
    "absurd_cell",
    "duplicate",
]
"""Why a candidate was rejected (see :mod:`hopscreen.candidates.validate` for the rules)."""

# Symmetry tolerances of the id (those of the Materials Project's symmetry analysis).
ID_SYMPREC = 0.1
ID_ANGLE_TOLERANCE = 5.0
# Rounding of the conventional lattice in the id: 0.01 Å and 0.1 degree.
ID_LENGTH_DECIMALS = 2
ID_ANGLE_DECIMALS = 1


def _symmetry(structure: Structure) -> tuple[Structure, int, str, list[tuple[str, int]]]:
    """Conventional standard cell, space group and (species, multiplicity) of the orbits."""
    try:
        sga = SpacegroupAnalyzer(structure, symprec=ID_SYMPREC, angle_tolerance=ID_ANGLE_TOLERANCE)
        conventional = sga.get_conventional_standard_structure()
        number = int(sga.get_space_group_number())
        symbol = str(sga.get_space_group_symbol())
        conv_sga = SpacegroupAnalyzer(
            conventional, symprec=ID_SYMPREC, angle_tolerance=ID_ANGLE_TOLERANCE
        )
        symmetrized = conv_sga.get_symmetrized_structure()
        orbits = sorted(
            (sites[0].species_string, len(sites)) for sites in symmetrized.equivalent_sites
        )
    except Exception:  # spglib found no cell: fall back to P1 on the Niggli-reduced cell
        conventional = structure.get_reduced_structure(reduction_algo="niggli")
        number, symbol = 1, "P1"
        orbits = sorted((site.species_string, 1) for site in conventional)
    return conventional, number, symbol, orbits


def compute_candidate_id(structure: Structure) -> tuple[str, int, str]:
    """Content id of an ordered structure, with its space group.

    The id is the sha256 (hex, 64 characters) of a JSON record holding

    * the reduced formula,
    * the space-group number found by spglib (``symprec`` 0.1 Å, angle tolerance 5°),
    * the lattice parameters a, b, c (rounded to 0.01 Å) and α, β, γ (rounded to 0.1°) of
      pymatgen's conventional standard cell (``get_conventional_standard_structure``),
    * the number of sites of that cell, and the sorted list of (species, multiplicity) of its
      symmetry orbits.

    All of these are invariant to atom order, origin shift, cell choice and supercells.
    When spglib fails the Niggli-reduced cell is used in P1 (still order invariant).

    Parameters
    ----------
    structure : pymatgen.core.Structure
        An ordered structure.

    Returns
    -------
    tuple of (str, int, str)
        The id, the space-group number and its Hermann–Mauguin symbol.

    """
    plain = structure.copy()
    plain.remove_oxidation_states()  # Li+ and Li hash alike
    conventional, number, symbol, orbits = _symmetry(plain)
    lat = conventional.lattice
    record = {
        "formula": plain.composition.reduced_formula,
        "spacegroup": number,
        "lengths": [round(float(x), ID_LENGTH_DECIMALS) + 0.0 for x in lat.abc],
        "angles": [round(float(x), ID_ANGLE_DECIMALS) + 0.0 for x in lat.angles],
        "n_sites": len(conventional),
        "orbits": [[species, count] for species, count in orbits],
    }
    text = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest(), number, symbol


class MPFields(Document):
    """Materials Project data kept with a candidate fetched from MP."""

    material_id: str = Field(description="MP material id of the structure (e.g. mp-19017).")
    endpoint: Literal["electrodes", "summary"] = Field(
        description="MP endpoint the candidate came from."
    )
    energy_above_hull_ev_per_atom: float | None = Field(
        None, description="Energy above the convex hull, eV/atom."
    )
    is_stable: bool | None = Field(None, description="On the convex hull.")
    formation_energy_ev_per_atom: float | None = Field(
        None, description="Formation energy, eV/atom."
    )
    band_gap_ev: float | None = Field(None, description="Band gap, eV.")
    theoretical: bool | None = Field(None, description="No matching ICSD entry.")
    battery_formula: str | None = Field(
        None, description="Insertion electrode formula with the ion range (electrodes only)."
    )
    average_voltage_v: float | None = Field(
        None, description="Average voltage vs the working-ion metal, V (electrodes only)."
    )
    capacity_grav_mah_per_g: float | None = Field(
        None, description="Gravimetric capacity, mAh/g (electrodes only)."
    )
    max_delta_volume_percent: float | None = Field(
        None, description="Largest volume change on cycling, % (electrodes only)."
    )
    id_charge: str | None = Field(
        None, description="MP id of the charged (ion-poor) structure (electrodes only)."
    )


class CandidateDoc(Document):
    """One ordered host structure containing the working ion, ready for hop enumeration."""

    candidate_id: str = Field(
        description="sha256 content id of the structure (see compute_candidate_id)."
    )
    name: str = Field(description="Human-readable name (file stem, MP id or demo name).")
    source: CandidateSource = Field(description="Where the structure came from.")
    source_ref: str = Field(description="File path, MP material id or literature citation.")
    working_ion: str = Field(description="Element symbol of the migrating ion, e.g. Li.")
    formula: str = Field(description="Reduced formula.")
    n_sites: int = Field(ge=1, description="Number of sites in `structure`.")
    structure: dict[str, Any] = Field(description="pymatgen Structure.as_dict().")
    space_group: str = Field(description="Hermann–Mauguin symbol (spglib, symprec 0.1 Å).")
    space_group_number: int = Field(ge=1, le=230, description="International number.")
    mp_fields: MPFields | None = Field(None, description="Materials Project data, if from MP.")

    @classmethod
    def from_structure(
        cls,
        structure: Structure,
        *,
        name: str,
        source: CandidateSource,
        source_ref: str,
        working_ion: str,
        mp_fields: MPFields | None = None,
    ) -> CandidateDoc:
        """Build the document of an already validated, ordered structure (id computed here)."""
        candidate_id, number, symbol = compute_candidate_id(structure)
        return cls(
            candidate_id=candidate_id,
            name=name,
            source=source,
            source_ref=source_ref,
            working_ion=working_ion,
            formula=structure.composition.reduced_formula,
            n_sites=len(structure),
            structure=structure.as_dict(),
            space_group=symbol,
            space_group_number=number,
            mp_fields=mp_fields,
        )

    def get_structure(self) -> Structure:
        """The pymatgen ``Structure`` of this candidate."""
        return Structure.from_dict(self.structure)


class CandidateFailure(Document):
    """A structure that could not become a candidate, and why."""

    name: str = Field(description="Name the candidate would have had.")
    source_ref: str = Field(description="File path, glob, MP id or citation.")
    code: FailureCode = Field(description="Short machine-readable reason.")
    reason: str = Field(description="Human-readable explanation.")


class CandidateBatch(Document):
    """The result of loading candidates: the good ones and the rejected ones."""

    candidates: list[CandidateDoc] = Field(default_factory=list)
    failures: list[CandidateFailure] = Field(default_factory=list)

    def extend(self, other: CandidateBatch) -> None:
        """Append another batch, turning repeated ``candidate_id`` s into ``duplicate`` failures."""
        seen = {c.candidate_id: c.name for c in self.candidates}
        for cand in other.candidates:
            if cand.candidate_id in seen:
                self.failures.append(
                    CandidateFailure(
                        name=cand.name,
                        source_ref=cand.source_ref,
                        code="duplicate",
                        reason=f"same structure as candidate {seen[cand.candidate_id]!r}",
                    )
                )
                continue
            seen[cand.candidate_id] = cand.name
            self.candidates.append(cand)
        self.failures.extend(other.failures)
