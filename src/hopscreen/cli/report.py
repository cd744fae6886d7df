"""``hopscreen report``: write the HTML report of a results folder.

Only parses options and calls :func:`hopscreen.report.write_report`.
Exit codes: 0 success, 2 missing results folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hopscreen.report import write_report


def report(
    results: Annotated[Path, typer.Option("--results", help="Results folder (store).")],
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
) -> None:
    """Write a self-contained HTML report (ranked hops, figures) of a results folder."""
    if not results.is_dir():
        typer.echo(f"Error: no results folder {results}", err=True)
        raise typer.Exit(code=2)
    path = write_report(results, out)
    typer.echo(f"Report written to {path}")
