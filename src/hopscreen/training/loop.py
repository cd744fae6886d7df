"""The training loop shared by pre-training (many masked heads) and fine-tuning (one head).

Each epoch is checkpointed (:mod:`hopscreen.training.checkpoint`); calling :func:`fit` again on
the same ``out_dir`` resumes from the last completed epoch with the same optimizer, schedule
and random state. Losses and early stopping live in :mod:`hopscreen.training.metrics`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hopscreen.training.batching import collate_for, index_batches, split_train_val
from hopscreen.training.checkpoint import (
    CHECKPOINT_NAME,
    read_resume_state,
    restore_training_state,
    save_checkpoint,
    training_state,
)
from hopscreen.training.config import TrainConfig
from hopscreen.training.metrics import ValidationTracker, evaluate_loss

log = logging.getLogger(__name__)


@dataclass
class FitResult:
    """What a training run produced."""

    best_epoch: int
    best_val_loss: float
    epochs_run: int
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class _FitRun:
    """The fixed inputs of one :func:`fit` call."""

    model: nn.Module
    graphs: Sequence[Any]
    targets: np.ndarray
    config: TrainConfig
    mark_ion_copies: bool
    device: torch.device
    train_idx: np.ndarray
    val_idx: np.ndarray

    @property
    def micro(self) -> int:
        return self.config.micro_batch_size or self.config.batch_size

    @property
    def use_amp(self) -> bool:
        return self.config.amp_bf16 and self.device.type == "cuda"

    def batch(self, indices: np.ndarray) -> Any:
        return collate_for(
            self.model,
            [self.graphs[i] for i in indices],
            mark_ion_copies=self.mark_ion_copies,
            device=self.device,
        )


@dataclass
class _Progress:
    """The changing state of a run: optimiser, schedule, shuffling generator, epochs."""

    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    rng: np.random.Generator
    n_epochs: int
    start_epoch: int = 0
    tracker: ValidationTracker = field(default_factory=ValidationTracker)


def use_tf32_on_cuda(device: str) -> None:
    """Let float32 matrix products use TF32 tensor cores when ``device`` is a CUDA device.

    Accumulation stays in float32; products run about three times faster. Sets the global
    ``torch.backends`` switches; does nothing for other devices.
    """
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def _target_matrix(targets: np.ndarray, n_graphs: int) -> np.ndarray:
    """``targets`` as float32 (n, n_heads), checked against the number of graphs."""
    targets = np.asarray(targets, dtype=np.float32)
    if targets.ndim == 1:
        targets = targets[:, None]
    if n_graphs != len(targets):
        raise ValueError(f"{n_graphs} graphs but {len(targets)} targets")
    return targets


def _train_val_indices(
    n: int, config: TrainConfig, val_indices: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The seeded split, or the complement of the given validation indices."""
    if val_indices is None:
        return split_train_val(n, config.val_fraction, config.seed)
    val_idx = np.sort(np.asarray(val_indices, dtype=int))
    return np.setdiff1d(np.arange(n), val_idx), val_idx


def _epochs_in_budget(run: _FitRun) -> int:
    """Epochs that fit in ``config.max_minutes``, timed on a few forward/backward passes."""
    config, device, micro = run.config, run.device, run.micro
    rng = np.random.default_rng(config.seed + 12345)
    probe = [
        rng.choice(run.train_idx, size=min(micro, len(run.train_idx)), replace=False)
        for _ in range(3)
    ]
    run.model.train()
    seconds = []
    for i, idx in enumerate(probe):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        batch = run.batch(idx)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=run.use_amp):
            out = run.model(batch).float()
        out.sum().backward()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i > 0:  # the first pass pays for allocation and kernel selection
            seconds.append(time.perf_counter() - t)
    run.model.zero_grad(set_to_none=True)
    per_graph = float(np.mean(seconds)) / micro
    # validation costs about a third of a training pass per graph
    per_epoch = per_graph * (len(run.train_idx) + len(run.val_idx) / 3.0) * 1.1
    budget = 60.0 * float(config.max_minutes or 0.0)
    return int(max(1, min(config.epochs, budget // max(per_epoch, 1e-9))))


def _planned_epochs(run: _FitRun, state: dict[str, Any] | None) -> int:
    """The checkpoint's plan, else what the time budget allows, else ``config.epochs``."""
    if state is not None:
        return int(state["n_epochs"])
    if run.config.max_minutes is not None:
        n_epochs = _epochs_in_budget(run)
        log.info("time budget %.1f min allows %d epochs", run.config.max_minutes, n_epochs)
        return n_epochs
    return run.config.epochs


def _optimizer_and_schedule(
    run: _FitRun, n_epochs: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """AdamW with a one-cycle learning-rate schedule over ``n_epochs``."""
    config = run.config
    optimizer = torch.optim.AdamW(
        run.model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    steps_per_epoch = max(1, math.ceil(len(run.train_idx) / config.batch_size))
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=config.max_lr,
        epochs=n_epochs,
        steps_per_epoch=steps_per_epoch,
        pct_start=config.warmup_fraction,
    )
    return optimizer, scheduler


def _start_or_resume(run: _FitRun, ckpt_path: Path) -> _Progress:
    """Fresh optimiser, schedule and generator, set to the checkpoint's state when there is one."""
    state = read_resume_state(ckpt_path, run.config)
    n_epochs = _planned_epochs(run, state)
    optimizer, scheduler = _optimizer_and_schedule(run, n_epochs)
    progress = _Progress(optimizer, scheduler, np.random.default_rng(run.config.seed), n_epochs)
    if state is not None:
        progress.start_epoch, progress.tracker = restore_training_state(
            state, run.model, optimizer, scheduler, progress.rng, n_epochs
        )
        log.info("resumed from %s at epoch %d", ckpt_path, progress.start_epoch)
    return progress


def _backward_micro_batches(run: _FitRun, idx: np.ndarray, n_labels: int) -> list[float]:
    """Backpropagate one batch in micro-batches; each one's L1 sum (in the order run)."""
    losses = []
    for sub in index_batches(idx, run.micro):
        batch = run.batch(sub)
        tgt = torch.as_tensor(run.targets[sub], device=run.device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=run.use_amp):
            pred = run.model(batch).float()
        mask = torch.isfinite(tgt)
        if not bool(mask.any()):
            continue
        # sum over the micro-batch, normalised by the labels of the whole batch
        loss = (pred[mask] - tgt[mask]).abs().sum() / max(n_labels, 1)
        loss.backward()
        losses.append(float(loss.detach()) * max(n_labels, 1))
    return losses


def _train_epoch(run: _FitRun, progress: _Progress) -> float:
    """One shuffled pass over the training indices; the mean L1 per label."""
    run.model.train()
    order = progress.rng.permutation(run.train_idx)
    train_loss, n_seen = 0.0, 0
    for idx in index_batches(order, run.config.batch_size):
        progress.optimizer.zero_grad(set_to_none=True)
        n_labels = int(np.isfinite(run.targets[idx]).sum())
        for loss in _backward_micro_batches(run, idx, n_labels):
            train_loss += loss
        n_seen += n_labels
        if run.config.grad_clip:
            nn.utils.clip_grad_norm_(run.model.parameters(), run.config.grad_clip)
        progress.optimizer.step()
        progress.scheduler.step()
    return train_loss / max(n_seen, 1)


def _validation_loss(run: _FitRun, train_loss: float) -> float:
    """Masked L1 on the validation indices (the training loss when there are none)."""
    if not len(run.val_idx):
        return train_loss
    return evaluate_loss(
        run.model,
        [run.graphs[i] for i in run.val_idx],
        run.targets[run.val_idx],
        batch_size=run.micro,
        mark_ion_copies=run.mark_ion_copies,
        device=run.device,
    )


def _stop_reason(
    config: TrainConfig, tracker: ValidationTracker, seconds: float, epoch: int
) -> str:
    """Why training stops after ``epoch`` (empty when it goes on)."""
    if tracker.patience_exhausted(config.patience):
        return f"early stop at epoch {epoch} (best {tracker.best_epoch})"
    if config.max_minutes is not None and seconds > 75 * config.max_minutes:
        return f"time budget overrun at epoch {epoch}"
    return ""


def _run_epochs(
    run: _FitRun,
    progress: _Progress,
    ckpt_path: Path,
    on_epoch: Callable[[dict[str, float]], None] | None,
    t0: float,
) -> int:
    """Train, validate and checkpoint the epochs still to run; the number of epochs run."""
    tracker, n_epochs = progress.tracker, progress.n_epochs
    epoch = progress.start_epoch - 1
    for epoch in range(progress.start_epoch, n_epochs):
        row = {"epoch": float(epoch), "train_loss": _train_epoch(run, progress)}
        row["val_loss"] = _validation_loss(run, row["train_loss"])
        row["seconds"] = time.perf_counter() - t0
        tracker.record(row, epoch, run.model)
        log.info("epoch %d train %.4f val %.4f", epoch, row["train_loss"], row["val_loss"])
        if on_epoch is not None:
            on_epoch(row)
        stop = _stop_reason(run.config, tracker, row["seconds"], epoch)
        state = training_state(
            config=run.config,
            model=run.model,
            optimizer=progress.optimizer,
            scheduler=progress.scheduler,
            rng=progress.rng,
            epoch=epoch,
            n_epochs=n_epochs,
            tracker=tracker,
            done=bool(stop) or epoch + 1 >= n_epochs,
        )
        save_checkpoint(state, ckpt_path)
        if stop:
            log.info(stop)
            break
    return epoch + 1


def fit(
    model: nn.Module,
    graphs: Sequence[Any],
    targets: np.ndarray,
    config: TrainConfig,
    out_dir: Path,
    *,
    mark_ion_copies: bool = False,
    device: str | torch.device = "cpu",
    val_indices: np.ndarray | None = None,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
) -> FitResult:
    """Train ``model`` on ``graphs`` → ``targets`` with a checkpoint every epoch.

    The best weights (lowest validation loss) are kept in the checkpoint and loaded into
    ``model`` at the end. With ``val_fraction == 0`` the last epoch is the best.

    Parameters
    ----------
    model : torch.nn.Module
        Network mapping a batch (:func:`~hopscreen.training.batching.collate_for`) to
        (batch, n_heads) scaled predictions; trained in place.
    graphs : sequence
        One sample per row of ``targets`` (crystal graphs, or what the model's ``collate``
        reads).
    targets : numpy.ndarray
        (n,) or (n, n_heads) scaled targets; NaN marks a missing label (masked L1 loss).
    config : TrainConfig
        Optimisation settings.
    out_dir : Path
        Run folder of ``checkpoint.pt``; an existing checkpoint is resumed.
    mark_ion_copies : bool
        Flag the migrating-ion copies of band graphs as an extra atom feature.
    device : str or torch.device
        Where to train.
    val_indices : numpy.ndarray, optional
        Validation rows; default a seeded split of ``config.val_fraction``.
    on_epoch : callable, optional
        Called with each epoch's row (``epoch``, ``train_loss``, ``val_loss``, ``seconds``)
        before its checkpoint is written.

    Returns
    -------
    FitResult
        Best epoch and its validation loss, epochs run, history and seconds.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = torch.device(device)
    targets = _target_matrix(targets, len(graphs))
    train_idx, val_idx = _train_val_indices(len(graphs), config, val_indices)
    run = _FitRun(model, graphs, targets, config, mark_ion_copies, device, train_idx, val_idx)
    torch.manual_seed(config.seed)
    model.to(device)
    ckpt_path = out_dir / CHECKPOINT_NAME
    progress = _start_or_resume(run, ckpt_path)
    t0 = time.perf_counter()
    epochs_run = _run_epochs(run, progress, ckpt_path, on_epoch, t0)
    tracker = progress.tracker
    if tracker.best_state is not None:
        model.load_state_dict(tracker.best_state)
    return FitResult(
        best_epoch=tracker.best_epoch,
        best_val_loss=tracker.best_val,
        epochs_run=epochs_run,
        history=tracker.history,
        seconds=time.perf_counter() - t0,
    )
