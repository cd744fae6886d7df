"""``hopscreen bench``: measure accuracy, throughput and training speed into BENCHMARKS.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from hopscreen.benchmarks.bench import render_markdown, run_benchmarks
from hopscreen.benchmarks.models import SECTION, render_shipped_models, run_shipped_models
from hopscreen.benchmarks.recipes import SECTION as RECIPES_SECTION
from hopscreen.benchmarks.recipes import render_recipes, run_recipes
from hopscreen.benchmarks.sections import machine_line, sections, update_section
from hopscreen.benchmarks.verdicts import SECTION as VERDICTS_SECTION
from hopscreen.benchmarks.verdicts import run_demo_verdicts, verdicts_markdown
from hopscreen.data.paths import HopscreenDataError
from hopscreen.models.bundle import load_card
from hopscreen.models.hop_features import default_feature_cache
from hopscreen.models.shipped import alignn_model_dir

OnlyModels = Annotated[
    bool,
    typer.Option(
        help="Only (re)write the shipped-models section (every shipped model on the test "
        "split, grouped CV of the chgnet-head recipes); the rest of the file is kept."
    ),
]
ModelsCv = Annotated[
    bool,
    typer.Option(
        help="Shipped-models section: also host-grouped CV of each tree-head recipe "
        "(minutes; a calibrated model calibrates every fold)."
    ),
]
ThroughputHops = Annotated[
    int,
    typer.Option(
        min=0, help="Shipped-models section: hops streamed per tree-head model (0: none)."
    ),
]
OnlyRecipes = Annotated[
    bool,
    typer.Option(
        help="Only (re)write the recipes section: every model recipe (CHGNet, physics "
        "descriptors + BVSE, heads) by host-grouped CV, chemistry-held-out CV and on the "
        "test split, with an ablation of the physical blocks (about 30 min on 2 cores, "
        "hop vectors cached per user); the rest of the file is kept."
    ),
]

OnlyVerdicts = Annotated[
    bool,
    typer.Option(
        help="Only (re)write the verdicts section: our per-host verdict beside bvlain's BVSE "
        "percolation barriers on the demo hosts (about a minute); the rest of the file is kept."
    ),
]


def _or_exit(console: Console, fn: Any, **kwargs: Any) -> Any:
    """``fn(**kwargs)``; missing or damaged data ends the command with exit 2."""
    try:
        return fn(**kwargs)
    except HopscreenDataError as exc:
        console.print(f"[red]Error:[/red] {exc}")
        raise typer.Exit(2) from None


def _write_recipes(
    out: Path, data_dir: Path | None, json_out: Path | None, console: Console, note: str | None
) -> None:
    """Run the recipe comparison and write its section (exit 2 on missing data)."""
    try:
        recipes = run_recipes(
            data_dir=data_dir,
            cache_dir=default_feature_cache(),
            progress=lambda msg: console.print(f"[bold]bench:[/bold] {msg}"),
        )
    except HopscreenDataError as exc:
        console.print(f"[red]Error:[/red] {exc}")
        raise typer.Exit(2) from None
    markdown = render_recipes(recipes, machine_line(), note)
    _write_section(out, RECIPES_SECTION, markdown, recipes, json_out, console)


def _write_section(
    out: Path,
    name: str,
    markdown: str,
    figures: dict,
    json_out: Path | None,
    console: Console,
) -> None:
    """Replace one section of ``out`` (and write its figures as JSON when asked)."""
    update_section(out, name, markdown)
    if json_out is not None:
        json_out.write_text(json.dumps(figures, indent=2, default=str))
    console.print(f"wrote section {name} of {out}")


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
    only_models: OnlyModels = False,
    models_cv: ModelsCv = True,
    throughput_hops: ThroughputHops = 1000,
    only_recipes: OnlyRecipes = False,
    only_verdicts: OnlyVerdicts = False,
) -> None:
    """Run the benchmarks on this machine and write BENCHMARKS.md (takes tens of minutes).

    Sections written by ``hopscreen reproduce`` and ``hopscreen al replay`` are kept.
    """
    console = Console(stderr=True)

    def progress(msg: str) -> None:
        console.print(f"[bold]bench:[/bold] {msg}")

    if only_recipes:
        _write_recipes(out, data_dir, json_out, console, note)
        return
    if only_verdicts:
        run = run_demo_verdicts(progress=progress)
        markdown = verdicts_markdown(run["rows"], machine_line(), seconds=run["seconds"], note=note)
        _write_section(out, VERDICTS_SECTION, markdown, run, json_out, console)
        return

    models = _or_exit(
        console,
        run_shipped_models,
        data_dir=data_dir,
        cv=models_cv,
        throughput_hops=throughput_hops or None,
        progress=progress,
    )
    models_md = render_shipped_models(models, machine_line())
    if only_models:
        _write_section(out, SECTION, models_md, models, json_out, console)
        return
    results = _or_exit(
        console,
        run_benchmarks,
        n_hops=n_hops,
        accuracy=accuracy,
        screening=screening,
        memory_budget_s=memory_budget_s,
        data_dir=data_dir,
        previous=json.loads(from_json.read_text()) if from_json else None,
        progress=progress,
    )
    if note:
        results["note"] = note

    kept = "".join("\n" + block for block in sections(out).values())
    out.write_text(render_markdown(results, load_card(alignn_model_dir())) + kept)
    update_section(out, SECTION, models_md)
    if json_out is not None:
        results["shipped_models"] = models
        json_out.write_text(json.dumps(results, indent=2, default=str))
    console.print(f"wrote {out}")
