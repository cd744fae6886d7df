"""The published migration-barrier dataset (Devi et al.): 619 Model-3 band records.

Each JSON record is a *band*: the initial supercell (vacancy at the end site) plus five copies
of the migrating ion at t = 0, ¼, ½, ¾, 1 (atoms 0–4, not otherwise marked). Records are joined
to the spreadsheet (:mod:`hopscreen.data.tabulation`) for the level of theory, space group and
crystal system. Parsed JSON is memoised in memory only; nothing happens at import time.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from hopscreen.data.download import require_dataset
from hopscreen.data.manifest import EM_SOURCE, EM_TABULATION, EM_TEST_JSON, EM_TRAIN_JSON
from hopscreen.data.paths import HopscreenDataError
from hopscreen.data.tabulation import TabulationRow, join_records, read_tabulation
from hopscreen.schemas.data import EmRecord, JoinReport
from hopscreen.schemas.structure import N_ION_COPIES, Z_TO_SYMBOL, Crystal

if TYPE_CHECKING:
    from pymatgen.core import Structure

SPLITS = ("train", "test")
_SPLIT_FILES = {"train": EM_TRAIN_JSON, "test": EM_TEST_JSON}

Endpoint = Literal["initial", "final"]


@lru_cache(maxsize=4)
def _read_json(path: str, size: int, mtime_ns: int) -> tuple[dict[str, Any], ...]:
    with open(path, encoding="utf-8") as fh:
        return tuple(json.load(fh))


def _raw_split(root: Path, split: str) -> tuple[dict[str, Any], ...]:
    """The records of one split's JSON file (memoised on path, size and mtime; read-only)."""
    path = root / _SPLIT_FILES[split]
    st = path.stat()
    return _read_json(str(path), st.st_size, st.st_mtime_ns)


def make_record_id(split: str, index: int) -> str:
    """Stable record id from the authors' split and the position in its file: 'train-0042'."""
    return f"{split}-{index:04d}"


def _check_splits(splits: Iterable[str]) -> tuple[str, ...]:
    out = tuple(dict.fromkeys(splits))
    bad = [s for s in out if s not in SPLITS]
    if bad:
        raise ValueError(f"unknown split(s) {bad}; choose from {SPLITS}")
    return out


def working_ion(band: Crystal) -> str:
    """Element of the migrating ion: atoms 0–4 of a band, which must all be the same element."""
    if len(band) <= N_ION_COPIES:
        raise HopscreenDataError(f"a band needs more than {N_ION_COPIES} atoms, got {len(band)}")
    copies = {int(z) for z in band.numbers[:N_ION_COPIES]}
    if len(copies) != 1:
        symbols = sorted(Z_TO_SYMBOL[z] for z in copies)
        raise HopscreenDataError(f"ion copies 0-4 are not one element: {symbols}")
    return Z_TO_SYMBOL[copies.pop()]


def endpoint_atoms(band: Crystal, endpoint: Endpoint) -> Crystal:
    """Rebuild an endpoint supercell from a band.

    Parameters
    ----------
    band : Crystal
        n atoms: 5 ion copies (0–4) then the n − 5 host atoms.
    endpoint : {"initial", "final"}
        Keep ion copy 0 (initial) or copy 4 (final) and drop the other four.

    Returns
    -------
    Crystal
        n − 4 atoms: the kept ion first, then the host atoms in band order. Exact for the
        published bands, except for the 10 test hops whose endpoints were relaxed separately.

    """
    if endpoint not in ("initial", "final"):
        raise ValueError(f"endpoint must be 'initial' or 'final', not {endpoint!r}")
    working_ion(band)
    keep = 0 if endpoint == "initial" else N_ION_COPIES - 1
    idx = np.r_[keep, np.arange(N_ION_COPIES, len(band))]
    return Crystal(band.lattice, band.frac_coords[idx], band.numbers[idx])


def _band_of(record: EmRecord) -> Crystal:
    if record.band is None:
        raise ValueError(f"{record.record_id} was loaded with with_structures=False")
    return record.band


def band_structure(record: EmRecord) -> Structure:
    """The band of a record as a pymatgen ``Structure`` (ion copies are sites 0–4)."""
    return _band_of(record).to_structure()


def endpoint_structure(record: EmRecord, endpoint: Endpoint) -> Structure:
    """The initial or final endpoint of a record as a pymatgen ``Structure``."""
    return endpoint_atoms(_band_of(record), endpoint).to_structure()


def _root(data_dir: Path | str | None, splits: Iterable[str]) -> Path:
    files = [_SPLIT_FILES[s] for s in splits] + [EM_TABULATION]
    return require_dataset("em_dataset", data_dir, files=files)


def join_tabulation(
    data_dir: Path | str | None = None,
) -> tuple[dict[str, TabulationRow], JoinReport]:
    """Join all 619 records (both splits) to the ``COMPLETE-TABUATION`` rows.

    Returns
    -------
    matches : dict
        record_id -> normalised spreadsheet row.
    report : JoinReport
        Counts and every unjoined record or row with the reason.

    """
    root = _root(data_dir, SPLITS)
    keys = [
        (make_record_id(split, i), str(raw["sys_name"]), float(raw["target"]))
        for split in SPLITS
        for i, raw in enumerate(_raw_split(root, split))
    ]
    return join_records(keys, read_tabulation(root.parent))


def load_em_dataset(
    data_dir: Path | str | None = None,
    *,
    splits: Iterable[str] = SPLITS,
    with_structures: bool = True,
) -> list[EmRecord]:
    """Load the published band records, joined to their spreadsheet metadata.

    Parameters
    ----------
    data_dir : pathlib.Path or str, optional
        Data directory (see :func:`~hopscreen.data.paths.resolve_data_dir`).
    splits : iterable of {"train", "test"}
        Which of the authors' splits to load, in this order (559 train, 60 test).
    with_structures : bool
        Keep the band ``Crystal`` on each record; ``band_hash`` and ``working_ion`` are
        computed either way.

    Returns
    -------
    list of EmRecord
        In split order, then file order. Records that do not join to exactly one spreadsheet
        row keep None in the spreadsheet fields, and a warning gives their count (see
        :func:`join_tabulation` for the reasons).

    Raises
    ------
    DataNotFoundError, DataCorruptError
        Missing or damaged files (the message says what to run).

    """
    wanted = _check_splits(splits)
    root = _root(data_dir, wanted)
    matches, report = join_tabulation(root.parent)
    if report.unmatched_records:
        warnings.warn(
            f"{len(report.unmatched_records)} em_dataset record(s) did not join to the "
            "spreadsheet; their xc_functional/space_group/crystal_system are None "
            "(see hopscreen.data.em_dataset.join_tabulation)",
            stacklevel=2,
        )
    records = []
    for split in wanted:
        for index, raw in enumerate(_raw_split(root, split)):
            record_id = make_record_id(split, index)
            band = Crystal.from_jarvis_dict(raw["atoms"])
            try:
                ion = working_ion(band)
            except HopscreenDataError as exc:
                raise HopscreenDataError(f"{record_id} ({raw.get('sys_name')}): {exc}") from None
            row = matches.get(record_id)
            records.append(
                EmRecord(
                    record_id=record_id,
                    split=split,
                    index=index,
                    sys_name=str(raw["sys_name"]).strip(),
                    structure_class=" ".join(str(raw["class"]).split()).upper(),
                    formula=str(raw["formula"]).strip(),
                    working_ion=ion,
                    barrier_ev=float(raw["target"]),
                    band_hash=band.fingerprint(),
                    band=band if with_structures else None,
                    n_atoms_band=len(band),
                    composition=None if row is None else row.composition,
                    path_info=None if row is None else row.path_info,
                    space_group=None if row is None else row.space_group,
                    crystal_system=None if row is None else row.crystal_system,
                    xc_functional=None if row is None else row.xc_functional,
                    source=EM_SOURCE,
                )
            )
    return records


def summarize_em_dataset(records: Iterable[EmRecord]) -> dict[str, Any]:
    """Counts for ``hopscreen data info``: per split, working ion, XC functional, class.

    Returns
    -------
    dict
        ``{"n_records", "splits", "working_ions", "xc_functionals", "barrier_ev": {min,
        median, max}}``; count dicts are sorted by decreasing count.

    """
    records = list(records)

    def counts(values: Iterable[Any]) -> dict[str, int]:
        return {str(k): v for k, v in Counter(values).most_common()}

    barriers = np.array([r.barrier_ev for r in records], dtype=float)
    return {
        "n_records": len(records),
        "splits": counts(r.split for r in records),
        "working_ions": counts(r.working_ion for r in records),
        "xc_functionals": counts(r.xc_functional for r in records),
        "barrier_ev": {
            "min": float(barriers.min()) if len(barriers) else None,
            "median": float(np.median(barriers)) if len(barriers) else None,
            "max": float(barriers.max()) if len(barriers) else None,
        },
    }
