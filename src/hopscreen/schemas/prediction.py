"""Documents of the prediction stage."""

from __future__ import annotations

from typing import Literal

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
    tier: Literal[1, 2] | None = Field(
        None,
        description="Tier of the prediction cascade that served this hop (1: the fast model, "
        "2: the accurate model; see hopscreen.inference.cascade); None outside a cascade.",
    )


CascadeRoute = Literal["straddle", "straddle_or_bottleneck", "all", "none"]
"""Which hops a prediction cascade sends to tier 2 (:mod:`hopscreen.inference.cascade`)."""


class CascadeSummary(Document):
    """What a two-tier prediction cascade did in one run: its rule, models and cost."""

    route: CascadeRoute = Field(description="Routing rule that chose the tier-2 hops.")
    threshold_ev: float = Field(description="Good/bad barrier threshold of the routing, eV.")
    coverage: float = Field(description="Coverage level of the tier-1 interval used to route.")
    fast_model_version: str = Field(description="Version id of the tier-1 (fast) model.")
    accurate_model_version: str = Field(description="Version id of the tier-2 (accurate) model.")
    n_hops: int = Field(ge=0, description="Hops predicted by tier 1 (every hop).")
    n_tier2: int = Field(ge=0, description="Hops routed to, and served by, tier 2.")
    share_tier2: float = Field(ge=0, le=1, description="n_tier2 / n_hops (0 without hops).")
    tier1_seconds: float = Field(ge=0, description="Wall time of tier 1 (bands in), s.")
    tier2_seconds: float = Field(ge=0, description="Wall time of tier 2 (routed bands in), s.")
