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
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from hopscreen.data.em_dataset import load_em_dataset
from hopscreen.evaluation.metrics import evaluate_predictions, paired_bootstrap_difference
from hopscreen.inference.device import resolve_device
from hopscreen.inference.hops import predict_hops
from hopscreen.inference.load import load_model
from hopscreen.inference.predict import predict
from hopscreen.models.bundle import CARD_NAME, model_kind
from hopscreen.models.chgnet_backbone import default_feature_cache
from hopscreen.models.chgnet_bundle import CHGNET_HEAD_KIND, load_chgnet_head
from hopscreen.models.kinds import member_files, read_card
from hopscreen.models.shipped import default_model_dir, resolve_model_dir
from hopscreen.registry import ModelRegistry, UnknownModelError
from hopscreen.schemas.base import Config
from hopscreen.schemas.candidate import CandidateDoc
from hopscreen.schemas.hop import HopDoc
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.schemas.training import FinetuneResult, LevelPolicy, TrainingRecord
from hopscreen.screening.feedback import records_from_verifications
from hopscreen.screening.round import RebuildBands, rebuild_bands
from hopscreen.store import open_results_store
from hopscreen.training.chgnet_head import refit_like
from hopscreen.training.config import get_preset
from hopscreen.training.feedback import apply_policy, dataset_records
from hopscreen.training.finetune import finetune_ensemble

log = logging.getLogger(__name__)

TEST_THRESHOLD_EV = 0.65


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
def summarise_metrics(evaluation: dict[str, Any]) -> dict[str, Any]:
    """A compact, registry-friendly dict of :func:`evaluate_predictions` output.

    Returns
    -------
    dict
        ``{"split", "n", "mae_ev", "mae_ci_ev", "rmse_ev", "r2", "accuracy_065"}`` (eV;
        ``mae_ci_ev`` is the bootstrap interval ``[low, high]``).
    """
    reg = evaluation["regression"]
    cls = {c["threshold_ev"]: c for c in evaluation["classification"]}.get(TEST_THRESHOLD_EV)
    return {
        "split": "paper-test",
        "n": int(evaluation["n"]),
        "mae_ev": reg["mae_ev"]["value"],
        "mae_ci_ev": [reg["mae_ev"]["ci_low"], reg["mae_ev"]["ci_high"]],
        "rmse_ev": reg["rmse_ev"]["value"],
        "r2": reg["r2"]["value"],
        "accuracy_065": cls["accuracy"]["value"] if cls else None,
    }


def paper_test_metrics(
    new_dir: Path,
    parent_dir: Path,
    *,
    data_dir: Path | str | None = None,
    limit: int | None = None,
    device: str | None = None,
    n_boot: int = 1000,
    feature_cache_dir: Path | str | None = None,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Score a new model and its parent on the same test hops of the authors' split.

    Parameters
    ----------
    new_dir, parent_dir
        Model folders.
    data_dir
        Data folder (see :func:`hopscreen.data.paths.resolve_data_dir`).
    limit
        Only the first ``limit`` test hops (file order).
    device
        ``"cpu"`` / ``"cuda"``; None picks CUDA when available.
    n_boot
        Bootstrap resamples.
    feature_cache_dir
        CHGNet feature cache for chgnet-head models (ignored by ALIGNN models).

    Returns
    -------
    tuple
        (new metrics, parent metrics, paired MAE difference new − parent), the first two as
        :func:`summarise_metrics`, the last as
        :func:`~hopscreen.evaluation.metrics.paired_bootstrap_difference`.
    """
    records = load_em_dataset(data_dir, splits=("test",))
    if limit is not None:
        records = records[:limit]
    y = np.array([r.barrier_ev for r in records])
    preds = []
    for folder in (new_dir, parent_dir):
        model = load_model(folder, device=device, feature_cache_dir=feature_cache_dir)
        out = predict([r.band for r in records], model=model)
        preds.append(np.array([p.barrier_ev for p in out]))
    new, parent = (
        summarise_metrics(evaluate_predictions(y, p, (TEST_THRESHOLD_EV,), n_boot=n_boot))
        for p in preds
    )
    diff = paired_bootstrap_difference(y, preds[0], preds[1], n_boot=n_boot)
    return new, parent, diff


def promotion_decision(
    rule: Literal["if_not_worse", "always"], new_mae_ev: float | None, parent_mae_ev: float | None
) -> tuple[bool, str]:
    """Whether a new version is promoted under ``rule``, and why (one sentence).

    ``if_not_worse`` promotes when ``new_mae_ev <= parent_mae_ev`` (same test hops); without
    both numbers it does not promote.
    """
    if rule == "always":
        return True, "promoted: rule 'always'"
    if new_mae_ev is None or parent_mae_ev is None:
        return False, "not promoted: test MAE of the new version or its parent is unknown"
    verdict = "promoted" if new_mae_ev <= parent_mae_ev else "not promoted"
    relation = "<=" if new_mae_ev <= parent_mae_ev else ">"
    return (
        new_mae_ev <= parent_mae_ev,
        f"{verdict}: test MAE {new_mae_ev:.4f} eV {relation} parent's {parent_mae_ev:.4f} eV "
        "(rule 'if_not_worse')",
    )


# ---------------------------------------------------------------------------------------------
# Fine-tuning on feedback
# ---------------------------------------------------------------------------------------------
def resolve_parent(model: str | Path | None, registry: Any) -> Path:
    """Folder of the model to start from.

    ``model`` is a folder, a registered version or name, a shipped model name, or None for
    the registry's current model (its promoted version, else the shipped default).
    """
    if model is None:
        return registry.current_dir()
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    try:
        return Path(registry.get(str(model)).path)
    except UnknownModelError:
        return resolve_model_dir(str(model))


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
    hop_options: dict[str, Any] | None = None,
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
        ``HopOptions`` fields the store's hops were enumerated with (to rebuild their bands).
    rebuild_band
        Band rebuilder for :func:`~hopscreen.training.feedback.records_from_verifications`.
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
    parent_dir = resolve_parent(parent_model, reg)
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
        excluded = ", ".join(f"{k}: {v}" for k, v in report.excluded_by_level.items()) or "none"
        return FinetuneResult(
            status="skipped",
            reason=f"{len(new)} verified hop(s) passed the level policy "
            f"(accepted {settings.level_policy.accept}, offsets "
            f"{sorted(settings.level_policy.offsets_ev)}; excluded by level: {excluded}); "
            f"at least {settings.min_new_records} needed",
            feedback=report,
            n_new_records=len(new),
            seconds=time.perf_counter() - t0,
            **base,
        )
    replay, replay_counts = replay_records(data_dir, settings)
    records = [*replay, *new]
    if not records:
        raise ValueError("nothing to fine-tune on: no replay and no new records")
    head_parent = model_kind(parent_dir) == CHGNET_HEAD_KIND
    if settings.cache_dir:
        cache_dir = Path(settings.cache_dir)
    elif head_parent:
        cache_dir = default_feature_cache()  # replayed hops come back every round
    else:
        cache_dir = reg.root / ".graph-cache"
    reg.root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".finetune-", dir=reg.root) as tmp:
        train_dir = Path(tmp) / "train"
        if head_parent:
            card = refit_chgnet_head(records, parent_dir, train_dir, cache_dir=cache_dir, name=name)
        else:
            card = finetune_ensemble(
                [r.atoms() for r in records],
                [r.barrier_ev for r in records],
                [r.record_id for r in records],
                _training_preset(settings),
                train_dir,
                backbone=None,
                init_from=parent_dir,
                name=name,
                ensemble_size=settings.ensemble_size,
                device=_device(settings.device),
                cache_dir=cache_dir,
            )
        export = Path(tmp) / card.model_version
        _export_model(train_dir, export)
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
        training = dict(card.training)
        training["feedback"] = {
            "results_dir": str(Path(results_dir).resolve()),
            "level_policy": settings.level_policy.model_dump(),
            "report": report.model_dump(mode="json"),
            "replay_by_level": replay_counts,
            "n_new_records": len(new),
            "n_replay_records": len(replay),
            "settings": settings.model_dump(mode="json"),
        }
        _write_card_fields(
            export,
            metrics={"test": metrics, "parent_test": parent_metrics, "test_vs_parent": diff},
            training=training,
            notes=f"{'Refitted' if head_parent else 'Fine-tuned'} from "
            f"{parent_card.model_version} on {len(new)} verified hops "
            f"+ {len(replay)} replayed published hops; {verdict}.",
        )
        if parent_dir.resolve() != default_model_dir().resolve():
            reg.register(parent_dir)  # lineage stays complete (idempotent)
        entry = reg.register(export, copy=False)
    if promote:
        reg.promote(entry.model_version)
    return FinetuneResult(
        status="finetuned",
        reason=verdict,
        model_version=entry.model_version,
        model_dir=entry.path,
        promoted=promote,
        n_new_records=len(new),
        n_replay_records=len(replay),
        new_record_ids=[r.record_id for r in new],
        feedback=report,
        replay_by_level=replay_counts,
        test_metrics=metrics,
        parent_test_metrics=parent_metrics,
        test_mae_difference=diff,
        seconds=time.perf_counter() - t0,
        **base,
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
    and the card names the parent.
    """
    parent, _ = load_chgnet_head(parent_dir)
    bands, barriers, ids = zip(
        *((r.atoms(), r.barrier_ev, r.record_id) for r in records), strict=True
    )
    return refit_like(
        parent,
        bands,
        barriers,
        ids,
        out_dir,
        cache_dir=cache_dir,
        name=name,
        parent_version=parent.model_version,
    )


def _device(device: str | None) -> str:
    return resolve_device(device)


# ---------------------------------------------------------------------------------------------
# Re-prediction of the hops not verified yet
# ---------------------------------------------------------------------------------------------
def unverified_hops(
    hops: Sequence[HopDoc], verifications: Sequence[dict[str, Any]]
) -> list[HopDoc]:
    """The hops without a converged ``status="ok"`` verification (any level of theory)."""
    done = {
        v["hop_id"]
        for v in verifications
        if v.get("status") == "ok" and v.get("converged") and v.get("barrier_ev") is not None
    }
    return [h for h in hops if h.hop_id not in done]


def repredict_unverified(
    results_dir: Path | str,
    model_dir: Path | str,
    *,
    hop_options: dict[str, Any] | None = None,
    batch_size: int = 32,
    device: str | None = None,
    rebuild_band: RebuildBands | None = None,
) -> tuple[list[PredictionDoc], list[str]]:
    """Predict every not-yet-verified hop of a results store with a model, and store it.

    Parameters
    ----------
    results_dir
        Results folder (hops, candidates, verifications are read; predictions written).
    model_dir
        Model folder (e.g. the new version); its ``model_version`` is on every document.
    hop_options
        ``HopOptions`` fields the hops were enumerated with.
    batch_size, device
        Inference settings.
    rebuild_band
        Band rebuilder; default :func:`hopscreen.screening.round.rebuild_bands` with
        ``hop_options``.

    Returns
    -------
    tuple
        (the new prediction documents, ``"hop_id: reason"`` for hops without a band).
    """
    with open_results_store(results_dir) as store:
        hops = store.read_docs("hops", HopDoc)
        todo = unverified_hops(hops, store.read("verifications"))
        cids = sorted({h.candidate_id for h in todo if h.candidate_id})
        hosts = (
            store.read_docs("candidates", CandidateDoc, {"candidate_id": {"$in": cids}})
            if cids
            else []
        )
    if not todo:
        return [], []
    if rebuild_band is None:
        kept, bands, failed = rebuild_bands(todo, hosts, hop_options)
    else:
        kept, bands, failed = rebuild_band(todo, hosts)
    failures = [f"{f.hop_id}: {f.reason}" for f in failed]
    if not kept:
        return [], failures
    model = load_model(Path(model_dir), device=device)
    docs = predict_hops(kept, bands, model=model, batch_size=batch_size)
    with open_results_store(results_dir) as store:
        store.write("predictions", docs)
    return docs, failures
