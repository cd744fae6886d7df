"""Saved candidates files: a Materials Project query fetched once, read offline afterwards.

Compute nodes usually have no internet. ``hopscreen candidates --mp … --save DIR`` (or
:func:`save_mp_candidates`) runs the query where the network is (a login node) and writes
``DIR/mp-<ion>-<key>.json.gz``, ``<key>`` the first 16 hex digits of :meth:`MPQuery.key`; a
campaign's ``sources: candidates_file:`` points at it and its candidates job only reads it.

The file is gzip-compressed JSON with two members:

``header``
    :class:`CandidateFileHeader`: format name and version, the query, the mp-api version,
    the MP database version, the date, the counts and the sha256 of the payload.
``payload``
    A :class:`~hopscreen.schemas.candidate.CandidateBatch` (candidates and rejects).

The same query saved again into the same folder reuses the file (no client is created)
unless ``refresh``. A missing, truncated, damaged, foreign or newer-format file is refused
with :class:`CandidateFileError`, whose message is one line.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from hopscreen.candidates.mp import MPQuery, fetch_mp, mp_api_version
from hopscreen.schemas.base import Document
from hopscreen.schemas.candidate import CandidateBatch

FILE_FORMAT = "hopscreen-candidates"
FORMAT_VERSION = 1


class CandidateFileError(ValueError):
    """A candidates file is missing, unreadable, damaged or of another format (one line)."""


class CandidateFileHeader(Document):
    """What a saved candidates file holds and where it came from."""

    format: Literal["hopscreen-candidates"] = Field(
        FILE_FORMAT, description="Always hopscreen-candidates."
    )
    format_version: int = Field(FORMAT_VERSION, description="Version of this layout.")
    created_utc: str = Field(description="When the query ran, ISO 8601, UTC.")
    working_ion: str = Field(description="Working ion of every candidate.")
    query: MPQuery = Field(description="The Materials Project query (filters as sent).")
    query_key: str = Field(description="sha256 of the canonical query (MPQuery.key).")
    mp_api_version: str | None = Field(None, description="mp-api client version.")
    database_version: str | None = Field(None, description="MP database version reported.")
    n_candidates: int = Field(ge=0, description="Number of candidates in the payload.")
    n_failures: int = Field(ge=0, description="Number of rejected structures in the payload.")
    payload_sha256: str = Field(description="sha256 of the payload's canonical JSON.")


@dataclass(frozen=True)
class SavedCandidates:
    """A candidates file: its path, header and batch; ``reused`` when not fetched now."""

    path: Path
    header: CandidateFileHeader
    batch: CandidateBatch
    reused: bool = False


def candidates_file_name(query: MPQuery) -> str:
    """File name of ``query``'s saved candidates (``mp-<ion>-<16 hex>.json.gz``)."""
    return f"mp-{query.working_ion}-{query.key()[:16]}.json.gz"


def _canonical(payload: Any) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def write_candidates_file(
    path: str | Path, batch: CandidateBatch, query: MPQuery, database_version: str | None
) -> CandidateFileHeader:
    """Write ``batch`` with its header to ``path`` (atomically: a temporary file is renamed).

    Returns
    -------
    CandidateFileHeader
        The header written.

    """
    path = Path(path)
    payload = batch.model_dump(mode="json")
    header = CandidateFileHeader(
        created_utc=datetime.now(UTC).isoformat(timespec="seconds"),
        working_ion=query.working_ion,
        query=query,
        query_key=query.key(),
        mp_api_version=mp_api_version(),
        database_version=database_version,
        n_candidates=len(batch.candidates),
        n_failures=len(batch.failures),
        payload_sha256=hashlib.sha256(_canonical(payload)).hexdigest(),
    )
    data = {"header": header.model_dump(mode="json"), "payload": payload}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with gzip.open(tmp, "wb") as fh:
        fh.write(json.dumps(data, indent=None).encode())
    os.replace(tmp, path)
    return header


def _load_json(path: Path) -> Any:
    try:
        with gzip.open(path, "rb") as fh:
            return json.loads(fh.read().decode("utf-8"))
    except FileNotFoundError:
        raise CandidateFileError(f"candidates file {path} does not exist") from None
    except (IsADirectoryError, PermissionError) as exc:
        raise CandidateFileError(f"cannot read candidates file {path}: {exc.strerror}") from None
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        why = (str(exc).splitlines() or [""])[0][:200]
        raise CandidateFileError(
            f"{path} is not a readable candidates file (damaged or truncated: "
            f"{type(exc).__name__}: {why})"
        ) from None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(top level)"
    return f"{where}: {err['msg']}"


def _check_header(path: Path, data: Any) -> CandidateFileHeader:
    if not isinstance(data, dict) or not isinstance(data.get("header"), dict):
        raise CandidateFileError(f"{path} is not a hopscreen candidates file (no header)")
    raw = data["header"]
    if raw.get("format") != FILE_FORMAT:
        raise CandidateFileError(f"{path} is not a hopscreen candidates file")
    if raw.get("format_version") != FORMAT_VERSION:
        raise CandidateFileError(
            f"{path} has candidates-file format version {raw.get('format_version')!r}; this "
            f"hopscreen reads version {FORMAT_VERSION} (save the query again)"
        )
    try:
        return CandidateFileHeader.model_validate(raw)
    except ValidationError as exc:
        raise CandidateFileError(f"{path}: invalid header: {_first_error(exc)}") from None


def read_candidates_file(path: str | Path, *, working_ion: str | None = None) -> SavedCandidates:
    """Read and check a saved candidates file (no network).

    Parameters
    ----------
    path
        The ``.json.gz`` file written by :func:`write_candidates_file`.
    working_ion
        When given, the file's working ion must be this one.

    Raises
    ------
    CandidateFileError
        Missing, unreadable, truncated or damaged file (checksum or counts differ from the
        header), another format or version, invalid documents, another working ion.

    """
    path = Path(path)
    data = _load_json(path)
    header = _check_header(path, data)
    payload = data.get("payload")
    if hashlib.sha256(_canonical(payload)).hexdigest() != header.payload_sha256:
        raise CandidateFileError(f"{path} is damaged: its payload does not match its checksum")
    try:
        batch = CandidateBatch.model_validate(payload)
    except ValidationError as exc:
        raise CandidateFileError(
            f"{path}: invalid candidate document: {_first_error(exc)}"
        ) from None
    if (len(batch.candidates), len(batch.failures)) != (header.n_candidates, header.n_failures):
        raise CandidateFileError(f"{path} is damaged: its counts do not match its header")
    if working_ion is not None and header.working_ion != working_ion:
        raise CandidateFileError(
            f"{path} holds {header.working_ion} candidates, not {working_ion} ones"
        )
    return SavedCandidates(path=path, header=header, batch=batch)


def save_mp_candidates(
    query: MPQuery,
    directory: str | Path,
    *,
    refresh: bool = False,
    api_key: str | None = None,
    rester_factory: Callable[[str], Any] | None = None,
) -> SavedCandidates:
    """Fetch ``query`` and save it in ``directory``, or reuse the file saved for it there.

    Parameters
    ----------
    query
        The Materials Project query.
    directory
        Folder of the file (created if needed); its name is :func:`candidates_file_name`.
    refresh
        Fetch again even when the file exists (and replace it).
    api_key, rester_factory
        See :func:`hopscreen.candidates.mp.fetch_mp`; unused when the file is reused.

    Returns
    -------
    SavedCandidates
        The file, with ``reused=True`` when it was read rather than fetched.

    Raises
    ------
    CandidateFileError
        When the existing file is unreadable or holds another query (refresh replaces it).
    MPKeyError, MPQueryError
        When fetching fails (see :func:`hopscreen.candidates.mp.fetch_mp`).

    """
    path = Path(directory) / candidates_file_name(query)
    if path.exists() and not refresh:
        try:
            saved = read_candidates_file(path)
        except CandidateFileError as exc:
            raise CandidateFileError(f"{exc}; delete it or fetch again (--refresh)") from None
        if saved.header.query != query:
            raise CandidateFileError(f"{path} holds another query; fetch again (--refresh)")
        return replace(saved, reused=True)
    result = fetch_mp(query, api_key=api_key, rester_factory=rester_factory)
    header = write_candidates_file(path, result.batch, query, result.database_version)
    return SavedCandidates(path=path, header=header, batch=result.batch)
