"""How the training data are cut: seeded train/validation splits, index batches, model batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from hopscreen.graphs.batch import collate


def _needs_line_graph(model: nn.Module) -> bool:
    config = getattr(model, "config", None)
    return bool(getattr(config, "uses_line_graph", True))


def collate_for(
    model: nn.Module,
    samples: Sequence[Any],
    *,
    mark_ion_copies: bool,
    device: torch.device | str,
) -> Any:
    """Batch ``samples`` the way ``model`` reads them.

    A model with its own ``collate`` method (the paired and local-attention variants of
    :mod:`hopscreen.models.variants`) builds its own batch; any other model gets one
    :class:`~hopscreen.graphs.batch.GraphBatch` of crystal graphs.
    """
    custom = getattr(model, "collate", None)
    if custom is not None:
        return custom(samples, mark_ion_copies=mark_ion_copies, device=device)
    return collate(
        samples,
        mark_ion_copies=mark_ion_copies,
        with_line_graph=_needs_line_graph(model),
        device=device,
    )


def split_train_val(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random split of ``range(n)`` into train and validation indices."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    n_val = round(n * fraction) if fraction > 0 else 0
    if fraction > 0 and n > 1:
        n_val = max(1, min(n - 1, n_val))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def index_batches(indices: np.ndarray, size: int) -> list[np.ndarray]:
    """Consecutive slices of ``indices`` of length ``size`` (the last one may be shorter)."""
    return [indices[i : i + size] for i in range(0, len(indices), size)]
