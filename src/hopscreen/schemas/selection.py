"""Documents of the selection stage: which hops a round sends on to verification, and why.

The content id
--------------
``SelectionDoc.selection_id`` is a sha256 (hex) over every other field of the document (the
settings, the counts and the selected hops with their scores), so that re-running the same
selection on the same predictions gives the same id and updates the stored document instead of
duplicating it (see :func:`compute_selection_id`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import Field

from hopscreen.schemas.base import Document

SelectionReason = Literal["borderline", "promising"]
"""Why a hop was selected (see :mod:`hopscreen.selection.policies` for the exact rules)."""


class SelectedHop(Document):
    """One hop sent on to verification."""

    hop_id: str = Field(description="Content id of the hop.")
    candidate_id: str | None = Field(None, description="Content id of the host candidate.")
    candidate_name: str = Field(description="Human-readable name of the host.")
    reason: SelectionReason = Field(description="Why the hop was selected.")
    barrier_ev: float = Field(description="Predicted migration barrier E_m (ensemble mean), eV.")
    sigma_ev: float = Field(ge=0, description="Ensemble standard deviation of E_m, eV.")
    half_width_ev: float | None = Field(
        None,
        ge=0,
        description="Half-width w of the uncertainty interval used, eV: the calibrated interval "
        "at the selection's coverage level, or k·σ (None in documents written before it).",
    )
    score: float = Field(
        description="Priority within its reason (higher first). Strategy 'hops', in eV: for "
        "borderline hops w − |E_m − threshold|, for promising hops (threshold − margin) − "
        "(E_m + w). Strategy 'verdicts', from the host's p_good: p(1 − p) for borderline, p for "
        "promising."
    )


class SelectionDoc(Document):
    """The hops selected for verification in one screening round, with the settings used."""

    selection_id: str = Field(description="sha256 content id (see compute_selection_id).")
    model_version: str | None = Field(
        None, description="Version id of the model whose predictions were ranked (None if none)."
    )
    threshold_ev: float = Field(description="Good/bad barrier threshold, eV.")
    coverage: float | None = Field(
        None,
        description="Coverage level of the calibrated interval used (0.68 or 0.9); None: "
        "± k_sigma·σ for every hop.",
    )
    k_sigma: float = Field(
        ge=0, description="Half-width of the interval in σ, for uncalibrated predictions."
    )
    promising_margin_ev: float = Field(
        ge=0, description="How far below the threshold a promising hop must lie, eV."
    )
    budget: int = Field(ge=0, description="Most hops selected in this round.")
    max_per_candidate: int | None = Field(
        None, ge=1, description="Hops of one candidate before the others get a turn (None: any)."
    )
    mix: float = Field(ge=0, le=1, description="Fraction of the budget meant for borderline hops.")
    seed: int = Field(description="Seed of the tie-breaking random order.")
    strategy: str = Field(
        "hops", description="'hops' (each hop by its interval) or 'verdicts' (hosts' bottlenecks)."
    )
    verdict_band: float = Field(0.1, description="p_good margin of the 'verdicts' strategy.")
    selected: list[SelectedHop] = Field(
        default_factory=list, description="Selected hops, in priority order."
    )
    n_considered: int = Field(ge=0, description="Predictions given to the selection.")
    n_borderline: int = Field(ge=0, description="Predictions classified borderline.")
    n_promising: int = Field(ge=0, description="Predictions classified promising.")
    n_skipped: int = Field(
        ge=0, description="Predictions neither borderline nor promising (or not finite)."
    )

    @property
    def hop_ids(self) -> list[str]:
        """Ids of the selected hops, in priority order."""
        return [hop.hop_id for hop in self.selected]


def compute_selection_id(fields: dict[str, Any]) -> str:
    """Content id of a selection.

    Parameters
    ----------
    fields : dict
        Every field of a :class:`SelectionDoc` except ``selection_id``, JSON-serialisable
        (as given by ``model_dump(mode="json")``).

    Returns
    -------
    str
        sha256 (hex, 64 characters) of the canonical JSON of ``fields``.

    """
    record = {k: v for k, v in fields.items() if k != "selection_id"}
    text = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
