"""Active learning in a screening campaign: verified barriers back into a new model version.

:func:`finetune_on_feedback` closes the loop of one round::

    results store (verifications) ──► training records (level policy) ─┐
    published training hops (replay) ──────────────────────────────────┴► warm-started
    fine-tuning of the current model ──► test-split metrics ──► registry (new version, parent)
    ──► promotion (rule below)

and :func:`repredict_unverified` re-predicts the hops that are not verified yet with the new
version (the store keeps one prediction per hop *and* model version, so both stay visible).

Promotion rule
--------------
``promote="if_not_worse"`` (the default): the new version becomes the current model only if
its MAE on the authors' 60 test hops is not larger than its parent's MAE on the same hops,
both computed here by the same code (:mod:`hopscreen.evaluation.metrics`), so that noisy or
systematically shifted verification labels can never silently degrade the model that the next
round uses. ``promote="always"`` promotes every new version (metrics are still recorded).
The verdict and both metrics are written on the model card, in the registry and in the
returned :class:`~hopscreen.schemas.training.FinetuneResult`.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

import numpy as np
from pydantic import Field

from hopscreen.data.splits import host_groups
from hopscreen.hops import HopOptions
from hopscreen.inference.device import resolve_device
from hopscreen.models.bundle import CARD_NAME, model_kind
from hopscreen.models.chgnet_bundle import CHGNET_HEAD_KIND, load_chgnet_head
from hopscreen.models.hop_features import default_feature_cache
from hopscreen.models.kinds import member_files, read_card
from hopscreen.models.shipped import default_model_dir
from hopscreen.registry import ModelRegistry
from hopscreen.schemas.base import Config
from hopscreen.schemas.structure import Z_TO_SYMBOL
from hopscreen.schemas.training import (
    FeedbackReport,
    FinetuneResult,
    LevelPolicy,
    ModelVersionDoc,
    TrainingRecord,
)
from hopscreen.screening.feedback import records_from_verifications
from hopscreen.screening.promotion import paper_test_metrics, promotion_decision
from hopscreen.screening.round import RebuildBands
from hopscreen.training.chgnet_head import refit_like
from hopscreen.training.config import get_preset
from hopscreen.training.feedback import apply_policy, dataset_records
from hopscreen.training.finetune import finetune_ensemble

log = logging.getLogger(__name__)


class FinetuneSettings(Config):
    """How a model is fine-tuned on verification feedback (see the module docstring)."""

    preset: str = Field(
        "fast",
        description="Preset whose fine-tuning optimisation settings are used (the "
        "architecture is always the parent model's).",
    )
    epochs: int = Field(5, ge=1, description="Epochs of warm-started fine-tuning.")
    batch_size: int | None = Field(None, ge=1, description="Batch size; None: the preset's.")
    micro_batch_size: int | None = Field(
        4,
        ge=1,
        description="Bands per forward/backward pass (gradients accumulated to batch_size): "
        "bounds memory, since the paper-size network holds ~0.7 GB of activations per band "
        "on a CPU; None: the preset's.",
    )
    max_lr: float | None = Field(
        None, gt=0, description="Peak one-cycle learning rate; None: the preset's."
    )
    val_fraction: float | None = Field(
        None, ge=0, lt=1, description="Validation share (early stopping); None: the preset's."
    )
    ensemble_size: int | None = Field(None, ge=1, description="Members; None: the parent's.")
    replay: bool = Field(
        True, description="Train on the published training hops too (keeps old knowledge)."
    )
    replay_limit: int | None = Field(
        None, ge=1, description="At most this many replayed hops (seeded subset); None: all."
    )
    level_policy: LevelPolicy = Field(
        default_factory=LevelPolicy,
        description="Which levels of theory are used as they are or offset; others excluded.",
    )
    min_new_records: int = Field(
        1, ge=0, description="Skip fine-tuning with fewer new accepted verified hops."
    )
    promote: Literal["if_not_worse", "always"] = Field(
        "if_not_worse", description="Promotion rule (see the module docstring)."
    )
    eval_limit: int | None = Field(
        None, ge=1, description="Only the first N test hops for the metrics (quick checks)."
    )
    n_boot: int = Field(1000, ge=1, description="Bootstrap resamples of the test metrics.")
    device: str | None = Field(None, description="cpu / cuda; None: CUDA when available.")
    cache_dir: str | None = Field(
        None,
        description="Graph cache folder (ALIGNN parents; None: '.graph-cache' in the registry "
        "folder) or CHGNet feature cache (chgnet-head parents; None: the per-user cache).",
    )
    seed: int = Field(0, description="Seed of the replay subset.")


# ---------------------------------------------------------------------------------------------
# Test-split metrics and the promotion rule (pure apart from model loading)
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Fine-tuning on feedback
# ---------------------------------------------------------------------------------------------
def replay_records(
    data_dir: Path | str | None, settings: FinetuneSettings
) -> tuple[list[TrainingRecord], dict[str, dict[str, int]]]:
    """The published training hops kept by the level policy (a seeded subset if limited)."""
    if not settings.replay:
        return [], {}
    kept, counts = apply_policy(dataset_records(data_dir, "train"), settings.level_policy)
    if settings.replay_limit is not None and settings.replay_limit < len(kept):
        rng = np.random.default_rng(settings.seed)
        chosen = np.sort(rng.choice(len(kept), size=settings.replay_limit, replace=False))
        kept = [kept[i] for i in chosen]
    return kept, counts


def _training_preset(settings: FinetuneSettings) -> Any:
    preset = get_preset(settings.preset)
    update: dict[str, Any] = {"epochs": settings.epochs}
    for name in ("batch_size", "micro_batch_size", "max_lr", "val_fraction"):
        value = getattr(settings, name)
        if value is not None:
            update[name] = value
    return preset.model_copy(update={"finetune": preset.finetune.model_copy(update=update)})


def _export_model(train_dir: Path, out: Path) -> None:
    """Copy only the card and the weights of a training folder (no checkpoints)."""
    card = read_card(train_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in [CARD_NAME, *(file for file, _ in member_files(card))]:
        shutil.copy2(train_dir / name, out / name)


def _write_card_fields(model_dir: Path, **fields: Any) -> None:
    card = read_card(model_dir).model_copy(update=fields)
    (model_dir / CARD_NAME).write_text(card.model_dump_json(indent=2) + "\n")


def finetune_on_feedback(
    results_dir: Path | str,
    *,
    parent_model: str | Path | None = None,
    settings: FinetuneSettings | None = None,
    registry: Path | str | None = None,
    data_dir: Path | str | None = None,
    hop_options: HopOptions | None = None,
    rebuild_band: RebuildBands | None = None,
    name: str | None = None,
) -> FinetuneResult:
    """Fine-tune the current model on verified hops (+ replay) into a new registry version.

    Parameters
    ----------
    results_dir
        Results folder whose converged verifications are the new labels.
    parent_model
        Model to start from (folder, registered version or name, shipped name); None: the
        registry's current model.
    settings
        Fine-tuning settings (level policy, epochs, replay, promotion rule …).
    registry
        Registry folder; None: the per-user default.
    data_dir
        Data folder of the published dataset (replay and test split).
    hop_options
        The options the store's hops were enumerated with (to rebuild their bands).
    rebuild_band
        Band rebuilder for :func:`~hopscreen.screening.feedback.records_from_verifications`.
    name
        Name of the new version on its card; None: the parent's name + ``-al``.

    Returns
    -------
    FinetuneResult
        ``status="skipped"`` (no new version) when fewer than ``settings.min_new_records``
        verified hops pass the level policy; otherwise the new version, its lineage, metrics
        and promotion verdict.
    """
    t0 = time.perf_counter()
    settings = settings or FinetuneSettings()
    reg = ModelRegistry(registry)
    parent_dir = reg.resolve_dir(parent_model)
    parent_card = read_card(parent_dir)
    name = name or f"{parent_card.name.removesuffix('-al')}-al"
    base = {
        "parent_version": parent_card.model_version,
        "parent_dir": str(parent_dir),
        "registry": str(reg.root),
        "promotion_rule": settings.promote,
    }
    new, report = records_from_verifications(
        results_dir, settings.level_policy, rebuild_band=rebuild_band, hop_options=hop_options
    )
    if len(new) < settings.min_new_records:
        return FinetuneResult(
            status="skipped",
            reason=_skip_reason(len(new), report, settings),
            feedback=report,
            n_new_records=len(new),
            seconds=time.perf_counter() - t0,
            **base,
        )
    replay, replay_counts = replay_records(data_dir, settings)
    if not replay and not new:
        raise ValueError("nothing to fine-tune on: no replay and no new records")
    feedback = _Feedback(Path(results_dir), new, report, replay, replay_counts)
    result = _new_version(
        feedback, parent_dir, parent_card.model_version, reg, settings, data_dir=data_dir, name=name
    )
    return result.model_copy(update={**base, "seconds": time.perf_counter() - t0})


@dataclass(frozen=True)
class _Feedback:
    """What a fine-tuning trains on: the new verified records and the replayed ones."""

    results_dir: Path
    new: list[TrainingRecord]
    report: FeedbackReport
    replay: list[TrainingRecord]
    replay_counts: dict[str, dict[str, int]]

    def training_summary(self, settings: FinetuneSettings) -> dict[str, Any]:
        """The ``training["feedback"]`` entry of the new version's card."""
        return {
            "results_dir": str(self.results_dir.resolve()),
            "level_policy": settings.level_policy.model_dump(),
            "report": self.report.model_dump(mode="json"),
            "replay_by_level": self.replay_counts,
            "n_new_records": len(self.new),
            "n_replay_records": len(self.replay),
            "settings": settings.model_dump(mode="json"),
        }


def _new_version(
    feedback: _Feedback,
    parent_dir: Path,
    parent_version: str,
    reg: ModelRegistry,
    settings: FinetuneSettings,
    *,
    data_dir: Path | str | None,
    name: str,
) -> FinetuneResult:
    """Train, score against the parent, register and maybe promote one new version."""
    head_parent = model_kind(parent_dir) == CHGNET_HEAD_KIND
    cache_dir = _cache_dir(settings, head_parent, reg.root)
    reg.root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".finetune-", dir=reg.root) as tmp:
        records = [*feedback.replay, *feedback.new]
        card = _train_version(
            records, parent_dir, head_parent, Path(tmp) / "train", settings, cache_dir, name
        )
        export = Path(tmp) / card.model_version
        _export_model(Path(tmp) / "train", export)
        metrics, parent_metrics, diff = paper_test_metrics(
            export,
            parent_dir,
            data_dir=data_dir,
            limit=settings.eval_limit,
            device=settings.device,
            n_boot=settings.n_boot,
            feature_cache_dir=cache_dir if head_parent else None,
        )
        promote, verdict = promotion_decision(
            settings.promote, metrics["mae_ev"], parent_metrics["mae_ev"]
        )
        _write_card_fields(
            export,
            metrics={"test": metrics, "parent_test": parent_metrics, "test_vs_parent": diff},
            training={**card.training, "feedback": feedback.training_summary(settings)},
            notes=f"{'Refitted' if head_parent else 'Fine-tuned'} from "
            f"{parent_version} on {len(feedback.new)} verified hops "
            f"+ {len(feedback.replay)} replayed published hops; {verdict}.",
        )
        entry = _register(reg, export, parent_dir)
    if promote:
        reg.promote(entry.model_version)
    return FinetuneResult(
        status="finetuned",
        reason=verdict,
        model_version=entry.model_version,
        model_dir=entry.path,
        promoted=promote,
        n_new_records=len(feedback.new),
        n_replay_records=len(feedback.replay),
        new_record_ids=[r.record_id for r in feedback.new],
        feedback=feedback.report,
        replay_by_level=feedback.replay_counts,
        test_metrics=metrics,
        parent_test_metrics=parent_metrics,
        test_mae_difference=diff,
    )


def _register(reg: ModelRegistry, export: Path, parent_dir: Path) -> ModelVersionDoc:
    """Register the new version (moved, not copied) and its parent unless it is shipped."""
    if parent_dir.resolve() != default_model_dir().resolve():
        reg.register(parent_dir)  # lineage stays complete (idempotent)
    return reg.register(export, copy=False)


def _skip_reason(n_new: int, report: FeedbackReport, settings: FinetuneSettings) -> str:
    """Why fine-tuning was skipped: too few verified hops passed the level policy."""
    excluded = ", ".join(f"{k}: {v}" for k, v in report.excluded_by_level.items()) or "none"
    policy = settings.level_policy
    return (
        f"{n_new} verified hop(s) passed the level policy "
        f"(accepted {policy.accept}, offsets {sorted(policy.offsets_ev)}; "
        f"excluded by level: {excluded}); at least {settings.min_new_records} needed"
    )


def _cache_dir(settings: FinetuneSettings, head_parent: bool, registry_root: Path) -> Path:
    """Where the features (chgnet-head parents) or graphs (ALIGNN parents) are cached."""
    if settings.cache_dir:
        return Path(settings.cache_dir)
    if head_parent:
        return default_feature_cache()  # replayed hops come back every round
    return registry_root / ".graph-cache"


def _train_version(
    records: Sequence[TrainingRecord],
    parent_dir: Path,
    head_parent: bool,
    train_dir: Path,
    settings: FinetuneSettings,
    cache_dir: Path,
    name: str,
) -> Any:
    """Refit (chgnet-head parent) or warm-start fine-tune (ALIGNN parent) into ``train_dir``."""
    if head_parent:
        return refit_chgnet_head(records, parent_dir, train_dir, cache_dir=cache_dir, name=name)
    return finetune_ensemble(
        [r.atoms() for r in records],
        [r.barrier_ev for r in records],
        [r.record_id for r in records],
        _training_preset(settings),
        train_dir,
        backbone=None,
        init_from=parent_dir,
        name=name,
        ensemble_size=settings.ensemble_size,
        device=resolve_device(settings.device),
        cache_dir=cache_dir,
    )


def refit_chgnet_head(
    records: Sequence[TrainingRecord],
    parent_dir: Path,
    out_dir: Path,
    *,
    cache_dir: Path | str | None,
    name: str,
) -> Any:
    """Refit a chgnet-head parent's recipe on ``records`` into ``out_dir``; the new card.

    Trees are not warm-started: the parent's head recipe and CHGNet feature settings are
    fitted anew on exactly these records (so replay decides what old knowledge is kept),
    and the card names the parent. A calibrated parent gives a calibrated refit: its
    conformal intervals come from host-grouped CV on the same records (hosts grouped by
    framework formula, :func:`feedback_host_groups`).
    """
    parent, _ = load_chgnet_head(parent_dir)
    bands, barriers, ids = zip(
        *((r.atoms(), r.barrier_ev, r.record_id) for r in records), strict=True
    )
    groups = feedback_host_groups(records) if parent.calibration is not None else None
    return refit_like(
        parent,
        bands,
        barriers,
        ids,
        out_dir,
        cache_dir=cache_dir,
        name=name,
        parent_version=parent.model_version,
        groups=groups,
    )


def feedback_host_groups(records: Sequence[TrainingRecord]) -> list[str]:
    """Host groups of training records for grouped CV: same framework or same host candidate.

    Published records are linked by their host framework; verified ones also by their
    candidate id (:func:`hopscreen.data.splits.host_groups`).
    """
    rows = []
    for r in records:
        band = r.atoms()
        ion = r.working_ion or Z_TO_SYMBOL[int(band.numbers[0])]
        rows.append(
            SimpleNamespace(band=band, working_ion=ion, sys_name=r.candidate_id or r.record_id)
        )
    return host_groups(rows)


# ---------------------------------------------------------------------------------------------
# Re-prediction of the hops not verified yet
# ---------------------------------------------------------------------------------------------
