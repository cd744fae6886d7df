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
from rich import box
from rich.console import Console
from rich.table import Table

from hopscreen.cli.options import MODEL_HELP
from hopscreen.data.paths import HopscreenDataError
from hopscreen.evaluation.evaluate import evaluate_model
from hopscreen.evaluation.results import write_result_files
from hopscreen.models.bundle import ModelLoadError


class SplitChoice(StrEnum):
    """Evaluations ``hopscreen evaluate`` offers."""

    paper_test = "paper-test"
    cv = "cv"
    cv_chemsys = "cv-chemsys"


_SPLIT_HELP = (
    "paper-test: the authors' 60 test hops, beside the paper's Model-3 and MACE; "
    "cv: k-fold CV on the 559 training hops holding out whole hosts (one framework "
    "with any ion or ion content); cv-chemsys: k-fold CV holding out whole chemical "
    "systems of the host framework (e.g. every Fe-P-O host at once: the estimate for "
    "a new chemistry). CV refits the model's recipe per fold (chgnet-head: trees on "
    "CHGNet features cached per user; ALIGNN: fine-tunes --preset). Every split also "
    "scores the slices DFT E_m >= 1 eV and hops > 4.5 A, and the spread ratio "
    "std(pred)/std(DFT)."
)


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
        ("spread_ratio", "spread σ_pred / σ_DFT", "num"),
    ):
        est = reg.get(key)
        if est is None:
            continue
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


_SHORT_ROW = {"model": "this model", "paper_model3": "paper Model-3", "mace_neb_relaxed": "MACE"}


def _with_ci(est: dict[str, Any], kind: str) -> str:
    """``value (low–high)`` of one estimate, compact."""
    if est["value"] is None:
        return "—"
    digits = 2 if kind == "ratio" else 3
    lo, hi = est["ci_low"], est["ci_high"]
    interval = "" if lo is None else f" ({lo:.{digits}f}–{hi:.{digits}f})"
    return f"{est['value']:.{digits}f}{interval}"


def _slices_table(slices: list[dict[str, Any]], thresholds: list[float], ci: float) -> Table:
    """Per slice, one line per predictor: MAE, bias, spread ratio, accuracy at a threshold.

    Slices are grouped under a heading line; the predictors keep their order in the result.
    """
    order = {key: i for i, key in enumerate(dict.fromkeys(sl["key"] for sl in slices))}
    th = thresholds[-1] if thresholds else None
    table = Table(
        title=f"slices where screening decisions flip ({100 * ci:g} % CI in brackets)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    names = ["slice / row", "n", "MAE eV", "bias eV", "σ_pred/σ_DFT"]
    names += [f"acc @ {th:g} eV"] if th is not None else []
    for name in names:
        table.add_column(
            name, justify="left" if name == "slice / row" else "right", overflow="fold"
        )
    previous = None
    for sl in sorted(slices, key=lambda sl: order[sl["key"]]):
        if sl["key"] != previous:
            table.add_row(f"[bold]{sl['label']}[/bold]")
            previous = sl["key"]
        cells = [" " + _SHORT_ROW.get(sl["row"], sl["row"]), str(sl["n"])]
        m = sl["metrics"]
        if m is None:
            cells += ["—"] * (len(names) - 2)
        else:
            reg = m["regression"]
            cells += [
                _with_ci(reg["mae_ev"], "ev"),
                f"{reg['bias_ev']['value']:+.3f}",
                _with_ci(reg["spread_ratio"], "ratio"),
            ]
            if th is not None:
                cells.append(_fmt(m["classification"][-1]["accuracy"]["value"], "pct"))
        table.add_row(*cells)
    return table


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
    if result.get("slices"):
        console.print(_slices_table(result["slices"], result["thresholds_ev"], ci))
    for comp in result.get("comparisons", []):
        d = comp["difference"]
        console.print(
            f"MAE({comp['a']}) − MAE({comp['b']}) = {d['value']:+.3f} eV "
            f"({100 * ci:g} % CI {d['ci_low']:+.3f} … {d['ci_high']:+.3f}; paired bootstrap, "
            f"n = {comp['n']})"
        )
    for key, cov in (result.get("coverage") or {}).items():
        console.print(
            f"calibrated {key} % interval: coverage {100 * cov['coverage']:.1f} % of "
            f"{cov['n']} hops, mean half-width {cov['mean_half_width_ev']:.3f} eV"
        )
    if "n_groups" in result:
        console.print(f"{result['k']} folds over {result['n_groups']} {result['groups']} groups")
    for fold in result.get("folds", []):
        groups = fold.get("n_groups_val", fold["n_hosts_val"])
        console.print(
            f"fold {fold['fold']}: {fold['n_val']} hops in {fold['n_hosts_val']} hosts "
            f"({groups} groups), MAE {fold['mae_ev']:.3f} eV"
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
            help=MODEL_HELP,
        ),
    ] = None,
    split: Annotated[
        SplitChoice,
        typer.Option(
            "--split",
            help=_SPLIT_HELP,
        ),
    ] = SplitChoice.paper_test,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Data directory (default: $HOPSCREEN_DATA_DIR or the settings file's data_dir, "
            "else the user cache).",
        ),
    ] = None,
    device: Annotated[
        str | None, typer.Option("--device", help="cpu or cuda (default: cuda if available).")
    ] = None,
    preset: Annotated[
        str, typer.Option("--preset", help="cv, cv-chemsys, ALIGNN: training preset.")
    ] = "fast",
    epochs: Annotated[
        int | None, typer.Option("--epochs", min=1, help="CV: override the preset's epochs.")
    ] = None,
    folds: Annotated[int, typer.Option("--folds", min=2, help="CV: number of folds.")] = 5,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write metrics.json and predictions.csv here (CV: also the fold models, "
            "under <out>/<split>).",
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
    on the same hops by the same code. Every split also reports the spread ratio
    std(pred)/std(DFT) (below 0.8: barriers squeezed toward the mean) and the slices where
    screening decisions flip (DFT E_m ≥ 1 eV, hops > 4.5 Å).
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
        out_dir=out / split.value
        if (out is not None and split is not SplitChoice.paper_test)
        else None,
    )
    if out is not None:
        write_result_files(result, out)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        _print_table(result)
