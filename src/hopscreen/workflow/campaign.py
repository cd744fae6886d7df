"""A screening campaign: one YAML file that says what to screen, how, and where results go.

Example ``campaign.yaml``::

    sources:
      demo: false
      files: ["structures/*.cif"]
      mp_chemsys: ["Li-Fe-P-O"]
      candidates_file: null  # or a saved MP query: hopscreen candidates --mp … --save DIR
    ion: Li
    results_dir: results/lfpo
    model: null              # shipped default; or a folder / shipped model name
    selection:
      threshold_ev: 0.65
      coverage: 0.68         # calibrated interval; k_sigma·σ for uncalibrated models
      k_sigma: 1.0
      budget: 10
    verifier: umlip          # umlip | vasp | none
    umlip: {neb_max_steps: 50}

Each section is the options object of its stage, passed unchanged to the library:
``hops`` is :class:`~hopscreen.hops.HopOptions` (``supercell`` nested), ``prediction``
:class:`~hopscreen.inference.config.PredictionConfig`, ``selection``
:class:`~hopscreen.selection.SelectionConfig`, ``umlip`` / ``vasp``
:class:`~hopscreen.verification.umlip.UmlipNebConfig` /
:class:`~hopscreen.verification.vasp.VaspNebConfig`, ``finetune``
:class:`~hopscreen.screening.finetune.FinetuneSettings` (plus ``enabled``).
Unknown keys are rejected with the list of allowed ones, so a typo never passes silently.

Materials Project sources never make a compute node call MP unless ``mp_on_worker: true``:
:func:`build_round` runs the ``mp_chemsys`` query on the machine that builds the round (the
login node for FireWorks), saves it as a candidates file under ``<results_dir>/candidates/``
(reused while it exists) and gives the candidates job that file to read.

The functions here build the round's Flow and run it locally or submit it to FireWorks; the
scripts in ``flows/`` and the ``hopscreen screen`` command only call them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import yaml
from jobflow import Flow, run_locally
from pydantic import Field, ValidationError

from hopscreen.candidates import MPQuery, read_candidates_file, save_mp_candidates
from hopscreen.hops import HopOptions
from hopscreen.inference.config import PredictionConfig
from hopscreen.registry import ModelRegistry
from hopscreen.schemas.base import Config
from hopscreen.schemas.round import JobError, RoundSummary
from hopscreen.screening.collect import round_problems
from hopscreen.screening.finetune import FinetuneSettings
from hopscreen.screening.round_record import record_round, recorded_round
from hopscreen.selection import SelectionConfig
from hopscreen.settings import load_settings
from hopscreen.store import round_job_store
from hopscreen.store.killed_runs import mark_local_run, prune_killed_runs
from hopscreen.verification.umlip import UmlipNebConfig
from hopscreen.verification.vasp import VaspNebConfig
from hopscreen.workflow.log_tap import LoggerTap
from hopscreen.workflow.makers import (
    CandidatesMaker,
    FinetuneMaker,
    FinetuneRoundMaker,
    HopsMaker,
    PredictMaker,
    ScreenRoundMaker,
    SelectMaker,
    VerifyMaker,
)
from hopscreen.workflow.round_key import (
    ROUND_KEY_METADATA,
    SETTINGS_NOT_IN_KEY,
    campaign_round_key,
)


class CampaignConfigError(ValueError):
    """A campaign file is unreadable, has unknown keys or invalid values."""


class LaunchPadError(RuntimeError):
    """The FireWorks LaunchPad cannot be reached or refused the workflow."""


class SourcesConfig(Config):
    """Where the candidate hosts come from (any combination)."""

    demo: bool = Field(False, description="The bundled demo hosts.")
    files: list[str] = Field(default_factory=list, description="Structure files or globs.")
    mp_chemsys: list[str] = Field(
        default_factory=list, description="Materials Project chemical systems, e.g. Li-Fe-P-O."
    )
    candidates_file: str | None = Field(
        None,
        description="Saved candidates file (hopscreen candidates --mp … --save DIR), read "
        "offline by the candidates job.",
    )
    mp_on_worker: bool = Field(
        False,
        description="Query mp_chemsys in the candidates job, on whichever worker runs it (it "
        "needs internet and MP_API_KEY there); false: query when the round is built and save "
        "the result under <results_dir>/candidates/.",
    )


class RoutingConfig(Config):
    """FireWorks workers (``_fworker``) of the GPU and DFT jobs."""

    gpu_worker: str | None = "gpu"
    dft_worker: str | None = "dft"


class FinetuneConfig(FinetuneSettings):
    """Fine-tuning after verification (see hopscreen.screening.finetune.FinetuneSettings)."""

    enabled: bool = Field(
        False, description="verification → fine-tune → re-predict the unverified hops."
    )


class CampaignConfig(Config):
    """Everything one screening round needs."""

    sources: SourcesConfig = Field(default_factory=SourcesConfig)
    ion: str | None = Field(
        None, description="Working ion; None only with demo sources (each host's own ion)."
    )
    results_dir: str = Field("results/round", description="Results folder (store).")
    model: str | None = Field(None, description="Model folder or shipped name; None: default.")
    hops: HopOptions = Field(default_factory=HopOptions)
    prediction: PredictionConfig = Field(default_factory=PredictionConfig)
    selection: SelectionConfig = Field(default_factory=SelectionConfig)
    verifier: Literal["umlip", "vasp", "none"] = "umlip"
    umlip: UmlipNebConfig = Field(
        default_factory=UmlipNebConfig, description="CHGNet NEB settings (umlip tier)."
    )
    vasp: VaspNebConfig = Field(
        default_factory=VaspNebConfig, description="VASP NEB settings (vasp tier)."
    )
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    registry: str | None = Field(
        None,
        description="Model registry folder (None: per-user default). With model: null the "
        "round uses its promoted version; fine-tuned versions are registered here.",
    )
    finetune: FinetuneConfig = Field(default_factory=FinetuneConfig)

    def check_sources(self) -> None:
        """Raise :class:`CampaignConfigError` if nothing is to be screened or the ion is missing."""
        src = self.sources
        if not (src.demo or src.files or src.mp_chemsys or src.candidates_file):
            raise CampaignConfigError(
                "no candidate source: use demo, files, mp_chemsys or candidates_file"
            )
        if (src.files or src.mp_chemsys) and not self.ion:
            raise CampaignConfigError("files and mp_chemsys sources need a working ion (ion:)")

    @classmethod
    def from_yaml(cls, path: str | Path) -> CampaignConfig:
        """Read a campaign file; unknown keys and bad values raise :class:`CampaignConfigError`."""
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise CampaignConfigError(f"cannot read campaign file {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise CampaignConfigError(f"{path}: expected a mapping at the top level")
        return cls.from_dict(data, origin=str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, origin: str = "campaign") -> CampaignConfig:
        """Validate a mapping; errors name the offending key and the allowed ones."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise CampaignConfigError(_explain(exc, origin)) from exc

    def to_maker(self) -> ScreenRoundMaker:
        """The :class:`~hopscreen.workflow.makers.ScreenRoundMaker` of this campaign."""
        return ScreenRoundMaker(
            candidates=CandidatesMaker(limits=self.hops.gate_limits()),
            hops=HopsMaker(options=self.hops, workers=self.prediction.workers),
            predict=PredictMaker(
                model=self.model, options=self.prediction, fworker=self.routing.gpu_worker
            ),
            select=SelectMaker(config=self.selection),
            verify=VerifyMaker(
                tier=self.verifier,
                umlip=self.umlip,
                vasp=self.vasp,
                fworker=self.routing.dft_worker,
            ),
        )


def _allowed_keys(model: type[Config], loc: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for part in loc[:-1]:
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        current = field.annotation
    return sorted(getattr(current, "model_fields", {}))


def _explain(exc: ValidationError, origin: str) -> str:
    lines = [f"invalid campaign configuration ({origin}):"]
    for err in exc.errors():
        loc = tuple(err["loc"])
        where = ".".join(str(p) for p in loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(_allowed_keys(CampaignConfig, loc))
            lines.append(f"  unknown key {where!r}; allowed here: {allowed}")
        else:
            lines.append(f"  {where}: {err['msg']}")
    return "\n".join(lines)


def demo_config(results_dir: str = "results/demo") -> CampaignConfig:
    """The settings of ``make screen``: every demo host, a CPU-sized CHGNet verification.

    Two hops at most are verified, only in hosts of at most 12 sites, with the capped
    :class:`hopscreen.verification.umlip.UmlipNebConfig` defaults (supercell ≥ 6 Å, ≤ 120 atoms,
    3 images, at most 50 NEB steps): this finishes in minutes on two CPU cores.
    """
    return CampaignConfig(
        sources=SourcesConfig(demo=True),
        results_dir=results_dir,
        selection=SelectionConfig(budget=2, max_host_sites=12),
        verifier="umlip",
    )


def round_model(config: CampaignConfig) -> str | None:
    """The round's model: ``config.model``, else the registry's promoted version, else None.

    None means the shipped default. A promoted version (``hopscreen models promote``, or a
    fine-tuning round's promotion) is thus what the next round predicts with.
    """
    if config.model is not None:
        return config.model

    promoted = [e for e in ModelRegistry(config.registry).list() if e.promoted]
    return promoted[0].path if promoted else None


def to_finetune_maker(config: CampaignConfig) -> FinetuneRoundMaker:
    """The :class:`~hopscreen.workflow.makers.FinetuneRoundMaker` of a campaign with fine-tuning."""
    settings = FinetuneSettings(**config.finetune.model_dump(exclude={"enabled"}))
    return FinetuneRoundMaker(
        round=config.to_maker(),
        finetune=FinetuneMaker(
            settings=settings,
            registry=config.registry,
            prediction=config.prediction,
            fworker=config.routing.gpu_worker,
        ),
    )


def build_round(config: CampaignConfig) -> Flow:
    """The Flow of one screening round of ``config`` (checks the sources first).

    With ``finetune.enabled`` the round goes on with fine-tuning and re-prediction (its
    output is then a :class:`~hopscreen.schemas.round.FinetuneRoundSummary`). The round's key
    (:func:`~hopscreen.workflow.round_key.campaign_round_key`) goes into the Flow's
    ``metadata``, for :func:`run_round_locally`'s up-to-date check.
    """
    config.check_sources()
    src = config.sources
    model = round_model(config)
    if model != config.model:
        config = config.model_copy(update={"model": model})
    candidates_files, mp_chemsys = candidate_sources(config)
    maker = to_finetune_maker(config) if config.finetune.enabled else config.to_maker()
    flow = maker.make(
        str(Path(config.results_dir).resolve()),
        demo=src.demo,
        files=list(src.files),
        mp_chemsys=mp_chemsys,
        working_ion=config.ion,
        candidates_files=candidates_files,
    )
    key = campaign_round_key(
        config.model_dump(mode="json", exclude=SETTINGS_NOT_IN_KEY),
        model=config.model,
        demo=src.demo,
        files=list(src.files),
        candidates_files=candidates_files,
        mp_chemsys=mp_chemsys,
    )
    if key is not None:
        flow.metadata[ROUND_KEY_METADATA] = key
    return flow


def candidate_sources(
    config: CampaignConfig, *, rester_factory: Callable[[str], Any] | None = None
) -> tuple[list[str], list[str]]:
    """(candidates files, MP chemical systems) the round's candidates job gets.

    ``sources.candidates_file`` is checked now (readable, intact, the campaign's ion) and
    passed as an absolute path. ``sources.mp_chemsys`` is queried here, on the machine that
    builds the round, and saved under ``<results_dir>/candidates/`` (an existing file of the
    same query is reused), unless ``sources.mp_on_worker``: then the job queries it.

    Raises
    ------
    CampaignConfigError
        An ``mp_chemsys`` entry that is not a chemical system.
    hopscreen.candidates.CandidateFileError
        The candidates file is missing, damaged or holds another ion.
    hopscreen.candidates.MPKeyError, hopscreen.candidates.MPQueryError
        The Materials Project query cannot run.

    """
    src = config.sources
    files = []
    if src.candidates_file:
        path = Path(src.candidates_file).resolve()
        read_candidates_file(path, working_ion=config.ion)
        files.append(str(path))
    if not src.mp_chemsys or src.mp_on_worker:
        return files, list(src.mp_chemsys)
    try:
        query = MPQuery(working_ion=str(config.ion), chemsys=list(src.mp_chemsys))
    except ValidationError as exc:
        raise CampaignConfigError(f"sources.mp_chemsys: {exc.errors()[0]['msg']}") from None
    where = Path(config.results_dir).resolve() / "candidates"
    saved = save_mp_candidates(query, where, rester_factory=rester_factory)
    logging.getLogger(__name__).info(
        "%s Materials Project candidates: %s", "reused" if saved.reused else "saved", saved.path
    )
    return [*files, str(saved.path)], []


def run_round_locally(
    flow: Flow,
    results_dir: str | Path,
    *,
    log: bool = False,
    job_store: str | Path | None = None,
    force: bool = False,
) -> RoundSummary:
    """Run a round with ``jobflow.run_locally`` on the job store of ``results_dir``.

    A round that already finished on this results store, with the same key (inputs, settings,
    model; see :mod:`hopscreen.screening.round_record`) and nothing written to the store since,
    is not run again: its recorded summary is returned, with ``reused_from`` set to the
    record. ``force`` runs it anyway (its jobs still reuse what the store holds). A round that
    finishes with no failed job is recorded.

    That is the folder's embedded MontyStore, unless a job store file is given (``job_store``,
    else the ``job_store`` site setting): then the folder is bound to it and every document
    goes there (:func:`hopscreen.store.round_job_store`).

    Jobs that raise do not stop the round (the collector still writes what finished); their
    exceptions are returned in the summary's ``job_errors``, whatever ``log`` says. The job
    documents of earlier local rounds on this folder that were killed are deleted first
    (:mod:`hopscreen.store.killed_runs`); this run is marked until ``run_locally`` returns.

    Returns
    -------
    RoundSummary
        The collector's summary (see :func:`hopscreen.screening.collect.round_problems`).

    Raises
    ------
    RuntimeError
        If the collector did not run; the message names the jobs that failed.

    """
    Path(results_dir).mkdir(parents=True, exist_ok=True)
    store = round_job_store(results_dir, _job_store_file(job_store))
    key = flow.metadata.get(ROUND_KEY_METADATA)
    if key and not force:
        done = recorded_round(results_dir, key)
        if done is not None:
            return done
    pruned = prune_killed_runs(results_dir)
    if pruned:
        logging.getLogger(__name__).info("deleted %d job documents of killed rounds", pruned)
    marker = mark_local_run(results_dir, flow.uuid)
    with _JobErrorLog() as errors:
        responses = run_locally(flow, store=store, log=log)
    marker.unlink(missing_ok=True)  # not reached when the run is killed
    final = responses.get(flow.output.uuid)
    if not final:
        failed = "; ".join(f"{e.job_name}: {e.error}" for e in errors.found) or "no job error"
        raise RuntimeError(f"the round did not finish: its collector job did not run ({failed})")
    output = final[max(final)].output
    summary = output if isinstance(output, RoundSummary) else RoundSummary(**output)
    summary = summary.model_copy(update={"job_errors": [*summary.job_errors, *errors.found]})
    if key and not round_problems(summary):
        record_round(results_dir, key, summary)
    return summary


class _JobErrorLog(LoggerTap):
    """Collects the exceptions jobflow's local manager logs for jobs that raise."""

    logger_name = "jobflow.managers.local"

    def __init__(self) -> None:
        super().__init__()
        self.found: list[JobError] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep ``<job> failed with exception:`` records as a :class:`JobError`."""
        name, sep, trace = record.getMessage().partition(" failed with exception:")
        if sep:
            lines = [line for line in trace.strip().splitlines() if line.strip()]
            self.found.append(JobError(job_name=name, error=lines[-1] if lines else "unknown"))


def submit_to_launchpad(
    flow: Flow,
    results_dir: str | Path,
    launchpad: Any = None,
    *,
    job_store: str | Path | None = None,
) -> list[int]:
    """Add a round to a FireWorks LaunchPad; workers write to the job store of ``results_dir``.

    The job store (chosen as in :func:`run_round_locally`) travels inside each Firework
    (serialised), and the jobs open the results store of ``results_dir``, so that folder must
    be on a file system the workers see; ``launchpad`` defaults to ``LaunchPad.auto_load()``.

    Returns
    -------
    list of int
        The Firework ids.

    Raises
    ------
    LaunchPadError
        The LaunchPad's database cannot be reached (or refused the workflow).

    """
    # optional dependency (engine extra): fireworks, which this jobflow module imports
    from jobflow.managers.fireworks import flow_to_workflow

    # optional dependency (engine extra): pymongo comes with fireworks
    from pymongo.errors import PyMongoError

    Path(results_dir).mkdir(parents=True, exist_ok=True)
    store = round_job_store(results_dir, _job_store_file(job_store))
    workflow = flow_to_workflow(flow, store=store)
    try:
        if launchpad is None:
            # optional dependency (engine extra): fireworks
            from fireworks import LaunchPad

            launchpad = LaunchPad.auto_load()
        mapping = launchpad.add_wf(workflow)
    except PyMongoError as exc:
        where = f"{getattr(launchpad, 'host', '?')}:{getattr(launchpad, 'port', '?')}"
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LaunchPadError(
            f"cannot add the round to the FireWorks LaunchPad at {where} ({first[:200]}); "
            "check its MongoDB server and my_launchpad.yaml (FW_CONFIG_FILE), or run without "
            "--fireworks"
        ) from exc
    return sorted(int(v) for v in mapping.values())


def _job_store_file(explicit: str | Path | None) -> Path | None:
    """The job store file of a round: ``explicit``, else the ``job_store`` site setting."""
    return Path(explicit) if explicit is not None else load_settings().job_store
