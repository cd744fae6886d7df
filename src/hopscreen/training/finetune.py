"""Fine-tuning Model-3 on bands: copy the backbone, fresh head, one model per ensemble member."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hopscreen.graphs.build import GraphConfig
from hopscreen.graphs.cache import GraphCache
from hopscreen.models.alignn import ALIGNN, ALIGNNConfig
from hopscreen.models.bundle import ModelCard, load_bundle, save_bundle
from hopscreen.models.scaling import TargetScaler
from hopscreen.schemas.structure import Crystal
from hopscreen.training.config import Preset
from hopscreen.training.loop import fit
from hopscreen.training.pretrain import load_backbone_into

log = logging.getLogger(__name__)


@dataclass
class _EnsemblePlan:
    """What the members are built from, and what the card says about their origin."""

    size: int
    mark_ion_copies: bool
    scaler: TargetScaler
    architecture: ALIGNNConfig
    graph: GraphConfig
    preset_name: str
    parent_version: str | None
    pretrained_backbone: str | None
    parents: list[ALIGNN] = field(default_factory=list)


def _warm_start_plan(
    init_from: Path,
    backbone: Path | None,
    ensemble_size: int | None,
    mark_ion_copies: bool | None,
    parent_version: str | None,
) -> _EnsemblePlan:
    """Keep the parent folder's architecture, graph settings, scaler and member weights."""
    if backbone is not None:
        raise ValueError("give either a pre-trained backbone or init_from, not both")
    parent_card, parents = load_bundle(Path(init_from))
    mark = parent_card.architecture.mark_ion_copies
    if mark_ion_copies is not None and mark_ion_copies != mark:
        raise ValueError(f"the parent model has mark_ion_copies={mark}; it cannot change")
    return _EnsemblePlan(
        size=ensemble_size or parent_card.ensemble_size,
        mark_ion_copies=mark,
        scaler=parent_card.scaler,
        architecture=parent_card.architecture,
        graph=parent_card.graph,
        preset_name=parent_card.preset,
        parent_version=parent_version or parent_card.model_version,
        pretrained_backbone=parent_card.pretrained_backbone,
        parents=parents,
    )


def _fresh_plan(
    preset: Preset,
    y: np.ndarray,
    backbone: Path | None,
    ensemble_size: int | None,
    mark_ion_copies: bool | None,
    parent_version: str | None,
) -> _EnsemblePlan:
    """The preset's architecture with one head, a scaler fitted on ``y``."""
    mark = preset.model.mark_ion_copies if mark_ion_copies is None else mark_ion_copies
    return _EnsemblePlan(
        size=ensemble_size or preset.ensemble_size,
        mark_ion_copies=mark,
        scaler=TargetScaler.fit(y),
        architecture=preset.model.model_copy(update={"n_heads": 1, "mark_ion_copies": mark}),
        graph=preset.graph,
        preset_name=preset.name,
        parent_version=parent_version,
        pretrained_backbone=str(backbone) if backbone else None,
    )


def _train_member(
    i: int,
    plan: _EnsemblePlan,
    preset: Preset,
    graphs: Sequence[Any],
    targets: np.ndarray,
    out_dir: Path,
    *,
    backbone: Path | None,
    device: str,
) -> tuple[ALIGNN, dict[str, Any]]:
    """Build member ``i`` (seed 1000 + i), fine-tune it; the model (CPU, eval) and its summary."""
    torch.manual_seed(1000 + i)
    model = ALIGNN(plan.architecture)
    if plan.parents:
        model.load_state_dict(plan.parents[i % len(plan.parents)].state_dict())
    elif backbone is not None:
        load_backbone_into(model, backbone)
    train_cfg = preset.finetune.model_copy(update={"seed": i})
    result = fit(
        model,
        graphs,
        targets,
        train_cfg,
        out_dir / f"member{i}",
        mark_ion_copies=plan.mark_ion_copies,
        device=device,
    )
    log.info(
        "member %d: best epoch %d val L1 (scaled) %.4f",
        i,
        result.best_epoch,
        result.best_val_loss,
    )
    scaler = plan.scaler
    summary = {
        "seed": i,
        "best_epoch": result.best_epoch,
        "epochs_run": result.epochs_run,
        "best_val_l1_ev": result.best_val_loss * 0.5 * (scaler.maximum - scaler.minimum),
        "seconds": result.seconds,
    }
    return model.cpu().eval(), summary


def finetune_ensemble(
    bands: Sequence[Crystal],
    barriers_ev: Sequence[float],
    record_ids: Sequence[str],
    preset: Preset,
    out_dir: Path,
    *,
    backbone: Path | None,
    name: str = "model3",
    ensemble_size: int | None = None,
    mark_ion_copies: bool | None = None,
    device: str = "cpu",
    cache_dir: Path | None = None,
    workers: int = 1,
    progress: bool = False,
    weights_dtype: str = "float32",
    parent_version: str | None = None,
    init_from: Path | None = None,
) -> ModelCard:
    """Fine-tune ``ensemble_size`` members (seeds 0..k−1, each with its own validation split).

    ``backbone=None`` trains from scratch (the comparison the paper makes). Each member keeps
    its checkpoints in ``out_dir/member{i}`` (resumable); the ensemble is written to ``out_dir``
    as a model folder (weights + card).

    ``init_from`` warm-starts from an existing model folder instead (active learning): member
    i starts from the parent's member ``i mod n_parent`` (backbone *and* head), and the
    parent's architecture, graph settings and target scaler are kept, so that the new model
    continues the parent's output scale; only the optimisation settings come from ``preset``.
    ``backbone`` must then be None. ``parent_version`` defaults to the parent's version.
    """
    if not (len(bands) == len(barriers_ev) == len(record_ids)):
        raise ValueError("bands, barriers and record ids must have the same length")
    out_dir = Path(out_dir)
    y = np.asarray(barriers_ev, dtype=np.float64)
    if init_from is not None:
        plan = _warm_start_plan(init_from, backbone, ensemble_size, mark_ion_copies, parent_version)
    else:
        plan = _fresh_plan(preset, y, backbone, ensemble_size, mark_ion_copies, parent_version)
    targets = plan.scaler.transform(y).astype(np.float32)[:, None]
    cache = GraphCache(cache_dir, plan.graph)
    graphs = cache.get_many(bands, workers=workers, progress=progress)
    members, summaries = [], []
    for i in range(plan.size):
        model, summary = _train_member(
            i, plan, preset, graphs, targets, out_dir, backbone=backbone, device=device
        )
        members.append(model)
        summaries.append(summary)
    return save_bundle(
        members,
        out_dir,
        name=name,
        preset=plan.preset_name,
        graph=plan.graph,
        scaler=plan.scaler,
        dtype=getattr(torch, weights_dtype),
        parent_version=plan.parent_version,
        pretrained_backbone=plan.pretrained_backbone,
        train_record_ids=list(record_ids),
        training={
            "finetune": preset.finetune.model_dump(),
            "members": summaries,
            "init_from": plan.parent_version if init_from is not None else None,
        },
    )
