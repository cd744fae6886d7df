"""Atomic training checkpoints that let a killed run resume where it stopped."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hopscreen.training.config import TrainConfig
from hopscreen.training.metrics import ValidationTracker

CHECKPOINT_NAME = "checkpoint.pt"


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    """Write ``state`` with ``torch.save`` to a temporary file, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (tensors and plain Python only)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or foreign file
        raise ValueError(f"cannot read checkpoint {path}: {exc}") from exc


def read_resume_state(path: Path, config: TrainConfig) -> dict[str, Any] | None:
    """The checkpoint at ``path`` to resume from, or None when there is none yet.

    Parameters
    ----------
    path : Path
        Checkpoint file of a run folder.
    config : TrainConfig
        Settings of the run that wants to resume.

    Returns
    -------
    dict or None
        The state written by :func:`training_state`.

    Raises
    ------
    ValueError
        If the checkpoint cannot be read or was written with other settings.
    """
    state = load_checkpoint(path) if path.exists() else None
    if state is not None and state.get("config") != config.model_dump_json():
        raise ValueError(
            f"{path} was written with other training settings; use a new output folder"
        )
    return state


def training_state(
    *,
    config: TrainConfig,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    rng: np.random.Generator,
    epoch: int,
    n_epochs: int,
    tracker: ValidationTracker,
    done: bool,
) -> dict[str, Any]:
    """Everything a run needs to continue after ``epoch`` exactly as if it had not stopped.

    Parameters
    ----------
    config : TrainConfig
        The run's settings (a resume with other settings is refused).
    model, optimizer, scheduler
        Their current states are stored.
    rng : numpy.random.Generator
        The epoch-shuffling generator; the torch CPU generator is stored as well.
    epoch, n_epochs : int
        The epoch just completed and the planned number of epochs.
    tracker : ValidationTracker
        Best loss, its epoch and weights, epochs without improvement, history.
    done : bool
        Whether the run has finished (a rerun then trains nothing).

    Returns
    -------
    dict
        A state for :func:`save_checkpoint` and :func:`restore_training_state`.
    """
    return {
        "config": config.model_dump_json(),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": json.dumps(rng.bit_generator.state),
        "torch_rng": torch.get_rng_state(),
        "epoch": epoch,
        "n_epochs": n_epochs,
        "best_val": tracker.best_val,
        "best_epoch": tracker.best_epoch,
        "stale": tracker.stale,
        "history": json.dumps(tracker.history),
        "best_model": tracker.best_state,
        "done": done,
    }


def restore_training_state(
    state: dict[str, Any],
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    rng: np.random.Generator,
    n_epochs: int,
) -> tuple[int, ValidationTracker]:
    """Load a :func:`training_state` into the run's objects and the random generators.

    Parameters
    ----------
    state : dict
        The checkpoint read by :func:`read_resume_state`.
    model, optimizer, scheduler, rng
        Set in place; the torch CPU generator is set too.
    n_epochs : int
        The planned number of epochs (returned as the next epoch of a finished run).

    Returns
    -------
    start_epoch : int
        The first epoch still to train.
    tracker : ValidationTracker
        The validation record up to the checkpoint.
    """
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    rng.bit_generator.state = json.loads(state["rng"])
    torch.set_rng_state(state["torch_rng"])
    tracker = ValidationTracker(
        best_val=state["best_val"],
        best_epoch=state["best_epoch"],
        stale=state["stale"],
        history=json.loads(state["history"]),
        best_state=state["best_model"],
    )
    start_epoch = n_epochs if state.get("done") else state["epoch"] + 1
    return start_epoch, tracker
