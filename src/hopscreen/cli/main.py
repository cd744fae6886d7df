"""The ``hopscreen`` command line. It only parses arguments and calls the library.

Each command group lives in its own module of this package and is registered here.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer

from hopscreen.cli.memory import apply_memory_cap, default_memory_cap_gb

app = typer.Typer(
    name="hopscreen",
    help="High-throughput screening of ionic migration barriers (E_m) in battery materials.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# (module, attribute): sub-apps are typer.Typer groups, commands are plain functions.
_GROUPS: list[tuple[str, str]] = [
    ("hopscreen.cli.data", "data"),
    ("hopscreen.cli.train", "train"),
    ("hopscreen.cli.models", "models"),
    ("hopscreen.cli.al", "al"),
]
_COMMANDS: list[tuple[str, str]] = [
    ("hopscreen.cli.hops", "hops"),
    ("hopscreen.cli.neb_inputs", "neb_inputs"),
    ("hopscreen.cli.candidates", "candidates"),
    ("hopscreen.cli.screen", "screen"),
    ("hopscreen.cli.report", "report"),
    ("hopscreen.cli.evaluate", "evaluate"),
    ("hopscreen.cli.predict", "predict"),
    ("hopscreen.cli.bench", "bench"),
    ("hopscreen.cli.query", "query"),
    ("hopscreen.cli.status", "status"),
    ("hopscreen.cli.reproduce", "reproduce"),
]


def _register() -> None:
    for module_name, name in _GROUPS:
        app.add_typer(importlib.import_module(module_name).app, name=name)
    for module_name, name in _COMMANDS:
        # the command is the function's name with dashes: neb_inputs -> neb-inputs
        command = getattr(importlib.import_module(module_name), name)
        app.command(name=name.replace("_", "-"))(command)


_register()

_CAP_GB: list[float] = []
_ENFORCE: list[bool] = []  # set by main(): in-process callers (tests, CliRunner) get no cap


@app.callback()
def _root(
    max_memory_gb: Annotated[
        float | None,
        typer.Option(
            "--max-memory-gb",
            min=0.1,
            help="Memory cap of the command, GiB of address space (default: 80 % of this "
            "machine's memory). Beyond it the command stops with one error line and exit 1.",
        ),
    ] = None,
) -> None:
    """High-throughput screening of ionic migration barriers (E_m) in battery materials."""
    if _ENFORCE:
        _CAP_GB.append(apply_memory_cap(max_memory_gb or default_memory_cap_gb()))


def main() -> None:
    """Run the ``hopscreen`` command line (a command over its memory cap exits 1, one line)."""
    _ENFORCE.append(True)
    try:
        app()
    except MemoryError:
        cap = f"{_CAP_GB[-1]:.1f} GiB" if _CAP_GB else "the"
        typer.echo(
            f"error: out of memory: the command reached its memory cap ({cap}; "
            "--max-memory-gb); nothing was written after that point",
            err=True,
        )
        sys.exit(1)
