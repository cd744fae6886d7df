"""``hopscreen predict``: candidates → hops → bands → barrier predictions, no store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hopscreen.candidates import load_local_candidates
from hopscreen.hops import HopOptions, hops_for_structure
from hopscreen.inference.hops import predict_hops
from hopscreen.inference.load import load_model
from hopscreen.models.bundle import ModelLoadError


def predict(
    files: Annotated[list[Path], typer.Argument(help="Structure files, folders or globs.")],
    ion: Annotated[str, typer.Option(help="Working ion, e.g. Li, Na, Mg.")] = "Li",
    model: Annotated[
        str | None,
        typer.Option(
            help="Model folder or shipped model name: chgnet-gbr (default), model3-default "
            "(ALIGNN)."
        ),
    ] = None,
    max_length: Annotated[float, typer.Option(help="Longest hop considered, Å.")] = 5.0,
    batch_size: Annotated[int, typer.Option(help="Bands per forward pass.")] = 16,
    device: Annotated[str | None, typer.Option(help="cpu or cuda (default: cuda if any).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON record per line.")] = False,
) -> None:
    """Predict the migration barrier E_m (± σ) of every distinct hop in the given structures."""
    err = Console(stderr=True)
    try:
        barrier_model = load_model(model, device=device)
    except (ModelLoadError, FileNotFoundError) as exc:
        err.print(f"[red]Error:[/red] {exc}")
        raise typer.Exit(2) from None
    batch = load_local_candidates([str(f) for f in files], ion)
    for failure in batch.failures:
        err.print(f"[yellow]skipped[/yellow] {failure.name}: {failure.reason}")
    options = HopOptions(max_hop_length_angstrom=max_length)
    rows = []
    with err.status("enumerating hops and predicting…"):
        for cand in batch.candidates:
            result = hops_for_structure(
                cand.get_structure(),
                ion,
                cand.name,
                candidate_id=cand.candidate_id,
                options=options,
            )
            for failure in result.failures:
                err.print(f"[yellow]failed[/yellow] {failure.candidate_name}: {failure.reason}")
            rows += predict_hops(
                result.docs, result.bands, model=barrier_model, batch_size=batch_size
            )
    if as_json:
        for doc in rows:
            typer.echo(json.dumps(doc.model_dump()))
    else:
        name = barrier_model.card.name
        table = Table(title=f"E_m predictions, {name} ({barrier_model.model_version})")
        for col in ("candidate", "hop_id", "length Å", "E_m eV", "σ eV"):
            table.add_column(col)
        for doc in sorted(rows, key=lambda d: d.barrier_ev):
            table.add_row(
                doc.candidate_name,
                doc.hop_id[:16],
                f"{doc.length_angstrom:.3f}",
                f"{doc.barrier_ev:.3f}",
                f"{doc.sigma_ev:.3f}",
            )
        Console().print(table)
    if not rows:
        raise typer.Exit(1)
