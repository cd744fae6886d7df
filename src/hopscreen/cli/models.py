"""``hopscreen models``: list, inspect, register and promote model versions of the registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from hopscreen.models.bundle import ModelLoadError
from hopscreen.models.kinds import read_card, shipped_versions
from hopscreen.registry import ModelRegistry, UnknownModelError

app = typer.Typer(
    help="Local model registry: versions, lineage and the promoted model.", no_args_is_help=True
)

RegistryOption = Annotated[
    Path | None,
    typer.Option(
        "--registry",
        help="Registry folder (default: $HOPSCREEN_REGISTRY_DIR or the settings file's "
        "registry_dir, else the per-user data folder).",
    ),
]


def _fail(message: str) -> None:
    typer.secho(message, fg="red", err=True)
    raise typer.Exit(2)


def _registry(root: Path | None) -> ModelRegistry:
    return ModelRegistry(root)


@app.command("list")
def list_cmd(
    registry: RegistryOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the entries as JSON.")] = False,
) -> None:
    """List the registered model versions (* marks the promoted one)."""
    entries = _registry(registry).list()
    if as_json:
        typer.echo(json.dumps([e.model_dump(mode="json") for e in entries], indent=2))
        return
    if not entries:
        typer.echo("no registered models (the shipped default is current)")
        return
    for e in entries:
        mark = "*" if e.promoted else " "
        mae = e.metrics.get("mae_ev", e.metrics.get("mae"))
        metric = f"  test MAE {mae:.3f} eV" if isinstance(mae, int | float) else ""
        typer.echo(
            f"{mark} {e.model_version}  {e.name:<20} {e.created_utc}  "
            f"parent {e.parent_version or '-'}  {e.n_train_records} records{metric}"
        )


@app.command("show")
def show_cmd(
    version: Annotated[str, typer.Argument(help="Model version, version prefix or name.")],
    registry: RegistryOption = None,
) -> None:
    """Show a version's model card and its lineage."""
    reg = _registry(registry)
    try:
        entry = reg.get(version)
        lineage = reg.lineage(entry.model_version)
        missing = reg.missing_parents(entry.model_version)
    except UnknownModelError as exc:
        _fail(str(exc.args[0]))
        return
    try:
        card = read_card(Path(entry.path))
    except ModelLoadError as exc:
        _fail(f"{entry.model_version}: {exc}")
        return
    long_lists = {"train_record_ids", "feature_names", "feature_columns", "fill_values"}
    typer.echo(card.model_dump_json(indent=2, exclude=long_lists))
    typer.echo(f"training records: {entry.n_train_records} (ids sha256 {entry.train_ids_sha256})")
    typer.echo("lineage:")
    for e in lineage:
        typer.echo(f"  {e.model_version}  {e.name}  {e.created_utc}")
    shipped = shipped_versions()
    for parent in missing:
        if parent in shipped:
            typer.echo(f"  {parent}  {shipped[parent]}  (shipped with hopscreen)")
            continue
        typer.echo(f"  {parent}  (not registered)")


@app.command("promote")
def promote_cmd(
    version: Annotated[str, typer.Argument(help="Model version, version prefix or name.")],
    registry: RegistryOption = None,
) -> None:
    """Make a registered version the current model."""
    try:
        entry = _registry(registry).promote(version)
    except UnknownModelError as exc:
        _fail(str(exc.args[0]))
        return
    typer.echo(f"promoted {entry.model_version} ({entry.name})")


@app.command("register")
def register_cmd(
    model_dir: Annotated[Path, typer.Argument(help="Model folder (card + weights).")],
    registry: RegistryOption = None,
    move: Annotated[bool, typer.Option(help="Move the folder instead of copying it.")] = False,
) -> None:
    """Verify a model folder and add it to the registry (idempotent)."""
    try:
        entry = _registry(registry).register(model_dir, copy=not move)
    except ModelLoadError as exc:
        _fail(str(exc))
        return
    typer.echo(f"registered {entry.model_version} ({entry.name}) at {entry.path}")
