"""``hopscreen train``: pre-train the backbone, fine-tune Model-3, fit the CHGNet head."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from hopscreen.data.em_dataset import load_em_dataset
from hopscreen.data.paths import HopscreenDataError
from hopscreen.data.pretrain import load_pretrain_corpus
from hopscreen.data.splits import host_groups
from hopscreen.inference.device import resolve_device
from hopscreen.models.shipped import DEFAULT_MODEL
from hopscreen.training.chgnet_head import HEAD_RECIPES, train_chgnet_head_model
from hopscreen.training.config import get_preset, with_stage_overrides
from hopscreen.training.finetune import finetune_ensemble
from hopscreen.training.loop import use_tf32_on_cuda
from hopscreen.training.pretrain import pretrain

app = typer.Typer(
    help="Pre-train and fine-tune the Model-3 barrier network; fit the CHGNet head.",
    no_args_is_help=True,
)


def _setup_logging(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")
    root = logging.getLogger("hopscreen")
    root.setLevel(logging.INFO)
    for handler in (logging.FileHandler(out / "train.log"), logging.StreamHandler(sys.stderr)):
        handler.setFormatter(fmt)
        root.addHandler(handler)


def _device(device: str | None) -> str:
    device = resolve_device(device)
    use_tf32_on_cuda(device)
    return device


def _fail(message: str) -> None:
    typer.secho(message, fg="red", err=True)
    raise typer.Exit(2)


@app.command("pretrain")
def pretrain_cmd(
    out: Annotated[Path, typer.Option(help="Run folder (checkpoints, log, backbone).")],
    preset: Annotated[str, typer.Option(help="Preset: paper or fast.")] = "paper",
    data_dir: Annotated[Path | None, typer.Option(help="Data folder (default: resolved).")] = None,
    device: Annotated[str | None, typer.Option(help="cpu or cuda (default: cuda if any).")] = None,
    epochs: Annotated[int | None, typer.Option(help="Override the preset's epochs.")] = None,
    max_minutes: Annotated[float | None, typer.Option(help="Time budget in minutes.")] = None,
    workers: Annotated[int, typer.Option(help="Processes for graph building.")] = 1,
    cache_dir: Annotated[Path | None, typer.Option(help="Graph cache folder.")] = None,
    exclude_repo_test: Annotated[
        bool, typer.Option(help="Drop records of the source repo's test files.")
    ] = False,
    limit: Annotated[int | None, typer.Option(help="Use only the first N structures.")] = None,
) -> None:
    """Pre-train one backbone with seven property heads (masked L1 loss); resumable."""
    _setup_logging(out)
    try:
        p = get_preset(preset)
        corpus = load_pretrain_corpus(data_dir, include_test=not exclude_repo_test)
    except (HopscreenDataError, ValueError) as exc:
        _fail(str(exc))
    p = with_stage_overrides(p, "pretrain", epochs=epochs, max_minutes=max_minutes)
    atoms, targets = corpus.atoms, corpus.targets
    if limit:
        atoms, targets = atoms[:limit], targets[:limit]
    result = pretrain(
        atoms,
        targets,
        p,
        out,
        property_names=corpus.properties,
        device=_device(device),
        cache_dir=cache_dir,
        workers=workers,
        progress=True,
    )
    typer.echo(
        f"pre-trained {len(atoms)} structures, {result.epochs_run} epochs, "
        f"best val L1 (scaled) {result.best_val_loss:.4f}; backbone: {out / 'backbone.safetensors'}"
    )


@app.command("finetune")
def finetune_cmd(
    out: Annotated[Path, typer.Option(help="Model folder to write (weights + card).")],
    preset: Annotated[str, typer.Option(help="Preset: paper or fast.")] = "paper",
    backbone: Annotated[
        Path | None, typer.Option(help="Pre-trained backbone.safetensors (omit: from scratch).")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Data folder (default: resolved).")] = None,
    device: Annotated[str | None, typer.Option(help="cpu or cuda.")] = None,
    ensemble: Annotated[int | None, typer.Option(help="Ensemble members (seeds).")] = None,
    mark_ion_copies: Annotated[
        bool | None, typer.Option("--mark-ion-copies/--no-mark-ion-copies", help="Ion-copy flag.")
    ] = None,
    epochs: Annotated[int | None, typer.Option(help="Override the preset's epochs.")] = None,
    max_minutes: Annotated[float | None, typer.Option(help="Budget per member.")] = None,
    amp: Annotated[bool, typer.Option(help="bfloat16 autocast on CUDA.")] = False,
    dtype: Annotated[str, typer.Option(help="Stored weights: float32 or float16.")] = "float32",
    name: Annotated[str, typer.Option(help="Model name in the card.")] = "model3",
    workers: Annotated[int, typer.Option(help="Processes for graph building.")] = 1,
    cache_dir: Annotated[Path | None, typer.Option(help="Graph cache folder.")] = None,
) -> None:
    """Fine-tune Model-3 on the authors' 559 training hops; writes a model folder."""
    _setup_logging(out)
    if backbone is not None and not backbone.exists():
        _fail(f"backbone {backbone} does not exist (run `hopscreen train pretrain` first)")
    try:
        p = get_preset(preset)
        records = load_em_dataset(data_dir, splits=("train",))
    except (HopscreenDataError, ValueError) as exc:
        _fail(str(exc))
    p = with_stage_overrides(p, "finetune", epochs=epochs, max_minutes=max_minutes, amp_bf16=amp)
    card = finetune_ensemble(
        [r.band for r in records],
        [r.barrier_ev for r in records],
        [r.record_id for r in records],
        p,
        out,
        backbone=backbone,
        name=name,
        ensemble_size=ensemble,
        mark_ion_copies=mark_ion_copies,
        device=_device(device),
        cache_dir=cache_dir,
        workers=workers,
        progress=True,
        weights_dtype=dtype,
    )
    typer.echo(f"wrote {out} ({card.model_version}, {card.ensemble_size} members)")


@app.command("chgnet-head")
def chgnet_head_cmd(
    out: Annotated[Path, typer.Option(help="Model folder to write (tree arrays + card).")],
    data_dir: Annotated[Path | None, typer.Option(help="Data folder (default: resolved).")] = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help="CHGNet feature cache root (e.g. runs/chgnet-features).")
    ] = None,
    name: Annotated[str, typer.Option(help="Model name in the card.")] = DEFAULT_MODEL,
    recipe: Annotated[
        str,
        typer.Option(
            help="Hop vector and head: "
            + ", ".join(HEAD_RECIPES)
            + " (compared in BENCHMARKS.md, section recipes)."
        ),
    ] = DEFAULT_MODEL,
) -> None:
    """Fit a gradient-boosting head on the 559 training hops' hop vectors; writes a folder.

    The card also gets conformal 68 % / 90 % intervals calibrated on host-grouped 5-fold CV
    of the same recipe on the training hops (the trees do not depend on it).
    """
    if recipe not in HEAD_RECIPES:
        _fail(f"unknown recipe {recipe!r}; known: {', '.join(HEAD_RECIPES)}")
    feature_config, head_config = HEAD_RECIPES[recipe]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        records = load_em_dataset(data_dir, splits=("train",))
    except (HopscreenDataError, ValueError) as exc:
        _fail(str(exc))
    card = train_chgnet_head_model(
        [r.band for r in records],
        [r.barrier_ev for r in records],
        [r.record_id for r in records],
        out,
        config=head_config,
        feature_config=feature_config,
        cache_dir=cache_dir,
        name=name,
        preset=recipe,
        groups=host_groups(records),
    )
    typer.echo(f"wrote {out} ({card.model_version}, {card.ensemble_size} members)")
