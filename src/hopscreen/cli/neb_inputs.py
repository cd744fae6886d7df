"""``hopscreen neb-inputs``: write each hop's VASP NEB folder, to inspect or run by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hopscreen.cli.candidates import EXIT_REFUSED, parse_hop_options, parse_ion
from hopscreen.cli.hops import HostTally, each_host_hops
from hopscreen.hops import HopOptions, HopsResult
from hopscreen.verification import NebInputsSummary, VaspNebConfig, write_neb_inputs


def _echo(summary: NebInputsSummary) -> None:
    u = ", ".join(f"{el}={v:g}" for el, v in (summary.hubbard_u or {}).items()) or "none"
    typer.echo(
        f"{summary.candidate_name}  {summary.hop_id}  {summary.length_angstrom:.3f} Å  "
        f"{summary.n_atoms} atoms, {summary.n_images} images ({summary.images_from}), "
        f"{summary.method}, U: {u}  -> {summary.folder}"
    )


def _matches(hop_id: str, wanted: str | None) -> bool:
    return wanted is None or hop_id.startswith(wanted)


def _vasp_config(images: int, vtst: bool) -> VaspNebConfig:
    """The VASP settings of the options; one error line and exit 2 when refused."""
    try:
        return VaspNebConfig(n_images=images, vtst=vtst)
    except ValueError as exc:
        typer.echo(f"error: --images: {exc}", err=True)
        raise typer.Exit(EXIT_REFUSED) from None


def neb_inputs(
    files: Annotated[
        list[Path],
        typer.Argument(help="Structure files (CIF, POSCAR, pymatgen JSON), folders or globs."),
    ],
    ion: Annotated[
        str, typer.Option("--ion", help="Working ion, any case (li = Li), e.g. Li, Na, Mg.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder (created).")],
    hop: Annotated[
        str | None,
        typer.Option("--hop", help="Only this hop: its hop_id or a prefix of it (hop-ff57…)."),
    ] = None,
    images: Annotated[
        int,
        typer.Option(
            "--images", min=1, help="Intermediate images N (INCAR IMAGES); N + 2 folders."
        ),
    ] = 5,
    vtst: Annotated[
        bool,
        typer.Option(
            "--vtst",
            help="The VASP that will run this has the VTST patches: climbing-image NEB with "
            "VTST's optimiser (IOPT = 1, LCLIMB). Default: VASP's own NEB (IBRION = 1), "
            "which any VASP runs.",
        ),
    ] = False,
    linear: Annotated[
        bool,
        typer.Option("--linear", help="Straight-line images instead of the ion's IDPP path."),
    ] = False,
    max_length: Annotated[
        float,
        typer.Option("--max-length", help="Longest hop considered, Å: a finite number in (0, 10]."),
    ] = 5.0,
) -> None:
    """Write the VASP NEB folder of each hop of the working ion; runs nothing.

    For every distinct hop (as `hopscreen hops` lists them) writes
    OUT/<host>/<hop_id[:12]>/ with INCAR, KPOINTS, POTCAR.spec (the POTCAR symbols to
    concatenate; no POTCAR is needed here) and the image folders 00 … 0(N+1), each with its
    POSCAR (and a copy of KPOINTS), plus neb_inputs.json (hop id and length, ion sites,
    largest ion step, U applied). The endpoints are those the VASP tier of `hopscreen screen`
    uses: the hop's vacancy-mode supercell (≥ 10 Å, 80–240 atoms) in which only the
    migrating ion differs. Intermediate images: the ion's IDPP path with every other atom
    held at its endpoint position (--linear: the straight line), so exactly one atom moves
    between images. Settings are the VASP tier's defaults: PBE, the Materials Project's +U
    for transition-metal oxides and fluorides, ISIF = 2. Inputs are refused by the same
    gate as `hopscreen hops` (one `error:` line each on stderr). Exit code: 0 when every
    hop was written, 2 when an input or option was refused or --hop matched no hop, 1 when
    a hop's folder could not be built.
    """
    working_ion = parse_ion(ion)
    options = parse_hop_options(max_length)
    config = _vasp_config(images, vtst)
    tally = HostTally()
    n_matched = 0
    for result in each_host_hops(files, working_ion, options, tally, build_bands=False):
        n_matched += _write_host(result, out, hop, config, options, linear, tally)
    if tally.n_refused:
        raise typer.Exit(EXIT_REFUSED)
    if hop is not None and n_matched == 0:
        typer.echo(f"error: --hop {hop}: no hop of the inputs has this id", err=True)
        raise typer.Exit(EXIT_REFUSED)
    if tally.n_failed:
        raise typer.Exit(1)


def _write_host(
    result: HopsResult,
    out: Path,
    wanted: str | None,
    config: VaspNebConfig,
    options: HopOptions,
    linear: bool,
    tally: HostTally,
) -> int:
    """Write the folders of one host's hops (those matching ``wanted``); count the matches."""
    n_matched = 0
    for found, doc in zip(result.hops, result.docs, strict=True):
        if not _matches(found.hop_id, wanted):
            continue
        n_matched += 1
        try:
            summary = write_neb_inputs(
                found,
                out,
                candidate_name=doc.candidate_name,
                config=config,
                supercell=options.supercell,
                images_from="linear" if linear else "idpp",
            )
        except Exception as exc:  # one bad hop must not stop the others
            typer.echo(f"failed: {doc.candidate_name} (hop {found.hop_id}): {exc}", err=True)
            tally.n_failed += 1
            continue
        _echo(summary)
    return n_matched
