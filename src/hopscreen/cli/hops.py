"""``hopscreen hops``: list the distinct migration hops of structure files."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from hopscreen.candidates.local import load_local_candidates
from hopscreen.cli.candidates import (
    EXIT_REFUSED,
    echo_failures,
    parse_hop_options,
    parse_ion,
    shorten,
)
from hopscreen.hops import HopOptions, HopsResult, hops_for_structure
from hopscreen.schemas.hop import HopDoc


def _fmt(v: list[float]) -> str:
    return "[" + ", ".join(f"{x:.4f}" for x in v) + "]"


def _echo_doc(doc: HopDoc, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(doc.model_dump(mode="json")))
        return
    typer.echo(
        f"{doc.candidate_name}  {doc.hop_id}  {doc.length_angstrom:.3f} Å  "
        f"{_fmt(doc.isite_frac)} -> {_fmt(doc.esite_frac)}  "
        f"band {doc.band_n_atoms if doc.band_n_atoms is not None else '-'} atoms"
    )


def echo_hop_failures(result: HopsResult, ref: str) -> None:
    """One stderr line per failure of a host: ``error:`` when it was refused, else ``failed:``."""
    prefix = "error" if result.rejected else "failed"
    for failure in result.failures:
        where = f" (hop {failure.hop_id})" if failure.hop_id else ""
        typer.echo(f"{prefix}: {shorten(ref)}{where}: {failure.reason}", err=True)


@dataclass
class HostTally:
    """Inputs refused (by the gate or a cap) and hosts with a failed hop, for the exit code."""

    n_refused: int = 0
    n_failed: int = 0


def each_host_hops(
    files: Sequence[Path],
    working_ion: str,
    options: HopOptions,
    tally: HostTally,
    *,
    build_bands: bool = True,
    on_host: Callable[[int, int, str], None] | None = None,
) -> Iterator[HopsResult]:
    """Load the files and yield each host's hops, printing every refusal and failure on stderr.

    Shared by ``hops`` and ``predict``: ``tally`` counts what was refused or failed;
    ``on_host(k, n, name)`` is called before the k-th of the n accepted hosts (progress).
    """
    batch = load_local_candidates(files, working_ion, limits=options.gate_limits())
    tally.n_refused += echo_failures(batch.failures)
    for k, cand in enumerate(batch.candidates):
        if on_host is not None:
            on_host(k, len(batch.candidates), cand.name)
        result = hops_for_structure(
            cand.get_structure(),
            working_ion,
            cand.name,
            candidate_id=cand.candidate_id,
            options=options,
            build_bands=build_bands,
        )
        echo_hop_failures(result, cand.source_ref)
        tally.n_refused += result.rejected
        tally.n_failed += bool(result.failures) and not result.rejected
        yield result


def hops(
    files: Annotated[
        list[Path],
        typer.Argument(help="Structure files (CIF, POSCAR, pymatgen JSON), folders or globs."),
    ],
    ion: Annotated[
        str, typer.Option("--ion", help="Working ion, any case (li = Li), e.g. Li, Na, Mg.")
    ],
    max_length: Annotated[
        float,
        typer.Option("--max-length", help="Longest hop considered, Å: a finite number in (0, 10]."),
    ] = 5.0,
    no_bands: Annotated[
        bool, typer.Option("--no-bands", help="Skip supercells and bands (faster).")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON HopDoc per line.")
    ] = False,
) -> None:
    """List the symmetry-distinct hops of the working ion in each structure file.

    Prints one record per hop (candidate, hop_id, length, endpoints, band atom count). Every
    structure first passes the input gate of `hopscreen candidates` (at most 1000 atoms per
    cell and 200 distinct hops per host); each refused input gets one line on stderr,
    `error: FILE: (failure code) reason`, and the other inputs go on. Exit code: 0 when
    every input gave its hops, 2 when an input or an option was refused, 1 when a host had
    no hop within --max-length or a band failed.
    """
    working_ion = parse_ion(ion)
    options = parse_hop_options(max_length)
    tally = HostTally()
    for result in each_host_hops(files, working_ion, options, tally, build_bands=not no_bands):
        for doc in result.docs:
            _echo_doc(doc, as_json)
    if tally.n_refused:
        raise typer.Exit(EXIT_REFUSED)
    if tally.n_failed:
        raise typer.Exit(1)
