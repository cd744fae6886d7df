from __future__ import annotations

import pytest
from jobflow import JobStore
from maggma.stores import MemoryStore

from hopscreen.candidates import load_demo_candidates
from hopscreen.schemas.base import Document
from hopscreen.schemas.round import (
    CandidatesOutput,
    HopsOutput,
    PredictionsOutput,
    VerificationsOutput,
)
from hopscreen.schemas.selection import SelectionDoc
from hopscreen.screening.collect import summarise_round
from hopscreen.screening.round import as_candidate, eligible_predictions, verify_one
from hopscreen.workflow import feedback_jobs, jobs


def _dummy_args(fn):
    return {
        jobs.fetch_candidates: ((), {}),
        jobs.enumerate_hops_job: (([],), {}),
        jobs.predict_barriers: (([], []), {}),
        jobs.merge_predictions: (([], []), {}),
        jobs.select_for_verification: (([],), {}),
        jobs.verify_hop_job: ((None, {}), {}),
        jobs.gather_verifications: (([], [], []), {}),
        jobs.verify_selected: ((None, [], []), {}),
        jobs.parse_vasp_neb_job: ((None, "hop-x"), {}),
        jobs.collect_round: (("x", 0.65, None, None, None, None, None), {}),
        feedback_jobs.finetune_on_feedback_job: (("x",), {}),
        feedback_jobs.repredict_unverified_job: (("x", None), {}),
        feedback_jobs.collect_finetune_round: ((None, None, None), {}),
    }[fn]


@pytest.mark.parametrize(
    "fn", [*jobs.ALL_JOBS, *feedback_jobs.FEEDBACK_JOBS], ids=lambda f: f.__name__
)
def test_every_job_sets_an_output_schema(fn):
    # jobflow silently accepts unknown @job keywords (schema= for output_schema=)
    args, kwargs = _dummy_args(fn)
    job = fn(*args, **kwargs)
    assert job.output_schema is not None
    assert issubclass(job.output_schema, Document)


def test_output_schema_is_enforced():
    job = jobs.collect_round("x", 0.65, None, None, None, None, None)
    job.function = lambda *a, **k: {"not_a_field": 1}  # a job returning the wrong shape
    store = JobStore(MemoryStore())
    store.connect()
    with pytest.raises(ValueError):
        job.run(store=store)


def test_candidate_round_trips_through_its_stored_form():
    (cand,) = load_demo_candidates("Na").candidates
    from monty.json import MontyDecoder, jsanitize

    out = CandidatesOutput(candidates=[cand])
    decoded = MontyDecoder().process_decoded(jsanitize(out, strict=True, allow_bson=True))
    assert isinstance(decoded, CandidatesOutput)
    assert decoded.candidates[0].get_structure() == cand.get_structure()
    as_dict = MontyDecoder().process_decoded(jsanitize(cand.model_dump(mode="json")))
    again = as_candidate(as_dict)
    assert again.candidate_id == cand.candidate_id
    assert again.get_structure() == cand.get_structure()


def test_gather_turns_missing_results_into_failed_docs():
    out = jobs.gather_verifications.original([None], ["hop-1"], ["c"], tier="umlip")
    (doc,) = out.verifications
    assert doc.status == "failed" and doc.hop_id == "hop-1" and doc.barrier_ev is None


def test_verify_one_never_raises():
    (cand,) = load_demo_candidates("Na").candidates
    from hopscreen.schemas.hop import HopDoc

    hop = HopDoc(
        hop_id="hop-unknown",
        candidate_id=cand.candidate_id,
        candidate_name=cand.name,
        working_ion="Na",
        length_angstrom=3.0,
        isite_frac=[0, 0, 0],
        esite_frac=[0.5, 0, 0],
        host_formula="NaFeO2",
    )
    doc = verify_one(hop, cand)
    assert doc.status == "failed" and "not found" in doc.reason


def test_eligible_predictions_by_host_size():
    from hopscreen.schemas.prediction import PredictionDoc

    batch = load_demo_candidates("Li")
    small = {c.candidate_id for c in batch.candidates if c.n_sites <= 7}
    preds = [
        PredictionDoc(
            hop_id=f"h{i}",
            candidate_id=c.candidate_id,
            candidate_name=c.name,
            working_ion="Li",
            model_version="m",
            barrier_ev=0.5,
            sigma_ev=0.1,
            member_barriers_ev=[0.5],
        )
        for i, c in enumerate(batch.candidates)
    ]
    kept = eligible_predictions(preds, batch.candidates, 7)
    assert {p.candidate_id for p in kept} == small
    assert eligible_predictions(preds, None, None) == preds


def test_summary_counts_agreement():
    from hopscreen.schemas.prediction import PredictionDoc
    from hopscreen.selection import select_hops

    preds = [
        PredictionDoc(
            hop_id=h,
            candidate_name="x",
            working_ion="Li",
            model_version="m",
            barrier_ev=b,
            sigma_ev=0.0,
            member_barriers_ev=[b],
        )
        for h, b in (("a", 0.3), ("b", 0.9))
    ]
    ok = jobs.gather_verifications.original([None, None], ["a", "b"], [None, None]).verifications
    ok = [v.model_copy(update={"status": "ok", "barrier_ev": 0.4}) for v in ok]
    summary = summarise_round(
        "r",
        0.65,
        CandidatesOutput(),
        HopsOutput(),
        PredictionsOutput(model_version="m", predictions=preds),
        select_hops([]),
        VerificationsOutput(verifications=ok),
    )
    assert summary.n_predicted_good == 1 and summary.n_predicted_bad == 1
    assert summary.n_verified == 2 and summary.n_agree == 1
    assert isinstance(select_hops([]), SelectionDoc)
