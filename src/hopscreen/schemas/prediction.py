"""Documents of the prediction stage."""

from __future__ import annotations

from pydantic import Field

from hopscreen.schemas.base import Document


class PredictionDoc(Document):
    """A Model-3 barrier prediction for one hop, by one model version."""

    hop_id: str = Field(description="Content id of the hop (see hopscreen.hops.hop_id).")
    candidate_id: str | None = Field(None, description="Content id of the host candidate.")
    candidate_name: str = Field(description="Human-readable name of the host.")
    working_ion: str = Field(description="Element symbol of the migrating ion.")
    model_version: str = Field(description="Version id of the model (from its card).")
    barrier_ev: float = Field(description="Predicted migration barrier E_m (ensemble mean), eV.")
    sigma_ev: float = Field(
        ge=0,
        description="Ensemble standard deviation of E_m (spread of the members, not the "
        "expected error), eV.",
    )
    interval_68_ev: float | None = Field(
        None,
        ge=0,
        description="Half-width of the calibrated 68 % interval of E_m (barrier_ev ± this; "
        "split conformal on host-grouped CV residuals), eV; None for an uncalibrated model.",
    )
    interval_90_ev: float | None = Field(
        None,
        ge=0,
        description="Half-width of the calibrated 90 % interval of E_m, eV; None for an "
        "uncalibrated model.",
    )
    member_barriers_ev: list[float] = Field(description="Each ensemble member's E_m, eV.")
    length_angstrom: float | None = Field(None, description="Hop length, Å (copied from HopDoc).")
