"""The ``hopscreen`` command line. It only parses arguments and calls the library.

Each command group lives in its own module of this package and is registered here.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="hopscreen",
    help="High-throughput screening of ionic migration barriers (E_m) in battery materials.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# (module, attribute, name): sub-apps are typer.Typer groups, commands are plain functions.
_GROUPS: list[tuple[str, str]] = [
    ("hopscreen.cli.data", "data"),
    ("hopscreen.cli.train", "train"),
    ("hopscreen.cli.models", "models"),
    ("hopscreen.cli.al", "al"),
]
_COMMANDS: list[tuple[str, str]] = [
    ("hopscreen.cli.hops", "hops"),
    ("hopscreen.cli.candidates", "candidates"),
    ("hopscreen.cli.screen", "screen"),
    ("hopscreen.cli.report", "report"),
    ("hopscreen.cli.evaluate", "evaluate"),
    ("hopscreen.cli.predict", "predict"),
    ("hopscreen.cli.bench", "bench"),
    ("hopscreen.cli.query", "query"),
    ("hopscreen.cli.reproduce", "reproduce"),
]


def _register() -> None:
    for module_name, name in _GROUPS:
        app.add_typer(importlib.import_module(module_name).app, name=name)
    for module_name, name in _COMMANDS:
        app.command(name=name)(getattr(importlib.import_module(module_name), name))


_register()


def main() -> None:
    """Run the ``hopscreen`` command line."""
    app()
