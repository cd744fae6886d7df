"""The training loop shared by pre-training (many masked heads) and fine-tuning (one head).

Each epoch is checkpointed; calling :func:`fit` again on the same ``out_dir`` resumes from the
last completed epoch with the same optimizer, schedule and random state.
"""

from __future__ import annotations

import json
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

from hopscreen.graphs.batch import collate
from hopscreen.training.checkpoint import load_checkpoint, save_checkpoint
from hopscreen.training.config import TrainConfig

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.pt"


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


def masked_l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over the finite entries of ``target`` (missing labels are NaN)."""
    mask = torch.isfinite(target)
    if not bool(mask.any()):
        return pred.sum() * 0.0
    return (pred[mask] - target[mask]).abs().mean()


@dataclass
class FitResult:
    """What a training run produced."""

    best_epoch: int
    best_val_loss: float
    epochs_run: int
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0


def split_train_val(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random split of ``range(n)`` into train and validation indices."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    n_val = round(n * fraction) if fraction > 0 else 0
    if fraction > 0 and n > 1:
        n_val = max(1, min(n - 1, n_val))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def _batches(indices: np.ndarray, size: int) -> list[np.ndarray]:
    return [indices[i : i + size] for i in range(0, len(indices), size)]


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
        for idx in _batches(np.arange(len(graphs)), batch_size):
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


def _epochs_in_budget(
    model: nn.Module,
    graphs: Sequence[Any],
    targets: np.ndarray,
    train_idx: np.ndarray,
    n_val: int,
    config: TrainConfig,
    mark_ion_copies: bool,
    device: torch.device,
) -> int:
    """Epochs that fit in ``config.max_minutes``, timed on a few forward/backward passes."""
    micro = config.micro_batch_size or config.batch_size
    rng = np.random.default_rng(config.seed + 12345)
    probe = [
        rng.choice(train_idx, size=min(micro, len(train_idx)), replace=False) for _ in range(3)
    ]
    use_amp = config.amp_bf16 and device.type == "cuda"
    model.train()
    seconds = []
    for i, idx in enumerate(probe):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        batch = collate_for(
            model,
            [graphs[j] for j in idx],
            mark_ion_copies=mark_ion_copies,
            device=device,
        )
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
            out = model(batch).float()
        out.sum().backward()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i > 0:  # the first pass pays for allocation and kernel selection
            seconds.append(time.perf_counter() - t)
    model.zero_grad(set_to_none=True)
    per_graph = float(np.mean(seconds)) / micro
    # validation costs about a third of a training pass per graph
    per_epoch = per_graph * (len(train_idx) + n_val / 3.0) * 1.1
    budget = 60.0 * float(config.max_minutes or 0.0)
    return int(max(1, min(config.epochs, budget // max(per_epoch, 1e-9))))


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
    """Train ``model`` on ``graphs`` → ``targets`` (n, n_heads; NaN = missing) with checkpoints.

    The best weights (lowest validation loss) are kept in the checkpoint and loaded into
    ``model`` at the end. With ``val_fraction == 0`` the last epoch is the best.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = torch.device(device)
    targets = np.asarray(targets, dtype=np.float32)
    if targets.ndim == 1:
        targets = targets[:, None]
    if len(graphs) != len(targets):
        raise ValueError(f"{len(graphs)} graphs but {len(targets)} targets")
    if val_indices is None:
        train_idx, val_idx = split_train_val(len(graphs), config.val_fraction, config.seed)
    else:
        val_idx = np.sort(np.asarray(val_indices, dtype=int))
        train_idx = np.setdiff1d(np.arange(len(graphs)), val_idx)
    torch.manual_seed(config.seed)
    model.to(device)
    micro = config.micro_batch_size or config.batch_size
    use_amp = config.amp_bf16 and device.type == "cuda"
    ckpt_path = out_dir / CHECKPOINT_NAME
    state = load_checkpoint(ckpt_path) if ckpt_path.exists() else None
    if state is not None and state.get("config") != config.model_dump_json():
        raise ValueError(
            f"{ckpt_path} was written with other training settings; use a new output folder"
        )
    if state is not None:
        n_epochs = int(state["n_epochs"])
    elif config.max_minutes is not None:
        n_epochs = _epochs_in_budget(
            model, graphs, targets, train_idx, len(val_idx), config, mark_ion_copies, device
        )
        log.info("time budget %.1f min allows %d epochs", config.max_minutes, n_epochs)
    else:
        n_epochs = config.epochs
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    steps_per_epoch = max(1, math.ceil(len(train_idx) / config.batch_size))
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=config.max_lr,
        epochs=n_epochs,
        steps_per_epoch=steps_per_epoch,
        pct_start=config.warmup_fraction,
    )
    rng = np.random.default_rng(config.seed)
    start_epoch, best_val, best_epoch, stale = 0, math.inf, -1, 0
    history: list[dict[str, float]] = []
    best_state = None
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        rng.bit_generator.state = json.loads(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        start_epoch, best_val, best_epoch = (
            state["epoch"] + 1,
            state["best_val"],
            state["best_epoch"],
        )
        stale, history, best_state = (
            state["stale"],
            json.loads(state["history"]),
            state["best_model"],
        )
        if state.get("done"):
            start_epoch = n_epochs
        log.info("resumed from %s at epoch %d", ckpt_path, start_epoch)

    t0 = time.perf_counter()
    epoch = start_epoch - 1
    for epoch in range(start_epoch, n_epochs):
        model.train()
        order = rng.permutation(train_idx)
        train_loss, n_seen = 0.0, 0
        for idx in _batches(order, config.batch_size):
            optimizer.zero_grad(set_to_none=True)
            n_labels = int(np.isfinite(targets[idx]).sum())
            for sub in _batches(idx, micro):
                batch = collate_for(
                    model,
                    [graphs[i] for i in sub],
                    mark_ion_copies=mark_ion_copies,
                    device=device,
                )
                tgt = torch.as_tensor(targets[sub], device=device)
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
                    pred = model(batch).float()
                mask = torch.isfinite(tgt)
                if not bool(mask.any()):
                    continue
                # sum over the micro-batch, normalised by the labels of the whole batch
                loss = (pred[mask] - tgt[mask]).abs().sum() / max(n_labels, 1)
                loss.backward()
                train_loss += float(loss.detach()) * max(n_labels, 1)
            n_seen += n_labels
            if config.grad_clip:
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            scheduler.step()
        row = {"epoch": float(epoch), "train_loss": train_loss / max(n_seen, 1)}
        if len(val_idx):
            val_loss = evaluate_loss(
                model,
                [graphs[i] for i in val_idx],
                targets[val_idx],
                batch_size=micro,
                mark_ion_copies=mark_ion_copies,
                device=device,
            )
        else:
            val_loss = row["train_loss"]
        row["val_loss"] = val_loss
        row["seconds"] = time.perf_counter() - t0
        history.append(row)
        if val_loss < best_val:
            best_val, best_epoch, stale = val_loss, epoch, 0
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
        log.info("epoch %d train %.4f val %.4f", epoch, row["train_loss"], val_loss)
        if on_epoch is not None:
            on_epoch(row)
        stop = ""
        if config.patience is not None and stale >= config.patience:
            stop = f"early stop at epoch {epoch} (best {best_epoch})"
        elif config.max_minutes is not None and row["seconds"] > 75 * config.max_minutes:
            stop = f"time budget overrun at epoch {epoch}"
        save_checkpoint(
            {
                "config": config.model_dump_json(),
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "rng": json.dumps(rng.bit_generator.state),
                "torch_rng": torch.get_rng_state(),
                "epoch": epoch,
                "n_epochs": n_epochs,
                "best_val": best_val,
                "best_epoch": best_epoch,
                "stale": stale,
                "history": json.dumps(history),
                "best_model": best_state,
                "done": bool(stop) or epoch + 1 >= n_epochs,
            },
            ckpt_path,
        )
        if stop:
            log.info(stop)
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return FitResult(
        best_epoch=best_epoch,
        best_val_loss=best_val,
        epochs_run=epoch + 1,
        history=history,
        seconds=time.perf_counter() - t0,
    )
