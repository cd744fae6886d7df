from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from hopscreen.data.em_dataset import join_tabulation
from hopscreen.data.published import (
    load_mace_neb,
    load_paper_test_predictions,
    load_paper_training_predictions,
)
from hopscreen.data.tabulation import (
    CRYSTAL_SYSTEMS,
    TabulationRow,
    join_records,
    normalise_xc,
    parse_complete_rows,
    read_tabulation,
)

HEADER = (
    "CLASS",
    "COMPOSITION",
    "XC",
    "CRYSTAL SYSTEM",
    "SPACE GROUP",
    "PATH INFO",
    "sys_name",
    "MIGRATION BARRIER(eV)",
    "MACE-RELAX",
    "MACE-NO-RELAX",
)


def _row(n: int, name: str, barrier: float) -> TabulationRow:
    return TabulationRow(n, "X", "X", "GGA", "Cubic", "Fm-3m", "P1", name, barrier, None, None)


def test_real_sheet_is_normalised(data_dir: Path):
    rows = read_tabulation(data_dir)
    assert len(rows) == 619
    assert Counter(r.xc_functional for r in rows) == {
        "GGA": 545,
        "GGA+U": 45,
        "SCAN": 19,
        "LDA": 10,
    }
    assert {r.crystal_system for r in rows} <= set(CRYSTAL_SYSTEMS)
    swapped = [r for r in rows if r.notes]
    assert len(swapped) == 6
    assert {r.sys_name for r in swapped} >= {"ZnNiO2_1", "NiO2_Mg"}
    assert all(" " not in r.space_group for r in rows)
    assert all(r.path_info == r.path_info.strip() for r in rows)


def test_messy_strings_are_normalised():
    rows = parse_complete_rows(
        [
            HEADER,
            (
                " layered ",
                "LiCoO2",
                " gga + u",
                "R-3m ",
                "trigonal",
                "PATH 1 ",
                " LiCoO2_1 ",
                "0.5 ",
                0.4,
                None,
            ),
            (None,) * 10,
        ]
    )
    assert len(rows) == 1
    row = rows[0]
    assert row.structure_class == "LAYERED"
    assert row.xc_functional == "GGA+U"
    assert (row.crystal_system, row.space_group) == ("Trigonal", "R-3m")
    assert row.path_info == "PATH 1" and row.sys_name == "LiCoO2_1"
    assert row.barrier_ev == 0.5 and row.mace_unrelaxed_ev is None
    assert normalise_xc("scan ") == "SCAN"


def test_real_join_is_complete(data_dir: Path):
    matches, report = join_tabulation(data_dir)
    assert report.ok, report.unmatched_records[:3]
    assert report.n_matched == len(matches) == 619


def test_join_uses_barrier_for_duplicates_and_reports_the_rest():
    rows = [
        _row(2, "A", 0.5),
        _row(3, "A", 1.5),
        _row(4, "B", 0.2),
        _row(5, "C", 0.1),
        _row(6, "C", 0.1),
        _row(7, "D", 0.9),
    ]
    records = [
        ("r1", "A", 1.5004),
        ("r2", " A ", 0.5),
        ("r3", "B", 0.9),
        ("r4", "C", 0.1),
        ("r5", "Z", 0.1),
    ]
    matches, report = join_records(records, rows)
    assert matches["r1"].row == 3 and matches["r2"].row == 2
    reasons = {u.id: u.reason for u in report.unmatched_records}
    assert set(reasons) == {"r3", "r4", "r5"}
    assert "differs" in reasons["r3"]
    assert "ambiguous" in reasons["r4"]
    assert "no spreadsheet row" in reasons["r5"]
    assert {u.id for u in report.unmatched_rows} == {"row-4", "row-5", "row-6", "row-7"}
    assert not report.ok and report.n_matched == 2


def test_join_does_not_reuse_a_row():
    matches, report = join_records([("r1", "A", 0.5), ("r2", "A", 0.5)], [_row(2, "A", 0.5)])
    assert list(matches) == ["r1"]
    assert "already joined" in report.unmatched_records[0].reason


def test_paper_test_mae(data_dir: Path):
    df = load_paper_test_predictions(data_dir)
    assert len(df) == 60
    assert df["record_id"].str.startswith("test-").all() and df["record_id"].is_unique
    mae = float(np.mean(np.abs(df["predicted_ev"] - df["barrier_ev"])))
    assert round(mae, 3) == 0.261
    assert float(np.mean(np.abs(df["error_ev_sheet"]))) == pytest.approx(0.261, abs=5e-4)


def test_paper_training_predictions(data_dir: Path):
    df = load_paper_training_predictions(data_dir)
    assert len(df) == 559 and df["record_id"].str.startswith("train-").all()
    mae = {k: float(np.mean(np.abs(df[f"model{k}_ev"] - df["barrier_ev"]))) for k in (1, 2, 3, 4)}
    assert mae[3] == pytest.approx(0.085, abs=1e-3)
    assert mae[3] < mae[4] < mae[2] < mae[1]


def test_mace_neb(data_dir: Path):
    df = load_mace_neb(data_dir)
    assert len(df) == 619 and df["record_id"].is_unique
    assert int(df["mace_relaxed_ev"].isna().sum()) == 3
    assert int(df["mace_unrelaxed_ev"].isna().sum()) == 7
    # endpoint relaxation matters: unrelaxed MACE barriers are far worse
    err_relaxed = (df["mace_relaxed_ev"] - df["barrier_ev"]).abs().mean()
    err_unrelaxed = (df["mace_unrelaxed_ev"] - df["barrier_ev"]).abs().mean()
    assert err_relaxed < err_unrelaxed
