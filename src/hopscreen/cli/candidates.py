"""``hopscreen candidates``: load, validate and list screening candidates.

``--mp … --save DIR`` queries the Materials Project where the network is and writes a
candidates file that campaigns read offline (:mod:`hopscreen.candidates.saved`).

Also the input helpers shared by ``hops`` and ``predict``: one check of ``--ion`` and
``--max-length``, and one line per refused input (``error: FILE: [code] reason``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal

import typer
from pydantic import ValidationError

from hopscreen.candidates import (
    CandidateFileError,
    MPKeyError,
    MPQuery,
    MPQueryError,
    read_candidates_file,
    save_mp_candidates,
)
from hopscreen.candidates.demo import load_demo_candidates
from hopscreen.candidates.local import load_local_candidates
from hopscreen.candidates.mp import fetch_mp
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


_QUERY_OPTIONS = {
    "working_ion": "--ion",
    "chemsys": "--mp-chemsys",
    "elements": "--mp-elements",
    "max_energy_above_hull_ev": "--e-hull-max",
    "voltage_min_v": "--voltage-min",
    "voltage_max_v": "--voltage-max",
    "limit": "--limit",
}


def make_mp_query(
    ion: str,
    *,
    chemsys: list[str],
    elements: list[str],
    source: str,
    e_hull_max: float,
    voltage_min: float | None,
    voltage_max: float | None,
    limit: int | None,
) -> MPQuery:
    """The :class:`MPQuery` of the ``--mp`` options; one error line and exit 2 if invalid."""
    try:
        return MPQuery(
            working_ion=ion,
            chemsys=chemsys,
            elements=elements,
            source=source,
            max_energy_above_hull_ev=e_hull_max,
            voltage_min_v=voltage_min,
            voltage_max_v=voltage_max,
            limit=limit,
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _QUERY_OPTIONS.get(str(err["loc"][0]) if err["loc"] else "", "--mp")
        message = err["msg"].removeprefix("Value error, ")
        typer.echo(f"error: {where}: {message}", err=True)
        raise typer.Exit(EXIT_REFUSED) from None


def fetch_or_reuse(
    query: MPQuery, save: Path | None, *, refresh: bool
) -> tuple[CandidateBatch, str]:
    """The batch of ``query`` (saved in ``save`` / reused from it) and a line saying where.

    MP and candidates-file errors become one ``error:`` line and exit 1.
    """
    try:
        if save is None:
            return fetch_mp(query).batch, ""
        saved = save_mp_candidates(query, save, refresh=refresh)
    except (MPKeyError, MPQueryError, CandidateFileError, ImportError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    head = saved.header
    version = head.database_version or "unknown"
    if saved.reused:
        note = f"reused {saved.path} (fetched {head.created_utc}, MP database {version})"
    else:
        note = f"saved {saved.path} (MP database {version})"
    return saved.batch, note


def _check_mp_options(mp: bool, loads_other: bool, used: dict[str, bool]) -> None:
    """Refuse conflicting source options with one error line and exit 2.

    MP-only options without ``--mp``, ``--mp`` with other sources, ``--refresh`` without
    ``--save``.
    """
    if mp and loads_other:
        typer.echo("error: --mp is not combined with files, --demo or --candidates-file", err=True)
        raise typer.Exit(EXIT_REFUSED)
    if mp and used["--refresh"] and not used["--save"]:
        typer.echo("error: --refresh needs --save", err=True)
        raise typer.Exit(EXIT_REFUSED)
    if not mp:
        given = [name for name, is_set in used.items() if is_set]
        if given:
            verb = "needs" if len(given) == 1 else "need"
            typer.echo(f"error: {', '.join(given)} {verb} --mp", err=True)
            raise typer.Exit(EXIT_REFUSED)


def _load_sources(
    files: list[Path] | None,
    demo: bool,
    candidates_file: Path | None,
    working_ion: str | None,
    recursive: bool,
) -> CandidateBatch:
    batch = CandidateBatch()
    if demo:
        batch.extend(load_demo_candidates(working_ion))
    if files:
        batch.extend(load_local_candidates(files, working_ion or "Li", recursive=recursive))
    if candidates_file is not None:
        try:
            batch.extend(read_candidates_file(candidates_file, working_ion=working_ion).batch)
        except CandidateFileError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
    return batch


def _report(batch: CandidateBatch, as_json: bool, note: str) -> None:
    """Print the batch (table or JSON), the failures and ``note``; exit with the batch's code."""
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
    if note:
        typer.echo(note, err=as_json)
    if n_refused:
        raise typer.Exit(EXIT_REFUSED)
    raise typer.Exit(0 if batch.candidates else 1)


# The options of the Materials Project query and of saved candidates files.
CandidatesFileOption = Annotated[
    Path | None,
    typer.Option(
        "--candidates-file",
        help="A saved candidates file (--mp … --save), read offline and checked.",
    ),
]
MPOption = Annotated[
    bool,
    typer.Option(
        "--mp",
        help="Query the Materials Project (needs MP_API_KEY and internet: run it on a "
        "login node). Every filter below is sent to the server.",
    ),
]
MPChemsysOption = Annotated[
    list[str] | None,
    typer.Option("--mp-chemsys", help="Exact chemical system, e.g. Li-Fe-P-O (repeatable)."),
]
MPElementsOption = Annotated[
    list[str] | None,
    typer.Option("--mp-elements", help="Element the hosts contain (repeatable)."),
]
MPSourceOption = Annotated[
    Literal["electrodes", "summary", "both"] | None,
    typer.Option(
        "--mp-source",
        help="insertion electrodes (default; the discharged structure), summary, or both.",
    ),
]
EHullMaxOption = Annotated[
    float | None,
    typer.Option("--e-hull-max", help="Most energy above hull, eV/atom (default 0.05)."),
]
VoltageMinOption = Annotated[
    float | None,
    typer.Option("--voltage-min", help="Lowest average voltage, V (electrodes only)."),
]
VoltageMaxOption = Annotated[
    float | None,
    typer.Option("--voltage-max", help="Highest average voltage, V (electrodes only)."),
]
LimitOption = Annotated[int | None, typer.Option("--limit", help="Most documents per MP search.")]
SaveOption = Annotated[
    Path | None,
    typer.Option(
        "--save",
        help="Write the result to DIR/mp-<ion>-<query key>.json.gz and print its path; the "
        "same query reuses that file without calling MP. A campaign reads it offline "
        "(sources: candidates_file:).",
    ),
]
RefreshOption = Annotated[
    bool, typer.Option("--refresh", help="With --save: query again, replace the file.")
]


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
            help="Working ion, any case (li = Li). Files and --mp default to Li; the demo set "
            "defaults to every ion. An unknown or empty symbol is refused (exit 2).",
        ),
    ] = None,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Descend into sub-folders.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the CandidateBatch document as JSON.")
    ] = False,
    candidates_file: CandidatesFileOption = None,
    mp: MPOption = False,
    mp_chemsys: MPChemsysOption = None,
    mp_elements: MPElementsOption = None,
    mp_source: MPSourceOption = None,
    e_hull_max: EHullMaxOption = None,
    voltage_min: VoltageMinOption = None,
    voltage_max: VoltageMaxOption = None,
    limit: LimitOption = None,
    save: SaveOption = None,
    refresh: RefreshOption = False,
) -> None:
    """Load candidate structures through the input gate and report each one.

    Every structure is checked (atoms per cell at most 1000, finite non-degenerate lattice,
    no atoms closer than 0.5 Å, ordered sites, the working ion and a host framework present;
    oxidation states are accepted and removed). Each refused input gets one line on stderr,
    `error: FILE: (failure code) reason`, and the other inputs go on. Exit code: 0 when
    every input gave a candidate, 2 when an input or an option was refused, 1 when nothing
    was loaded, the Materials Project query failed or a candidates file cannot be read.

    With --mp the hosts come from the Materials Project, every filter sent to the server;
    --save DIR writes them to a candidates file (path printed) that a campaign reads offline.
    """
    _check_mp_options(
        mp,
        bool(files or demo or candidates_file),
        {
            "--mp-chemsys": bool(mp_chemsys),
            "--mp-elements": bool(mp_elements),
            "--mp-source": mp_source is not None,
            "--e-hull-max": e_hull_max is not None,
            "--voltage-min": voltage_min is not None,
            "--voltage-max": voltage_max is not None,
            "--limit": limit is not None,
            "--save": save is not None,
            "--refresh": refresh,
        },
    )
    working_ion = parse_ion(ion) if ion is not None else None
    if mp:
        query = make_mp_query(
            working_ion or "Li",
            chemsys=list(mp_chemsys or []),
            elements=list(mp_elements or []),
            source=mp_source or "electrodes",
            e_hull_max=0.05 if e_hull_max is None else e_hull_max,
            voltage_min=voltage_min,
            voltage_max=voltage_max,
            limit=limit,
        )
        batch, note = fetch_or_reuse(query, save, refresh=refresh)
        _report(batch, as_json, note)
    if not files and not demo and candidates_file is None:
        typer.echo(
            "nothing to load: give structure files, --demo, --candidates-file or --mp", err=True
        )
        raise typer.Exit(1)
    _report(_load_sources(files, demo, candidates_file, working_ion, recursive), as_json, "")
