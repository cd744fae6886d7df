"""Documents of the hops stage: one per distinct hop, one per failed candidate or hop."""

from __future__ import annotations

from pydantic import Field

from hopscreen.schemas.base import Document

Vector3 = list[float]


class HopDoc(Document):
    """A symmetry-distinct migration hop of the working ion in a host structure."""

    hop_id: str = Field(
        description="Content id: the same for the same hop whatever the input cell, atom order "
        "or origin (see hopscreen.hops.hop_id)."
    )
    candidate_id: str | None = Field(None, description="Id of the candidate (host) document.")
    candidate_name: str = Field(description="Human-readable name of the host (file, MP id ...).")
    working_ion: str = Field(description="Element symbol of the migrating ion.")
    length_angstrom: float = Field(gt=0, description="Straight-line hop length, in Å.")
    isite_frac: Vector3 = Field(
        min_length=3,
        max_length=3,
        description="Initial site, fractional coordinates of the host cell as given.",
    )
    esite_frac: Vector3 = Field(
        min_length=3,
        max_length=3,
        description="End site, fractional coordinates of the host cell as given (may lie "
        "outside [0, 1) when the hop crosses the cell boundary).",
    )
    multiplicity: int | None = Field(
        None, ge=1, description="Symmetry-equivalent hops per primitive cell of the host."
    )
    band_n_atoms: int | None = Field(
        None,
        ge=5,
        description="Atoms in the Model-3 band (supercell_n_atoms + 3); None if no band was built.",
    )
    supercell_n_atoms: int | None = Field(
        None, ge=1, description="Atoms in the fully occupied vacancy-mode supercell."
    )
    host_formula: str = Field(description="Reduced formula of the fully occupied host.")


class HopFailure(Document):
    """A candidate (or one of its hops) for which hops or bands could not be produced."""

    candidate_name: str = Field(description="Name of the host that failed.")
    reason: str = Field(description="What went wrong, in words (exception type and message).")
    hop_id: str | None = Field(None, description="The failing hop, when a single hop failed.")
