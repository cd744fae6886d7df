"""Per-material verdict: does a host conduct, through which hops, and how sure are we."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import Field

from hopscreen.schemas.base import Document


class HostVerdictDoc(Document):
    """Percolation barriers and ``p_good`` of one host, from its predicted hops.

    The percolation barrier in D dimensions is the lowest E such that the hops with a barrier
    ≤ E form a network spanning the crystal in at least D dimensions; its bottleneck is the hop
    (class) whose barrier sets E. ``p_good`` propagates each hop's predictive distribution:
    the fraction of joint draws of all hop barriers whose 1D percolation barrier lies below the
    threshold.
    """

    verdict_id: str = Field(description="sha256 content id (see compute_verdict_id).")
    candidate_id: str | None = Field(None, description="Content id of the host candidate.")
    candidate_name: str = Field(description="Human-readable name of the host.")
    working_ion: str = Field(description="Element symbol of the migrating ion.")
    model_version: str = Field(description="Version id of the model whose predictions are used.")
    threshold_ev: float = Field(
        description="Good conductor: 1D percolation barrier below this, eV."
    )
    n_ion_sites: int = Field(ge=0, description="Working-ion sites in the host cell.")
    hop_ids: list[str] = Field(description="Hop classes of the migration network, sorted.")
    unpredicted_hop_ids: list[str] = Field(
        default_factory=list,
        description="Network classes without a prediction (their band failed). They are treated "
        "as closed, so the percolation barriers are upper bounds and p_good a lower bound.",
    )
    max_dimension: int = Field(
        ge=0, le=3, description="Dimensionality of the network of all predicted hops (0: none)."
    )
    percolation_1d_ev: float | None = Field(
        None, description="1D percolation barrier from the predicted E_m, eV (None: none)."
    )
    percolation_2d_ev: float | None = Field(None, description="2D percolation barrier, eV.")
    percolation_3d_ev: float | None = Field(None, description="3D percolation barrier, eV.")
    bottleneck_1d_hop_id: str | None = Field(None, description="Hop that sets the 1D barrier.")
    bottleneck_2d_hop_id: str | None = Field(None, description="Hop that sets the 2D barrier.")
    bottleneck_3d_hop_id: str | None = Field(None, description="Hop that sets the 3D barrier.")
    percolation_1d_q05_ev: float | None = Field(
        None, description="5th percentile of the drawn 1D percolation barriers, eV."
    )
    percolation_1d_q95_ev: float | None = Field(
        None,
        description="95th percentile of the drawn 1D percolation barriers, eV (None when "
        "more than 5 % of the draws do not percolate).",
    )
    p_good: float = Field(
        ge=0, le=1, description="P(1D percolation barrier < threshold), over the draws."
    )
    p_good_2d: float = Field(ge=0, le=1, description="P(2D percolation barrier < threshold).")
    p_good_3d: float = Field(ge=0, le=1, description="P(3D percolation barrier < threshold).")
    n_draws: int = Field(ge=1, description="Joint draws of the hop barriers.")
    inputs_sha256: str | None = Field(
        None,
        description="sha256 of what the verdict was computed from (the host's network, its "
        "predictions, the verdict settings): a re-run with the same inputs reuses the stored "
        "verdict (None in documents written before it).",
    )
    seed: int = Field(description="Seed of the draws.")


def compute_verdict_id(fields: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of a verdict's fields (``verdict_id`` left out).

    Parameters
    ----------
    fields : dict
        The fields as given by ``model_dump(mode="json")``.

    Returns
    -------
    str
        64 hex characters.
    """
    record = {k: v for k, v in fields.items() if k != "verdict_id"}
    text = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
