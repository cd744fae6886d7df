"""``hopscreen query``: the screening results of a results folder, lowest barrier first.

Exit codes: 0 success; 2 when the path is missing, is a file, holds no results store, or the
store is damaged or unreadable (one ``error:`` line; nothing is written into the folder).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from hopscreen.store import ResultsStoreError, query_hosts, query_results

if TYPE_CHECKING:
    import pandas as pd


class OutputFormat(StrEnum):
    """How ``hopscreen query`` prints the table."""

    table = "table"
    csv = "csv"
    json = "json"


def cell_text(value: object, digits: int = 3) -> str:
    """A table cell: ``-`` for a missing value, floats to ``digits`` decimals, yes/no."""
    if value is None or value is pd.NA:
        return "-"
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.{digits}f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _print_table(frame: pd.DataFrame) -> None:
    table = Table(title=f"{len(frame)} hops", title_justify="left")
    for name, justify in [
        ("host", "left"),
        ("formula", "left"),
        ("ion", "left"),
        ("hop", "left"),
        ("length Å", "right"),
        ("E_m eV", "right"),
        ("σ eV", "right"),
        ("±90 % eV", "right"),
        ("model", "left"),
        ("verified eV", "right"),
        ("method", "left"),
        ("converged", "left"),
    ]:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in frame.astype(object).itertuples(index=False):
        table.add_row(
            cell_text(row.candidate_name),
            cell_text(row.formula),
            cell_text(row.working_ion),
            cell_text(row.hop_id)[:12],
            cell_text(row.length_angstrom, 2),
            cell_text(row.barrier_ev),
            cell_text(row.sigma_ev),
            cell_text(row.interval_90_ev),
            cell_text(row.model_version),
            cell_text(row.verified_barrier_ev),
            cell_text(row.verification_method),
            cell_text(row.converged),
        )
    _print(table)


def _print(table: Table) -> None:
    console = Console()
    if not console.is_terminal:  # piped or captured: do not squeeze the table into 80 columns
        console = Console(width=max(console.width, 160))
    console.print(table)


def _print_hosts(frame: pd.DataFrame) -> None:
    threshold = frame["threshold_ev"].iloc[0] if len(frame) else float("nan")
    title = f"{len(frame)} hosts, most likely good conductor first (good: E_perc,1D < "
    table = Table(title=title + f"{cell_text(threshold, 2)} eV)", title_justify="left")
    for name, justify in [
        ("host", "left"),
        ("formula", "left"),
        ("ion", "left"),
        ("p_good", "right"),
        ("E_perc 1D eV", "right"),
        ("5–95 % eV", "right"),
        ("bottleneck", "left"),
        ("E_perc 2D eV", "right"),
        ("E_perc 3D eV", "right"),
        ("dims", "right"),
        ("hops", "right"),
        ("model", "left"),
    ]:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in frame.astype(object).itertuples(index=False):
        spread = (
            f"{cell_text(row.percolation_1d_q05_ev, 2)}–{cell_text(row.percolation_1d_q95_ev, 2)}"
        )
        hops = f"{row.n_hops}" + (
            f" ({row.n_unpredicted} unpredicted)" if row.n_unpredicted else ""
        )
        table.add_row(
            cell_text(row.candidate_name),
            cell_text(row.formula),
            cell_text(row.working_ion),
            cell_text(row.p_good, 2),
            cell_text(row.percolation_1d_ev),
            spread,
            cell_text(row.bottleneck_1d_hop_id)[:12],
            cell_text(row.percolation_2d_ev),
            cell_text(row.percolation_3d_ev),
            cell_text(row.max_dimension),
            hops,
            cell_text(row.model_version),
        )
    _print(table)


def query(
    results: Annotated[
        Path,
        typer.Option(
            "--results", help="Results folder of a screening round (read only, never written)."
        ),
    ],
    ion: Annotated[
        str | None, typer.Option("--ion", help="Only this working ion, e.g. Li.")
    ] = None,
    max_barrier: Annotated[
        float | None,
        typer.Option(
            "--max-barrier",
            help="Only barriers at most this, eV (the verified barrier with --verified-only).",
        ),
    ] = None,
    verified_only: Annotated[
        bool, typer.Option("--verified-only", help="Only hops with a verified barrier.")
    ] = False,
    model_version: Annotated[
        str | None,
        typer.Option("--model-version", help="Only this model's predictions (default: latest)."),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output: table, csv or json.")
    ] = OutputFormat.table,
    per_host: Annotated[
        bool,
        typer.Option(
            "--per-host",
            help="One row per host instead: percolation barriers (1D/2D/3D), the bottleneck "
            "hop and p_good, most likely good conductor first (--ion and --model-version "
            "apply; --max-barrier and --verified-only do not).",
        ),
    ] = False,
) -> None:
    """Show the predicted (and verified) barriers of a results folder, lowest first.

    With --per-host, show the verdict of each host instead: the lowest barrier at which its
    predicted hops connect across the crystal in 1, 2 and 3 dimensions, the hop that sets the
    1D one, and p_good, the probability that the 1D percolation barrier is below the round's
    threshold given the calibrated uncertainty of every hop.
    """
    if per_host and (max_barrier is not None or verified_only):
        typer.echo(
            "error: --max-barrier and --verified-only apply to hops, not --per-host", err=True
        )
        raise typer.Exit(code=2)
    try:
        if per_host:
            frame = query_hosts(results, ion=ion, model_version=model_version)
            _emit(frame, output_format, _print_hosts)
            return
        frame = query_results(
            results,
            ion=ion,
            max_barrier_ev=max_barrier,
            verified_only=verified_only,
            model_version=model_version,
        )
    except ResultsStoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    _emit(frame, output_format, _print_table)


def _emit(
    frame: pd.DataFrame, output_format: OutputFormat, show: Callable[[pd.DataFrame], None]
) -> None:
    if output_format is OutputFormat.csv:
        typer.echo(frame.to_csv(index=False), nl=False)
    elif output_format is OutputFormat.json:
        typer.echo(frame.to_json(orient="records", indent=2))
    else:
        show(frame)
