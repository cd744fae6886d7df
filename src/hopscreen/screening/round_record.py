"""Rounds already done: a record of each round that finished, to answer an unchanged re-run.

A round's key (:func:`round_key`) is a SHA-256 over everything its results depend on: its
settings, the bytes of every input file (structure files, candidates files, demo structures),
the bytes of every file of its model folder, hopscreen's code (:func:`code_fingerprint`) and
the versions of the libraries that compute its numbers. When a round finishes
without a failed job, :func:`write_round_record` writes its summary to
``<results_dir>/round-records/<key>.json`` with a digest of the results store at that moment
(:func:`store_digest`: the key and ``last_updated`` of every document of every collection).

Running the same round again, :func:`find_round_record` finds the record; if the store's digest
is unchanged, nothing was written to the store since, so every job of the round would find its
work done: the recorded summary is the answer and no job runs. Any difference (an edited input
file, another model or setting, a document written by another round or deleted) runs the
round, and its jobs resume from what the store holds.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

import hopscreen
from hopscreen.data.download import sha256_file
from hopscreen.schemas.round import FinetuneRoundSummary, RoundSummary
from hopscreen.store.errors import ResultsStoreError
from hopscreen.store.folder import ROUND_RECORDS_FOLDER
from hopscreen.store.results import ResultsStore
from hopscreen.store.stores import open_results_store

ROUND_RECORD_FORMAT = 1
"""Version of the record files and of what the round key covers."""

_SUMMARY_TYPES: dict[str, type[RoundSummary]] = {
    cls.__name__: cls for cls in (RoundSummary, FinetuneRoundSummary)
}


def folder_sha256(folder: str | Path) -> str:
    """SHA-256 over the relative path and bytes of every file under ``folder`` (sorted)."""
    root = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(sha256_file(path).encode())
    return digest.hexdigest()


KEY_LIBRARIES = ("numpy", "scipy", "scikit-learn", "torch", "pymatgen", "spglib", "chgnet")
"""Libraries whose installed versions enter the round key."""


@functools.cache
def code_fingerprint() -> str:
    """SHA-256 of hopscreen's Python files and the library versions of :data:`KEY_LIBRARIES`.

    An edited source file (a development install) or an upgraded library changes every round
    key, so no round is answered by a record that other code wrote.
    """
    root = Path(hopscreen.__file__).parent
    digest = hashlib.sha256(hopscreen.__version__.encode())
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(sha256_file(path).encode())
    for name in KEY_LIBRARIES:
        try:
            found = metadata.version(name)
        except metadata.PackageNotFoundError:
            found = "absent"
        digest.update(f"{name}={found}".encode())
    return digest.hexdigest()


def round_key(
    settings: Mapping[str, Any],
    *,
    inputs: Iterable[tuple[str, Path | None]],
    model_dir: str | Path | None,
) -> str:
    """The key of a round: SHA-256 of its settings, input files, model folder and version.

    Parameters
    ----------
    settings
        Every setting that can change the round's documents, JSON-able.
    inputs
        (reference, file) of each input; a file of None (nothing to read) enters by its
        reference only.
    model_dir
        The model folder (None: no model enters the key).

    Returns
    -------
    str
        64 hex digits.

    """
    files = [(ref, _readable_sha256(path)) for ref, path in inputs]
    parts = {
        "format": ROUND_RECORD_FORMAT,
        "code": code_fingerprint(),
        "settings": settings,
        "inputs": files,
        "model": folder_sha256(model_dir) if model_dir is not None else None,
    }
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _readable_sha256(path: Path | None) -> str | None:
    """SHA-256 of a file, None when there is none or it cannot be read (a failure later)."""
    if path is None:
        return None
    try:
        return sha256_file(path)
    except OSError:
        return None


def store_digest(store: ResultsStore) -> str:
    """SHA-256 over the key and ``last_updated`` of every document of every collection."""
    digest = hashlib.sha256()
    for name in sorted(store.collections):
        digest.update(f"[{name}]".encode())
        for key, stamp in store.stamps(name):
            digest.update(f"{key}\t{stamp}\n".encode())
    return digest.hexdigest()


class RoundRecord(BaseModel):
    """A round that finished, as written to ``<results_dir>/round-records/<key>.json``."""

    format: int = Field(ROUND_RECORD_FORMAT, description="Record format.")
    round_key: str = Field(description="The round's key (see round_key).")
    finished_utc: datetime = Field(description="When the round finished.")
    store_digest: str = Field(description="The results store's digest when it finished.")
    summary_type: str = Field(description="Class name of the summary.")
    summary: dict[str, Any] = Field(description="The round's summary, as JSON.")

    def round_summary(self) -> RoundSummary:
        """The recorded summary as its own class."""
        cls = _SUMMARY_TYPES.get(self.summary_type, RoundSummary)
        return cls.model_validate(self.summary)


def record_path(results_dir: str | Path, key: str) -> Path:
    """Where the record of the round ``key`` is written."""
    return Path(results_dir) / ROUND_RECORDS_FOLDER / f"{key}.json"


def write_round_record(
    results_dir: str | Path, key: str, summary: RoundSummary, store: ResultsStore
) -> Path:
    """Record a finished round (atomically: a killed write leaves no partial record).

    Returns
    -------
    Path
        The record file.

    """
    record = RoundRecord(
        round_key=key,
        finished_utc=datetime.now(UTC),
        store_digest=store_digest(store),
        summary_type=type(summary).__name__,
        summary=summary.model_dump(mode="json", exclude={"reused_from"}),
    )
    path = record_path(results_dir, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part")
    partial.write_text(record.model_dump_json(indent=1))
    partial.replace(path)
    return path


def find_round_record(results_dir: str | Path, key: str, store: ResultsStore) -> RoundRecord | None:
    """The record of the round ``key`` if the store is as the round left it, else None.

    A missing, unreadable or older-format record, or a store written to since, gives None
    (the round must run).
    """
    path = record_path(results_dir, key)
    try:
        record = RoundRecord.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None
    if record.format != ROUND_RECORD_FORMAT or record.round_key != key:
        return None
    if record.store_digest != store_digest(store):
        return None
    return record


def recorded_round(results_dir: str | Path, key: str) -> RoundSummary | None:
    """The summary of the round ``key`` if it is up to date on ``results_dir``'s store.

    Returns
    -------
    RoundSummary or None
        The recorded summary, its ``reused_from`` the record file; None when the round must
        run (no record, the store written to since, or a store that cannot be read: the
        round then reports that itself).

    """
    if not record_path(results_dir, key).is_file():
        return None
    try:
        with open_results_store(results_dir) as store:
            record = find_round_record(results_dir, key, store)
    except ResultsStoreError:
        return None
    if record is None:
        return None
    where = str(record_path(results_dir, key))
    return record.round_summary().model_copy(update={"reused_from": where})


def record_round(results_dir: str | Path, key: str, summary: RoundSummary) -> Path:
    """Write the record of a finished round with the digest of ``results_dir``'s store."""
    with open_results_store(results_dir) as store:
        return write_round_record(results_dir, key, summary, store)
