"""Round keys, store digests and round records (hopscreen.screening.round_record)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hopscreen.schemas.round import FinetuneRoundSummary, RoundSummary
from hopscreen.screening.round_record import (
    ROUND_RECORD_FORMAT,
    find_round_record,
    record_path,
    recorded_round,
    round_key,
    store_digest,
    write_round_record,
)
from hopscreen.store import open_results_store
from hopscreen.store.results import ResultsStore


def summary(results: Path, cls: type[RoundSummary] = RoundSummary) -> RoundSummary:
    return cls(
        results_dir=str(results),
        threshold_ev=0.65,
        n_candidates=1,
        n_candidate_failures=0,
        n_hops=2,
        n_hop_failures=0,
        n_predictions=2,
        n_predicted_good=1,
        n_predicted_bad=1,
        n_selected=0,
        n_verified=0,
        n_verification_failed=0,
        n_agree=0,
    )


def test_round_key_follows_file_bytes_settings_and_model(tmp_path: Path) -> None:
    structure, model = tmp_path / "a.cif", tmp_path / "model"
    structure.write_text("data_a\n")
    model.mkdir()
    (model / "w.npz").write_bytes(b"\x00\x01")
    key = round_key({"ion": "Li"}, inputs=[("a.cif", structure)], model_dir=model)
    assert len(key) == 64
    assert key == round_key({"ion": "Li"}, inputs=[("a.cif", structure)], model_dir=model)
    assert key != round_key({"ion": "Na"}, inputs=[("a.cif", structure)], model_dir=model)
    assert key != round_key({"ion": "Li"}, inputs=[("a.cif", None)], model_dir=model)
    assert key != round_key({"ion": "Li"}, inputs=[("a.cif", structure)], model_dir=None)
    (model / "w.npz").write_bytes(b"\x00\x02")
    changed_model = round_key({"ion": "Li"}, inputs=[("a.cif", structure)], model_dir=model)
    structure.write_text("data_b\n")
    changed_file = round_key({"ion": "Li"}, inputs=[("a.cif", structure)], model_dir=model)
    assert len({key, changed_model, changed_file}) == 3


def test_an_unreadable_input_enters_as_missing(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder.cif"  # a folder where a file was named: cannot be read
    folder.mkdir()
    unreadable = round_key({}, inputs=[("x", folder)], model_dir=None)
    assert unreadable == round_key({}, inputs=[("x", None)], model_dir=None)


def _write_failure(store: ResultsStore, name: str) -> None:
    from hopscreen.schemas.candidate import CandidateFailure

    failure = CandidateFailure(name=name, source_ref=name, code="not_found", reason="test")
    store.write("failures", [failure])


def test_store_digest_changes_when_the_store_is_written(tmp_path: Path) -> None:
    with open_results_store(tmp_path / "res") as store:
        empty = store_digest(store)
        assert empty == store_digest(store)
        _write_failure(store, "a")
        one = store_digest(store)
        _write_failure(store, "a")  # same content: not rewritten, same stamp
        assert store_digest(store) == one != empty
        _write_failure(store, "b")
        assert store_digest(store) != one


@pytest.mark.parametrize("cls", [RoundSummary, FinetuneRoundSummary])
def test_a_record_is_found_while_the_store_is_unchanged(tmp_path: Path, cls: type) -> None:
    results = tmp_path / "res"
    with open_results_store(results) as store:
        _write_failure(store, "a")
        path = write_round_record(results, "k" * 64, summary(results, cls), store)
        assert path == record_path(results, "k" * 64) and path.is_file()
        assert not list(path.parent.glob("*.part"))
        record = find_round_record(results, "k" * 64, store)
        assert record is not None and record.format == ROUND_RECORD_FORMAT
        assert type(record.round_summary()) is cls
        assert find_round_record(results, "j" * 64, store) is None  # another key
    found = recorded_round(results, "k" * 64)
    assert found is not None and found.reused_from == str(path)
    assert found.n_hops == 2
    with open_results_store(results) as store:
        _write_failure(store, "b")
    assert recorded_round(results, "k" * 64) is None


def test_a_damaged_or_older_record_is_ignored(tmp_path: Path) -> None:
    results = tmp_path / "res"
    with open_results_store(results) as store:
        path = write_round_record(results, "k" * 64, summary(results), store)
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "format": ROUND_RECORD_FORMAT + 1}))
    assert recorded_round(results, "k" * 64) is None
    path.write_text("{not json")
    assert recorded_round(results, "k" * 64) is None
    assert recorded_round(tmp_path / "never-run", "k" * 64) is None
    assert not (tmp_path / "never-run").exists()  # nothing created by looking


def test_other_code_or_libraries_change_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from hopscreen.screening import round_record

    fingerprint = round_record.code_fingerprint()
    assert len(fingerprint) == 64 and fingerprint == round_record.code_fingerprint()
    key = round_key({}, inputs=[], model_dir=None)
    monkeypatch.setattr(round_record, "code_fingerprint", lambda: "edited")
    assert round_key({}, inputs=[], model_dir=None) != key
