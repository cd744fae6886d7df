"""``hopscreen candidates``: load, validate and list screening candidates.

Also the input helpers shared by ``hops`` and ``predict``: one check of ``--ion`` and
``--max-length``, and one line per refused input (``error: FILE: [code] reason``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from hopscreen.candidates.demo import load_demo_candidates
from hopscreen.candidates.local import load_local_candidates
from hopscreen.candidates.validate import InputLimits, check_hop_length, check_working_ion
from hopscreen.hops import HopOptions
from hopscreen.schemas.candidate import CandidateBatch, CandidateFailure

#: Exit code of a run in which an input or an option was refused.
EXIT_REFUSED = 2


def shorten(ref: str, width: int = 100) -> str:
    """``ref`` cut in its middle to at most ``width`` characters (long names stay readable)."""
    return ref if len(ref) <= width else f"{ref[: width - 31]}…{ref[-30:]}"


def parse_ion(ion: str) -> str:
    """The canonical symbol of ``--ion`` (``li`` → ``Li``); one error line and exit 2 if unknown."""
    try:
        return check_working_ion(ion)
    except ValueError as exc:
        typer.echo(f"error: --ion: {exc}", err=True)
        raise typer.Exit(EXIT_REFUSED) from None


def parse_hop_options(max_length: float) -> HopOptions:
    """``HopOptions`` for ``--max-length``; one error line and exit 2 unless in (0, cap] Å."""
    try:
        check_hop_length(max_length, InputLimits().hop_length_cap_angstrom)
    except ValueError as exc:
        typer.echo(f"error: --max-length: {exc}", err=True)
        raise typer.Exit(EXIT_REFUSED) from None
    return HopOptions(max_hop_length_angstrom=max_length)


def echo_failures(failures: Iterable[CandidateFailure]) -> int:
    """Print one stderr line per failure; return how many inputs were refused.

    A ``duplicate`` (the same structure given twice) is reported as ``skipped`` and not
    counted: its structure is screened once.
    """
    n_refused = 0
    for f in failures:
        if f.code == "duplicate":
            typer.echo(f"skipped: {shorten(f.source_ref)}: [duplicate] {f.reason}", err=True)
            continue
        typer.echo(f"error: {shorten(f.source_ref)}: [{f.code}] {f.reason}", err=True)
        n_refused += 1
    return n_refused


def candidates(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Structure files (CIF, POSCAR, pymatgen JSON), folders or globs."),
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Include the bundled demo hosts.")] = False,
    ion: Annotated[
        str | None,
        typer.Option(
            "--ion",
            help="Working ion, any case (li = Li). Files default to Li; the demo set defaults "
            "to every ion. An unknown or empty symbol is refused (exit 2).",
        ),
    ] = None,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Descend into sub-folders.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the CandidateBatch document as JSON.")
    ] = False,
) -> None:
    """Load candidate structures through the input gate and report each one.

    Every structure is checked (atoms per cell at most 1000, finite non-degenerate lattice,
    no atoms closer than 0.5 Å, ordered sites, the working ion and a host framework present;
    oxidation states are accepted and removed). Each refused input gets one line on stderr,
    `error: FILE: (failure code) reason`, and the other inputs go on. Exit code: 0 when
    every input gave a candidate, 2 when an input or an option was refused, 1 when nothing
    was loaded.
    """
    if not files and not demo:
        typer.echo("nothing to load: give structure files or --demo", err=True)
        raise typer.Exit(1)
    working_ion = parse_ion(ion) if ion is not None else None
    batch = CandidateBatch()
    if demo:
        batch.extend(load_demo_candidates(working_ion))
    if files:
        batch.extend(load_local_candidates(files, working_ion or "Li", recursive=recursive))

    if as_json:
        typer.echo(batch.model_dump_json(indent=1))
    else:
        for c in batch.candidates:
            typer.echo(
                f"{c.name}\t{c.formula}\t{c.working_ion}\t{c.n_sites} sites\t"
                f"{c.space_group} ({c.space_group_number})\t{c.candidate_id[:16]}"
            )
    n_refused = echo_failures(batch.failures)
    if not as_json:
        typer.echo(f"{len(batch.candidates)} candidate(s), {len(batch.failures)} failure(s)")
    if n_refused:
        raise typer.Exit(EXIT_REFUSED)
    raise typer.Exit(0 if batch.candidates else 1)
