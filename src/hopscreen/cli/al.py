"""``hopscreen al``: active-learning benchmarks (replay on the published data)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hopscreen.benchmarks import replay as rp
from hopscreen.benchmarks.replay_cost import probe_estimate
from hopscreen.benchmarks.replay_report import write_replay_outputs
from hopscreen.data.paths import HopscreenDataError
from hopscreen.selection.policies import POLICIES

app = typer.Typer(
    help="Active learning: replay benchmark of selection policies.", no_args_is_help=True
)


def _fail(message: str) -> None:
    typer.secho(message, fg="red", err=True)
    raise typer.Exit(2)


def _elapsed_progress(console: Console) -> Callable[[str], None]:
    """A progress callback that prints each message after the minutes elapsed since now."""
    start = time.perf_counter()

    def progress(message: str) -> None:
        console.print(f"[dim]{(time.perf_counter() - start) / 60:5.1f} min[/dim] {message}")

    return progress


@app.command("replay")
def replay_cmd(
    out: Annotated[Path, typer.Option(help="Output folder (replay.json, replay.png, replay.md).")],
    seeds: Annotated[int, typer.Option(min=1, help="Repetitions (seed sets).")] = 3,
    rounds: Annotated[int, typer.Option(min=1, help="Selection rounds.")] = 3,
    batch: Annotated[int, typer.Option(min=1, help="Verifications per round.")] = 80,
    n_seed: Annotated[int, typer.Option(min=1, help="Random labelled hops to start.")] = 24,
    epochs: Annotated[int, typer.Option(min=1, help="Fine-tuning epochs per round.")] = 1,
    seed_epochs: Annotated[int, typer.Option(min=1, help="Epochs on the seed set.")] = 10,
    ensemble: Annotated[int, typer.Option(min=2, help="Ensemble members (σ).")] = 2,
    policy: Annotated[
        list[str] | None,
        typer.Option(help="Policy (repeat): random, greedy_lowest, borderline_sigma, mixed."),
    ] = None,
    backbone: Annotated[
        Path | None, typer.Option(help="Pre-trained fast backbone.safetensors (omit: scratch).")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Data folder (default: resolved).")] = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Graph cache folder (default: OUT/graph-cache).")
    ] = None,
    pool_limit: Annotated[int | None, typer.Option(help="Only the first N pool hops.")] = None,
    test_limit: Annotated[int | None, typer.Option(help="Only the first N test hops.")] = None,
    benchmarks: Annotated[
        Path | None,
        typer.Option(help="Also insert/replace the section in this BENCHMARKS.md (+ its PNG)."),
    ] = None,
    estimate_only: Annotated[
        bool, typer.Option("--estimate-only", help="Time a probe, print the estimate, stop.")
    ] = False,
) -> None:
    """Replay active learning on the published data with its labels as the oracle."""
    console = Console(stderr=True)
    if backbone is not None and not backbone.exists():
        _fail(f"backbone {backbone} does not exist")
    policies = list(policy) if policy else list(rp.ReplayConfig().policies)
    unknown = sorted(set(policies) - set(POLICIES))
    if unknown:
        _fail(f"unknown policy {unknown}; choose from {sorted(POLICIES)}")
    try:
        config = rp.ReplayConfig(
            policies=policies,
            seeds=seeds,
            rounds=rounds,
            batch=batch,
            n_seed=n_seed,
            epochs=epochs,
            seed_epochs=seed_epochs,
            ensemble=ensemble,
            backbone=str(backbone) if backbone else None,
        )
        data = rp.load_replay_data(data_dir, pool_limit=pool_limit, test_limit=test_limit)
    except (HopscreenDataError, ValueError) as exc:
        _fail(str(exc))
        return
    n_pool, n_test = len(data["pool_y"]), len(data["test_y"])
    if n_seed >= n_pool:
        _fail(f"--n-seed {n_seed} must be smaller than the pool ({n_pool} hops)")
    costs, estimate = probe_estimate(config, data)
    console.print(
        f"pool {n_pool} hops, test {n_test}; probe: {1000 * costs['train_s']:.0f} ms per band "
        f"per training epoch, {1000 * costs['predict_s']:.0f} ms per band predicted (one "
        f"member); estimated {estimate / 60:.1f} min (graphs not cached)"
    )
    if estimate_only:
        return
    out.mkdir(parents=True, exist_ok=True)
    progress = _elapsed_progress(console)
    result = rp.run_replay(
        **data, config=config, cache_dir=cache_dir or out / "graph-cache", progress=progress
    )
    result["estimated_seconds"] = estimate
    result["probe_costs"] = costs
    paths = write_replay_outputs(result, out, benchmarks=benchmarks)
    if benchmarks is not None:
        console.print(f"updated {benchmarks} (section al-replay) and {paths['image']}")
    typer.echo(paths["md"].read_text())
    typer.echo(
        f"wrote {paths['json']}, {paths['png']}, {paths['md']}; "
        f"elapsed {result['seconds'] / 60:.1f} min (estimated {estimate / 60:.1f} min)"
    )
