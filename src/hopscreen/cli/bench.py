"""``hopscreen bench``: measure accuracy, throughput and training speed into BENCHMARKS.md."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from hopscreen.benchmarks.bench import render_markdown, run_benchmarks
from hopscreen.benchmarks.campaign import SECTION as CAMPAIGN_SECTION
from hopscreen.benchmarks.campaign import bench_campaign
from hopscreen.benchmarks.campaign_report import campaign_markdown
from hopscreen.benchmarks.cascade import SECTION as CASCADE_SECTION
from hopscreen.benchmarks.cascade import run_cascade
from hopscreen.benchmarks.cascade_report import render_cascade
from hopscreen.benchmarks.learning_curve import SECTION as LEARNING_CURVE_SECTION
from hopscreen.benchmarks.learning_curve import render_learning_curve, run_learning_curve
from hopscreen.benchmarks.models import SECTION, render_shipped_models, run_shipped_models
from hopscreen.benchmarks.recipes import SECTION as RECIPES_SECTION
from hopscreen.benchmarks.recipes import render_recipes, run_recipes
from hopscreen.benchmarks.sections import machine_line, sections, update_section
from hopscreen.benchmarks.tier_costs import SECTION as TIER_COSTS_SECTION
from hopscreen.benchmarks.tier_costs import measure_tier_costs, tier_costs_markdown
from hopscreen.benchmarks.verdicts import SECTION as VERDICTS_SECTION
from hopscreen.benchmarks.verdicts import run_demo_verdicts, verdicts_markdown
from hopscreen.benchmarks.verdicts_em import SECTION as VERDICTS_EM_SECTION
from hopscreen.benchmarks.verdicts_em import run_em_verdicts, verdicts_em_markdown
from hopscreen.data.paths import HopscreenDataError
from hopscreen.models.bundle import load_card
from hopscreen.models.hop_features import default_feature_cache
from hopscreen.models.shipped import DEFAULT_MODEL, alignn_model_dir

Note = Annotated[
    str | None, typer.Option(help="Conditions of the run, printed under the machine line.")
]
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

OnlyLearningCurve = Annotated[
    bool,
    typer.Option(
        help="Only (re)write the learning-curve section: host-grouped CV of the shipped "
        "default's recipe trained on 20-100 % of each fold's hosts, and the power law through "
        "it solved for the labels a 0.25 eV MAE would need (about 10 min on 2 cores, hop "
        "vectors cached per user); the rest of the file is kept."
    ),
]

OnlyVerdicts = Annotated[
    bool,
    typer.Option(
        help="Only (re)write the verdicts section: our per-host verdict beside bvlain's BVSE "
        "percolation barriers on the demo hosts (about a minute); the rest of the file is kept."
    ),
]

OnlyVerdictsEm = Annotated[
    bool,
    typer.Option(
        help="Only (re)write the verdicts-em section: our per-host verdict beside bvlain's on "
        "every host of the E_m dataset (rebuilt from its bands), with the dataset's DFT "
        "barriers beside them (tens of minutes on 2 cores); the rest of the file is kept."
    ),
]

OnlyTierCosts = Annotated[
    bool,
    typer.Option(
        help="Only (re)write the tier-costs section: on every hop of the demo hosts the demo "
        "round verifies, the seconds of tier 1 (physics-bvse-gbr), tier 2 "
        "(physics-bvse-chgnet-gbr) and a CHGNet NEB with the round's settings, and their "
        "ratios (a few minutes); the rest of the file is kept."
    ),
]

OnlyCascade = Annotated[
    bool,
    typer.Option(
        help="Only (re)write the cascade section: the fast physics-bvse-gbr (tier 1) and "
        "physics-bvse-chgnet-gbr (tier 2) on the same host-grouped CV folds, every routing "
        "rule's share of hops sent to tier 2, both tiers' MAE on those hops, the cascade's "
        "accuracy, and each tier's cost per hop (about 15 min on 2 cores, hop vectors cached "
        "per user); the rest of the file is kept."
    ),
]

Campaign = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Only (re)write the campaign section: screen the first N Li hosts (≥ 3 elements, "
        "near-duplicates and E_m-dataset formulas left out, fixed order by structure key) of "
        "the pre-training corpus in one round without verification, then run the same round "
        "again at once; records hosts, hops, failures by reason, seconds per stage, hops/s, "
        "the tier-2 share, peak memory and the re-run's time, then kills a fresh run half-way "
        "(SIGKILL), runs it again and compares its store with the first run's (each round in "
        "a fresh process; a progress line per job, so it can run in the background with its "
        "output sent to a file).",
    ),
]
CampaignModel = Annotated[
    str,
    typer.Option(help="Campaign section: model folder or shipped model name of the round."),
]
CampaignResults = Annotated[
    Path | None,
    typer.Option(
        "--results",
        help="Campaign section: keep the round's results folder here (a new or empty folder) "
        "for inspection, e.g. with `hopscreen status`; default: a temporary folder, removed.",
    ),
]


def _write_campaign(
    out: Path,
    n_hosts: int,
    options: dict[str, Any],
    json_out: Path | None,
    console: Console,
    note: str | None,
) -> None:
    """Run the campaign benchmark and write its section (exit 2 on bad input or data)."""
    stamp = "[bold]bench:[/bold] {time} {msg}"
    figures = _campaign_or_exit(
        console,
        n_hosts=n_hosts,
        progress=lambda msg: console.print(
            stamp.format(time=time.strftime("%H:%M:%S"), msg=escape(msg)), soft_wrap=True
        ),
        **options,
    )
    command = f"hopscreen bench --campaign {n_hosts}"
    if options["model"] != DEFAULT_MODEL:
        command += f" --campaign-model {options['model']}"
    markdown = campaign_markdown(figures, machine_line(), note, command=command)
    _write_section(out, CAMPAIGN_SECTION, markdown, figures, json_out, console)


def _campaign_or_exit(console: Console, **kwargs: Any) -> Any:
    """:func:`bench_campaign`; missing data or a used results folder exit 2, a failed round 1."""
    try:
        return bench_campaign(**kwargs)
    except (HopscreenDataError, ValueError) as exc:
        console.print(f"[red]Error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    except RuntimeError as exc:
        console.print(f"[red]Error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None


def _progress_printer(console: Console) -> Callable[[str], None]:
    """Print a benchmark's progress lines as ``bench: …`` on ``console``."""

    def progress(msg: str) -> None:
        console.print(f"[bold]bench:[/bold] {escape(msg)}")

    return progress


def _or_exit(console: Console, fn: Any, **kwargs: Any) -> Any:
    """``fn(**kwargs)``; missing or damaged data ends the command with exit 2."""
    try:
        return fn(**kwargs)
    except HopscreenDataError as exc:
        console.print(f"[red]Error:[/red] {exc}")
        raise typer.Exit(2) from None


def _data_section_writer(
    run_fn: Callable[..., dict[str, Any]],
    render_fn: Callable[[dict[str, Any], str, str | None], str],
    section: str,
    *,
    cached: bool = True,
    **options: Any,
) -> Callable[[Path, Path | None, Path | None, Console, str | None], None]:
    """A writer of one section measured on the data folder.

    It runs ``run_fn`` (with the per-user hop-vector cache when ``cached``; exit 2 on missing
    or damaged data) and writes ``render_fn``'s markdown.
    """

    def write(
        out: Path, data_dir: Path | None, json_out: Path | None, console: Console, note: str | None
    ) -> None:
        run = _or_exit(
            console,
            run_fn,
            data_dir=data_dir,
            progress=_progress_printer(console),
            **({"cache_dir": default_feature_cache()} if cached else {}),
            **options,
        )
        _write_section(out, section, render_fn(run, machine_line(), note), run, json_out, console)

    return write


_write_recipes = _data_section_writer(run_recipes, render_recipes, RECIPES_SECTION)
_write_cascade = _data_section_writer(run_cascade, render_cascade, CASCADE_SECTION)
_write_learning_curve = _data_section_writer(
    run_learning_curve, render_learning_curve, LEARNING_CURVE_SECTION
)
_write_verdicts_em = _data_section_writer(
    run_em_verdicts,
    lambda run, machine, note: verdicts_em_markdown(
        run["rows"], machine, seconds=run["seconds"], note=note
    ),
    VERDICTS_EM_SECTION,
    cached=False,
)


def _write_verdicts(out: Path, json_out: Path | None, console: Console, note: str | None) -> None:
    """Our per-host verdicts of the demo hosts beside bvlain's, into their section."""
    run = run_demo_verdicts(progress=_progress_printer(console))
    markdown = verdicts_markdown(run["rows"], machine_line(), seconds=run["seconds"], note=note)
    _write_section(out, VERDICTS_SECTION, markdown, run, json_out, console)


def _write_tier_costs(out: Path, json_out: Path | None, console: Console, note: str | None) -> None:
    """Time both tiers and a CHGNet NEB on the hops of the demo round's verifiable hosts."""
    from hopscreen.candidates import load_demo_candidates
    from hopscreen.workflow.campaign import demo_config

    limit = demo_config().selection.max_host_sites or 12
    hosts = [c for c in load_demo_candidates("Li").candidates if c.n_sites <= limit]
    figures = measure_tier_costs(hosts, progress=_progress_printer(console))
    markdown = tier_costs_markdown(figures, machine_line(), note)
    _write_section(out, TIER_COSTS_SECTION, markdown, figures, json_out, console)


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
    note: Note = None,
    from_json: Annotated[
        Path | None, typer.Option(help="Keep the sections of an earlier run's --json output.")
    ] = None,
    only_models: OnlyModels = False,
    models_cv: ModelsCv = True,
    throughput_hops: ThroughputHops = 1000,
    only_recipes: OnlyRecipes = False,
    only_learning_curve: OnlyLearningCurve = False,
    only_verdicts: OnlyVerdicts = False,
    only_verdicts_em: OnlyVerdictsEm = False,
    only_cascade: OnlyCascade = False,
    only_tier_costs: OnlyTierCosts = False,
    campaign: Campaign = None,
    campaign_model: CampaignModel = DEFAULT_MODEL,
    campaign_results: CampaignResults = None,
) -> None:
    """Run the benchmarks on this machine and write BENCHMARKS.md (takes tens of minutes).

    Sections written by ``hopscreen reproduce`` and ``hopscreen al replay`` are kept.
    """
    console = Console(stderr=True)
    progress = _progress_printer(console)
    with_data = [
        (only_recipes, _write_recipes),
        (only_cascade, _write_cascade),
        (only_learning_curve, _write_learning_curve),
        (only_verdicts_em, _write_verdicts_em),
    ]
    for chosen, write in with_data:  # the sections that read the data folder
        if chosen:
            write(out, data_dir, json_out, console, note)
            return
    if only_tier_costs or only_verdicts:
        (_write_tier_costs if only_tier_costs else _write_verdicts)(out, json_out, console, note)
        return
    if campaign is not None:
        options = {"model": campaign_model, "results_dir": campaign_results, "data_dir": data_dir}
        _write_campaign(out, campaign, options, json_out, console, note)
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
    _write_all(out, results, models, models_md, json_out, console)


def _write_all(
    out: Path,
    results: dict[str, Any],
    models: dict[str, Any],
    models_md: str,
    json_out: Path | None,
    console: Console,
) -> None:
    """Rewrite ``out`` with every section of a full run, keeping the named sections."""
    kept = "".join("\n" + block for block in sections(out).values())
    out.write_text(render_markdown(results, load_card(alignn_model_dir())) + kept)
    update_section(out, SECTION, models_md)
    if json_out is not None:
        results["shipped_models"] = models
        json_out.write_text(json.dumps(results, indent=2, default=str))
    console.print(f"wrote {out}")
