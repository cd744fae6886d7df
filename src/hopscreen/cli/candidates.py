"""``hopscreen candidates``: load, validate and list screening candidates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hopscreen.candidates.demo import load_demo_candidates
from hopscreen.candidates.local import load_local_candidates
from hopscreen.schemas.candidate import CandidateBatch


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
            help="Working ion. Files default to Li; the demo set defaults to every ion.",
        ),
    ] = None,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Descend into sub-folders.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the CandidateBatch document as JSON.")
    ] = False,
) -> None:
    """Load candidate structures and report each one, or why it was rejected.

    Exits with 0 when at least one candidate is valid, 1 otherwise.
    """
    if not files and not demo:
        typer.echo("nothing to load: give structure files or --demo", err=True)
        raise typer.Exit(1)
    batch = CandidateBatch()
    try:
        if demo:
            batch.extend(load_demo_candidates(ion))
        if files:
            batch.extend(load_local_candidates(files, ion or "Li", recursive=recursive))
    except ValueError as exc:  # e.g. an unknown element as --ion
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    if as_json:
        typer.echo(batch.model_dump_json(indent=1))
    else:
        for c in batch.candidates:
            typer.echo(
                f"{c.name}\t{c.formula}\t{c.working_ion}\t{c.n_sites} sites\t"
                f"{c.space_group} ({c.space_group_number})\t{c.candidate_id[:16]}"
            )
        for f in batch.failures:
            typer.echo(f"FAILED {f.name}\t[{f.code}] {f.reason}\t({f.source_ref})")
        typer.echo(f"{len(batch.candidates)} candidate(s), {len(batch.failures)} failure(s)")
    raise typer.Exit(0 if batch.candidates else 1)
