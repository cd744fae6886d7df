"""``hopscreen status``: how far the rounds of a results folder have got, stage by stage.

Reads the results store without writing into it, so it can watch a running round. Exit codes:
0 success; 2 when the folder is missing, is a file, holds no results store, or the store is
damaged or unreadable (one ``error:`` line).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hopscreen.store import ResultsStoreError
from hopscreen.store.progress import StoreProgress, read_progress


def _rows(progress: StoreProgress) -> list[tuple[str, str, str, str]]:
    """``(stage, done, pending, failed)`` rows of the table."""
    verified = progress.verifications_by_status
    done_verified = verified.get("ok", 0) + verified.get("not_converged", 0)
    models = ", ".join(f"{m[:16]} {n}" for m, n in progress.predictions_by_model.items())
    return [
        ("hosts", str(progress.hosts), "-", str(progress.hosts_rejected)),
        ("hops", str(progress.hops), "-", str(progress.hosts_failed_hops)),
        (
            "predictions" + (f" ({models})" if models else ""),
            str(progress.hops_predicted),
            str(max(progress.hops - progress.hops_predicted, 0)),
            str(progress.prediction_failures),
        ),
        ("verdicts (hosts)", str(progress.verdicts), "-", "-"),
        (
            f"verifications (not converged: {verified.get('not_converged', 0)})",
            str(done_verified),
            str(progress.verifications_pending),
            str(verified.get("failed", 0)),
        ),
    ]


def _print(progress: StoreProgress) -> None:
    table = Table(title=f"{progress.location}", title_justify="left")
    table.add_column("stage")
    for name in ("done", "pending", "failed"):
        table.add_column(name, justify="right")
    for row in _rows(progress):
        table.add_row(*row)
    console = Console()
    console.print(table)
    rounds = f"rounds running: {progress.rounds_running}"
    if progress.rounds_killed:
        rounds += f"; killed (cleaned on the next run): {progress.rounds_killed}"
    rounds += f"; finished and recorded: {progress.rounds_recorded}"
    console.print(rounds)


def status(
    results: Annotated[
        Path, typer.Option("--results", help="Results folder of the rounds to report.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Show how far the rounds of a results folder have got, stage by stage.

    Hosts, hops, predictions and verifications: done, pending, failed. Safe while a round runs.
    """
    try:
        progress = read_progress(results)
    except ResultsStoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    if as_json:
        typer.echo(progress.model_dump_json(indent=2))
    else:
        _print(progress)
