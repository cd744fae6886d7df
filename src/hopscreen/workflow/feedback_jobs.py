"""Thin jobflow ``@job`` s of the active-learning step of a round: fine-tune, re-predict, collect.

They run after :func:`hopscreen.workflow.jobs.collect_round` (see
:class:`~hopscreen.workflow.makers.FinetuneRoundMaker`) and, like the round's jobs, call plain
library functions and return one pydantic document each.
"""

from __future__ import annotations

from typing import Any

from jobflow import job

from hopscreen.hops import HopOptions
from hopscreen.inference.config import PredictionConfig
from hopscreen.schemas.round import FinetuneRoundSummary, PredictionsOutput, RoundSummary
from hopscreen.schemas.training import FinetuneResult
from hopscreen.screening.finetune import FinetuneSettings, finetune_on_feedback
from hopscreen.screening.repredict import repredict_unverified

# ---------------------------------------------------------------------------------------------
# Active learning: fine-tuning on the round's verifications, then re-prediction
# ---------------------------------------------------------------------------------------------


@job(output_schema=FinetuneResult)
def finetune_on_feedback_job(
    results_dir: str,
    round_summary: Any = None,
    parent_model: str | None = None,
    settings: FinetuneSettings | None = None,
    registry: str | None = None,
    data_dir: str | None = None,
    hop_options: HopOptions | None = None,
) -> FinetuneResult:
    """Job: fine-tune the round's model on the store's verifications into a new version.

    ``round_summary`` only orders this job after the round's collector (which writes the
    verifications). Never raises: an error becomes ``status="failed"`` with its reason.
    See :func:`hopscreen.screening.finetune.finetune_on_feedback`.
    """
    try:
        return finetune_on_feedback(
            results_dir,
            parent_model=parent_model,
            settings=settings,
            registry=registry,
            data_dir=data_dir,
            hop_options=hop_options,
        )
    except Exception as exc:  # the round's results stay usable; the reason is recorded
        return FinetuneResult(status="failed", reason=f"{type(exc).__name__}: {exc}")


@job(output_schema=PredictionsOutput, data=["predictions", "failures"])
def repredict_unverified_job(
    results_dir: str,
    finetune: FinetuneResult | None,
    hop_options: HopOptions | None = None,
    options: PredictionConfig | None = None,
) -> PredictionsOutput:
    """Job: predict the store's not-yet-verified hops with the fine-tuned version.

    Does nothing (empty output) when fine-tuning made no new version. The new predictions
    are written to the results store next to the old ones (keyed by hop and model version).
    """
    if finetune is None or finetune.model_dir is None:
        return PredictionsOutput(model_version="none")
    options = options or PredictionConfig()
    docs, failures = repredict_unverified(
        results_dir,
        finetune.model_dir,
        hop_options=hop_options,
        batch_size=options.batch_size,
        device=options.device,
    )
    return PredictionsOutput(
        model_version=str(finetune.model_version),
        predictions=docs,
        failures=failures,
    )


@job(output_schema=FinetuneRoundSummary)
def collect_finetune_round(
    summary: RoundSummary | None,
    finetune: FinetuneResult | None,
    repredicted: PredictionsOutput | None,
) -> FinetuneRoundSummary:
    """Job: the round's summary with the fine-tuning and re-prediction results added.

    Runs with ``on_missing_references="none"``: a failed upstream job arrives as None.
    """
    base = summary.model_dump() if summary is not None else {}
    base.setdefault("results_dir", "")
    base.setdefault("threshold_ev", 0.65)
    for name in RoundSummary.model_fields:
        if name not in base and RoundSummary.model_fields[name].is_required():
            base[name] = 0
    return FinetuneRoundSummary(
        **base,
        finetune=finetune,
        n_repredicted=len(repredicted.predictions) if repredicted else 0,
        repredicted_model_version=(
            repredicted.model_version if repredicted and repredicted.predictions else None
        ),
    )


FEEDBACK_JOBS = (finetune_on_feedback_job, repredict_unverified_job, collect_finetune_round)
"""The jobs of the fine-tuning step of a round (each enforces an ``output_schema``)."""
