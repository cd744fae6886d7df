"""``hopscreen predict``: candidates → hops → bands → barrier predictions, no store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hopscreen.candidates import load_local_candidates
from hopscreen.cli.candidates import EXIT_REFUSED, echo_failures, parse_hop_options, parse_ion
from hopscreen.cli.hops import echo_hop_failures
from hopscreen.hops import hops_for_structure
from hopscreen.inference.base import BarrierModel
from hopscreen.inference.hops import predict_hops
from hopscreen.inference.load import load_model
from hopscreen.models.bundle import ModelLoadError
from hopscreen.schemas.prediction import PredictionDoc


def _half_width(value: float | None) -> str:
    """An interval half-width for the table (eV), ``-`` when the model has none."""
    return "-" if value is None else f"{value:.3f}"


def _print_table(rows: list[PredictionDoc], barrier_model: BarrierModel) -> None:
    """The predictions as a table sorted by E_m (interval columns for a calibrated model)."""
    name = barrier_model.card.name
    table = Table(title=f"E_m predictions, {name} ({barrier_model.model_version})")
    calibrated = any(doc.interval_90_ev is not None for doc in rows)
    columns = ["candidate", "hop_id", "length Å", "E_m eV", "σ_ens eV"]
    for col in columns + (["± 68 % eV", "± 90 % eV"] if calibrated else []):
        table.add_column(col)
    for doc in sorted(rows, key=lambda d: d.barrier_ev):
        cells = [
            doc.candidate_name,
            doc.hop_id[:16],
            f"{doc.length_angstrom:.3f}",
            f"{doc.barrier_ev:.3f}",
            f"{doc.sigma_ev:.3f}",
        ]
        if calibrated:
            cells += [_half_width(doc.interval_68_ev), _half_width(doc.interval_90_ev)]
        table.add_row(*cells)
    Console().print(table)


def predict(
    files: Annotated[list[Path], typer.Argument(help="Structure files, folders or globs.")],
    ion: Annotated[
        str, typer.Option(help="Working ion, any case (li = Li), e.g. Li, Na, Mg.")
    ] = "Li",
    model: Annotated[
        str | None,
        typer.Option(
            help="Model folder or shipped model name: physics-bvse-chgnet-gbr (default), "
            "chgnet-gbr, model3-default "
            "(ALIGNN)."
        ),
    ] = None,
    max_length: Annotated[
        float, typer.Option(help="Longest hop considered, Å: a finite number in (0, 10].")
    ] = 5.0,
    batch_size: Annotated[int, typer.Option(help="Bands per forward pass.")] = 16,
    device: Annotated[str | None, typer.Option(help="cpu or cuda (default: cuda if any).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON record per line.")] = False,
) -> None:
    """Predict the migration barrier E_m (± σ) of every distinct hop in the given structures.

    σ_ens is the spread of the ensemble members; a calibrated model also gives the half-widths
    of its 68 % and 90 % conformal intervals (JSON: `interval_68_ev`, `interval_90_ev`).

    Every structure first passes the input gate of `hopscreen candidates` (at most 1000 atoms
    per cell and 200 distinct hops per host); each refused input gets one line on stderr,
    `error: FILE: (failure code) reason`, and the other inputs are still predicted. Exit
    code: 0 when every input was predicted, 2 when an input, an option or the model was
    refused, 1 when no hop could be predicted.
    """
    working_ion = parse_ion(ion)
    options = parse_hop_options(max_length)
    err = Console(stderr=True)
    try:
        barrier_model = load_model(model, device=device)
    except (ModelLoadError, FileNotFoundError) as exc:
        typer.echo(f"error: --model: {exc}", err=True)
        raise typer.Exit(EXIT_REFUSED) from None
    batch = load_local_candidates(files, working_ion, limits=options.gate_limits())
    n_refused = echo_failures(batch.failures)
    rows = []
    with err.status("enumerating hops and predicting…"):
        for cand in batch.candidates:
            result = hops_for_structure(
                cand.get_structure(),
                working_ion,
                cand.name,
                candidate_id=cand.candidate_id,
                options=options,
            )
            echo_hop_failures(result, cand.source_ref)
            n_refused += result.rejected
            rows += predict_hops(
                result.docs, result.bands, model=barrier_model, batch_size=batch_size
            )
    if as_json:
        for doc in rows:
            typer.echo(json.dumps(doc.model_dump()))
    else:
        _print_table(rows, barrier_model)
    if n_refused:
        raise typer.Exit(EXIT_REFUSED)
    if not rows:
        raise typer.Exit(1)
