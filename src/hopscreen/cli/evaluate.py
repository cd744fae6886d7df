"""``hopscreen evaluate``: accuracy of a barrier model with bootstrap confidence intervals.

Only parses options, calls :func:`hopscreen.evaluation.evaluate.evaluate_model` and prints.
Exit codes: 0 success, 2 missing/damaged dataset or unusable model, 1 bad option value.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hopscreen.data.paths import HopscreenDataError
from hopscreen.evaluation.evaluate import evaluate_model
from hopscreen.evaluation.results import write_result_files
from hopscreen.models.bundle import ModelLoadError


class SplitChoice(StrEnum):
    """Evaluations ``hopscreen evaluate`` offers."""

    paper_test = "paper-test"
    cv = "cv"


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code=code)


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "pct":
        return f"{100 * value:.1f} %"
    if kind == "ev":
        return f"{value:.3f} eV"
    return f"{value:.3f}"


def _metric_lines(metrics: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(metric, value, 95 % CI) lines of one row of the result."""
    reg = metrics["regression"]
    lines = []
    for key, name, kind in (
        ("mae_ev", "MAE", "ev"),
        ("rmse_ev", "RMSE", "ev"),
        ("r2", "R²", "num"),
        ("median_ae_ev", "median AE", "ev"),
        ("bias_ev", "bias (pred − true)", "ev"),
    ):
        est = reg[key]
        lines.append(
            (
                name,
                _fmt(est["value"], kind),
                f"{_fmt(est['ci_low'], kind)} – {_fmt(est['ci_high'], kind)}",
            )
        )
    for cls in metrics["classification"]:
        th = f"{cls['threshold_ev']:g} eV"
        acc = cls["accuracy"]
        lines.append(
            (
                f"accuracy @ {th}",
                _fmt(acc["value"], "pct"),
                f"{_fmt(acc['ci_low'], 'pct')} – {_fmt(acc['ci_high'], 'pct')}",
            )
        )
        lines.append(
            (
                f"precision good / bad @ {th}",
                f"{_fmt(cls['good']['precision'], 'pct')} / {_fmt(cls['bad']['precision'], 'pct')}",
                "",
            )
        )
    return lines


def _print_table(result: dict[str, Any]) -> None:
    console = Console()
    title = f"hopscreen evaluate — {result['split']}, {result['n']} hops"
    model = result.get("model")
    if model:
        title += f", model {model.get('name')} ({model.get('model_version')})"
    ci = result["bootstrap"]["ci"]
    table = Table(title=title)
    table.add_column("row")
    table.add_column("n", justify="right")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column(f"{100 * ci:g} % CI", justify="right")
    for row in result["rows"]:
        for j, (name, value, interval) in enumerate(_metric_lines(row["metrics"])):
            table.add_row(
                row["label"] if j == 0 else "",
                str(row["n"]) if j == 0 else "",
                name,
                value,
                interval,
            )
        table.add_section()
    console.print(table)
    for comp in result.get("comparisons", []):
        d = comp["difference"]
        console.print(
            f"MAE({comp['a']}) − MAE({comp['b']}) = {d['value']:+.3f} eV "
            f"({100 * ci:g} % CI {d['ci_low']:+.3f} … {d['ci_high']:+.3f}; paired bootstrap, "
            f"n = {comp['n']})"
        )
    for fold in result.get("folds", []):
        console.print(
            f"fold {fold['fold']}: {fold['n_val']} hops in {fold['n_hosts_val']} "
            f"hosts, MAE {fold['mae_ev']:.3f} eV"
        )
    if "seconds" in result:
        s = result["seconds"]
        console.print(f"prediction: {s['predict']:.1f} s ({1000 * s['per_hop']:.0f} ms per hop)")


def _evaluate_or_exit(model: str | None, **options: Any) -> dict[str, Any]:
    """:func:`evaluate_model`, its errors turned into an exit with a one-line message."""
    try:
        return evaluate_model(model, **options)
    except HopscreenDataError as exc:
        raise _fail(str(exc)) from None
    except (ModelLoadError, FileNotFoundError) as exc:
        raise _fail(f"cannot load the model: {exc}") from None
    except ValueError as exc:
        raise _fail(str(exc), code=1) from None


def evaluate(
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Model folder or shipped model name: chgnet-gbr (default), model3-default "
            "(ALIGNN).",
        ),
    ] = None,
    split: Annotated[
        SplitChoice,
        typer.Option(
            "--split",
            help="paper-test: the authors' 60 test hops; cv: host-grouped k-fold CV on the "
            "559 training hops (ALIGNN: fine-tunes --preset per fold; chgnet-head: refits the "
            "model's recipe per fold on CHGNet features cached per user).",
        ),
    ] = SplitChoice.paper_test,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", help="Data directory (default: $HOPSCREEN_DATA_DIR, else the user cache)."
        ),
    ] = None,
    device: Annotated[
        str | None, typer.Option("--device", help="cpu or cuda (default: cuda if available).")
    ] = None,
    preset: Annotated[str, typer.Option("--preset", help="cv, ALIGNN: training preset.")] = "fast",
    epochs: Annotated[
        int | None, typer.Option("--epochs", min=1, help="cv: override the preset's epochs.")
    ] = None,
    folds: Annotated[int, typer.Option("--folds", min=2, help="cv: number of folds.")] = 5,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Write metrics.json and predictions.csv here (cv: also the fold models)."
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="Only the first N records (quick checks)."),
    ] = None,
    n_boot: Annotated[int, typer.Option("--n-boot", min=1, help="Bootstrap resamples.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap and fold seed.")] = 0,
) -> None:
    """Score a barrier model (MAE, RMSE, R², accuracy …) with bootstrap 95 % intervals.

    On the paper's test split the paper's Model-3 and MACE NEB (both published) are scored
    on the same hops by the same code.
    """
    if device is not None and device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise _fail(f"--device must be cpu or cuda, not {device!r}", code=1)
    result = _evaluate_or_exit(
        model,
        split=split.value,
        data_dir=data_dir,
        device=device,
        limit=limit,
        n_boot=n_boot,
        seed=seed,
        preset=preset,
        k=folds,
        epochs=epochs,
        out_dir=out / "cv" if (out is not None and split is SplitChoice.cv) else None,
    )
    if out is not None:
        write_result_files(result, out)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        _print_table(result)
