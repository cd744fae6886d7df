"""``hopscreen predict``: candidates → hops → bands → barrier predictions, no store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hopscreen.cli.candidates import EXIT_REFUSED, parse_hop_options, parse_ion
from hopscreen.cli.hops import HostTally, each_host_hops
from hopscreen.cli.options import MODEL_HELP
from hopscreen.cli.progress import host_progress
from hopscreen.hops import HopOptions
from hopscreen.inference.base import BarrierModel
from hopscreen.inference.cascade import CascadeConfig, combine_summaries, predict_cascade
from hopscreen.inference.hops import predict_hops
from hopscreen.inference.load import load_model
from hopscreen.models.bundle import ModelLoadError
from hopscreen.schemas.hop import HostNetworkDoc
from hopscreen.schemas.prediction import CascadeSummary, PredictionDoc
from hopscreen.schemas.verdict import HostVerdictDoc
from hopscreen.screening.verdicts import round_verdicts
from hopscreen.selection.verdict import VerdictConfig


def _half_width(value: float | None) -> str:
    """An interval half-width for the table (eV), ``-`` when the model has none."""
    return "-" if value is None else f"{value:.3f}"


def _print_table(rows: list[PredictionDoc], title: str) -> None:
    """The predictions as a table sorted by E_m (interval columns for a calibrated model)."""
    table = Table(title=f"E_m predictions, {title}")
    calibrated = any(doc.interval_90_ev is not None for doc in rows)
    tiers = any(doc.tier is not None for doc in rows)
    columns = ["candidate", "hop_id", "length Å", "E_m eV", "σ_ens eV"]
    columns += ["± 68 % eV", "± 90 % eV"] if calibrated else []
    for col in columns + (["tier"] if tiers else []):
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
        if tiers:
            cells.append("-" if doc.tier is None else str(doc.tier))
        table.add_row(*cells)
    Console().print(table)


def _print_hosts(verdicts: list[HostVerdictDoc], threshold_ev: float) -> None:
    """The per-host verdicts as a table, most likely good conductor first."""
    table = Table(title=f"Per-host verdicts (good: E_perc,1D < {threshold_ev:g} eV)")
    for col in ["candidate", "p_good", "E_perc 1D eV", "bottleneck", "2D eV", "3D eV", "hops"]:
        table.add_column(col)

    def ev(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    for v in verdicts:
        table.add_row(
            v.candidate_name,
            f"{v.p_good:.2f}",
            ev(v.percolation_1d_ev),
            (v.bottleneck_1d_hop_id or "-")[:16],
            ev(v.percolation_2d_ev),
            ev(v.percolation_3d_ev),
            str(len(v.hop_ids)),
        )
    Console().print(table)


def _echo_predictions(rows: list[PredictionDoc], title: str, as_json: bool) -> None:
    """The predictions as JSON lines or a table."""
    if not as_json:
        _print_table(rows, title)
        return
    for doc in rows:
        typer.echo(json.dumps(doc.model_dump()))


def _echo_verdicts(
    networks: list[HostNetworkDoc], rows: list[PredictionDoc], threshold_ev: float, as_json: bool
) -> None:
    """Compute and print the per-host verdicts (hosts without one get a warning on stderr)."""
    verdicts, skipped = round_verdicts(networks, rows, VerdictConfig(threshold_ev=threshold_ev))
    for line in skipped:
        typer.echo(f"warning: {line}", err=True)
    if as_json:
        for verdict in verdicts:
            typer.echo(json.dumps(verdict.model_dump()))
    else:
        _print_hosts(verdicts, threshold_ev)


PerHostOption = Annotated[
    bool,
    typer.Option(
        "--per-host",
        help="One verdict per host instead of one row per hop: 1D/2D/3D percolation "
        "barriers, the bottleneck hop and p_good (with --json: one HostVerdictDoc per line).",
    ),
]
ThresholdOption = Annotated[
    float,
    typer.Option(
        "--threshold",
        help="Good conductor: 1D percolation barrier below this, eV (for --per-host).",
        min=0.0,
    ),
]
CascadeOption = Annotated[
    bool,
    typer.Option(
        "--cascade",
        help="Two-tier cascade instead of one model: the fast physics-bvse-gbr predicts every "
        "hop; physics-bvse-chgnet-gbr re-predicts the hops whose calibrated 90 % interval "
        "contains 0.65 eV or could set their host's 1D percolation barrier. Every row "
        "carries its tier (JSON: `tier`); a summary line goes to stderr. Not with --model "
        "or --per-host.",
    ),
]


def _load_or_exit(name: str | None, device: str | None, option: str) -> BarrierModel:
    """:func:`load_model`, a refused model ending the command with exit 2."""
    try:
        return load_model(name, device=device)
    except (ModelLoadError, FileNotFoundError) as exc:
        typer.echo(f"error: {option}: {exc}", err=True)
        raise typer.Exit(EXIT_REFUSED) from None


def _summary_line(summary: CascadeSummary) -> str:
    """One line saying what the cascade sent to tier 2 and what each tier cost."""
    return (
        f"cascade ({summary.route}, {summary.coverage:g} interval, threshold "
        f"{summary.threshold_ev:g} eV): {summary.n_tier2} of {summary.n_hops} hops "
        f"({100 * summary.share_tier2:.0f} %) sent to tier 2 "
        f"({summary.accurate_model_version}); tier 1 ({summary.fast_model_version}) "
        f"{summary.tier1_seconds:.1f} s, tier 2 {summary.tier2_seconds:.1f} s"
    )


def _predict_files(
    files: list[Path],
    working_ion: str,
    options: HopOptions,
    models: tuple[BarrierModel, BarrierModel | None],
    batch_size: int,
    tally: HostTally,
) -> tuple[list[PredictionDoc], list[HostNetworkDoc], list[CascadeSummary]]:
    """Predict every host's hops (with the cascade when a second model is given).

    Returns the predictions, the hosts' networks and one cascade summary per host.
    """
    first, accurate = models
    rows: list[PredictionDoc] = []
    networks: list[HostNetworkDoc] = []
    summaries: list[CascadeSummary] = []
    with host_progress(Console(stderr=True)) as on_host:
        for result in each_host_hops(files, working_ion, options, tally, on_host=on_host):
            host_networks = [] if result.network is None else [result.network]
            networks += host_networks
            if accurate is None:
                rows += predict_hops(result.docs, result.bands, model=first, batch_size=batch_size)
                continue
            docs, summary = predict_cascade(
                result.docs,
                result.bands,
                host_networks,
                fast=first,
                accurate=accurate,
                batch_size=batch_size,
            )
            rows += docs
            summaries.append(summary)
    return rows, networks, summaries


def predict(
    files: Annotated[list[Path], typer.Argument(help="Structure files, folders or globs.")],
    ion: Annotated[
        str, typer.Option(help="Working ion, any case (li = Li), e.g. Li, Na, Mg.")
    ] = "Li",
    model: Annotated[
        str | None,
        typer.Option(help=MODEL_HELP),
    ] = None,
    max_length: Annotated[
        float, typer.Option(help="Longest hop considered, Å: a finite number in (0, 10].")
    ] = 5.0,
    batch_size: Annotated[int, typer.Option(help="Bands per forward pass.")] = 16,
    device: Annotated[str | None, typer.Option(help="cpu or cuda (default: cuda if any).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON record per line.")] = False,
    per_host: PerHostOption = False,
    threshold: ThresholdOption = 0.65,
    cascade: CascadeOption = False,
) -> None:
    """Predict the migration barrier E_m (± σ) of every distinct hop in the given structures.

    σ_ens is the spread of the ensemble members; a calibrated model also gives the half-widths
    of its 68 % and 90 % conformal intervals (JSON: `interval_68_ev`, `interval_90_ev`).

    Every structure first passes the input gate of `hopscreen candidates` (at most 1000 atoms
    per cell and 200 distinct hops per host); each refused input gets one line on stderr,
    `error: FILE: (failure code) reason`, and the other inputs are still predicted. Exit
    code: 0 when every input was predicted, 2 when an input, an option or the model was
    refused, 1 when no hop could be predicted.

    With --per-host, each host gets a verdict from its periodic migration network: the
    lowest barrier at which its predicted hops connect across the crystal in 1, 2 and 3
    dimensions (the percolation barriers), the hop that sets the 1D one (the bottleneck), and
    p_good, the probability that the 1D percolation barrier is below --threshold given the
    calibrated uncertainty of every hop.
    """
    working_ion = parse_ion(ion)
    options = parse_hop_options(max_length)
    if cascade and (model is not None or per_host):
        typer.echo("error: --cascade: not with --model or --per-host", err=True)
        raise typer.Exit(EXIT_REFUSED)
    config = CascadeConfig()
    option = "--cascade" if cascade else "--model"
    first = _load_or_exit(config.fast_model if cascade else model, device, option)
    accurate = _load_or_exit(config.accurate_model, device, option) if cascade else None
    tally = HostTally()
    rows, networks, summaries = _predict_files(
        files, working_ion, options, (first, accurate), batch_size, tally
    )
    if per_host:
        _echo_verdicts(networks, rows, threshold, as_json)
    elif accurate is None:
        title = f"{first.card.name} ({first.model_version})"
        _echo_predictions(rows, title, as_json)
    else:
        title = f"cascade {first.card.name} → {accurate.card.name}"
        _echo_predictions(rows, title, as_json)
    if summaries:
        typer.echo(_summary_line(combine_summaries(summaries)), err=True)
    if tally.n_refused:
        raise typer.Exit(EXIT_REFUSED)
    if not rows:
        raise typer.Exit(1)
