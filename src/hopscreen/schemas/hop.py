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


class HostNetworkDoc(Document):
    """The periodic migration network of one host: every hop of its cell, tagged by class.

    ``edges`` holds one row ``[u, v, a, b, c, k]`` per hop: from working-ion site ``u`` in
    cell (0, 0, 0) to site ``v`` in cell (a, b, c), of class ``hop_ids[k]``.
    """

    candidate_id: str | None = Field(None, description="Id of the candidate (host) document.")
    candidate_name: str = Field(description="Human-readable name of the host.")
    working_ion: str = Field(description="Element symbol of the migrating ion.")
    n_sites: int = Field(ge=0, description="Working-ion sites in the host cell.")
    hop_ids: list[str] = Field(description="The hop classes present, sorted.")
    edges: list[list[int]] = Field(
        description="One [u, v, a, b, c, k] row per hop (see the class docstring)."
    )
