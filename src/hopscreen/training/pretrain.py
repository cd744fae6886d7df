"""Multi-property pre-training of one ALIGNN backbone with one head per property (MPT)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from hopscreen.graphs.cache import GraphCache
from hopscreen.models.alignn import ALIGNN
from hopscreen.schemas.structure import Crystal
from hopscreen.training.config import Preset
from hopscreen.training.loop import FitResult, fit

log = logging.getLogger(__name__)

BACKBONE_NAME = "backbone.safetensors"


def pretrain(
    structures: Sequence[Crystal],
    targets: np.ndarray,
    preset: Preset,
    out_dir: Path,
    *,
    property_names: Sequence[str],
    device: str = "cpu",
    cache_dir: Path | None = None,
    workers: int = 1,
    progress: bool = False,
) -> FitResult:
    """Pre-train a backbone with ``len(property_names)`` heads on scaled bulk targets.

    ``targets`` is (n, n_properties) with NaN where a structure lacks a property (masked loss).
    Writes ``checkpoint.pt`` every epoch (resumable) and ``backbone.safetensors`` at the end.
    """
    targets = np.asarray(targets, dtype=np.float32)
    if targets.shape != (len(structures), len(property_names)):
        raise ValueError(
            f"targets shape {targets.shape} != ({len(structures)}, {len(property_names)})"
        )
    out_dir = Path(out_dir)
    cache = GraphCache(cache_dir, preset.graph)
    graphs = cache.get_many(structures, workers=workers, progress=progress)
    config = preset.model.model_copy(
        update={"n_heads": len(property_names), "mark_ion_copies": False}
    )
    model = ALIGNN(config)
    result = fit(model, graphs, targets, preset.pretrain, out_dir, device=device)
    state = {k: v.detach().cpu().contiguous() for k, v in model.backbone.state_dict().items()}
    save_file(state, str(out_dir / BACKBONE_NAME))
    (out_dir / "pretrain_summary.json").write_text(
        json.dumps(
            {
                "preset": preset.name,
                "properties": list(property_names),
                "n_structures": len(structures),
                "labels_per_property": {
                    p: int(np.isfinite(targets[:, i]).sum()) for i, p in enumerate(property_names)
                },
                "best_epoch": result.best_epoch,
                "best_val_l1_scaled": result.best_val_loss,
                "epochs_run": result.epochs_run,
                "seconds": result.seconds,
                "history": result.history,
                "architecture": config.model_dump(),
            },
            indent=2,
        )
    )
    return result


def load_backbone_into(model: ALIGNN, path: Path) -> None:
    """Copy pre-trained backbone weights into ``model`` (shapes must match).

    When ``model`` marks ion copies (one extra input feature), the pre-trained atom embedding
    is widened with a zero-initialised column for the marker.
    """
    state = load_file(str(path))
    own = model.backbone.state_dict()
    key = "atom_embedding.linear.weight"
    if key in state and state[key].shape[1] + 1 == own[key].shape[1]:
        widened = torch.zeros_like(own[key])
        widened[:, : state[key].shape[1]] = state[key]
        state[key] = widened
    model.backbone.load_state_dict(state, strict=True)
