"""Choice of the torch device: the one asked for, else CUDA when present, else the CPU."""

from __future__ import annotations

import torch


def resolve_device(device: str | None = None) -> str:
    """``device`` when given, otherwise ``"cuda"`` if a GPU is visible, else ``"cpu"``."""
    if device:
        return device

    return "cuda" if torch.cuda.is_available() else "cpu"
