"""Bulk writes and long ``$in`` reads of the results store (hopscreen.store.bulk)."""

from __future__ import annotations

from pathlib import Path

import pytest
from maggma.stores import MemoryStore
from store_docs import candidate, hop, prediction

from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.store import open_results_store
from hopscreen.store.bulk import LARGE_IN, keep_matching, plan_write, split_large_in
from hopscreen.store.results import COLLECTIONS, ResultsStore, to_record

N = LARGE_IN * 3


def _predictions(n: int, barrier: float = 0.5) -> list[PredictionDoc]:
    cand = candidate("c1", "LiX", "Li", "LiX")
    return [prediction(hop(f"h{i:04d}", cand, 3.0), barrier + i / 1e3, 0.1, "v1") for i in range(n)]


def _stamps(store: ResultsStore) -> dict[str, object]:
    return {r["prediction_id"]: r["last_updated"] for r in store.read("predictions")}


def test_bulk_write_then_rewrite_keeps_unchanged_and_replaces_changed(tmp_path: Path) -> None:
    docs = _predictions(N)
    with open_results_store(tmp_path) as store:
        assert store.write("predictions", docs) == N
        assert store.count("predictions") == N
        first = _stamps(store)
        store.write("predictions", docs)  # identical content: nothing rewritten
        assert _stamps(store) == first
        changed = docs[5].model_copy(update={"barrier_ev": 9.0})
        store.write("predictions", [changed, *docs[6:8]])
        after = _stamps(store)
        assert store.count("predictions") == N
        moved = sorted(k for k in first if after[k] != first[k])
        assert moved == [f"{changed.hop_id}:v1"]
        back = store.read_docs("predictions", PredictionDoc, {"hop_id": "h0005"})
        assert [p.barrier_ev for p in back] == [9.0]
    with open_results_store(tmp_path, create=False) as store:  # on disk, read back whole
        assert sorted(p.hop_id for p in store.read_docs("predictions", PredictionDoc)) == sorted(
            d.hop_id for d in docs
        )


def test_repeated_key_in_one_write_is_stored_once_last_wins(tmp_path: Path) -> None:
    docs = _predictions(3)
    again = docs[1].model_copy(update={"barrier_ev": 2.0})
    with open_results_store(tmp_path) as store:
        store.write("predictions", [*docs, again])
        assert store.count("predictions") == 3
        got = store.read_docs("predictions", PredictionDoc, {"hop_id": docs[1].hop_id})
        assert [p.barrier_ev for p in got] == [2.0]


@pytest.mark.parametrize("n_ids", [3, LARGE_IN + 1, N])
def test_long_in_filter_reads_the_same_as_a_short_one(tmp_path: Path, n_ids: int) -> None:
    docs = _predictions(N)
    wanted = [d.hop_id for d in docs[::2]][:n_ids] + ["not-stored"]
    with open_results_store(tmp_path) as store:
        store.write("predictions", docs)
        got = store.read_docs(
            "predictions", PredictionDoc, {"hop_id": {"$in": wanted}, "model_version": "v1"}
        )
        assert sorted(p.hop_id for p in got) == sorted(wanted[:-1])
        none = store.read("predictions", {"hop_id": {"$in": wanted}, "model_version": "v2"})
        assert none == []


def test_split_large_in_moves_only_long_top_level_lists() -> None:
    long = [f"k{i}" for i in range(LARGE_IN + 1)]
    rest, post = split_large_in(
        {"a": {"$in": long}, "b": {"$in": ["x"]}, "c": 1, "$or": [{"a": 1}]}
    )
    assert rest == {"b": {"$in": ["x"]}, "c": 1, "$or": [{"a": 1}]}
    assert post == {"a": frozenset(long)}
    records = [{"a": "k0"}, {"a": "zz"}, {}]
    assert keep_matching(records, post) == [{"a": "k0"}]
    assert keep_matching(records, {}) == records


def test_plan_write_against_a_memory_store() -> None:
    spec = COLLECTIONS["predictions"]
    store = MemoryStore(key=spec.key_field)
    store.connect()
    docs = _predictions(4)
    records = [to_record(d, spec) for d in docs]
    store.update(records[:2], key=spec.key_field)
    changed = to_record(docs[1].model_copy(update={"sigma_ev": 0.3}), spec)
    plan = plan_write(store, spec.key_field, [records[0], changed, *records[2:]])
    assert plan.unchanged == 1
    assert [r[spec.key_field] for r in plan.changed] == [changed[spec.key_field]]
    assert sorted(r[spec.key_field] for r in plan.new) == sorted(
        r[spec.key_field] for r in records[2:]
    )
