"""Thin jobflow ``@job`` s over the library stages of one screening round.

Every job calls plain library functions and returns one pydantic document (its
``output_schema``), so that the outputs are validated by jobflow and land in the job store as
plain documents. The data flow of a round is::

    fetch_candidates ─► enumerate_hops ─► predict_barriers ─► select_for_verification
                                          (split at run time into one     │
                                           job per batch of hops +        │
                                           merge_predictions)             │
                           collect_round ◄── verify_selected (replaced at run time by one
                                              verify_hop_job per selected hop + gather)

Bands are **not** stored between jobs: a band of a 170-atom supercell is ~10 kB of JSON per hop
and is a deterministic function of (host structure, hop options, hop_id). The prediction and
verification jobs rebuild the bands/endpoints they need from the candidate documents with
:func:`hopscreen.hops.hops_for_structure`, keeping only the requested ``hop_id`` s.

The list fields of the outputs that grow with the round (candidates, hops, networks,
predictions, failures, verifications) go to the job store's ``data`` additional store
(jobflow's ``@job(data=...)``): the job document keeps a small blob reference, so thousands of
hosts never make a job document exceed MongoDB's 16 MB; references resolve them transparently.

Jobs never raise for a bad input item: failures become documents (``CandidateFailure``,
``HopFailure``, a ``VerificationDoc`` with ``status="failed"``) so that the collector always runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from jobflow import Flow, OnMissing, Response, job

from hopscreen.candidates import InputLimits
from hopscreen.hops import HopOptions
from hopscreen.inference.config import PredictionConfig
from hopscreen.schemas.candidate import CandidateDoc
from hopscreen.schemas.hop import HopDoc, HostNetworkDoc
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.schemas.round import (
    CandidatesOutput,
    HopsOutput,
    PredictionsOutput,
    RoundSummary,
    VerificationsOutput,
)
from hopscreen.schemas.selection import SelectionDoc
from hopscreen.schemas.verification import VerificationDoc
from hopscreen.screening.checkpoint import stored_verdicts, write_stage
from hopscreen.screening.collect import collect_round_docs
from hopscreen.screening.round import (
    as_candidate,
    eligible_predictions,
    failed_verification,
    find_hop,
    gather_verification_docs,
    hop_batches,
    load_candidates,
    merge_prediction_parts,
    predict_round_hops,
    stored_round_predictions,
    verify_one,
)
from hopscreen.screening.verdicts import round_verdicts
from hopscreen.selection import SelectionConfig, select_hops
from hopscreen.selection.verdict import VerdictConfig
from hopscreen.verification import (
    VaspNebConfig,
    make_vasp_neb_flow,
    ordered_endpoints,
    parse_vasp_neb_output,
    vasp_level_of_theory,
)
from hopscreen.verification.umlip import UmlipNebConfig
from hopscreen.workflow.fanout import replace_running_job
from hopscreen.workflow.hops_jobs import enumerate_hops_job as enumerate_hops_job

VerifierTier = Literal["umlip", "vasp", "none"]


# ---------------------------------------------------------------------------------------------
# Jobs
# ---------------------------------------------------------------------------------------------
@job(output_schema=CandidatesOutput, data=["candidates", "failures"])
def fetch_candidates(
    demo: bool = False,
    files: list[str] | None = None,
    mp_chemsys: list[str] | None = None,
    working_ion: str | None = None,
    limits: InputLimits | None = None,
    results_dir: str | None = None,
    candidates_files: list[str] | None = None,
) -> CandidatesOutput:
    """Job: load the candidate hosts of a round (see :func:`load_candidates`).

    ``candidates_files`` are saved Materials Project queries, read offline; only a non-empty
    ``mp_chemsys`` makes this job call the Materials Project. With ``results_dir`` the
    candidates and rejects are written to its store at once.
    """
    batch = load_candidates(
        demo=demo,
        files=files or (),
        mp_chemsys=mp_chemsys or (),
        working_ion=working_ion,
        limits=limits,
        candidates_files=candidates_files or (),
    )
    if results_dir is not None:
        write_stage(results_dir, "candidates", batch.candidates)
        write_stage(results_dir, "failures", batch.failures)
    return CandidatesOutput(candidates=batch.candidates, failures=batch.failures)


@job(output_schema=PredictionsOutput, data=["predictions", "failures"])
def predict_barriers(
    hops: list[HopDoc],
    candidates: list[CandidateDoc],
    hop_options: HopOptions | None = None,
    model: str | None = None,
    options: PredictionConfig | None = None,
    results_dir: str | None = None,
) -> Response | PredictionsOutput:
    """Job: predict E_m ± σ for a batch of hops (one job for many hops; bands rebuilt here).

    ``model`` is a model folder or shipped model name, or None for the shipped default.
    With more hops than ``options.hops_per_job``, the job is replaced at run time by
    ``ceil(len(hops) / hops_per_job)`` prediction jobs and a merger (see
    :func:`split_prediction`); the run-time jobs keep this job's routing (``_fworker``).
    With ``results_dir``, stored predictions of the same model version are reused and new
    ones written at once (see :func:`predict_round_hops`); a job that would split returns
    them instead when every hop has one (:func:`stored_round_predictions`).
    """
    options = options or PredictionConfig()
    if options.hops_per_job is not None and len(hops) > options.hops_per_job:
        if results_dir is not None:  # a re-run with every hop predicted: nothing to split
            done = stored_round_predictions(
                hops, model=model, options=options, results_dir=results_dir
            )
            if done is not None:
                return done
        return split_prediction(
            hops,
            candidates,
            hop_options=hop_options,
            model=model,
            options=options,
            results_dir=results_dir,
        )
    return predict_round_hops(
        hops,
        candidates,
        hop_options=hop_options,
        model=model,
        options=options,
        results_dir=results_dir,
    )


def split_prediction(
    hops: Sequence[HopDoc],
    candidates: Sequence[CandidateDoc],
    *,
    hop_options: HopOptions | None,
    model: str | None,
    options: PredictionConfig,
    results_dir: str | None = None,
) -> Response:
    """Replace the running prediction job by one job per batch of hops and a merger.

    The merger takes the running job's uuid, so that references to the prediction output
    (selection, collector) resolve to the merged :class:`PredictionsOutput`.
    """
    batches = hop_batches(hops, options.hops_per_job or len(hops))
    new_jobs: list[Any] = []
    for i, batch in enumerate(batches):
        hosts = {h.candidate_id for h in batch}
        part = predict_barriers(  # a batch is within hops_per_job: it does not split again
            batch,
            [c for c in candidates if c.candidate_id in hosts],
            hop_options=hop_options,
            model=model,
            options=options,
            results_dir=results_dir,
        )
        part.name = f"predict batch {i + 1}/{len(batches)}"
        new_jobs.append(part)
    merge = merge_predictions(
        [j.output for j in new_jobs],
        [[(h.hop_id, h.candidate_name) for h in batch] for batch in batches],
    )
    merge.name = "merge predictions"
    return replace_running_job(new_jobs, merge, "prediction batches")


@job(output_schema=PredictionsOutput, data=["predictions", "failures"])
def merge_predictions(parts: list[Any], batch_hops: list[list[Any]]) -> PredictionsOutput:
    """Job: concatenate the outputs of the prediction batches, in batch order.

    ``parts`` are the batch outputs, ``batch_hops`` the ``(hop_id, candidate_name)`` pairs of
    each batch. Runs with ``on_missing_references="none"``: a batch whose job failed arrives
    as None and its hops are recorded as failures (the round goes on).
    """
    return merge_prediction_parts(parts, batch_hops)


@job(output_schema=SelectionDoc)
def select_for_verification(
    predictions: list[PredictionDoc],
    selection: SelectionConfig | None = None,
    candidates: list[CandidateDoc] | None = None,
    networks: list[HostNetworkDoc] | None = None,
    results_dir: str | None = None,
) -> SelectionDoc:
    """Job: choose the hops to verify (borderline and promising, within the budget).

    With ``selection.max_host_sites``, only hops of hosts with at most that many sites
    (``candidates`` gives the sizes) may be verified, e.g. to keep uMLIP NEB affordable on a
    laptop. With ``selection.strategy == "verdicts"`` the hosts' verdicts are computed from
    ``networks`` and the predictions, and their bottleneck hops are selected. With
    ``results_dir`` the selection is written to its store at once.
    """
    config = selection or SelectionConfig()
    pool = eligible_predictions(predictions, candidates, config.max_host_sites)
    verdict_config = VerdictConfig(threshold_ev=config.threshold_ev)
    verdicts = []
    if config.strategy == "verdicts":
        verdicts, _ = round_verdicts(networks or [], pool, verdict_config)
    selection = select_hops(pool, config, verdicts)
    if results_dir is not None and networks:
        # every host's verdict is in the store before verification starts, so the ranking can
        # be read (hopscreen screen prints it, query --per-host shows it) while NEBs run
        versions = {p.model_version for p in predictions}
        stored = stored_verdicts(results_dir, versions.pop()) if len(versions) == 1 else {}
        ranked, _ = round_verdicts(networks, predictions, verdict_config, stored=stored)
        write_stage(results_dir, "verdicts", ranked)
        write_stage(results_dir, "selections", [selection])
    return selection


@job(output_schema=VerificationDoc)
def verify_hop_job(
    hop: HopDoc,
    candidate: dict[str, Any],
    hop_options: HopOptions | None = None,
    umlip: UmlipNebConfig | None = None,
    results_dir: str | None = None,
) -> VerificationDoc:
    """Job: uMLIP NEB of one hop (never raises; see :func:`verify_one`).

    ``candidate`` is the host document as a dict (see :func:`as_candidate`). With
    ``results_dir`` a stored verification is reused and a new one written at once.
    """
    return verify_one(
        hop,
        as_candidate(candidate),
        hop_options=hop_options,
        umlip=umlip,
        results_dir=results_dir,
    )


@job(output_schema=VerificationsOutput, data="verifications")
def gather_verifications(
    results: list[Any],
    hop_ids: list[str],
    candidate_ids: list[str | None],
    tier: Literal["umlip", "vasp"] = "umlip",
) -> VerificationsOutput:
    """Job: collect the verification documents; a missing one becomes ``status="failed"``.

    Runs with ``on_missing_references="none"`` so that a crashed verification job (its output
    is None) still leaves a record.
    """
    return gather_verification_docs(results, hop_ids, candidate_ids, tier)


@job(output_schema=VerificationsOutput, data="verifications")
def verify_selected(
    selection: SelectionDoc | None,
    hops: list[HopDoc],
    candidates: list[CandidateDoc],
    tier: VerifierTier = "umlip",
    hop_options: HopOptions | None = None,
    umlip: UmlipNebConfig | None = None,
    vasp: VaspNebConfig | None = None,
    results_dir: str | None = None,
) -> Response | VerificationsOutput:
    """Job: fan out one verification job per selected hop, then gather them.

    Replaced at run time by ``Flow([verify_hop_job ..., gather_verifications])``; the new jobs
    take the routing in this job's ``response_manager_config`` (set by the Makers).
    """
    if tier == "none" or selection is None or not selection.selected:
        return VerificationsOutput()
    hop_by_id = {h.hop_id: h for h in hops}
    host_by_id = {c.candidate_id: c for c in candidates}
    jobs: list[Any] = []
    outputs: list[Any] = []
    hop_ids: list[str] = []
    cids: list[str | None] = []
    for sel in selection.selected:
        hop = hop_by_id.get(sel.hop_id)
        host = host_by_id.get(hop.candidate_id) if hop is not None else None
        hop_ids.append(sel.hop_id)
        cids.append(sel.candidate_id)
        if hop is None or host is None:
            outputs.append(None)  # recorded as failed by the gatherer
            continue
        if tier == "umlip":
            new = verify_hop_job(
                hop,
                host.model_dump(mode="json"),
                hop_options=hop_options,
                umlip=umlip,
                results_dir=results_dir,
            )
            new.name = f"verify {host.name} {hop.hop_id[:8]}"
            jobs.append(new)
            outputs.append(new.output)
        else:
            try:
                new_flow = vasp_verification_flow(hop, host, hop_options=hop_options, vasp=vasp)
            except Exception as exc:  # e.g. a supercell too small for the hop: record, go on
                reason = f"VASP NEB inputs: {type(exc).__name__}: {exc}"
                level = vasp_level_of_theory(vasp or VaspNebConfig(), host.get_structure())
                outputs.append(
                    failed_verification(hop.hop_id, host.candidate_id, reason, "vasp", level)
                )
                continue
            jobs.append(new_flow)
            outputs.append(new_flow.output)
    gather = gather_verifications(outputs, hop_ids, cids, tier=tier)
    gather.name = "gather verifications"
    return replace_running_job(jobs, gather, "verification")


def vasp_verification_flow(
    hop: HopDoc,
    candidate: CandidateDoc,
    *,
    hop_options: HopOptions | None = None,
    vasp: VaspNebConfig | None = None,
) -> Flow:
    """The DFT NEB flow of one hop (atomate2 VASP; runs on a DFT worker).

    The endpoints are those of every verification tier
    (:func:`hopscreen.verification.ordered_endpoints`: only the migrating ion differs), in
    the supercell of ``hop_options.supercell``.
    """
    found = find_hop(candidate, hop.hop_id, hop_options)
    initial, final = ordered_endpoints(found, (hop_options or HopOptions()).supercell)
    return vasp_neb_verification_flow(
        initial,
        final,
        hop_id=hop.hop_id,
        candidate_id=candidate.candidate_id,
        vasp=vasp,
    )


def vasp_neb_verification_flow(
    initial: Any,
    final: Any,
    *,
    hop_id: str,
    candidate_id: str | None = None,
    vasp: VaspNebConfig | None = None,
) -> Flow:
    """atomate2's VASP NEB flow of one hop followed by :func:`parse_vasp_neb_job`.

    Parameters
    ----------
    initial, final : pymatgen.core.Structure
        Supercell endpoints in one atom order, migrating ion first (see
        :func:`hopscreen.verification.ordered_endpoints`).
    hop_id, candidate_id
        Ids recorded in the verification document.
    vasp
        The VASP NEB settings (None: the defaults); ``hubbard_u="mp"`` is resolved on
        ``initial`` so that the parser records the U applied.

    Returns
    -------
    jobflow.Flow
        Output: the :class:`VerificationDoc` of the hop (``status="failed"`` with a reason
        when a VASP job failed, since the parser runs on missing references too).

    """
    config = (vasp or VaspNebConfig()).for_structure(initial)  # the U applied, recorded
    neb = make_vasp_neb_flow(initial, final, hop_id=hop_id, config=config)
    parse = parse_vasp_neb_job(neb.output, hop_id, candidate_id=candidate_id, vasp=config)
    parse.name = f"parse VASP NEB {hop_id[:8]}"
    parse.update_config({"on_missing_references": OnMissing.NONE})
    parse.metadata.update({"hop_id": hop_id, "hopscreen_tier": "vasp"})
    return Flow([neb, parse], output=parse.output, name=neb.name)


@job(output_schema=VerificationDoc)
def parse_vasp_neb_job(
    task_doc: Any,
    hop_id: str,
    candidate_id: str | None = None,
    vasp: VaspNebConfig | None = None,
) -> VerificationDoc:
    """Job: the VerificationDoc of a VASP NEB; never raises.

    See :func:`hopscreen.verification.parse_vasp_neb_output`; a ``task_doc`` of None (the
    NEB flow failed) gives ``status="failed"`` with the reason.
    """
    return parse_vasp_neb_output(
        task_doc, hop_id=hop_id, config=vasp or VaspNebConfig(), candidate_id=candidate_id
    )


@job(output_schema=RoundSummary)
def collect_round(
    results_dir: str,
    threshold_ev: float,
    candidates: CandidatesOutput | None,
    hops: HopsOutput | None,
    predictions: PredictionsOutput | None,
    selection: SelectionDoc | None,
    verifications: VerificationsOutput | None,
) -> RoundSummary:
    """Job: write every document of the round into the results store and summarise it.

    Runs even when an upstream job failed (``on_missing_references="none"``: a missing output
    arrives as None and counts as empty). Idempotent: documents are upserted by their content
    ids, so re-running a killed round writes no duplicates.
    """
    return collect_round_docs(
        results_dir, threshold_ev, candidates, hops, predictions, selection, verifications
    )


ALL_JOBS = (
    fetch_candidates,
    enumerate_hops_job,
    predict_barriers,
    merge_predictions,
    select_for_verification,
    verify_hop_job,
    gather_verifications,
    verify_selected,
    parse_vasp_neb_job,
    collect_round,
)
"""Every job of this module (tests check each one enforces an ``output_schema``)."""
