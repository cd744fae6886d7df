"""Documents of a screening round: what its jobs return and what the round wrote (counts)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hopscreen.schemas.base import Document
from hopscreen.schemas.candidate import CandidateDoc, CandidateFailure
from hopscreen.schemas.hop import HopDoc, HopFailure, HostNetworkDoc
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.schemas.training import FinetuneResult
from hopscreen.schemas.verification import VerificationDoc


def strip_markers(obj: Any) -> Any:
    """Drop monty's ``@module``/``@class`` markers of hopscreen documents (keep pymatgen's)."""
    if isinstance(obj, dict):
        if str(obj.get("@module", "")).startswith("hopscreen"):
            obj = {k: v for k, v in obj.items() if not k.startswith("@")}
        return {k: strip_markers(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [strip_markers(v) for v in obj]
    return obj


class JobOutput(Document):
    """Base of the job output documents.

    ``from_dict`` makes monty (which jobflow uses to decode stored outputs) validate the
    stored JSON directly: otherwise monty first turns the nested ``CandidateDoc.structure``
    dicts into pymatgen ``Structure`` objects, which that field (a dict) rejects.
    """

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        """Validate a stored (JSON) form of this document."""
        return cls.model_validate(strip_markers(data))


class CandidatesOutput(JobOutput):
    """Output of :func:`fetch_candidates`: the valid hosts and the rejected inputs."""

    candidates: list[CandidateDoc] = Field(default_factory=list)
    failures: list[CandidateFailure] = Field(default_factory=list)


class HopsOutput(JobOutput):
    """Output of :func:`enumerate_hops_job`: hop documents (no bands), networks and failures."""

    hops: list[HopDoc] = Field(default_factory=list)
    failures: list[HopFailure] = Field(default_factory=list)
    networks: list[HostNetworkDoc] = Field(
        default_factory=list, description="The migration network of each host with hops."
    )


class PredictionsOutput(JobOutput):
    """Output of :func:`predict_barriers`: one prediction per hop whose band could be rebuilt."""

    model_version: str = Field(description="Version id of the model that predicted.")
    predictions: list[PredictionDoc] = Field(default_factory=list)
    failures: list[HopFailure] = Field(default_factory=list)


class VerificationsOutput(JobOutput):
    """Output of the verification fan-out: one document per selected hop (ok or not)."""

    verifications: list[VerificationDoc] = Field(default_factory=list)


MAX_LISTED_FAILURES = 20
"""Most rejected candidates a round summary lists (all are in the results store)."""


class JobError(Document):
    """A job of a round that raised, and its exception."""

    job_name: str = Field(description="Name of the job.")
    error: str = Field(description="The exception, as its type and message.")


class RoundSummary(JobOutput):
    """What one screening round produced and wrote to the results store (counts)."""

    results_dir: str = Field(description="Results folder the documents were written to.")
    model_version: str | None = Field(None, description="Model that predicted the barriers.")
    threshold_ev: float = Field(description="Good/bad threshold on E_m, eV.")
    n_candidates: int = Field(ge=0, description="Valid candidate hosts.")
    n_candidate_failures: int = Field(ge=0, description="Rejected candidate inputs.")
    n_hops: int = Field(ge=0, description="Distinct hops enumerated.")
    n_hop_failures: int = Field(ge=0, description="Hosts or hops without a band.")
    n_predictions: int = Field(ge=0, description="Hops with a predicted barrier.")
    n_predicted_good: int = Field(ge=0, description="Predicted E_m below the threshold.")
    n_predicted_bad: int = Field(ge=0, description="Predicted E_m at or above the threshold.")
    n_selected: int = Field(ge=0, description="Hops sent to verification.")
    n_verified: int = Field(ge=0, description="Verifications that returned a barrier.")
    n_verification_failed: int = Field(ge=0, description="Verifications without a barrier.")
    n_agree: int = Field(
        ge=0, description="Verified hops on the same side of the threshold as predicted."
    )
    written: dict[str, int] = Field(
        default_factory=dict, description="Documents written per results-store collection."
    )
    failed_stages: list[str] = Field(
        default_factory=list,
        description="Stages without an output because their job failed (candidates, hops, "
        "predictions, selection, verifications), in round order.",
    )
    candidate_failures: list[CandidateFailure] = Field(
        default_factory=list,
        description=f"The first {MAX_LISTED_FAILURES} rejected candidate inputs, with reasons.",
    )
    job_errors: list[JobError] = Field(
        default_factory=list, description="Jobs that raised while the round ran locally."
    )
    reused_from: str | None = Field(
        None,
        description="Round record this summary was read from: the same round had already "
        "finished on this store and nothing was run again (None: the round ran).",
    )


class FinetuneRoundSummary(RoundSummary):
    """A round's summary plus what fine-tuning on its verifications did."""

    finetune: FinetuneResult | None = Field(
        None, description="The fine-tuning step (None when its job did not run)."
    )
    n_repredicted: int = Field(0, ge=0, description="Unverified hops re-predicted.")
    repredicted_model_version: str | None = Field(
        None, description="Model version of the re-predictions."
    )
