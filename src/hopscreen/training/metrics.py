"""Losses of the training loop and the validation record that drives early stopping."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from hopscreen.training.batching import collate_for, index_batches


def masked_l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over the finite entries of ``target`` (missing labels are NaN)."""
    mask = torch.isfinite(target)
    if not bool(mask.any()):
        return pred.sum() * 0.0
    return (pred[mask] - target[mask]).abs().mean()


def evaluate_loss(
    model: nn.Module,
    graphs: Sequence[Any],
    targets: np.ndarray,
    *,
    batch_size: int,
    mark_ion_copies: bool,
    device: torch.device,
) -> float:
    """Masked L1 over a dataset (mean over labelled entries)."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for idx in index_batches(np.arange(len(graphs)), batch_size):
            batch = collate_for(
                model,
                [graphs[i] for i in idx],
                mark_ion_copies=mark_ion_copies,
                device=device,
            )
            pred = model(batch)
            tgt = torch.as_tensor(targets[idx], dtype=pred.dtype, device=device)
            mask = torch.isfinite(tgt)
            total += float((pred[mask] - tgt[mask]).abs().sum())
            count += int(mask.sum())
    return total / max(count, 1)


@dataclass
class ValidationTracker:
    """The epochs seen so far: their losses, the best validation loss and its weights.

    Attributes
    ----------
    best_val : float
        Lowest validation loss so far (``inf`` before the first epoch).
    best_epoch : int
        Epoch of ``best_val`` (−1 before the first epoch).
    stale : int
        Epochs since ``best_val`` last improved.
    history : list of dict
        One row per epoch: ``epoch``, ``train_loss``, ``val_loss``, ``seconds``.
    best_state : dict or None
        CPU copy of the model's state dict at ``best_epoch``.
    """

    best_val: float = math.inf
    best_epoch: int = -1
    stale: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    best_state: dict[str, torch.Tensor] | None = None

    def record(self, row: dict[str, float], epoch: int, model: nn.Module) -> None:
        """Add an epoch's row; keep a copy of ``model``'s weights when ``val_loss`` improved."""
        self.history.append(row)
        if row["val_loss"] < self.best_val:
            self.best_val, self.best_epoch, self.stale = row["val_loss"], epoch, 0
            self.best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        else:
            self.stale += 1

    def patience_exhausted(self, patience: int | None) -> bool:
        """Whether ``patience`` epochs passed without improvement (never when None)."""
        return patience is not None and self.stale >= patience
