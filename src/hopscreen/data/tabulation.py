"""The authors' spreadsheet ``TABULATION-GIT-HUB.xlsx``: metadata, paper predictions, MACE NEB.

Sheets (names as upstream, typo included):

* ``COMPLETE-TABUATION`` — one row per hop (619): class, composition, XC functional, crystal
  system, space group, path info, ``sys_name``, E_m and MACE NEB barriers with / without
  endpoint relaxation. Strings are not normalised upstream (trailing blanks, six rows with
  crystal system and space group swapped); :func:`read_tabulation` normalises them.
* ``TEST-PREDICTIONS-BEST-MODEL`` — Model-3 on the 60 test hops (MAE 0.261 eV).
* ``TRAINING-PREDICTIONS`` — Models 1–4 on the 559 training hops.

Rows are joined to the JSON band records on ``sys_name`` with E_m as a tie-breaker; anything
that does not join exactly once is reported in a :class:`~hopscreen.schemas.data.JoinReport`,
never guessed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import openpyxl

from hopscreen.data.download import require_dataset
from hopscreen.data.manifest import EM_TABULATION
from hopscreen.data.paths import HopscreenDataError
from hopscreen.schemas.data import JoinReport, UnmatchedItem

SHEET_COMPLETE = "COMPLETE-TABUATION"
SHEET_TEST_PREDICTIONS = "TEST-PREDICTIONS-BEST-MODEL"
SHEET_TRAINING_PREDICTIONS = "TRAINING-PREDICTIONS"
BARRIER_TOL_EV = 1e-3

CRYSTAL_SYSTEMS = (
    "Triclinic",
    "Monoclinic",
    "Orthorhombic",
    "Tetragonal",
    "Trigonal",
    "Hexagonal",
    "Cubic",
)

# Normalised header -> field of TabulationRow.
_COMPLETE_COLUMNS = {
    "CLASS": "structure_class",
    "COMPOSITION": "composition",
    "XC": "xc_functional",
    "CRYSTAL SYSTEM": "crystal_system",
    "SPACE GROUP": "space_group",
    "PATH INFO": "path_info",
    "SYS_NAME": "sys_name",
    "MIGRATION BARRIER(EV)": "barrier_ev",
    "MACE-RELAX": "mace_relaxed_ev",
    "MACE-NO-RELAX": "mace_unrelaxed_ev",
}


@dataclass(frozen=True)
class TabulationRow:
    """One normalised row of ``COMPLETE-TABUATION``.

    Attributes
    ----------
    row : int
        1-based spreadsheet row (the header is row 1).
    barrier_ev, mace_relaxed_ev, mace_unrelaxed_ev : float or None
        DFT-NEB E_m and the MACE NEB barriers with / without endpoint relaxation, eV.
    notes : tuple of str
        What normalisation changed beyond whitespace and case (e.g. swapped columns).

    """

    row: int
    structure_class: str | None
    composition: str | None
    xc_functional: str | None
    crystal_system: str | None
    space_group: str | None
    path_info: str | None
    sys_name: str | None
    barrier_ev: float | None
    mace_relaxed_ev: float | None
    mace_unrelaxed_ev: float | None
    notes: tuple[str, ...] = ()


def clean_text(value: Any) -> str | None:
    """Strip a cell and collapse inner whitespace; empty cells become None."""
    if value is None:
        return None
    text = re.sub(r"\s+", " ", str(value)).strip()
    return text or None


def normalise_xc(value: Any) -> str | None:
    """Upper-case and remove blanks: ``' gga + u'`` -> ``'GGA+U'``."""
    text = clean_text(value)
    return None if text is None else text.upper().replace(" ", "")


def to_float(value: Any) -> float | None:
    """A spreadsheet cell as a float; None for an empty or non-numeric cell."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return None if math.isnan(float(value)) else float(value)
    text = clean_text(value)
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _header_key(value: Any) -> str:
    return (clean_text(value) or "").upper()


def sheet_rows(path: Path, sheet: str) -> list[tuple[Any, ...]]:
    """The rows of one sheet of the workbook at ``path`` (cached per file size and mtime)."""
    return list(_workbook_sheets(str(path), *_stamp(path))[sheet])


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


@lru_cache(maxsize=4)
def _workbook_sheets(path: str, size: int, mtime_ns: int) -> dict[str, tuple[tuple[Any, ...], ...]]:
    """All sheets as tuples of cell values (memoised in memory on path, size, mtime)."""
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return {ws.title: tuple(ws.iter_rows(values_only=True)) for ws in wb.worksheets}
    finally:
        wb.close()


def tabulation_path(data_dir: Path | str | None) -> Path:
    """The checked spreadsheet file of the E_m dataset in ``data_dir``."""
    return require_dataset("em_dataset", data_dir, files=[EM_TABULATION]) / EM_TABULATION


def column_index(header: Sequence[Any], wanted: Sequence[str], sheet: str) -> dict[str, int]:
    """Column of each ``wanted`` header (normalised) in ``header``; an error names any missing."""
    keys = [_header_key(h) for h in header]
    missing = [w for w in wanted if w not in keys]
    if missing:
        raise HopscreenDataError(f"sheet {sheet} lacks column(s) {missing}; header is {keys}")
    return {w: keys.index(w) for w in wanted}


def parse_complete_rows(rows: Sequence[Sequence[Any]]) -> list[TabulationRow]:
    """Normalise the rows of ``COMPLETE-TABUATION`` (first row = header).

    Whitespace is stripped everywhere; XC and class are upper-cased; crystal systems are
    title-cased; blanks inside space groups are removed; where the crystal-system cell holds a
    space group and the space-group cell a crystal system, the two are swapped (noted).
    Fully empty rows are skipped.
    """
    col = column_index(rows[0], list(_COMPLETE_COLUMNS), SHEET_COMPLETE)
    out = []
    for n, raw in enumerate(rows[1:], start=2):
        if all(v is None or clean_text(v) is None for v in raw):
            continue
        cell = {
            field: raw[col[key]] if col[key] < len(raw) else None
            for key, field in _COMPLETE_COLUMNS.items()
        }
        notes = []
        system = clean_text(cell["crystal_system"])
        group = clean_text(cell["space_group"])
        group = None if group is None else group.replace(" ", "")
        if (
            system is not None
            and system.title() not in CRYSTAL_SYSTEMS
            and group is not None
            and group.title() in CRYSTAL_SYSTEMS
        ):
            system, group = group, system.replace(" ", "")
            notes.append("crystal system and space group were swapped")
        if system is not None and system.title() in CRYSTAL_SYSTEMS:
            system = system.title()
        cls = clean_text(cell["structure_class"])
        out.append(
            TabulationRow(
                row=n,
                structure_class=None if cls is None else cls.upper(),
                composition=clean_text(cell["composition"]),
                xc_functional=normalise_xc(cell["xc_functional"]),
                crystal_system=system,
                space_group=group,
                path_info=clean_text(cell["path_info"]),
                sys_name=clean_text(cell["sys_name"]),
                barrier_ev=to_float(cell["barrier_ev"]),
                mace_relaxed_ev=to_float(cell["mace_relaxed_ev"]),
                mace_unrelaxed_ev=to_float(cell["mace_unrelaxed_ev"]),
                notes=tuple(notes),
            )
        )
    return out


def read_tabulation(data_dir: Path | str | None = None) -> list[TabulationRow]:
    """Read and normalise ``COMPLETE-TABUATION`` (619 rows for the published file)."""
    return parse_complete_rows(sheet_rows(tabulation_path(data_dir), SHEET_COMPLETE))


def join_records(
    records: Sequence[tuple[str, str, float]],
    rows: Sequence[TabulationRow],
    *,
    tol_ev: float = BARRIER_TOL_EV,
) -> tuple[dict[str, TabulationRow], JoinReport]:
    """Join records to spreadsheet rows on ``sys_name``, with E_m breaking ties.

    Parameters
    ----------
    records : sequence of (record_id, sys_name, barrier_ev)
        The JSON records to place.
    rows : sequence of TabulationRow
        Normalised spreadsheet rows.
    tol_ev : float
        Largest |E_m(row) − E_m(record)| accepted, eV.

    Returns
    -------
    matches : dict
        record_id -> its row, for records that joined to exactly one unused row.
    report : JoinReport
        Counts, plus every record and row left unjoined with the reason.

    """
    by_name: dict[str, list[TabulationRow]] = {}
    for row in rows:
        if row.sys_name is not None:
            by_name.setdefault(row.sys_name, []).append(row)
    matches: dict[str, TabulationRow] = {}
    used: dict[int, str] = {}
    unmatched: list[UnmatchedItem] = []
    for record_id, sys_name, barrier in records:
        name = clean_text(sys_name) or ""
        picked = _pick_row(by_name.get(name, []), barrier, used, tol_ev)
        if isinstance(picked, str):
            unmatched.append(UnmatchedItem(id=record_id, sys_name=name, reason=picked))
            continue
        used[picked.row] = record_id
        matches[record_id] = picked
    unmatched_rows = [
        UnmatchedItem(id=f"row-{r.row}", sys_name=r.sys_name, reason="no record joined this row")
        for r in rows
        if r.row not in used
    ]
    report = JoinReport(
        n_records=len(records),
        n_rows=len(rows),
        n_matched=len(matches),
        unmatched_records=unmatched,
        unmatched_rows=unmatched_rows,
    )
    return matches, report


def _pick_row(
    candidates: Sequence[TabulationRow], barrier: float, used: dict[int, str], tol_ev: float
) -> TabulationRow | str:
    """The one unused row among ``candidates`` whose E_m is within ``tol_ev`` of ``barrier``.

    Returns the row, or the reason (a sentence for the join report) why there is none.
    """
    if not candidates:
        return "no spreadsheet row with this sys_name"
    close = [
        r for r in candidates if r.barrier_ev is not None and abs(r.barrier_ev - barrier) <= tol_ev
    ]
    if not close:
        values = [r.barrier_ev for r in candidates]
        return f"sys_name found but E_m {barrier} eV differs from the rows' {values}"
    if len(close) > 1:
        return f"ambiguous: rows {[r.row for r in close]} have this sys_name and E_m"
    row = close[0]
    if row.row in used:
        return f"row {row.row} is already joined to {used[row.row]}"
    return row
