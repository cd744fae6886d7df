"""Results store: round trip through MontyDB (sqlite), idempotent upserts, keys, backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from hopscreen.schemas.base import Document
from hopscreen.schemas.candidate import CandidateDoc, CandidateFailure
from hopscreen.schemas.hop import HopDoc
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.schemas.selection import SelectionDoc
from hopscreen.schemas.verification import VerificationDoc
from hopscreen.store import COLLECTIONS, jobflow_store, open_results_store
from hopscreen.store.results import ResultsStore, content_hash, verification_key


def test_round_trip(tmp_path: Path, round_docs: dict[str, list]) -> None:
    path = tmp_path / "new" / "results"
    with open_results_store(path) as store:
        for collection, docs in round_docs.items():
            assert store.write(collection, docs) == len(docs)
    assert (path / "hopscreen").is_dir()  # montydb database folder
    # a fresh store on the same folder sees everything (data are on disk)
    with open_results_store(path, create=False) as store:
        for collection, docs in round_docs.items():
            assert store.count(collection) == len(docs), collection
        models = {
            "candidates": CandidateDoc,
            "hops": HopDoc,
            "predictions": PredictionDoc,
            "selections": SelectionDoc,
            "verifications": VerificationDoc,
        }
        for collection, model in models.items():
            key = COLLECTIONS[collection].key_field
            back = sorted(store.read_docs(collection, model), key=lambda d: str(d.model_dump()))
            want = sorted(round_docs[collection], key=lambda d: str(d.model_dump()))
            assert back == want, collection
            assert all(key in r for r in store.read(collection)), collection
        record = store.read("predictions", {"hop_id": "h1"})[0]
        assert record["prediction_id"] == "h1:v1"
        assert record["doc_type"] == "PredictionDoc"
        assert "_id" not in record
        assert record["last_updated"] is not None
        assert store.count("predictions", {"working_ion": "Na"}) == 1
        failures = store.read("failures", {"doc_type": "CandidateFailure"})
        assert [f["name"] for f in failures] == ["bad"]


def test_write_twice_updates_instead_of_duplicating(
    tmp_path: Path, round_docs: dict[str, list]
) -> None:
    with open_results_store(tmp_path) as store:
        for _ in range(2):
            for collection, docs in round_docs.items():
                store.write(collection, docs)
        for collection, docs in round_docs.items():
            assert store.count(collection) == len(docs), collection
        changed = round_docs["predictions"][0].model_copy(update={"barrier_ev": 0.99})
        store.write("predictions", [changed])
        assert store.count("predictions") == len(round_docs["predictions"])
        assert store.read("predictions", {"hop_id": changed.hop_id})[0]["barrier_ev"] == 0.99
        # another model version is another document
        store.write("predictions", [changed.model_copy(update={"model_version": "v2"})])
        assert store.count("predictions", {"hop_id": changed.hop_id}) == 2


def test_failures_are_keyed_by_content(tmp_path: Path) -> None:
    a = CandidateFailure(name="a", source_ref="a.cif", code="unparsable", reason="x")
    b = CandidateFailure(name="a", source_ref="a.cif", code="unparsable", reason="y")
    with open_results_store(tmp_path) as store:
        store.write("failures", [a, a, b])
        store.write("failures", [a])
        assert store.count("failures") == 2
        ids = {r["failure_id"] for r in store.read("failures")}
    assert len(ids) == 2
    assert all(len(i) == 64 for i in ids)


class _BareVerification(Document):
    """A verification without an id of its own (the store computes one)."""

    hop_id: str
    barrier_ev: float
    method: str


def test_generic_documents_get_computed_keys(tmp_path: Path) -> None:
    docs = [
        _BareVerification(hop_id="h1", barrier_ev=0.4, method="NEB"),
        _BareVerification(hop_id="h1", barrier_ev=0.5, method="DFT"),
        _BareVerification(hop_id="h1", barrier_ev=0.45, method="NEB"),  # replaces the first
    ]
    with open_results_store(tmp_path) as store:
        store.write("verifications", docs)
        records = store.read("verifications", sort={"barrier_ev": 1})
    assert [r["barrier_ev"] for r in records] == [0.45, 0.5]
    assert records[0]["verification_id"] == verification_key(docs[0].model_dump())
    assert records[0]["verification_id"].startswith("h1:")
    assert records[0]["doc_type"] == "_BareVerification"


def test_misuse_is_reported(tmp_path: Path) -> None:
    store = open_results_store(tmp_path)
    with pytest.raises(RuntimeError, match="with store"):
        store.count("hops")
    with store, pytest.raises(ValueError, match="unknown collection 'hopz'"):
        store.read("hopz")
    with pytest.raises(FileNotFoundError):
        open_results_store(tmp_path / "missing", create=False)
    with pytest.raises(ValueError, match="either"):
        open_results_store()
    with pytest.raises(ValueError, match="either"):
        open_results_store(tmp_path, mongo={"host": "h"})
    with pytest.raises(ValueError, match="no store"):
        ResultsStore({})


def test_mongo_backend_is_configured_not_connected() -> None:
    from maggma.stores import MongoStore

    store = open_results_store(
        mongo={"host": "mongo.example.invalid", "port": 27018, "collection_prefix": "hs_"}
    )
    assert set(store.stores) == set(COLLECTIONS)
    preds = store.stores["predictions"]
    assert isinstance(preds, MongoStore)
    assert preds.collection_name == "hs_predictions"
    assert preds.database == "hopscreen"
    assert preds.key == "prediction_id"
    assert store.location == "mongodb://mongo.example.invalid"
    js = jobflow_store(mongo={"host": "mongo.example.invalid", "database": "hpc"})
    assert js.docs_store.collection_name == "jobflow_outputs"
    assert js.docs_store.database == "hpc"


def test_jobflow_store_lives_beside_the_results(tmp_path: Path, round_docs: dict) -> None:
    from jobflow import Flow, job, run_locally

    @job
    def add(a: int, b: int) -> int:
        return a + b

    first = add(1, 2)
    second = add(first.output, 10)
    js = jobflow_store(tmp_path)
    responses = run_locally(
        Flow([first, second]), store=js, log=False, ensure_success=True, root_dir=tmp_path
    )
    assert responses[second.uuid][1].output == 13
    with open_results_store(tmp_path) as store:
        store.write("hops", round_docs["hops"])
        assert store.count("hops") == len(round_docs["hops"])
    js.connect()
    try:
        assert js.get_output(second.uuid) == 13
    finally:
        js.close()
    assert (tmp_path / "hopscreen" / "jobflow_outputs.collection").exists()


def test_content_hash_is_canonical() -> None:
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})
