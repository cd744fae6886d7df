"""query_results: joins, latest prediction and verification, filters, sorting."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pandas as pd
import pytest
from store_docs import verification

from hopscreen.store import COLUMNS, NoResultsStoreError, open_results_store, query_results
from hopscreen.store.query import verification_method


def test_default_table(results_dir: Path) -> None:
    frame = query_results(results_dir)
    assert list(frame.columns) == COLUMNS
    assert list(frame["hop_id"]) == ["h1", "h4", "h3", "h2"]  # by predicted barrier
    assert frame["barrier_ev"].is_monotonic_increasing
    row = frame.set_index("hop_id").loc["h1"]
    # the later model's prediction wins by default (write time, not id order)
    assert row["model_version"] == "v0-later"
    assert row["barrier_ev"] == pytest.approx(0.28)
    assert row["formula"] == "LiFePO4"
    assert row["candidate_name"] == "LiFePO4"
    assert row["length_angstrom"] == pytest.approx(3.0)
    assert row["verified_barrier_ev"] == pytest.approx(0.35)
    assert row["verification_method"] == "CI-NEB/CHGNet"
    assert bool(row["converged"]) is True
    # h3 only has a failed verification: no verified barrier
    h3 = frame.set_index("hop_id").loc["h3"]
    assert math.isnan(h3["verified_barrier_ev"])
    assert pd.isna(h3["verification_method"])
    assert frame["converged"].isna().sum() == 3


def test_filters(results_dir: Path) -> None:
    assert list(query_results(results_dir, ion="Na")["hop_id"]) == ["h4"]
    assert set(query_results(results_dir, ion="Li")["working_ion"]) == {"Li"}
    assert query_results(results_dir, ion="Mg").empty
    assert list(query_results(results_dir, max_barrier_ev=0.5)["hop_id"]) == ["h1", "h4"]
    v1 = query_results(results_dir, model_version="v1")
    assert set(v1["model_version"]) == {"v1"}
    assert len(v1) == 4
    assert v1.set_index("hop_id").loc["h1", "barrier_ev"] == pytest.approx(0.30)
    verified = query_results(results_dir, verified_only=True)
    assert list(verified["hop_id"]) == ["h1"]
    # with --verified-only the threshold applies to the verified barrier (0.35)
    assert query_results(results_dir, verified_only=True, max_barrier_ev=0.3).empty
    assert len(query_results(results_dir, verified_only=True, max_barrier_ev=0.35)) == 1


def test_latest_usable_verification(results_dir: Path) -> None:
    with open_results_store(results_dir) as store:
        time.sleep(0.01)
        store.write("verifications", [verification("h3", 0.61, status="not_converged")])
        time.sleep(0.01)
        store.write("verifications", [verification("h3", 0.66, code="VASP")])
        time.sleep(0.01)
        store.write("verifications", [verification("h3", None, status="failed", code="VASP")])
    frame = query_results(results_dir, verified_only=True)
    assert list(frame["hop_id"]) == ["h1", "h3"]
    h3 = frame.set_index("hop_id").loc["h3"]
    # the VASP result was replaced by a failed run (same key): the CHGNet one remains usable
    assert h3["verified_barrier_ev"] == pytest.approx(0.61)
    assert bool(h3["converged"]) is False


def test_empty_and_missing_folders(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        query_results(tmp_path / "nope")
    assert not (tmp_path / "nope").exists()
    bare = tmp_path / "bare"
    bare.mkdir()
    with pytest.raises(NoResultsStoreError, match="holds no hopscreen results store"):
        query_results(bare)
    assert list(bare.iterdir()) == []  # nothing was created in a folder without a store
    empty = tmp_path / "empty"
    with open_results_store(empty):  # a store that holds no documents yet
        pass
    frame = query_results(empty)
    assert frame.empty
    assert list(frame.columns) == COLUMNS


def test_verification_method_labels() -> None:
    lot = {"method": "CI-NEB", "code": "VASP", "functional": "PBE", "hubbard_u": {"Fe": 5.3}}
    assert verification_method({"level_of_theory": lot}) == "CI-NEB/VASP/PBE+U"
    assert verification_method({"level_of_theory": "GGA"}) == "GGA"
    assert verification_method({"tier": "umlip"}) == "umlip"
    assert verification_method({}) is None


def test_calibrated_interval_column(tmp_path: Path, round_docs: dict[str, list]) -> None:
    from store_docs import prediction

    path = tmp_path / "results"
    hops = round_docs["hops"]
    calibrated = prediction(hops[1], 0.5, 0.03, "v-cal").model_copy(
        update={"interval_68_ev": 0.21, "interval_90_ev": 0.42}
    )
    with open_results_store(path) as store:
        for collection, docs in round_docs.items():
            store.write(collection, docs)
        time.sleep(0.01)
        store.write("predictions", [calibrated])
    frame = query_results(path).set_index("hop_id")
    assert frame.loc[hops[1].hop_id, "interval_90_ev"] == pytest.approx(0.42)
    others = frame.drop(index=hops[1].hop_id)["interval_90_ev"]
    assert others.isna().all() and len(others) == 3  # uncalibrated models: no interval
