"""``hopscreen report``: write the HTML report of a results folder.

Only parses options and calls :func:`hopscreen.report.write_report`.
Exit codes: 0 success; 2 when the results path is missing, is a file, holds no results store, or
the store is damaged or unreadable, or when the report file cannot be written (one ``error:``
line; nothing is written into the results folder unless ``--out`` points there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hopscreen.report import ReportWriteError, write_report
from hopscreen.store import ResultsStoreError


def report(
    results: Annotated[
        Path,
        typer.Option("--results", help="Results folder of a screening round (read only)."),
    ],
    out: Annotated[
        Path, typer.Option("--out", help="HTML file to write (missing folders are created).")
    ] = Path("report.html"),
) -> None:
    """Write a self-contained HTML report (ranked hops, figures) of a results folder."""
    try:
        path = write_report(results, out)
    except (ResultsStoreError, ReportWriteError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(f"Report written to {path}")
