"""jobflow ``Maker`` s of a screening round: their fields are the scientific parameters.

Each Maker holds the options object of its stage (``HopOptions``, ``PredictionConfig``,
``SelectionConfig``, ``UmlipNebConfig`` / ``VaspNebConfig``, ``FinetuneSettings``) and passes it
to its job unchanged. Each Maker's ``make()`` returns one job (or, for
:class:`ScreenRoundMaker`, the whole round as a ``Flow``) from :mod:`hopscreen.workflow.jobs`.

Routing (FireWorks)
-------------------
Batched GNN inference goes to a GPU worker and NEB to DFT workers through the FireWorks spec key
``_fworker`` in each job's ``manager_config``:

* the prediction job gets ``{"_fworker": PredictMaker.fworker}`` (default ``"gpu"``); the
  batch jobs it is split into at run time inherit it;
* the verification fan-out job creates its NEB jobs at run time; they would inherit the fan-out
  job's own routing, so the fan-out sets ``response_manager_config={"_fworker": "dft"}`` (a
  :class:`jobflow.JobConfig` field) and every job of its replacement goes to the DFT worker.

Jobs without ``_fworker`` (candidates, hops, selection, collection) run on any worker.
``run_locally`` ignores routing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from jobflow import Flow, Job, Maker, OnMissing

from hopscreen.candidates import InputLimits
from hopscreen.hops import HopOptions
from hopscreen.inference.config import PredictionConfig
from hopscreen.screening.finetune import FinetuneSettings
from hopscreen.selection import SelectionConfig
from hopscreen.verification.umlip import UmlipNebConfig
from hopscreen.verification.vasp import VaspNebConfig
from hopscreen.workflow import feedback_jobs, jobs

GPU_WORKER = "gpu"
DFT_WORKER = "dft"


@dataclass
class CandidatesMaker(Maker):
    """Load the candidate hosts of a round.

    Parameters
    ----------
    name
        Job name.
    limits
        Caps of the input gate for local files (the hops stage's, see
        :meth:`hopscreen.hops.HopOptions.gate_limits`); None: the defaults.
    """

    name: str = "candidates"
    limits: InputLimits | None = None

    def make(
        self,
        *,
        demo: bool = False,
        files: list[str] | None = None,
        mp_chemsys: list[str] | None = None,
        working_ion: str | None = None,
        results_dir: str | None = None,
        candidates_files: list[str] | None = None,
    ) -> Job:
        """The candidates job for these sources (see ``screening.round.load_candidates``).

        With ``results_dir`` the job writes its documents to that results store at once.
        """
        new = jobs.fetch_candidates(
            demo=demo,
            files=files or [],
            mp_chemsys=mp_chemsys or [],
            working_ion=working_ion,
            limits=self.limits,
            results_dir=results_dir,
            candidates_files=candidates_files or [],
        )
        new.name = self.name
        return new


@dataclass
class HopsMaker(Maker):
    """Enumerate the symmetry-distinct hops of each host and check their bands.

    Parameters
    ----------
    options
        Hop length cut-off, symmetry precision and band supercell size.
    workers
        Worker processes over the hosts (None: one per core; 1: in the job's process); the
        hops are the same in any case.
    hosts_per_job
        Most hosts enumerated by one job: with more, the job is replaced at run time by one
        job per chunk of hosts and a merger (:mod:`hopscreen.workflow.hops_jobs`); None: one
        job however many hosts.
    """

    name: str = "hops"
    options: HopOptions = field(default_factory=HopOptions)
    workers: int | None = 1
    hosts_per_job: int | None = 500

    def make(self, candidates: Any, results_dir: str | None = None) -> Job:
        """The hops job over a list of candidate documents (or a reference to one).

        With ``results_dir`` the job writes its documents to that results store at once.
        """
        new = jobs.enumerate_hops_job(
            candidates,
            hop_options=self.options,
            results_dir=results_dir,
            workers=self.workers,
            hosts_per_job=self.hosts_per_job,
        )
        new.name = self.name
        return new


@dataclass
class PredictMaker(Maker):
    """Batched barrier prediction: one job per batch of many hops, never one job per hop.

    The hops of a round are known only when the hops job has run, so the prediction job
    splits itself at run time: with more than ``options.hops_per_job`` hops it is replaced by
    ``ceil(n_hops / hops_per_job)`` prediction jobs and a merger whose output (one
    :class:`~hopscreen.schemas.round.PredictionsOutput`) is what selection and collection read.

    Parameters
    ----------
    model
        Model folder or shipped model name; None for the shipped default.
    options
        Batch size, hops per job and device.
    fworker
        FireWorks worker the job is routed to (``_fworker``); None for any worker.
    """

    name: str = "predict"
    model: str | None = None
    options: PredictionConfig = field(default_factory=PredictionConfig)
    fworker: str | None = GPU_WORKER

    def make(
        self,
        hops: Any,
        candidates: Any,
        hop_options: HopOptions | None = None,
        results_dir: str | None = None,
    ) -> Job:
        """The prediction job for a list of hops and their hosts (or references to them).

        The batch jobs created at run time inherit this job's ``_fworker``. With
        ``results_dir`` stored predictions are reused and new ones written at once.
        """
        new = jobs.predict_barriers(
            hops,
            candidates,
            hop_options=hop_options,
            model=self.model,
            options=self.options,
            results_dir=results_dir,
        )
        new.name = self.name
        if self.fworker:
            new.update_config({"manager_config": {"_fworker": self.fworker}})
        return new


@dataclass
class SelectMaker(Maker):
    """Choose the hops to verify.

    Parameters
    ----------
    config
        Threshold, interval width, margin, budget, per-host limits and seed.
    """

    name: str = "select"
    config: SelectionConfig = field(default_factory=SelectionConfig)

    def make(
        self,
        predictions: Any,
        candidates: Any = None,
        networks: Any = None,
        results_dir: str | None = None,
    ) -> Job:
        """The selection job over predictions, the hosts and their networks (as needed)."""
        new = jobs.select_for_verification(
            predictions,
            selection=self.config,
            candidates=candidates if self.config.max_host_sites is not None else None,
            networks=networks,  # every host's verdict is written before verification
            results_dir=results_dir,
        )
        new.name = self.name
        return new


@dataclass
class VerifyMaker(Maker):
    """NEB verification of the selected hops, one job per hop created at run time.

    Parameters
    ----------
    tier
        ``"umlip"`` (CHGNet NEB, runs anywhere), ``"vasp"`` (atomate2 DFT NEB on HPC) or
        ``"none"``.
    umlip
        The uMLIP NEB settings (potential, images, caps …).
    vasp
        The VASP NEB settings.
    fworker
        FireWorks worker of the NEB jobs (``_fworker`` of the run-time jobs).
    """

    name: str = "verify"
    tier: Literal["umlip", "vasp", "none"] = "umlip"
    umlip: UmlipNebConfig = field(default_factory=UmlipNebConfig)
    vasp: VaspNebConfig = field(default_factory=VaspNebConfig)
    fworker: str | None = DFT_WORKER

    def make(
        self,
        selection: Any,
        hops: Any,
        candidates: Any,
        hop_options: HopOptions | None = None,
        results_dir: str | None = None,
    ) -> Job:
        """The fan-out job: replaced at run time by one NEB job per selected hop + a gatherer.

        With ``results_dir`` each uMLIP verification reuses a stored one at its level of
        theory, or writes its result there at once.
        """
        new = jobs.verify_selected(
            selection,
            hops,
            candidates,
            tier=self.tier,
            hop_options=hop_options,
            umlip=self.umlip,
            vasp=self.vasp,
            results_dir=results_dir,
        )
        new.name = self.name
        if self.fworker:
            new.update_config({"response_manager_config": {"_fworker": self.fworker}})
        return new


@dataclass
class ScreenRoundMaker(Maker):
    """One screening round: candidates → hops → prediction → selection → verification → store.

    Parameters
    ----------
    candidates, hops, predict, select, verify
        The Makers of each step.
    """

    name: str = "screen round"
    candidates: CandidatesMaker = field(default_factory=CandidatesMaker)
    hops: HopsMaker = field(default_factory=HopsMaker)
    predict: PredictMaker = field(default_factory=PredictMaker)
    select: SelectMaker = field(default_factory=SelectMaker)
    verify: VerifyMaker = field(default_factory=VerifyMaker)

    def make(
        self,
        results_dir: str,
        *,
        demo: bool = False,
        files: list[str] | None = None,
        mp_chemsys: list[str] | None = None,
        working_ion: str | None = None,
        candidates_files: list[str] | None = None,
    ) -> Flow:
        """The round as a Flow whose output is the :class:`~hopscreen.schemas.round.RoundSummary`.

        Parameters
        ----------
        results_dir
            Results folder (the results store) the collector writes into; it must be visible
            to the worker that runs the collector.
        demo, files, mp_chemsys, working_ion, candidates_files
            Candidate sources (see :func:`hopscreen.screening.round.load_candidates`).
        """
        where = str(results_dir)
        cands = self.candidates.make(
            demo=demo,
            files=files,
            mp_chemsys=mp_chemsys,
            working_ion=working_ion,
            results_dir=where,
            candidates_files=candidates_files,
        )
        hop_options = self.hops.options
        hops = self.hops.make(cands.output.candidates, results_dir=where)
        preds = self.predict.make(
            hops.output.hops, cands.output.candidates, hop_options, results_dir=where
        )
        # the hosts' verdicts are computed at selection (and written, so that the ranking can
        # be shown while NEBs run) only when they are needed there: a round that verifies, or
        # the verdicts strategy; the collector computes them for every round
        early = self.verify.tier != "none" or self.select.config.strategy == "verdicts"
        sel = self.select.make(
            preds.output.predictions,
            cands.output.candidates,
            hops.output.networks if early else None,
            results_dir=where,
        )
        ver = self.verify.make(
            sel.output, hops.output.hops, cands.output.candidates, hop_options, results_dir=where
        )
        collect = jobs.collect_round(
            str(results_dir),
            self.select.config.threshold_ev,
            cands.output,
            hops.output,
            preds.output,
            sel.output,
            ver.output,
        )
        collect.name = "collect"
        collect.update_config({"on_missing_references": OnMissing.NONE})
        return Flow([cands, hops, preds, sel, ver, collect], output=collect.output, name=self.name)


@dataclass
class FinetuneMaker(Maker):
    """Fine-tune the round's model on verified hops and re-predict the unverified ones.

    Parameters
    ----------
    settings
        Level policy, epochs, replay, promotion rule … (its ``device``, when None, is the
        re-prediction's).
    registry
        Model registry folder; None for the per-user default.
    data_dir
        Folder of the published dataset (replay and test split); None: resolved.
    prediction
        Inference settings of the re-prediction.
    fworker
        FireWorks worker of both jobs (training and inference want the GPU worker).
    """

    name: str = "finetune"
    settings: FinetuneSettings = field(default_factory=FinetuneSettings)
    registry: str | None = None
    data_dir: str | None = None
    prediction: PredictionConfig = field(default_factory=PredictionConfig)
    fworker: str | None = GPU_WORKER

    def make(
        self,
        results_dir: str,
        round_summary: Any,
        parent_model: str | None,
        hop_options: HopOptions | None = None,
    ) -> tuple[Job, Job]:
        """(fine-tune job, re-prediction job), the first ordered after ``round_summary``."""
        settings = self.settings
        if settings.device is None and self.prediction.device is not None:
            settings = settings.model_copy(update={"device": self.prediction.device})
        tune = feedback_jobs.finetune_on_feedback_job(
            results_dir,
            round_summary,
            parent_model=parent_model,
            settings=settings,
            registry=self.registry,
            data_dir=self.data_dir,
            hop_options=hop_options,
        )
        tune.name = self.name
        again = feedback_jobs.repredict_unverified_job(
            results_dir,
            tune.output,
            hop_options=hop_options,
            options=self.prediction,
        )
        again.name = "re-predict unverified"
        if self.fworker:
            for new in (tune, again):
                new.update_config({"manager_config": {"_fworker": self.fworker}})
        return tune, again


@dataclass
class FinetuneRoundMaker(Maker):
    """A screening round followed by fine-tuning on its verifications and re-prediction.

    verification → fine-tune (new registry version, promoted by the rule of
    :mod:`hopscreen.screening.finetune`) → re-predict the not-yet-verified hops with it. The
    Flow's output is a :class:`hopscreen.schemas.round.FinetuneRoundSummary`.

    Parameters
    ----------
    round
        The screening round (its ``predict.model`` is the parent of the new version).
    finetune
        The fine-tuning step.
    """

    name: str = "screen round + finetune"
    round: ScreenRoundMaker = field(default_factory=ScreenRoundMaker)
    finetune: FinetuneMaker = field(default_factory=FinetuneMaker)

    def make(self, results_dir: str, **sources: Any) -> Flow:
        """The round (see :meth:`ScreenRoundMaker.make`, same arguments) plus fine-tuning."""
        screen = self.round.make(results_dir, **sources)
        hop_options = self.round.hops.options
        tune, again = self.finetune.make(
            str(results_dir), screen.output, self.round.predict.model, hop_options
        )
        tune.update_config({"on_missing_references": OnMissing.NONE})
        collect = feedback_jobs.collect_finetune_round(screen.output, tune.output, again.output)
        collect.name = "collect finetune"
        collect.update_config({"on_missing_references": OnMissing.NONE})
        return Flow([screen, tune, again, collect], output=collect.output, name=self.name)
