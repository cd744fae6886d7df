"""``hopscreen hops``: list the distinct migration hops of structure files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pymatgen.core import Structure

from hopscreen.hops import HopOptions, hops_for_structure

if TYPE_CHECKING:
    from pymatgen.core import Structure


def read_structure(path: Path) -> Structure:
    """Read one structure file (CIF, POSCAR, pymatgen JSON ...) with pymatgen.

    Kept separate so that it can be replaced by the candidates stage's loader.
    """
    return Structure.from_file(path)


def _fmt(v: list[float]) -> str:
    return "[" + ", ".join(f"{x:.4f}" for x in v) + "]"


def hops(
    files: Annotated[list[Path], typer.Argument(help="Structure files (CIF, POSCAR, JSON).")],
    ion: Annotated[str, typer.Option("--ion", help="Working ion, e.g. Li.")],
    max_length: Annotated[
        float, typer.Option("--max-length", help="Longest hop considered, in Å.")
    ] = 5.0,
    no_bands: Annotated[
        bool, typer.Option("--no-bands", help="Skip supercells and bands (faster).")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON HopDoc per line.")
    ] = False,
) -> None:
    """List the symmetry-distinct hops of the working ion in each structure file.

    Prints one record per hop (candidate, hop_id, length, endpoints, band atom count).
    Files that cannot be read or have no hop are reported on stderr; the exit code is 1 if
    anything failed.
    """
    options = HopOptions(max_hop_length_angstrom=max_length)
    n_failed = 0
    for path in files:
        name = path.name
        try:
            structure = read_structure(path)
        except Exception as exc:  # report and go on with the batch
            typer.echo(f"{name}: cannot read: {type(exc).__name__}: {exc}", err=True)
            n_failed += 1
            continue
        result = hops_for_structure(structure, ion, name, options=options, build_bands=not no_bands)
        for doc in result.docs:
            if as_json:
                typer.echo(json.dumps(doc.model_dump(mode="json")))
            else:
                typer.echo(
                    f"{doc.candidate_name}  {doc.hop_id}  {doc.length_angstrom:.3f} Å  "
                    f"{_fmt(doc.isite_frac)} -> {_fmt(doc.esite_frac)}  "
                    f"band {doc.band_n_atoms if doc.band_n_atoms is not None else '-'} atoms"
                )
        for failure in result.failures:
            where = f" (hop {failure.hop_id})" if failure.hop_id else ""
            typer.echo(f"{failure.candidate_name}{where}: {failure.reason}", err=True)
            n_failed += 1
    if n_failed:
        raise typer.Exit(code=1)
