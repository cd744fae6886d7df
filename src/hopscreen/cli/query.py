"""``hopscreen query``: the screening results of a results folder, lowest barrier first.

Exit codes: 0 success; 2 when the path is missing, is a file, holds no results store, or the
store is damaged or unreadable (one ``error:`` line; nothing is written into the folder).
"""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from hopscreen.store import ResultsStoreError, query_results

if TYPE_CHECKING:
    import pandas as pd


class OutputFormat(StrEnum):
    """How ``hopscreen query`` prints the table."""

    table = "table"
    csv = "csv"
    json = "json"


def _cell(value: object, digits: int = 3) -> str:
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
            _cell(row.candidate_name),
            _cell(row.formula),
            _cell(row.working_ion),
            _cell(row.hop_id)[:12],
            _cell(row.length_angstrom, 2),
            _cell(row.barrier_ev),
            _cell(row.sigma_ev),
            _cell(row.interval_90_ev),
            _cell(row.model_version),
            _cell(row.verified_barrier_ev),
            _cell(row.verification_method),
            _cell(row.converged),
        )
    console = Console()
    if not console.is_terminal:  # piped or captured: do not squeeze the table into 80 columns
        console = Console(width=max(console.width, 160))
    console.print(table)


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
) -> None:
    """Show the predicted (and verified) barriers of a results folder, lowest first."""
    try:
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
    if output_format is OutputFormat.csv:
        typer.echo(frame.to_csv(index=False), nl=False)
    elif output_format is OutputFormat.json:
        typer.echo(frame.to_json(orient="records", indent=2))
    else:
        _print_table(frame)
