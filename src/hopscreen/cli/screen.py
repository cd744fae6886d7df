"""``hopscreen screen``: run (or submit) one screening round and print its summary.

Only parses options, builds a :class:`hopscreen.workflow.campaign.CampaignConfig` and calls
:func:`hopscreen.workflow.campaign.build_round` /
:func:`~hopscreen.workflow.campaign.run_round_locally` /
:func:`~hopscreen.workflow.campaign.submit_to_launchpad`.
Exit codes: 0 success, 1 bad options or configuration (a candidates file that cannot be read,
a Materials Project query that cannot run), 2 the round did not finish or did
not do its work (a stage's job failed, or no candidate was valid; what finished is stored).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.table import Table

from hopscreen.candidates import CandidateFileError, MPKeyError, MPQueryError
from hopscreen.cli.chatter import LOG_NAME, chatter_to_log
from hopscreen.cli.ranking import print_predicted_ranking
from hopscreen.screening.collect import round_problems
from hopscreen.settings import SettingsError, load_settings
from hopscreen.store.errors import ResultsStoreError
from hopscreen.store.job_store import JobStoreFileError, load_job_store
from hopscreen.workflow.campaign import (
    CampaignConfig,
    CampaignConfigError,
    LaunchPadError,
    build_round,
    demo_config,
    run_round_locally,
    submit_to_launchpad,
)
from hopscreen.workflow.log_tap import LoggerTap

MP_CHEMSYS_HELP = (
    "Materials Project chemical system, e.g. Li-Fe-P-O. Queried on this machine (also with "
    "--fireworks: workers never call MP) and saved under RESULTS/candidates/, reused while "
    "that file exists; needs MP_API_KEY."
)


JobStoreOption = Annotated[
    Path | None,
    typer.Option(
        "--job-store",
        help="jobflow.yaml-style file whose JOB_STORE (e.g. a MongoStore) receives every "
        "document of the round instead of the results folder's embedded store (default: "
        "the job_store setting, HOPSCREEN_JOB_STORE; see launch_configs/README.md).",
    ),
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code=code)


def make_config(
    *,
    config_file: Path | None,
    demo: bool,
    files: list[Path],
    mp_chemsys: list[str],
    ion: str | None,
    results: Path | None,
    budget: int | None,
    verifier: str | None,
    model: str | None,
    finetune: bool | None = None,
    registry: Path | None = None,
    accept_levels: list[str] | None = None,
) -> CampaignConfig:
    """The campaign of a command line: the file (or demo defaults), then explicit options."""
    if config_file is not None:
        base = CampaignConfig.from_yaml(config_file)
    elif demo:
        base = demo_config()
    else:
        base = CampaignConfig()
    data = base.model_dump()
    sources = data["sources"]
    if demo:
        sources["demo"] = True
    if files:
        sources["files"] = [str(p) for p in files]
    if mp_chemsys:
        sources["mp_chemsys"] = list(mp_chemsys)
    if ion is not None:
        data["ion"] = ion
    if results is not None:
        data["results_dir"] = str(results)
    if budget is not None:
        data["selection"]["budget"] = budget
    if verifier is not None:
        data["verifier"] = verifier
    if model is not None:
        data["model"] = model
    if finetune is not None:
        data["finetune"]["enabled"] = finetune
    if registry is not None:
        data["registry"] = str(registry)
    if accept_levels:
        accept = data["finetune"]["level_policy"]["accept"]
        data["finetune"]["level_policy"]["accept"] = [*accept, *accept_levels]
    config = CampaignConfig.from_dict(data, origin="command line")
    config.check_sources()
    return config


class _StatusHandler(LoggerTap):
    """Shows jobflow's "Starting job" messages in a rich status line.

    When the verification job starts, ``on_verify`` runs once (it prints the predicted
    ranking) and the time is kept, so that verification can be timed on its own.
    """

    def __init__(self, status: Any, on_verify: Callable[[], object] | None = None) -> None:
        super().__init__()
        self.status = status
        self.started = time.perf_counter()
        self.verify_started: float | None = None
        self.on_verify = on_verify

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Starting job"):
            name = message.split(" - ", 1)[-1].split(" (")[0]
            if name.startswith("verify") and self.verify_started is None:
                self.verify_started = time.perf_counter()
                if self.on_verify is not None:
                    self.on_verify()
            elapsed = time.perf_counter() - self.started
            self.status.update(f"[bold]running[/bold] {name}  ({elapsed:.0f} s so far)")


def summary_rows(summary: Any) -> list[tuple[str, str]]:
    """(quantity, value) rows of the end-of-round table."""
    agree = (
        f"{summary.n_agree}/{summary.n_verified} "
        f"({100 * summary.n_agree / summary.n_verified:.0f} %)"
        if summary.n_verified
        else "—"
    )
    return [
        ("candidates", f"{summary.n_candidates} (+{summary.n_candidate_failures} rejected)"),
        ("hops", f"{summary.n_hops} (+{summary.n_hop_failures} failed)"),
        ("model", str(summary.model_version)),
        (
            f"predicted good (< {summary.threshold_ev:g} eV)",
            str(summary.n_predicted_good),
        ),
        ("predicted bad", str(summary.n_predicted_bad)),
        ("selected for verification", str(summary.n_selected)),
        ("verified", f"{summary.n_verified} (+{summary.n_verification_failed} failed)"),
        ("prediction agrees with verification", agree),
        ("hosts with a verdict (query --per-host)", str(summary.written.get("verdicts", 0))),
        ("results", summary.results_dir),
        *_finetune_rows(getattr(summary, "finetune", None), summary),
    ]


def _finetune_rows(result: Any, summary: Any) -> list[tuple[str, str]]:
    """Rows of the fine-tuning step (none for a round without --finetune)."""
    if result is None:
        ran = hasattr(summary, "finetune")
        return [("fine-tuning", "did not run (see the log)")] if ran else []
    if result.status != "finetuned":
        return [(f"fine-tuning {result.status}", result.reason)]
    mae, parent = result.test_metrics.get("mae_ev"), result.parent_test_metrics.get("mae_ev")
    return [
        ("new model version", f"{result.model_version} (parent {result.parent_version})"),
        ("trained on", f"{result.n_new_records} verified + {result.n_replay_records} replayed"),
        ("test MAE new / parent", f"{mae:.3f} / {parent:.3f} eV"),
        ("promotion", result.reason),
        ("re-predicted unverified hops", str(summary.n_repredicted)),
    ]


ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Run the round even if the same round (same inputs, settings and model) already "
        "finished on this results store and nothing was written there since; without it such "
        "a re-run prints the recorded summary and runs no job.",
    ),
]


def screen(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Structure files (CIF, POSCAR, JSON) or globs.")
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Screen the bundled demo hosts.")] = False,
    mp_chemsys: Annotated[
        list[str] | None,
        typer.Option("--mp-chemsys", help=MP_CHEMSYS_HELP),
    ] = None,
    ion: Annotated[
        str | None, typer.Option("--ion", help="Working ion (demo: each host's own if unset).")
    ] = None,
    results: Annotated[
        Path | None, typer.Option("--results", help="Results folder (store).")
    ] = None,
    budget: Annotated[int | None, typer.Option("--budget", help="Hops to verify.")] = None,
    verifier: Annotated[
        Literal["umlip", "vasp", "none"] | None,
        typer.Option("--verifier", help="Verification tier: umlip, vasp or none."),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Model folder or shipped model name.")
    ] = None,
    fireworks: Annotated[
        bool, typer.Option("--fireworks", help="Submit to the FireWorks LaunchPad instead.")
    ] = False,
    config: Annotated[
        Path | None, typer.Option("--config", help="Campaign YAML file (options override it).")
    ] = None,
    finetune: Annotated[
        bool | None,
        typer.Option(
            "--finetune/--no-finetune",
            help="After verification: fine-tune on the verified hops, register and promote "
            "(if the test MAE is not worse) a new version, re-predict the unverified hops.",
        ),
    ] = None,
    registry: Annotated[
        Path | None, typer.Option("--registry", help="Model registry folder.")
    ] = None,
    accept_level: Annotated[
        list[str] | None,
        typer.Option(
            "--accept-level",
            help="Also train on labels of this level of theory, e.g. CHGNet-0.3.0/CI-NEB "
            "(default: published DFT GGA and GGA+U only; others are excluded and counted).",
        ),
    ] = None,
    job_store: JobStoreOption = None,
    force: ForceOption = False,
) -> None:
    """Screen hosts for migration barriers: predict, select, verify and store one round.

    Exits with 2, printing the reasons, when a stage's job failed or no candidate was valid;
    what finished is still written to the results store. Inputs refused by the input gate
    (one `rejected:` line each on stderr, the first 20) do not fail a round that screened the
    others; all of them are in the store's failures collection. A round that already finished
    on this results store with the same inputs, settings and model, with nothing written to
    the store since, is not run again (its recorded summary is printed) unless --force.
    """
    try:
        campaign = make_config(
            config_file=config,
            demo=demo,
            files=list(files or []),
            mp_chemsys=list(mp_chemsys or []),
            ion=ion,
            results=results,
            budget=budget,
            verifier=verifier,
            model=model,
            finetune=finetune,
            registry=registry,
            accept_levels=list(accept_level or []),
        )
    except CampaignConfigError as exc:
        raise _fail(str(exc)) from exc
    _run_campaign(campaign, fireworks=fireworks, job_store=_job_store_file(job_store), force=force)


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK | os.X_OK)


def check_results_dir(path: Path) -> None:
    """Refuse a results folder the round could not write, before any work (exit 2).

    The folder may exist (a store to add to) or not (it is created here); a file at that
    path, a folder that cannot be created, or one without write permission is refused.
    """
    if path.exists() and not path.is_dir():
        raise _fail(f"--results {path} is a file, not a results folder", code=2)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        message = f"cannot create the results folder {path}: {exc.strerror or exc}"
        raise _fail(message, code=2) from None
    if not _writable(path):
        raise _fail(f"the results folder {path} is not writable (permission denied)", code=2)


def _job_store_file(explicit: Path | None) -> Path | None:
    """``--job-store``, else the ``job_store`` setting; checked now (exit 1 when unusable)."""
    try:
        found = explicit if explicit is not None else load_settings().job_store
        if found is not None:
            load_job_store(found)
    except (SettingsError, JobStoreFileError) as exc:
        raise _fail(str(exc)) from None
    return found


def _run_campaign(
    campaign: CampaignConfig, *, fireworks: bool, job_store: Path | None = None, force: bool = False
) -> None:
    """Build the round; submit it to FireWorks, or run it here and print its summary."""
    console = Console(file=sys.stdout)  # stdout is the log file while the round runs
    results_dir = Path(campaign.results_dir)
    check_results_dir(results_dir)
    try:
        flow = build_round(campaign)  # a Materials Project source is fetched here, not on workers
    except (CampaignConfigError, CandidateFileError, MPKeyError, MPQueryError) as exc:
        raise _fail(str(exc)) from None
    if fireworks:
        try:
            ids = submit_to_launchpad(flow, results_dir, job_store=job_store)
        except (LaunchPadError, JobStoreFileError) as exc:
            raise _fail(str(exc), code=2) from None
        console.print(f"Added a workflow of {len(ids)} Fireworks to the LaunchPad: {ids}")
        return
    if campaign.verifier == "umlip":
        caps = campaign.umlip.capped_description()
        if caps:
            console.print(f"[yellow]uMLIP verification is capped:[/yellow] {caps}")
    start = time.perf_counter()
    summary, verify_started = _run_with_status(console, flow, results_dir, job_store, force)
    end = time.perf_counter()
    if summary.reused_from:
        console.print(
            "[green]Up to date:[/green] this round already finished on this results store "
            "with the same inputs, settings and model, and nothing was written there since; "
            f"no job ran. Recorded summary: {summary.reused_from} (--force runs it again)."
        )
        print_predicted_ranking(console, results_dir)
    table = Table(title=f"Screening round ({end - start:.0f} s)")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for name, value in summary_rows(summary):
        table.add_row(name, value)
    if verify_started is not None:
        table.add_row("time to the predicted ranking", f"{verify_started - start:.0f} s")
        table.add_row(f"verification ({campaign.verifier})", f"{end - verify_started:.0f} s")
    console.print(table)
    _echo_rejected(summary)
    problems = round_problems(summary)
    if problems:
        raise _fail("the round did not do its work:\n" + "\n".join(problems), code=2)
    console.print(f"Materials: hopscreen query --results {results_dir} --per-host")
    console.print(f"Report: hopscreen report --results {results_dir} --out report.html")
    console.print(f"Library messages and warnings: {results_dir / LOG_NAME}")


def _echo_rejected(summary: Any) -> None:
    """One stderr line per rejected input listed in the summary, and how many more there are."""
    for failure in summary.candidate_failures:
        typer.echo(f"rejected: {failure.source_ref}: [{failure.code}] {failure.reason}", err=True)
    more = summary.n_candidate_failures - len(summary.candidate_failures)
    if more > 0:
        typer.echo(f"rejected: … and {more} more (the failures collection has them all)", err=True)


def _run_with_status(
    console: Console,
    flow: Any,
    results_dir: Path,
    job_store: Path | None = None,
    force: bool = False,
) -> tuple[Any, float | None]:
    """Run the round locally; the summary and when verification started (None: never).

    The running job shows in a status line; the predicted ranking is printed when
    verification starts.
    """
    ranking = partial(print_predicted_ranking, console, results_dir)
    with (
        chatter_to_log(results_dir / LOG_NAME),
        console.status("starting the round") as status,
        _StatusHandler(status, ranking) as handler,
    ):
        try:
            summary = run_round_locally(flow, results_dir, job_store=job_store, force=force)
        except (RuntimeError, ResultsStoreError, PermissionError) as exc:
            raise _fail(str(exc), code=2) from exc
        return summary, handler.verify_started
