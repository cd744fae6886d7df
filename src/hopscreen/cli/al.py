"""``hopscreen al``: active-learning benchmarks (replay on the published data)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from hopscreen.benchmarks import replay as rp
from hopscreen.benchmarks import replay_heads as rh
from hopscreen.benchmarks import replay_heads_report as rhr
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


RECIPES = ("alignn-fast", "shipped")
"""Models ``hopscreen al replay --recipe`` can replay with."""

_Recipe = Annotated[
    str,
    typer.Option(
        help="alignn-fast: a small ALIGNN ensemble fine-tuned (warm start) each round; "
        "shipped: the shipped default recipe (physics/BVSE hop vector, tree ensemble) "
        "refitted from scratch and conformally calibrated on the revealed hops each round."
    ),
]
_Rounds = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Selection rounds (default 3). shipped: a cap (default 50); a policy's rounds "
        "stop once it has found 90 % of the good hops or the pool is exhausted.",
    ),
]
_Batch = Annotated[
    int | None, typer.Option(min=1, help="Verifications per round (default 80; shipped: 48).")
]
_CalibrationFolds = Annotated[
    int, typer.Option(min=2, help="shipped: host-grouped folds of each round's calibration.")
]
_Policy = Annotated[
    list[str] | None,
    typer.Option(
        help="Policy (repeat): random, greedy_lowest, probability_good, borderline_sigma, "
        "mixed (default: all but probability_good for alignn-fast, all five for shipped)."
    ),
]
_Backbone = Annotated[
    Path | None,
    typer.Option(help="alignn-fast: pre-trained fast backbone.safetensors (omit: scratch)."),
]
_CacheDir = Annotated[
    Path | None,
    typer.Option(
        help="alignn-fast: graph cache (default: OUT/graph-cache); shipped: hop-vector cache "
        "root (default: the per-user CHGNet feature cache)."
    ),
]
_Benchmarks = Annotated[
    Path | None,
    typer.Option(
        help="Also insert/replace this recipe's section of this BENCHMARKS.md (+ its PNG): "
        "al-replay (alignn-fast) or al-replay-shipped (placed after al-replay)."
    ),
]
_HostOffsets = Annotated[
    bool,
    typer.Option(
        "--host-offsets",
        help="shipped: move each unverified hop's prediction by its host's shrunken offset, "
        "learnt from the held-out residuals of the host's verified hops.",
    ),
]
_EstimateOnly = Annotated[
    bool, typer.Option("--estimate-only", help="Time a probe, print the estimate, stop.")
]


@app.command("replay")
def replay_cmd(
    out: Annotated[Path, typer.Option(help="Output folder (replay.json, replay.png, replay.md).")],
    recipe: _Recipe = "alignn-fast",
    seeds: Annotated[int, typer.Option(min=1, help="Repetitions (seed sets).")] = 3,
    rounds: _Rounds = None,
    batch: _Batch = None,
    n_seed: Annotated[int, typer.Option(min=1, help="Random labelled hops to start.")] = 24,
    epochs: Annotated[int, typer.Option(min=1, help="alignn-fast: epochs per round.")] = 1,
    seed_epochs: Annotated[int, typer.Option(min=1, help="alignn-fast: seed-set epochs.")] = 10,
    ensemble: Annotated[int, typer.Option(min=2, help="alignn-fast: members (σ).")] = 2,
    calibration_folds: _CalibrationFolds = 3,
    host_offsets: _HostOffsets = False,
    policy: _Policy = None,
    backbone: _Backbone = None,
    data_dir: Annotated[Path | None, typer.Option(help="Data folder (default: resolved).")] = None,
    cache_dir: _CacheDir = None,
    pool_limit: Annotated[int | None, typer.Option(help="Only the first N pool hops.")] = None,
    test_limit: Annotated[int | None, typer.Option(help="Only the first N test hops.")] = None,
    benchmarks: _Benchmarks = None,
    estimate_only: _EstimateOnly = False,
) -> None:
    """Replay active learning on the published data with its labels as the oracle."""
    defaults = rh.ShippedReplayConfig() if recipe == "shipped" else rp.ReplayConfig()
    policies = list(policy) if policy else list(defaults.policies)
    unknown = sorted(set(policies) - set(POLICIES))
    if unknown:
        _fail(f"unknown policy {unknown}; choose from {sorted(POLICIES)}")
    if recipe not in RECIPES:
        _fail(f"unknown recipe {recipe!r}; choose from {', '.join(RECIPES)}")
    common: dict[str, Any] = {"policies": policies, "seeds": seeds, "n_seed": n_seed}
    limits = {"pool_limit": pool_limit, "test_limit": test_limit}
    if recipe == "shipped":
        if backbone is not None:
            _fail("--backbone applies to --recipe alignn-fast only")
    elif host_offsets:
        _fail("--host-offsets applies to --recipe shipped only")
    if recipe == "shipped":
        common.update(max_rounds=rounds or 50, batch=batch or 48)
        common["calibration_folds"] = calibration_folds
        common["host_offsets"] = host_offsets
        limits["cache_dir"] = cache_dir
        _replay_shipped(out, common, data_dir, limits, benchmarks, estimate_only)
        return
    if backbone is not None and not backbone.exists():
        _fail(f"backbone {backbone} does not exist")
    common.update(rounds=rounds or 3, batch=batch or 80, epochs=epochs, seed_epochs=seed_epochs)
    common.update(ensemble=ensemble, backbone=str(backbone) if backbone else None)
    try:
        config = rp.ReplayConfig(**common)
        data = rp.load_replay_data(data_dir, **limits)
    except (HopscreenDataError, ValueError) as exc:
        _fail(str(exc))
        return
    _replay_alignn(out, config, data, cache_dir, benchmarks, estimate_only)


def _replay_alignn(
    out: Path,
    config: rp.ReplayConfig,
    data: dict[str, Any],
    cache_dir: Path | None,
    benchmarks: Path | None,
    estimate_only: bool,
) -> None:
    """The ``alignn-fast`` replay: probe, run, write (see :func:`replay_cmd`)."""
    console = Console(stderr=True)
    n_pool, n_test = len(data["pool_y"]), len(data["test_y"])
    if config.n_seed >= n_pool:
        _fail(f"--n-seed {config.n_seed} must be smaller than the pool ({n_pool} hops)")
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


def _replay_shipped(
    out: Path,
    settings: dict[str, Any],
    data_dir: Path | None,
    limits: dict[str, Any],
    benchmarks: Path | None,
    estimate_only: bool,
) -> None:
    """The ``shipped`` replay: probe one refit, run, write (see :func:`replay_cmd`)."""
    console = Console(stderr=True)
    try:
        config = rh.ShippedReplayConfig(**settings)
        table = rh.load_shipped_replay_data(data_dir, recipe=config.recipe, **limits)
    except (HopscreenDataError, ValueError) as exc:
        _fail(str(exc))
        return
    n_pool, n_good = len(table.y), int((table.y < config.threshold_ev).sum())
    if config.n_seed >= n_pool:
        _fail(f"--n-seed {config.n_seed} must be smaller than the pool ({n_pool} hops)")
    probe = rhr.time_refit(table, config, n=min(300, n_pool))
    refit_s = probe["fit_s"] + probe["calibration_s"]
    estimate = rhr.estimate_shipped_seconds(config, n_pool, n_good, refit_s, int(probe["n_hops"]))
    console.print(
        f"pool {n_pool} hops ({n_good} good), test {len(table.test_y)}; probe: one refit on "
        f"{probe['n_hops']:.0f} hops {probe['fit_s']:.1f} s fit + {probe['calibration_s']:.1f} s "
        f"calibration; estimated {estimate / 60:.1f} min"
    )
    if estimate_only:
        return
    out.mkdir(parents=True, exist_ok=True)
    result = rh.run_shipped_replay(table, config, progress=_elapsed_progress(console))
    result["estimated_seconds"] = estimate
    result["probe_refit"] = probe
    paths = rhr.write_shipped_outputs(result, out, benchmarks=benchmarks)
    if benchmarks is not None:
        console.print(f"updated {benchmarks} (section {rhr.SECTION}) and {paths['image']}")
    typer.echo(paths["md"].read_text())
    typer.echo(
        f"wrote {paths['json']}, {paths['png']}, {paths['md']}; "
        f"elapsed {result['seconds'] / 60:.1f} min (estimated {estimate / 60:.1f} min)"
    )
