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

Jobs never raise for a bad input item: failures become documents (``CandidateFailure``,
``HopFailure``, a ``VerificationDoc`` with ``status="failed"``) so that the collector always runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from jobflow import Flow, Response, job
from pydantic import Field

from hopscreen.inference.load import load_model
from hopscreen.schemas.base import Document
from hopscreen.schemas.candidate import CandidateBatch, CandidateDoc, CandidateFailure
from hopscreen.schemas.hop import HopDoc, HopFailure
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.schemas.selection import SelectionDoc
from hopscreen.schemas.training import FinetuneResult
from hopscreen.schemas.verification import VerificationDoc

if TYPE_CHECKING:
    from hopscreen.hops import Hop
    from hopscreen.schemas.structure import Crystal

VerifierTier = Literal["umlip", "vasp", "none"]


# ---------------------------------------------------------------------------------------------
# Output documents of the jobs that return several things
# ---------------------------------------------------------------------------------------------
def _strip_markers(obj: Any) -> Any:
    """Drop monty's ``@module``/``@class`` markers of hopscreen documents (keep pymatgen's)."""
    if isinstance(obj, dict):
        if str(obj.get("@module", "")).startswith("hopscreen"):
            obj = {k: v for k, v in obj.items() if not k.startswith("@")}
        return {k: _strip_markers(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_strip_markers(v) for v in obj]
    return obj


class JobOutput(Document):
    """Base of the job output documents.

    ``from_dict`` makes monty (which jobflow uses to decode stored outputs) validate the
    stored JSON directly: otherwise monty first turns the nested ``CandidateDoc.structure``
    dicts into pymatgen ``Structure`` objects, which that field (a dict) rejects.
    """

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        """Validate a stored (JSON) form of this document."""
        return cls.model_validate(_strip_markers(data))


class CandidatesOutput(JobOutput):
    """Output of :func:`fetch_candidates`: the valid hosts and the rejected inputs."""

    candidates: list[CandidateDoc] = Field(default_factory=list)
    failures: list[CandidateFailure] = Field(default_factory=list)


class HopsOutput(JobOutput):
    """Output of :func:`enumerate_hops_job`: hop documents (no bands) and failures."""

    hops: list[HopDoc] = Field(default_factory=list)
    failures: list[HopFailure] = Field(default_factory=list)


class PredictionsOutput(JobOutput):
    """Output of :func:`predict_barriers`: one prediction per hop whose band could be rebuilt."""

    model_version: str = Field(description="Version id of the model that predicted.")
    predictions: list[PredictionDoc] = Field(default_factory=list)
    failures: list[HopFailure] = Field(default_factory=list)


class VerificationsOutput(JobOutput):
    """Output of the verification fan-out: one document per selected hop (ok or not)."""

    verifications: list[VerificationDoc] = Field(default_factory=list)


class RoundSummary(JobOutput):
    """What one screening round produced and wrote to the results store (counts)."""

    results_dir: str = Field(description="Results folder the documents were written to.")
    model_version: str | None = Field(None, description="Model that predicted the barriers.")
    threshold_ev: float = Field(description="Good/bad threshold on E_m, eV.")
    n_candidates: int = Field(ge=0, description="Valid candidate hosts.")
    n_candidate_failures: int = Field(ge=0, description="Rejected candidate inputs.")
    n_hops: int = Field(ge=0, description="Distinct hops enumerated.")
    n_hop_failures: int = Field(ge=0, description="Hosts or hops without a band.")
    n_predictions: int = Field(ge=0, description="Hops with a predicted barrier.")
    n_predicted_good: int = Field(ge=0, description="Predicted E_m below the threshold.")
    n_predicted_bad: int = Field(ge=0, description="Predicted E_m at or above the threshold.")
    n_selected: int = Field(ge=0, description="Hops sent to verification.")
    n_verified: int = Field(ge=0, description="Verifications that returned a barrier.")
    n_verification_failed: int = Field(ge=0, description="Verifications without a barrier.")
    n_agree: int = Field(
        ge=0, description="Verified hops on the same side of the threshold as predicted."
    )
    written: dict[str, int] = Field(
        default_factory=dict, description="Documents written per results-store collection."
    )


# ---------------------------------------------------------------------------------------------
# Plain helpers (called by the jobs; tested directly)
# ---------------------------------------------------------------------------------------------
def load_candidates(
    *,
    demo: bool = False,
    files: Sequence[str] = (),
    mp_chemsys: Sequence[str] = (),
    working_ion: str | None = None,
) -> CandidateBatch:
    """Load candidates from every requested source into one de-duplicated batch.

    Parameters
    ----------
    demo
        Include the bundled demo hosts (all of them, each with its own ion, when
        ``working_ion`` is None).
    files
        Paths or globs of local structure files (CIF, POSCAR, pymatgen JSON).
    mp_chemsys
        Materials Project chemical systems, e.g. ``["Li-Fe-P-O"]`` (needs ``MP_API_KEY``).
    working_ion
        Element of the migrating ion; required for ``files`` and ``mp_chemsys``.

    Returns
    -------
    CandidateBatch
        Candidates and failures of all sources; repeated structures become ``duplicate``.

    """
    from hopscreen.candidates import (
        fetch_mp_candidates,
        load_demo_candidates,
        load_local_candidates,
    )

    if (files or mp_chemsys) and working_ion is None:
        raise ValueError("a working ion is needed to screen files or Materials Project data")
    batch = CandidateBatch()
    if demo:
        batch.extend(load_demo_candidates(working_ion))
    if files:
        batch.extend(load_local_candidates(list(files), working_ion))
    for chemsys in mp_chemsys:
        batch.extend(fetch_mp_candidates(working_ion, chemsys=chemsys))
    return batch


def _hop_options(hop_options: dict[str, Any] | None, *, build_bands: bool) -> Any:
    from hopscreen.hops import HopOptions

    values = dict(hop_options or {})
    values["build_bands"] = build_bands
    return HopOptions(**values)


def rebuild_bands(
    hops: Sequence[HopDoc],
    candidates: Sequence[CandidateDoc],
    hop_options: dict[str, Any] | None = None,
) -> tuple[list[HopDoc], list[Crystal], list[HopFailure]]:
    """Rebuild the Model-3 band of each hop from its host candidate.

    Parameters
    ----------
    hops
        Hop documents; their ``candidate_id`` must be one of ``candidates``.
    candidates
        The host documents.
    hop_options
        The :class:`~hopscreen.hops.HopOptions` fields the hops were enumerated with.

    Returns
    -------
    tuple
        (hops kept, their bands in the same order, failures for hops whose band was not
        rebuilt).

    """
    from hopscreen.hops import hops_for_structure

    options = _hop_options(hop_options, build_bands=True)
    by_candidate: dict[str | None, list[HopDoc]] = {}
    for hop in hops:
        by_candidate.setdefault(hop.candidate_id, []).append(hop)
    hosts = {c.candidate_id: c for c in candidates}
    kept: list[HopDoc] = []
    bands: list[Crystal] = []
    failures: list[HopFailure] = []
    for cid, wanted in by_candidate.items():
        host = hosts.get(cid) if cid is not None else None
        if host is None:
            failures += [
                HopFailure(
                    candidate_name=h.candidate_name, reason="host not found", hop_id=h.hop_id
                )
                for h in wanted
            ]
            continue
        result = hops_for_structure(
            host.get_structure(),
            host.working_ion,
            host.name,
            candidate_id=host.candidate_id,
            options=options,
        )
        found = {d.hop_id: b for d, b in zip(result.docs, result.bands, strict=True)}
        for hop in wanted:
            band = found.get(hop.hop_id)
            if band is None:
                failures.append(
                    HopFailure(
                        candidate_name=hop.candidate_name,
                        reason="band could not be rebuilt (hop not found again)",
                        hop_id=hop.hop_id,
                    )
                )
                continue
            kept.append(hop)
            bands.append(band)
    return kept, bands, failures


def find_hop(candidate: CandidateDoc, hop_id: str, hop_options: dict[str, Any] | None) -> Hop:
    """Enumerate the hops of ``candidate`` again and return the one with ``hop_id``.

    Raises
    ------
    LookupError
        If the host has no hop with that id under these options.

    """
    from hopscreen.hops import enumerate_hops

    options = _hop_options(hop_options, build_bands=False)
    for hop in enumerate_hops(
        candidate.get_structure(),
        candidate.working_ion,
        max_hop_length_angstrom=options.max_hop_length_angstrom,
        symprec=options.symprec,
    ):
        if hop.hop_id == hop_id:
            return hop
    raise LookupError(f"hop {hop_id[:12]} not found in {candidate.name}")


def failed_verification(
    hop_id: str, candidate_id: str | None, reason: str, tier: Literal["umlip", "vasp"] = "umlip"
) -> VerificationDoc:
    """A ``status="failed"`` verification document for a hop that could not be verified."""
    from hopscreen.schemas.verification import LevelOfTheory
    from hopscreen.verification.result import verification_id

    level = (
        LevelOfTheory(method="CI-NEB", code="CHGNet")
        if tier == "umlip"
        else LevelOfTheory(method="CI-NEB", code="VASP")
    )
    return VerificationDoc(
        verification_id=verification_id(hop_id, level),
        hop_id=hop_id,
        candidate_id=candidate_id,
        tier=tier,
        status="failed",
        reason=reason,
        level_of_theory=level,
    )


def verify_one(
    hop: HopDoc,
    candidate: CandidateDoc,
    *,
    hop_options: dict[str, Any] | None = None,
    umlip: dict[str, Any] | None = None,
) -> VerificationDoc:
    """Verify one hop with a uMLIP NEB; never raises (failures are ``status="failed"``).

    Parameters
    ----------
    hop
        The hop to verify.
    candidate
        Its host.
    hop_options
        Options the hop was enumerated with (to find it again).
    umlip
        Fields of :class:`hopscreen.verification.UmlipNebConfig`.

    Returns
    -------
    VerificationDoc
        The NEB result (barrier, energies, level of theory, status).

    """
    from hopscreen.verification.umlip import UmlipNebConfig, verify_hop

    config = UmlipNebConfig(**(umlip or {}))
    try:
        found = find_hop(candidate, hop.hop_id, hop_options)
        return verify_hop(found, config=config, candidate_id=candidate.candidate_id)
    except Exception as exc:  # one failed hop must not stop the round
        return failed_verification(
            hop.hop_id, candidate.candidate_id, f"{type(exc).__name__}: {exc}", "umlip"
        )


def summarise_round(
    results_dir: str,
    threshold_ev: float,
    candidates: CandidatesOutput,
    hops: HopsOutput,
    predictions: PredictionsOutput,
    selection: SelectionDoc,
    verifications: VerificationsOutput,
    written: dict[str, int] | None = None,
) -> RoundSummary:
    """Count what a round produced, and how often verification agrees with prediction."""
    predicted = {p.hop_id: p.barrier_ev for p in predictions.predictions}
    good = sum(1 for b in predicted.values() if b < threshold_ev)
    ok = [v for v in verifications.verifications if v.barrier_ev is not None and v.status == "ok"]
    agree = sum(
        1
        for v in ok
        if v.hop_id in predicted
        and (predicted[v.hop_id] < threshold_ev) == (v.barrier_ev < threshold_ev)
    )
    return RoundSummary(
        results_dir=results_dir,
        model_version=predictions.model_version,
        threshold_ev=threshold_ev,
        n_candidates=len(candidates.candidates),
        n_candidate_failures=len(candidates.failures),
        n_hops=len(hops.hops),
        n_hop_failures=len(hops.failures) + len(predictions.failures),
        n_predictions=len(predicted),
        n_predicted_good=good,
        n_predicted_bad=len(predicted) - good,
        n_selected=len(selection.selected),
        n_verified=len(ok),
        n_verification_failed=len(verifications.verifications) - len(ok),
        n_agree=agree,
        written=written or {},
    )


def write_round(
    results_dir: str | Path,
    candidates: CandidatesOutput,
    hops: HopsOutput,
    predictions: PredictionsOutput,
    selection: SelectionDoc | None,
    verifications: VerificationsOutput,
) -> dict[str, int]:
    """Upsert every document of a round into the results store (idempotent: content ids).

    ``selection`` is None when the selection job did not run; nothing is then written for it,
    so that a re-run of the round leaves exactly one selection document.

    Returns
    -------
    dict of str to int
        Documents written per collection.

    """
    from hopscreen.store import open_results_store

    groups: dict[str, list[Document]] = {
        "candidates": list(candidates.candidates),
        "hops": list(hops.hops),
        "predictions": list(predictions.predictions),
        "selections": [selection] if selection is not None else [],
        "verifications": list(verifications.verifications),
        "failures": [*candidates.failures, *hops.failures, *predictions.failures],
    }
    with open_results_store(results_dir) as store:
        for collection, docs in groups.items():
            if docs:
                store.write(collection, docs)
    return {name: len(docs) for name, docs in groups.items()}


# ---------------------------------------------------------------------------------------------
# Jobs
# ---------------------------------------------------------------------------------------------
@job(output_schema=CandidatesOutput)
def fetch_candidates(
    demo: bool = False,
    files: list[str] | None = None,
    mp_chemsys: list[str] | None = None,
    working_ion: str | None = None,
) -> CandidatesOutput:
    """Job: load the candidate hosts of a round (see :func:`load_candidates`)."""
    batch = load_candidates(
        demo=demo, files=files or (), mp_chemsys=mp_chemsys or (), working_ion=working_ion
    )
    return CandidatesOutput(candidates=batch.candidates, failures=batch.failures)


@job(output_schema=HopsOutput)
def enumerate_hops_job(
    candidates: list[CandidateDoc], hop_options: dict[str, Any] | None = None
) -> HopsOutput:
    """Job: enumerate and check the hops of every candidate (bands are built, then dropped)."""
    from hopscreen.hops import hops_for_structure

    options = _hop_options(hop_options, build_bands=True)
    out = HopsOutput()
    for cand in candidates:
        result = hops_for_structure(
            cand.get_structure(),
            cand.working_ion,
            cand.name,
            candidate_id=cand.candidate_id,
            options=options,
        )
        out.hops.extend(result.docs)
        out.failures.extend(result.failures)
    return out


@job(output_schema=PredictionsOutput)
def predict_barriers(
    hops: list[HopDoc],
    candidates: list[CandidateDoc],
    hop_options: dict[str, Any] | None = None,
    model: str | None = None,
    batch_size: int = 32,
    device: str | None = None,
    hops_per_job: int | None = None,
) -> Response | PredictionsOutput:
    """Job: predict E_m ± σ for a batch of hops (one job for many hops; bands rebuilt here).

    ``model`` is a model folder, a registered model name, or None for the shipped default.
    With ``hops_per_job`` and more hops than that, the job is replaced at run time by
    ``ceil(len(hops) / hops_per_job)`` prediction jobs and a merger (see
    :func:`split_prediction`); the run-time jobs keep this job's routing (``_fworker``).
    """
    if hops_per_job is not None and len(hops) > hops_per_job:
        return split_prediction(
            hops,
            candidates,
            hop_options=hop_options,
            model=model,
            batch_size=batch_size,
            device=device,
            hops_per_job=hops_per_job,
        )
    from hopscreen.inference.hops import predict_hops

    loaded = load_model(model, device=device)
    kept, bands, failures = rebuild_bands(hops, candidates, hop_options)
    docs = predict_hops(kept, bands, model=loaded, batch_size=batch_size) if kept else []
    return PredictionsOutput(
        model_version=loaded.model_version, predictions=docs, failures=failures
    )


def hop_batches(hops: Sequence[HopDoc], hops_per_job: int) -> list[list[HopDoc]]:
    """Consecutive batches of at most ``hops_per_job`` hops (the last may be smaller).

    Hops arrive host by host, so consecutive batches keep most hosts in one job (each job
    enumerates the hops of its hosts again to rebuild the bands).
    """
    if hops_per_job < 1:
        raise ValueError(f"hops_per_job must be at least 1, got {hops_per_job}")
    return [list(hops[i : i + hops_per_job]) for i in range(0, len(hops), hops_per_job)]


def split_prediction(
    hops: Sequence[HopDoc],
    candidates: Sequence[CandidateDoc],
    *,
    hop_options: dict[str, Any] | None,
    model: str | None,
    batch_size: int,
    device: str | None,
    hops_per_job: int,
) -> Response:
    """Replace the running prediction job by one job per batch of hops and a merger.

    The merger takes the running job's uuid, so that references to the prediction output
    (selection, collector) resolve to the merged :class:`PredictionsOutput`.
    """
    from jobflow import CURRENT_JOB, OnMissing

    batches = hop_batches(hops, hops_per_job)
    new_jobs: list[Any] = []
    for i, batch in enumerate(batches):
        hosts = {h.candidate_id for h in batch}
        part = predict_barriers(
            batch,
            [c for c in candidates if c.candidate_id in hosts],
            hop_options=hop_options,
            model=model,
            batch_size=batch_size,
            device=device,
        )
        part.name = f"predict batch {i + 1}/{len(batches)}"
        new_jobs.append(part)
    merge = merge_predictions(
        [j.output for j in new_jobs],
        [[(h.hop_id, h.candidate_name) for h in batch] for batch in batches],
    )
    merge.name = "merge predictions"
    merge.update_config({"on_missing_references": OnMissing.NONE})
    current = CURRENT_JOB.job
    if current is not None:
        merge.set_uuid(current.uuid)
        merge.index = current.index + 1
        merge.metadata.update(current.metadata)
    return Response(replace=Flow([*new_jobs, merge], output=None, name="prediction batches"))


@job(output_schema=PredictionsOutput)
def merge_predictions(parts: list[Any], batch_hops: list[list[Any]]) -> PredictionsOutput:
    """Job: concatenate the outputs of the prediction batches, in batch order.

    ``parts`` are the batch outputs, ``batch_hops`` the ``(hop_id, candidate_name)`` pairs of
    each batch. Runs with ``on_missing_references="none"``: a batch whose job failed arrives
    as None and its hops are recorded as failures (the round goes on).
    """
    merged = PredictionsOutput(model_version="none")
    versions: list[str] = []
    for part, pairs in zip(parts, batch_hops, strict=True):
        if part is None:
            merged.failures.extend(
                HopFailure(candidate_name=name, reason="prediction job failed", hop_id=hop_id)
                for hop_id, name in pairs
            )
            continue
        out = part if isinstance(part, PredictionsOutput) else PredictionsOutput.from_dict(part)
        versions.append(out.model_version)
        merged.predictions.extend(out.predictions)
        merged.failures.extend(out.failures)
    if len(set(versions)) > 1:
        raise ValueError(f"prediction batches used different models: {sorted(set(versions))}")
    if versions:
        merged.model_version = versions[0]
    return merged


def resolve_model_dir(model: str | None) -> Path | None:
    """A model folder from a path or a registered name (None: the shipped default)."""
    if model is None:
        return None
    from hopscreen.models.shipped import resolve_model_dir as resolve

    return resolve(Path(model).expanduser() if Path(model).expanduser().is_dir() else model)


@job(output_schema=SelectionDoc)
def select_for_verification(
    predictions: list[PredictionDoc],
    selection: dict[str, Any] | None = None,
    candidates: list[CandidateDoc] | None = None,
    max_host_sites: int | None = None,
) -> SelectionDoc:
    """Job: choose the hops to verify (borderline and promising, within the budget).

    With ``max_host_sites``, only hops of hosts with at most that many sites (``candidates``
    gives the sizes) may be verified, e.g. to keep uMLIP NEB affordable on a laptop.
    """
    from hopscreen.selection import SelectionConfig, select_hops

    pool = eligible_predictions(predictions, candidates, max_host_sites)
    return select_hops(pool, SelectionConfig(**(selection or {})))


def eligible_predictions(
    predictions: Sequence[PredictionDoc],
    candidates: Sequence[CandidateDoc] | None,
    max_host_sites: int | None,
) -> list[PredictionDoc]:
    """The predictions whose host has at most ``max_host_sites`` sites (all when None)."""
    if max_host_sites is None:
        return list(predictions)
    sizes = {c.candidate_id: c.n_sites for c in candidates or ()}
    return [
        p
        for p in predictions
        if p.candidate_id in sizes and sizes[p.candidate_id] <= max_host_sites
    ]


def as_candidate(value: CandidateDoc | dict[str, Any]) -> CandidateDoc:
    """A :class:`CandidateDoc` from itself or from its dict form as jobflow/FireWorks decode it.

    A job created at run time carries its inputs inside the serialised job; when it is
    loaded again monty turns the nested structure dict into a pymatgen ``Structure``, which
    is converted back here.
    """
    if isinstance(value, CandidateDoc):
        return value
    data = _strip_markers(dict(value))
    structure = data.get("structure")
    if hasattr(structure, "as_dict"):
        data["structure"] = structure.as_dict()
    return CandidateDoc.model_validate(data)


@job(output_schema=VerificationDoc)
def verify_hop_job(
    hop: HopDoc,
    candidate: dict[str, Any],
    hop_options: dict[str, Any] | None = None,
    umlip: dict[str, Any] | None = None,
) -> VerificationDoc:
    """Job: uMLIP NEB of one hop (never raises; see :func:`verify_one`).

    ``candidate`` is the host document as a dict (see :func:`as_candidate`).
    """
    return verify_one(hop, as_candidate(candidate), hop_options=hop_options, umlip=umlip)


@job(output_schema=VerificationsOutput)
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
    docs = []
    for result, hop_id, cid in zip(results, hop_ids, candidate_ids, strict=True):
        if isinstance(result, VerificationDoc):
            docs.append(result)
        elif isinstance(result, dict) and result.get("hop_id") == hop_id:
            docs.append(VerificationDoc(**result))
        else:
            docs.append(failed_verification(hop_id, cid, "verification job failed", tier))
    return VerificationsOutput(verifications=docs)


@job(output_schema=VerificationsOutput)
def verify_selected(
    selection: SelectionDoc | None,
    hops: list[HopDoc],
    candidates: list[CandidateDoc],
    tier: VerifierTier = "umlip",
    hop_options: dict[str, Any] | None = None,
    umlip: dict[str, Any] | None = None,
    vasp: dict[str, Any] | None = None,
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
                hop, host.model_dump(mode="json"), hop_options=hop_options, umlip=umlip
            )
            new.name = f"verify {host.name} {hop.hop_id[:8]}"
            jobs.append(new)
            outputs.append(new.output)
        else:
            new_flow = vasp_verification_flow(hop, host, hop_options=hop_options, vasp=vasp)
            jobs.append(new_flow)
            outputs.append(new_flow.output)
    from jobflow import CURRENT_JOB, OnMissing

    gather = gather_verifications(outputs, hop_ids, cids, tier=tier)
    gather.update_config({"on_missing_references": OnMissing.NONE})
    gather.name = "gather verifications"
    # The gatherer takes this job's uuid (next index), so references to this job's output
    # resolve to the gathered documents. jobflow's own mapping for a Flow with an output
    # (a ``store_inputs`` job) fails the output_schema check, hence output=None here.
    current = CURRENT_JOB.job
    if current is not None:
        gather.set_uuid(current.uuid)
        gather.index = current.index + 1
        gather.metadata.update(current.metadata)
    return Response(replace=Flow([*jobs, gather], output=None, name="verification"))


def vasp_verification_flow(
    hop: HopDoc,
    candidate: CandidateDoc,
    *,
    hop_options: dict[str, Any] | None = None,
    vasp: dict[str, Any] | None = None,
) -> Flow:
    """The DFT NEB flow of one hop (atomate2 VASP; runs on a DFT worker)."""
    from hopscreen.hops import supercell_endpoints

    found = find_hop(candidate, hop.hop_id, hop_options)
    ends = supercell_endpoints(found, _hop_options(hop_options, build_bands=False).supercell)
    return vasp_neb_verification_flow(
        ends.initial,
        ends.final,
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
    vasp: dict[str, Any] | None = None,
) -> Flow:
    """atomate2's VASP NEB flow of one hop followed by :func:`parse_vasp_neb_job`.

    Parameters
    ----------
    initial, final : pymatgen.core.Structure
        Supercell endpoints, migrating ion first (see
        :func:`hopscreen.verification.make_vasp_neb_flow`).
    hop_id, candidate_id
        Ids recorded in the verification document.
    vasp
        Fields of :class:`hopscreen.verification.VaspNebConfig`.

    Returns
    -------
    jobflow.Flow
        Output: the :class:`VerificationDoc` of the hop (``status="failed"`` with a reason
        when a VASP job failed, since the parser runs on missing references too).

    """
    from jobflow import OnMissing

    from hopscreen.verification import VaspNebConfig, make_vasp_neb_flow

    config = VaspNebConfig(**(vasp or {}))
    neb = make_vasp_neb_flow(initial, final, hop_id=hop_id, config=config)
    parse = parse_vasp_neb_job(
        neb.output, hop_id, candidate_id=candidate_id, vasp=config.model_dump()
    )
    parse.name = f"parse VASP NEB {hop_id[:8]}"
    parse.update_config({"on_missing_references": OnMissing.NONE})
    parse.metadata.update({"hop_id": hop_id, "hopscreen_tier": "vasp"})
    return Flow([neb, parse], output=parse.output, name=neb.name)


@job(output_schema=VerificationDoc)
def parse_vasp_neb_job(
    task_doc: Any,
    hop_id: str,
    candidate_id: str | None = None,
    vasp: dict[str, Any] | None = None,
) -> VerificationDoc:
    """Job: the VerificationDoc of a VASP NEB; never raises.

    See :func:`hopscreen.verification.parse_vasp_neb_output`; a ``task_doc`` of None (the
    NEB flow failed) gives ``status="failed"`` with the reason.
    """
    from hopscreen.verification import VaspNebConfig, parse_vasp_neb_output

    return parse_vasp_neb_output(
        task_doc, hop_id=hop_id, config=VaspNebConfig(**(vasp or {})), candidate_id=candidate_id
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
    from hopscreen.selection import SelectionConfig, select_hops

    cands = candidates or CandidatesOutput()
    hop_out = hops or HopsOutput()
    preds = predictions or PredictionsOutput(model_version="none")
    sel = selection or select_hops([], SelectionConfig(threshold_ev=threshold_ev, budget=0))
    verifs = verifications or VerificationsOutput()
    written = write_round(results_dir, cands, hop_out, preds, selection, verifs)
    return summarise_round(
        str(results_dir), threshold_ev, cands, hop_out, preds, sel, verifs, written=written
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


# ---------------------------------------------------------------------------------------------
# Active learning: fine-tuning on the round's verifications, then re-prediction
# ---------------------------------------------------------------------------------------------
class FinetuneRoundSummary(RoundSummary):
    """A round's summary plus what fine-tuning on its verifications did."""

    finetune: FinetuneResult | None = Field(
        None, description="The fine-tuning step (None when its job did not run)."
    )
    n_repredicted: int = Field(0, ge=0, description="Unverified hops re-predicted.")
    repredicted_model_version: str | None = Field(
        None, description="Model version of the re-predictions."
    )


@job(output_schema=FinetuneResult)
def finetune_on_feedback_job(
    results_dir: str,
    round_summary: Any = None,
    parent_model: str | None = None,
    settings: dict[str, Any] | None = None,
    registry: str | None = None,
    data_dir: str | None = None,
    hop_options: dict[str, Any] | None = None,
) -> FinetuneResult:
    """Job: fine-tune the round's model on the store's verifications into a new version.

    ``round_summary`` only orders this job after the round's collector (which writes the
    verifications). Never raises: an error becomes ``status="failed"`` with its reason.
    See :func:`hopscreen.training.active.finetune_on_feedback`.
    """
    from hopscreen.training.active import FinetuneSettings, finetune_on_feedback

    try:
        return finetune_on_feedback(
            results_dir,
            parent_model=parent_model,
            settings=FinetuneSettings(**(settings or {})),
            registry=registry,
            data_dir=data_dir,
            hop_options=hop_options,
        )
    except Exception as exc:  # the round's results stay usable; the reason is recorded
        return FinetuneResult(status="failed", reason=f"{type(exc).__name__}: {exc}")


@job(output_schema=PredictionsOutput)
def repredict_unverified_job(
    results_dir: str,
    finetune: FinetuneResult | None,
    hop_options: dict[str, Any] | None = None,
    batch_size: int = 32,
    device: str | None = None,
) -> PredictionsOutput:
    """Job: predict the store's not-yet-verified hops with the fine-tuned version.

    Does nothing (empty output) when fine-tuning made no new version. The new predictions
    are written to the results store next to the old ones (keyed by hop and model version).
    """
    from hopscreen.training.active import repredict_unverified

    if finetune is None or finetune.model_dir is None:
        return PredictionsOutput(model_version="none")
    docs, failures = repredict_unverified(
        results_dir,
        finetune.model_dir,
        hop_options=hop_options,
        batch_size=batch_size,
        device=device,
    )
    return PredictionsOutput(
        model_version=str(finetune.model_version),
        predictions=docs,
        failures=[
            HopFailure(candidate_name="?", reason=f.split(": ", 1)[-1], hop_id=f.split(":")[0])
            for f in failures
        ],
    )


@job(output_schema=FinetuneRoundSummary)
def collect_finetune_round(
    summary: RoundSummary | None,
    finetune: FinetuneResult | None,
    repredicted: PredictionsOutput | None,
) -> FinetuneRoundSummary:
    """Job: the round's summary with the fine-tuning and re-prediction results added.

    Runs with ``on_missing_references="none"``: a failed upstream job arrives as None.
    """
    base = summary.model_dump() if summary is not None else {}
    base.setdefault("results_dir", "")
    base.setdefault("threshold_ev", 0.65)
    for name in RoundSummary.model_fields:
        if name not in base and RoundSummary.model_fields[name].is_required():
            base[name] = 0
    return FinetuneRoundSummary(
        **base,
        finetune=finetune,
        n_repredicted=len(repredicted.predictions) if repredicted else 0,
        repredicted_model_version=(
            repredicted.model_version if repredicted and repredicted.predictions else None
        ),
    )


FEEDBACK_JOBS = (finetune_on_feedback_job, repredict_unverified_job, collect_finetune_round)
"""The jobs of the fine-tuning step of a round (each enforces an ``output_schema``)."""
