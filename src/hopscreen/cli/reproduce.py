"""``hopscreen reproduce``: the paper's model comparison in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hopscreen.benchmarks.reproduce import ROW_NAMES, ReproduceConfig, run_reproduce
from hopscreen.benchmarks.reproduce_report import render_markdown, write_reproduce_section
from hopscreen.data.paths import HopscreenDataError
from hopscreen.inference.device import resolve_device

_ROWS_HELP = (
    "Comma-separated rows: model3, model3-scratch, model1-concat, model1-add, model1-subtract, "
    "model2, model4, rf, gbr (default: all)."
)


def reproduce(
    out: Annotated[Path, typer.Option(help="Output folder (table, parity plot, JSON, runs).")],
    preset: Annotated[str, typer.Option(help="ALIGNN training preset: fast or paper.")] = "fast",
    backbone: Annotated[
        Path | None,
        typer.Option(help="Pre-trained backbone.safetensors of the preset (transfer rows)."),
    ] = None,
    rows: Annotated[str | None, typer.Option(help=_ROWS_HELP)] = None,
    scenario_rows: Annotated[
        str, typer.Option(help="Rows retrained on each generalization split ('' to skip).")
    ] = "model3,rf",
    max_minutes: Annotated[
        float | None, typer.Option(help="Fine-tuning budget per network, minutes.")
    ] = 4.0,
    epochs: Annotated[int | None, typer.Option(help="Override the preset's epochs.")] = None,
    mark_ion_copies: Annotated[
        bool, typer.Option(help="Ion-copy marker on the band models (off in the paper).")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of networks, forests and bootstrap.")] = 0,
    max_train_hops: Annotated[
        int | None, typer.Option(help="Smoke test: train on this many hops only.")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Data folder (default: resolved).")] = None,
    device: Annotated[str | None, typer.Option(help="cpu or cuda (default: cuda if any).")] = None,
    note: Annotated[
        str | None, typer.Option(help="Notes of the person who ran it, for the section.")
    ] = None,
    benchmarks: Annotated[
        Path | None,
        typer.Option(help="Also write the table as the 'reproduce' section of this file."),
    ] = None,
) -> None:
    """Train Models 1–4, scratch vs transfer and RF/GBR baselines; score them like the paper.

    Every row is trained on the authors' 559 training hops and scored on their 60 test hops
    with bootstrap 95 % CIs; the table says how each row differs from the paper's figures.
    The generalization scenarios retrain a few rows on held-out pathways, compositions and
    chemistries. Finished rows are kept in OUT/rows and networks checkpoint in OUT/runs, so a
    killed run resumes where it stopped.
    """
    console = Console(stderr=True)
    if backbone is not None and not backbone.exists():
        console.print(f"[red]Error:[/red] backbone {backbone} does not exist")
        raise typer.Exit(2)
    try:
        config = ReproduceConfig(
            preset=preset,  # type: ignore[arg-type]
            rows=tuple(r.strip() for r in rows.split(",")) if rows else ROW_NAMES,
            scenario_rows=tuple(r.strip() for r in scenario_rows.split(",") if r.strip()),
            max_minutes_per_model=max_minutes,
            epochs=epochs,
            mark_ion_copies=mark_ion_copies,
            seed=seed,
            max_train_hops=max_train_hops,
        )
        result = run_reproduce(
            config,
            out,
            backbone=backbone,
            data_dir=data_dir,
            device=resolve_device(device),
            progress=lambda msg: console.print(f"[bold]reproduce:[/bold] {msg}"),
        )
    except (HopscreenDataError, ValueError) as exc:
        console.print(f"[red]Error:[/red] {exc}")
        raise typer.Exit(2) from None
    typer.echo(render_markdown(result))
    if benchmarks is not None:
        write_reproduce_section(benchmarks, out, result, note=note)
    console.print(f"wrote {out / 'table.md'}, {out / 'parity.png'}, {out / 'reproduce.json'}")
