"""``hopscreen bench``: measure accuracy, throughput and training speed into BENCHMARKS.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hopscreen.benchmarks.bench import render_markdown, run_benchmarks
from hopscreen.benchmarks.models import SECTION, render_shipped_models, run_shipped_models
from hopscreen.benchmarks.sections import machine_line, sections, update_section
from hopscreen.data.paths import HopscreenDataError
from hopscreen.models.bundle import load_card
from hopscreen.models.shipped import alignn_model_dir


def bench(
    out: Annotated[Path, typer.Option(help="Markdown file to write.")] = Path("BENCHMARKS.md"),
    n_hops: Annotated[int, typer.Option(help="Hops for the inference benchmark.")] = 1000,
    accuracy: Annotated[bool, typer.Option(help="Evaluate on the authors' test split.")] = True,
    data_dir: Annotated[Path | None, typer.Option(help="Data folder (default: resolved).")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write raw JSON.")] = None,
    screening: Annotated[
        bool, typer.Option(help="Model-3 vs CHGNet NEB, demo round, memory scaling.")
    ] = True,
    memory_budget_s: Annotated[
        float, typer.Option(help="Skip memory sizes estimated to take longer than this.")
    ] = 900.0,
    note: Annotated[
        str | None, typer.Option(help="Conditions of the run, printed under the machine line.")
    ] = None,
    from_json: Annotated[
        Path | None, typer.Option(help="Keep the sections of an earlier run's --json output.")
    ] = None,
    only_models: Annotated[
        bool,
        typer.Option(
            help="Only (re)write the shipped-models section (every shipped model on the test "
            "split, grouped CV of the chgnet-head recipes); the rest of the file is kept."
        ),
    ] = False,
) -> None:
    """Run the benchmarks on this machine and write BENCHMARKS.md (takes tens of minutes).

    Sections written by ``hopscreen reproduce`` and ``hopscreen al replay`` are kept.
    """
    console = Console(stderr=True)

    def progress(msg: str) -> None:
        console.print(f"[bold]bench:[/bold] {msg}")

    try:
        models = run_shipped_models(data_dir=data_dir, progress=progress)
    except HopscreenDataError as exc:
        console.print(f"[red]Error:[/red] {exc}")
        raise typer.Exit(2) from None
    models_md = render_shipped_models(models, machine_line())
    if only_models:
        update_section(out, SECTION, models_md)
        if json_out is not None:
            json_out.write_text(json.dumps(models, indent=2, default=str))
        console.print(f"wrote section {SECTION} of {out}")
        return
    try:
        results = run_benchmarks(
            n_hops=n_hops,
            accuracy=accuracy,
            screening=screening,
            memory_budget_s=memory_budget_s,
            data_dir=data_dir,
            previous=json.loads(from_json.read_text()) if from_json else None,
            progress=progress,
        )
    except HopscreenDataError as exc:
        console.print(f"[red]Error:[/red] {exc}")
        raise typer.Exit(2) from None
    if note:
        results["note"] = note

    kept = "".join("\n" + block for block in sections(out).values())
    out.write_text(render_markdown(results, load_card(alignn_model_dir())) + kept)
    update_section(out, SECTION, models_md)
    if json_out is not None:
        results["shipped_models"] = models
        json_out.write_text(json.dumps(results, indent=2, default=str))
    console.print(f"wrote {out}")
