"""Fine-tune and apply one network of any input encoding (Models 1–4) on bands.

Used by the paper-comparison run (:mod:`hopscreen.benchmarks.reproduce`): every variant is
trained the same way as Model-3 (copied pre-trained backbone or scratch, fresh head, L1 on
min–max scaled targets, AdamW + one-cycle, early stopping on a validation split of the training
hops).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hopscreen.graphs.cache import GraphCache
from hopscreen.models.scaling import TargetScaler
from hopscreen.models.variants import (
    VariantName,
    build_variant,
    endpoints_from_band,
    reads_endpoints,
)
from hopscreen.schemas.structure import Crystal
from hopscreen.training.batching import collate_for
from hopscreen.training.config import Preset
from hopscreen.training.loop import FitResult, fit
from hopscreen.training.pretrain import load_backbone_into

log = logging.getLogger(__name__)


def variant_samples(
    name: VariantName, bands: Sequence[Crystal], cache: GraphCache, *, progress: bool = False
) -> list[Any]:
    """What variant ``name`` reads for each band: a band graph or an (initial, final) pair."""
    if not reads_endpoints(name):
        return cache.get_many(bands, progress=progress)
    pairs = [endpoints_from_band(b) for b in bands]
    initial = cache.get_many([p[0] for p in pairs], progress=progress)
    final = cache.get_many([p[1] for p in pairs], progress=progress)
    return list(zip(initial, final, strict=True))


@dataclass
class TrainedVariant:
    """A fine-tuned variant network with its target scaler and training history."""

    name: VariantName
    model: nn.Module
    scaler: TargetScaler
    mark_ion_copies: bool
    result: FitResult


def fit_variant(
    name: VariantName,
    samples: Sequence[Any],
    barriers_ev: Sequence[float],
    preset: Preset,
    out_dir: Path,
    *,
    backbone: Path | None,
    seed: int = 0,
    mark_ion_copies: bool = False,
    device: str = "cpu",
) -> TrainedVariant:
    """Fine-tune variant ``name`` on ``samples`` → ``barriers_ev`` (resumable in ``out_dir``).

    ``backbone=None`` trains from scratch. The ion-copy marker applies to band variants only.
    """
    if len(samples) != len(barriers_ev):
        raise ValueError(f"{len(samples)} samples but {len(barriers_ev)} barriers")
    if mark_ion_copies and reads_endpoints(name):
        raise ValueError(f"{name} reads endpoint structures: there are no ion copies to mark")
    y = np.asarray(barriers_ev, dtype=np.float64)
    scaler = TargetScaler.fit(y)
    targets = scaler.transform(y).astype(np.float32)[:, None]
    config = preset.model.model_copy(update={"mark_ion_copies": mark_ion_copies})
    torch.manual_seed(1000 + seed)
    model = build_variant(name, config)
    if backbone is not None:
        load_backbone_into(model, backbone)  # type: ignore[arg-type]
    train_cfg = preset.finetune.model_copy(update={"seed": seed})
    result = fit(
        model,
        samples,
        targets,
        train_cfg,
        Path(out_dir),
        mark_ion_copies=mark_ion_copies,
        device=device,
    )
    log.info("%s: best epoch %d of %d", name, result.best_epoch, result.epochs_run)
    return TrainedVariant(name, model.eval(), scaler, mark_ion_copies, result)


def predict_variant(
    trained: TrainedVariant,
    samples: Sequence[Any],
    *,
    batch_size: int = 32,
    device: str = "cpu",
) -> np.ndarray:
    """Barriers in eV predicted by a trained variant, in the order of ``samples``."""
    model = trained.model.to(device).eval()
    out: list[np.ndarray] = []
    with torch.no_grad():
        for start in range(0, len(samples), batch_size):
            batch = collate_for(
                model,
                list(samples[start : start + batch_size]),
                mark_ion_copies=trained.mark_ion_copies,
                device=device,
            )
            out.append(model(batch)[:, 0].float().cpu().numpy())
    scaled = np.concatenate(out) if out else np.zeros(0)
    return trained.scaler.inverse(scaled)
