"""One screening round as plain, typed functions: the library under :mod:`hopscreen.workflow.jobs`.

Nothing here knows about jobflow: every function takes and returns documents, and tests call
them directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from hopscreen.candidates import (
    InputLimits,
    fetch_mp_candidates,
    load_demo_candidates,
    load_local_candidates,
    read_candidates_file,
)
from hopscreen.hops import HopOptions, enumerate_hops
from hopscreen.hops.hop import Hop
from hopscreen.inference.config import PredictionConfig
from hopscreen.inference.device import resolve_device
from hopscreen.inference.hops import predict_hops
from hopscreen.inference.load import load_model
from hopscreen.inference.workers import predict_hops_in_workers, prediction_plan
from hopscreen.schemas.candidate import CandidateBatch, CandidateDoc
from hopscreen.schemas.hop import HopDoc, HopFailure
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.schemas.round import (
    PredictionsOutput,
    VerificationsOutput,
    strip_markers,
)
from hopscreen.schemas.structure import Crystal
from hopscreen.schemas.verification import LevelOfTheory, VerificationDoc
from hopscreen.screening.checkpoint import stored_predictions, stored_verification, write_stage
from hopscreen.screening.hops_stage import rebuild_bands
from hopscreen.store.results import ResultsStore
from hopscreen.verification.result import verification_id
from hopscreen.verification.umlip import UmlipNebConfig, chgnet_level_of_theory, verify_hop


def load_candidates(
    *,
    demo: bool = False,
    files: Sequence[str] = (),
    mp_chemsys: Sequence[str] = (),
    working_ion: str | None = None,
    limits: InputLimits | None = None,
    candidates_files: Sequence[str] = (),
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
    limits
        Caps of the input gate for the local files (None: the defaults).
    candidates_files
        Saved candidates files (``hopscreen candidates --mp … --save``), read offline; with
        ``working_ion`` set, each must hold that ion's candidates.

    Returns
    -------
    CandidateBatch
        Candidates and failures of all sources; repeated structures become ``duplicate``.

    Raises
    ------
    hopscreen.candidates.CandidateFileError
        When a candidates file is missing, damaged or holds another ion.

    """
    if (files or mp_chemsys) and working_ion is None:
        raise ValueError("a working ion is needed to screen files or Materials Project data")
    batch = CandidateBatch()
    if demo:
        batch.extend(load_demo_candidates(working_ion))
    if files:
        batch.extend(load_local_candidates(list(files), working_ion, limits=limits))
    for path in candidates_files:
        batch.extend(read_candidates_file(path, working_ion=working_ion).batch)
    if mp_chemsys:
        batch.extend(fetch_mp_candidates(working_ion, chemsys=list(mp_chemsys)))
    return batch


def stored_hosts(store: ResultsStore, hops: Sequence[HopDoc]) -> list[CandidateDoc]:
    """The candidate documents of a results store that host ``hops``."""
    ids = sorted({h.candidate_id for h in hops if h.candidate_id})
    if not ids:
        return []
    return store.read_docs("candidates", CandidateDoc, {"candidate_id": {"$in": ids}})


def find_hop(candidate: CandidateDoc, hop_id: str, hop_options: HopOptions | None) -> Hop:
    """Enumerate the hops of ``candidate`` again and return the one with ``hop_id``.

    Raises
    ------
    LookupError
        If the host has no hop with that id under these options.

    """
    options = hop_options or HopOptions()
    for hop in enumerate_hops(
        candidate.get_structure(),
        candidate.working_ion,
        max_hop_length_angstrom=options.max_hop_length_angstrom,
        symprec=options.symprec,
        limits=options.limits,
    ):
        if hop.hop_id == hop_id:
            return hop
    raise LookupError(f"hop {hop_id[:12]} not found in {candidate.name}")


def failed_verification(
    hop_id: str,
    candidate_id: str | None,
    reason: str,
    tier: Literal["umlip", "vasp"] = "umlip",
    level: LevelOfTheory | None = None,
) -> VerificationDoc:
    """A ``status="failed"`` verification document for a hop that could not be verified.

    ``level`` is the level of theory the verification would have had; None when it is not
    known (a job that never returned): then the tier's generic CI-NEB level.
    """
    if level is None:
        code: Literal["CHGNet", "VASP"] = "CHGNet" if tier == "umlip" else "VASP"
        level = LevelOfTheory(method="CI-NEB", code=code)
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
    hop_options: HopOptions | None = None,
    umlip: UmlipNebConfig | None = None,
    results_dir: str | None = None,
) -> VerificationDoc:
    """Verify one hop with a uMLIP NEB; never raises (failures are ``status="failed"``).

    With ``results_dir``, a usable verification of the hop at this level of theory already in
    the results store is returned as it is (no NEB), and a new one is written there at once.

    Parameters
    ----------
    hop
        The hop to verify.
    candidate
        Its host.
    hop_options
        Options the hop was enumerated with (to find it again).
    umlip
        The uMLIP NEB settings (None: the defaults).
    results_dir
        Results folder to reuse and write verifications (None: neither).

    Returns
    -------
    VerificationDoc
        The NEB result (barrier, energies, level of theory, status).

    """
    config = umlip or UmlipNebConfig()
    try:
        if results_dir is not None:
            expected = verification_id(hop.hop_id, chgnet_level_of_theory(config))
            stored = stored_verification(results_dir, expected)
            if stored is not None:
                return stored
        found = find_hop(candidate, hop.hop_id, hop_options)
        doc = verify_hop(found, config=config, candidate_id=candidate.candidate_id)
    except Exception as exc:  # one failed hop must not stop the round
        doc = failed_verification(
            hop.hop_id, candidate.candidate_id, f"{type(exc).__name__}: {exc}", "umlip"
        )
    if results_dir is not None:
        write_stage(results_dir, "verifications", [doc])
    return doc


def hop_batches(hops: Sequence[HopDoc], hops_per_job: int) -> list[list[HopDoc]]:
    """Consecutive batches of at most ``hops_per_job`` hops (the last may be smaller).

    Hops arrive host by host, so consecutive batches keep most hosts in one job (each job
    enumerates the hops of its hosts again to rebuild the bands).
    """
    if hops_per_job < 1:
        raise ValueError(f"hops_per_job must be at least 1, got {hops_per_job}")
    return [list(hops[i : i + hops_per_job]) for i in range(0, len(hops), hops_per_job)]


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
    data = strip_markers(dict(value))
    structure = data.get("structure")
    if hasattr(structure, "as_dict"):
        data["structure"] = structure.as_dict()
    return CandidateDoc.model_validate(data)


def predict_round_hops(
    hops: Sequence[HopDoc],
    candidates: Sequence[CandidateDoc],
    *,
    hop_options: HopOptions | None = None,
    model: str | None = None,
    options: PredictionConfig | None = None,
    results_dir: str | None = None,
) -> PredictionsOutput:
    """Predict E_m ± σ for hops, their bands rebuilt from their hosts.

    Parameters
    ----------
    hops, candidates
        Hop documents and their hosts.
    hop_options
        The options the hops were enumerated with (None: the defaults).
    model
        A model folder, a shipped model name, or None for the shipped default.
    options
        Batch size and device (None: the defaults).
    results_dir
        Results folder: hops it already holds a prediction of by the same model version are
        not predicted again, and the new predictions are written to it at once
        (:mod:`hopscreen.screening.checkpoint`). None: neither.

    Returns
    -------
    PredictionsOutput
        One prediction per hop whose band was rebuilt (or whose prediction was stored), in
        the order of ``hops``; the others as failures.
    """
    options = options or PredictionConfig()
    loaded = load_model(model, device=options.device)
    reused: dict[str, PredictionDoc] = {}
    if results_dir is not None:
        reused = stored_predictions(results_dir, [h.hop_id for h in hops], loaded.model_version)
    todo = [h for h in hops if h.hop_id not in reused]
    kept, bands, failures = rebuild_bands(todo, candidates, hop_options, results_dir)
    device = resolve_device(options.device)
    workers, batch = prediction_plan(options.workers, len(kept), device, options.batch_size)
    if workers > 1:
        docs = predict_hops_in_workers(
            kept, bands, model=model, device=options.device, workers=workers, batch_size=batch
        )
    elif kept:
        docs = predict_hops(kept, bands, model=loaded, batch_size=batch)
    else:
        docs = []
    if results_dir is not None:
        write_stage(results_dir, "predictions", docs)
    by_id = {**reused, **{d.hop_id: d for d in docs}}
    ordered = [by_id[h.hop_id] for h in hops if h.hop_id in by_id]
    return PredictionsOutput(
        model_version=loaded.model_version, predictions=ordered, failures=failures
    )


def stored_round_predictions(
    hops: Sequence[HopDoc],
    *,
    model: str | None,
    options: PredictionConfig | None,
    results_dir: str | Path,
) -> PredictionsOutput | None:
    """All of ``hops``' predictions by ``model`` from the results store, or None if any is missing.

    Lets a prediction job of a re-run end with one read of the store instead of splitting
    into batches that each read it again.
    """
    if not hops:
        return None
    options = options or PredictionConfig()
    version = load_model(model, device=options.device).model_version
    stored = stored_predictions(results_dir, [h.hop_id for h in hops], version)
    if any(h.hop_id not in stored for h in hops):
        return None
    return PredictionsOutput(
        model_version=version, predictions=[stored[h.hop_id] for h in hops], failures=[]
    )


def merge_prediction_parts(
    parts: Sequence[PredictionsOutput | dict[str, Any] | None],
    batch_hops: Sequence[Sequence[tuple[str, str]]],
) -> PredictionsOutput:
    """Concatenate the outputs of prediction batches, in batch order.

    ``parts`` are the batch outputs (None for a batch whose job failed: its hops become
    failures), ``batch_hops`` the ``(hop_id, candidate_name)`` pairs of each batch.

    Raises
    ------
    ValueError
        If the batches were predicted by different model versions.
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


def gather_verification_docs(
    results: Sequence[Any],
    hop_ids: Sequence[str],
    candidate_ids: Sequence[str | None],
    tier: Literal["umlip", "vasp"] = "umlip",
) -> VerificationsOutput:
    """One verification document per selected hop; a missing result becomes ``status="failed"``."""
    docs = []
    for result, hop_id, cid in zip(results, hop_ids, candidate_ids, strict=True):
        if isinstance(result, VerificationDoc):
            docs.append(result)
        elif isinstance(result, dict) and result.get("hop_id") == hop_id:
            docs.append(VerificationDoc(**result))
        else:
            docs.append(failed_verification(hop_id, cid, "verification job failed", tier))
    return VerificationsOutput(verifications=docs)


RebuildBands = Callable[
    [Sequence[HopDoc], Sequence[CandidateDoc]],
    tuple[list[HopDoc], list[Crystal], list[HopFailure]],
]
"""Signature of :func:`rebuild_bands` (hops, hosts) -> (kept, bands, failures)."""
