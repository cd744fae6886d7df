"""The end of a round: write its documents to the results store, count them, say what failed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hopscreen.schemas.base import Document
from hopscreen.schemas.round import (
    MAX_LISTED_FAILURES,
    CandidatesOutput,
    HopsOutput,
    PredictionsOutput,
    RoundSummary,
    VerificationsOutput,
)
from hopscreen.schemas.selection import SelectionDoc
from hopscreen.schemas.verdict import HostVerdictDoc
from hopscreen.screening.checkpoint import stored_verdicts
from hopscreen.screening.verdicts import round_verdicts
from hopscreen.selection import SelectionConfig, select_hops
from hopscreen.selection.verdict import VerdictConfig
from hopscreen.store import open_results_store


def summarise_round(
    results_dir: str,
    threshold_ev: float,
    candidates: CandidatesOutput,
    hops: HopsOutput,
    predictions: PredictionsOutput,
    selection: SelectionDoc,
    verifications: VerificationsOutput,
    written: dict[str, int] | None = None,
    failed_stages: Sequence[str] = (),
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
        failed_stages=list(failed_stages),
        candidate_failures=candidates.failures[:MAX_LISTED_FAILURES],
    )


def write_round(
    results_dir: str | Path,
    candidates: CandidatesOutput,
    hops: HopsOutput,
    predictions: PredictionsOutput,
    selection: SelectionDoc | None,
    verifications: VerificationsOutput,
    verdicts: Sequence[HostVerdictDoc] = (),
) -> dict[str, int]:
    """Upsert every document of a round into the results store (idempotent: content ids).

    ``selection`` is None when the selection job did not run; nothing is then written for it,
    so that a re-run of the round leaves exactly one selection document. ``verdicts`` are the
    per-host verdicts (:func:`~hopscreen.screening.verdicts.round_verdicts`).

    Returns
    -------
    dict of str to int
        Documents written per collection.

    """
    groups: dict[str, list[Document]] = {
        "candidates": list(candidates.candidates),
        "hops": list(hops.hops),
        "predictions": list(predictions.predictions),
        "selections": [selection] if selection is not None else [],
        "verifications": list(verifications.verifications),
        "failures": [*candidates.failures, *hops.failures, *predictions.failures],
        "verdicts": list(verdicts),
    }
    with open_results_store(results_dir) as store:
        for collection, docs in groups.items():
            if docs:
                store.write(collection, docs)
    return {name: len(docs) for name, docs in groups.items()}


def collect_round_docs(
    results_dir: str,
    threshold_ev: float,
    candidates: CandidatesOutput | None,
    hops: HopsOutput | None,
    predictions: PredictionsOutput | None,
    selection: SelectionDoc | None,
    verifications: VerificationsOutput | None,
) -> RoundSummary:
    """Write every document of a round into the results store and summarise the round.

    A missing stage output (None: its job failed) counts as empty. Idempotent: documents are
    upserted by their content ids, so re-running a killed round writes no duplicates. The
    per-host verdicts are computed here, from the hosts' networks and the predictions, with
    the round's threshold.
    """
    outputs = {
        "candidates": candidates,
        "hops": hops,
        "predictions": predictions,
        "selection": selection,
        "verifications": verifications,
    }
    failed = [stage for stage, output in outputs.items() if output is None]
    cands = candidates or CandidatesOutput()
    hop_out = hops or HopsOutput()
    preds = predictions or PredictionsOutput(model_version="none")
    sel = selection or select_hops([], SelectionConfig(threshold_ev=threshold_ev, budget=0))
    verifs = verifications or VerificationsOutput()
    verdicts, _ = round_verdicts(  # a host whose inputs are unchanged keeps its stored verdict
        hop_out.networks,
        preds.predictions,
        VerdictConfig(threshold_ev=threshold_ev),
        stored=stored_verdicts(results_dir, preds.model_version),
    )
    written = write_round(results_dir, cands, hop_out, preds, selection, verifs, verdicts)
    return summarise_round(
        str(results_dir),
        threshold_ev,
        cands,
        hop_out,
        preds,
        sel,
        verifs,
        written=written,
        failed_stages=failed,
    )


def round_problems(summary: RoundSummary) -> list[str]:
    """Why a round did not do its work, one line each; empty when it did.

    A round fails when a stage's job failed (its output is missing) or when no candidate
    was valid. Failures of single hosts, hops or verifications in an otherwise working round
    are recorded documents, not round failures.
    """
    lines = [f"job {e.job_name!r} failed: {e.error}" for e in summary.job_errors]
    if summary.failed_stages:
        lines.append(
            "no output from: " + ", ".join(summary.failed_stages) + " (their job failed; "
            "what finished before is in the results store)"
        )
    if summary.n_candidates == 0 and "candidates" not in summary.failed_stages:
        lines.append(
            f"no valid candidate: all {summary.n_candidate_failures} input(s) were rejected"
        )
        lines += [
            f"  {f.name} ({f.source_ref}): {f.code}: {f.reason}" for f in summary.candidate_failures
        ]
    return lines
