"""A progress bar over hosts on stderr (stdout stays clean for ``--json`` output)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextlib.contextmanager
def host_progress(console: Console) -> Iterator[Callable[[int, int, str], None]]:
    """A transient bar of hosts done; yields the ``on_host(k, n, name)`` callback that moves it.

    Parameters
    ----------
    console : rich.console.Console
        Where the bar is drawn (a stderr console); nothing is drawn when it is not a terminal.

    Yields
    ------
    callable
        Call before the k-th (0-based) of n hosts with its name.

    """
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("hosts", total=None)

        def on_host(k: int, n: int, name: str) -> None:
            progress.update(task, completed=k, total=n, description=f"hosts ({name})")

        yield on_host
        progress.update(task, completed=progress.tasks[0].total, description="hosts")
