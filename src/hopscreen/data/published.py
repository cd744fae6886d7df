"""Published predictions beside the E_m dataset: the paper's Model-3 and Models 1–4, MACE NEB.

The rows of the authors' spreadsheet (:mod:`hopscreen.data.tabulation`) are mapped to the
JSON band records of :mod:`hopscreen.data.em_dataset` by ``sys_name``, E_m and index; a row
that does not map exactly is an error, never guessed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from hopscreen.data.em_dataset import join_tabulation, load_em_dataset
from hopscreen.data.paths import HopscreenDataError
from hopscreen.data.tabulation import (
    BARRIER_TOL_EV,
    SHEET_TEST_PREDICTIONS,
    SHEET_TRAINING_PREDICTIONS,
    clean_text,
    column_index,
    sheet_rows,
    tabulation_path,
    to_float,
)


def _map_prediction_rows(
    rows: Sequence[Sequence[Any]],
    sheet: str,
    split: str,
    data_dir: Path | str | None,
    extra: dict[str, str],
) -> pd.DataFrame:
    """Map prediction rows (jid, …, SYS_NAME, TARGET, …) to record ids of ``split``."""
    records = {
        r.sys_name: r for r in load_em_dataset(data_dir, splits=(split,), with_structures=False)
    }
    col = column_index(rows[0], ["JID", "SYS_NAME", "TARGET", *extra], sheet)
    out, problems = [], []
    for n, raw in enumerate(rows[1:], start=2):
        name = clean_text(raw[col["SYS_NAME"]])
        if name is None:
            continue
        target = to_float(raw[col["TARGET"]])
        rec = records.get(name)
        if rec is None:
            problems.append(f"row {n} ({name}): no {split} record with this sys_name")
            continue
        if target is None or abs(rec.barrier_ev - target) > BARRIER_TOL_EV:
            problems.append(f"row {n} ({name}): TARGET {target} != E_m {rec.barrier_ev}")
            continue
        jid = to_float(raw[col["JID"]])
        if jid is None or int(jid) != rec.index:
            problems.append(f"row {n} ({name}): jid {jid} != index {rec.index}")
            continue
        entry = {
            "record_id": rec.record_id,
            "index": rec.index,
            "sys_name": name,
            "barrier_ev": rec.barrier_ev,
        }
        entry.update({field: to_float(raw[col[key]]) for key, field in extra.items()})
        out.append(entry)
    if problems:
        raise HopscreenDataError(
            f"{sheet}: {len(problems)} row(s) do not map to {split} "
            f"records: " + "; ".join(problems[:10])
        )
    return pd.DataFrame(out)


def load_paper_test_predictions(data_dir: Path | str | None = None) -> pd.DataFrame:
    """The paper's Model-3 predictions on the 60 test hops.

    Returns
    -------
    pandas.DataFrame
        Columns ``record_id`` (test split), ``index``, ``sys_name``, ``barrier_ev`` (DFT E_m,
        eV), ``predicted_ev`` (Model-3, eV) and ``error_ev_sheet`` (the sheet's ERROR column,
        which differs from ``predicted_ev - barrier_ev`` by up to a few meV).

    """
    rows = sheet_rows(tabulation_path(data_dir), SHEET_TEST_PREDICTIONS)
    return _map_prediction_rows(
        rows,
        SHEET_TEST_PREDICTIONS,
        "test",
        data_dir,
        {"PREDICTION": "predicted_ev", "ERROR": "error_ev_sheet"},
    )


def load_paper_training_predictions(data_dir: Path | str | None = None) -> pd.DataFrame:
    """The paper's Models 1–4 predictions on the 559 training hops.

    Returns
    -------
    pandas.DataFrame
        Columns ``record_id`` (train split), ``index``, ``sys_name``, ``barrier_ev`` and
        ``model1_ev`` … ``model4_ev`` (eV).

    """
    rows = sheet_rows(tabulation_path(data_dir), SHEET_TRAINING_PREDICTIONS)
    extra = {f"MODEL-{k}": f"model{k}_ev" for k in (1, 2, 3, 4)}
    return _map_prediction_rows(rows, SHEET_TRAINING_PREDICTIONS, "train", data_dir, extra)


def load_mace_neb(data_dir: Path | str | None = None) -> pd.DataFrame:
    """MACE NEB barriers of the spreadsheet, per joined record.

    Returns
    -------
    pandas.DataFrame
        One row per record (train then test): ``record_id``, ``split``, ``sys_name``,
        ``xc_functional``, ``barrier_ev`` (DFT), ``mace_relaxed_ev`` (endpoints relaxed with
        MACE first) and ``mace_unrelaxed_ev``, eV; NaN where the sheet has no value
        (3 relaxed and 7 unrelaxed values are missing in the published file).

    """
    matches, _ = join_tabulation(data_dir)
    out = []
    for rec in load_em_dataset(data_dir, with_structures=False):
        row = matches.get(rec.record_id)
        relaxed = None if row is None else row.mace_relaxed_ev
        unrelaxed = None if row is None else row.mace_unrelaxed_ev
        out.append(
            {
                "record_id": rec.record_id,
                "split": rec.split,
                "sys_name": rec.sys_name,
                "xc_functional": rec.xc_functional,
                "barrier_ev": rec.barrier_ev,
                "mace_relaxed_ev": math.nan if relaxed is None else relaxed,
                "mace_unrelaxed_ev": math.nan if unrelaxed is None else unrelaxed,
            }
        )
    return pd.DataFrame(out)
