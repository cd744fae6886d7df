"""How a results folder is laid out on disk, and telling a results store from any other folder.

A screening round writes its embedded store (montydb, sqlite storage) into the results folder::

    results/x/.monty.storage          montydb's storage engine name: "sqlite"
    results/x/monty.storage.cfg       montydb's storage settings ([sqlite] section)
    results/x/hopscreen/              the database: one SQLite file per collection,
        candidates.collection ...     written once a document of that kind is stored

Beside the store, a round keeps ``hop-cache/`` (each host's hops and bands), ``.rounds/``
(markers of local rounds while they run: :mod:`hopscreen.store.killed_runs`) and
``round-records/`` (the record of each finished round: :mod:`hopscreen.screening.round_record`).

Opening a ``MontyStore`` on a folder writes the two storage files, so readers check the folder
with :func:`check_results_folder` first and never open a folder that holds no store.
"""

from __future__ import annotations

import configparser
from pathlib import Path

from hopscreen.store.errors import CorruptStoreError, NoResultsStoreError, StorePermissionError
from hopscreen.store.results import COLLECTIONS

DATABASE_NAME = "hopscreen"
"""Database name, in the results folder or on the MongoDB server."""

STORAGE_IDENT = ".monty.storage"
"""montydb's file naming the storage engine of a folder (``sqlite`` for a results store)."""

STORAGE_CONFIG = "monty.storage.cfg"
"""montydb's storage settings of a folder."""

STORAGE_ENGINE = "sqlite"
"""The montydb storage engine of a results store."""

ROUND_RECORDS_FOLDER = "round-records"
"""Folder of the records of finished rounds inside a results folder."""

COLLECTION_SUFFIX = ".collection"
"""File suffix of a montydb SQLite collection."""

SQLITE_HEADER = b"SQLite format 3\x00"
"""The first bytes of every SQLite file."""


def collection_file(
    results_dir: str | Path, collection: str, database: str = DATABASE_NAME
) -> Path:
    """The SQLite file of one collection of a results folder (present once a document was written).

    Parameters
    ----------
    results_dir : str or Path
        Results folder (the montydb repository).
    collection : str
        Collection name, e.g. ``"predictions"``.
    database : str
        Database name (default :data:`DATABASE_NAME`).

    Returns
    -------
    Path
        ``results_dir/database/collection.collection``.

    """
    return Path(results_dir) / database / f"{collection}{COLLECTION_SUFFIX}"


def _check_storage_files(path: Path) -> None:
    ident = path / STORAGE_IDENT
    if not ident.is_file():
        hint = f"run hopscreen screen --results {path} first"
        raise NoResultsStoreError(f"{path} holds no hopscreen results store ({hint})")
    engine = ident.read_text(errors="replace").strip()
    if engine != STORAGE_ENGINE:
        raise CorruptStoreError(
            f"{ident} names the storage engine {engine[:40]!r}, not {STORAGE_ENGINE!r}: "
            f"{path} is not a hopscreen results store, or its storage files are damaged"
        )
    config = path / STORAGE_CONFIG
    if not config.is_file():
        raise CorruptStoreError(f"{path} is an incomplete results store: {config} is missing")
    parser = configparser.ConfigParser()
    try:
        parser.read_string(config.read_text(errors="replace"), source=str(config))
    except configparser.Error as exc:
        reason = str(exc).splitlines()[0]
        raise CorruptStoreError(f"{config} is damaged (not montydb settings: {reason})") from exc
    if not parser.has_section(STORAGE_ENGINE):
        raise CorruptStoreError(f"{config} is damaged (no [{STORAGE_ENGINE}] section)")


def _sqlite_problem(file: Path) -> str | None:
    """What is wrong with an SQLite file at a glance (header and length), or None.

    The header (first 100 bytes) holds the page size (offset 16) and, when valid (the change
    counter at offset 24 equals the number at offset 92), the database size in pages (offset 28):
    a shorter file was truncated. Damage inside the pages shows when the collection is read.
    """
    with file.open("rb") as handle:
        header = handle.read(100)
    if not header:
        return "empty"
    if not header.startswith(SQLITE_HEADER):
        return "not an SQLite file"
    if len(header) < 100:
        return f"truncated ({len(header)} bytes)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    header_valid = header[24:28] == header[92:96]
    size = file.stat().st_size
    if header_valid and pages and size < page_size * pages:
        return f"truncated ({size} of {page_size * pages} bytes)"
    return None


def _check_collection_files(path: Path) -> None:
    database = path / DATABASE_NAME
    if database.exists() and not database.is_dir():
        raise CorruptStoreError(f"{database} is a file: the store's database folder is damaged")
    for name in COLLECTIONS:
        file = collection_file(path, name)
        if not file.exists():
            continue
        problem = _sqlite_problem(file)
        if problem is not None:
            raise CorruptStoreError(
                f"{file} is {problem}: the {name} collection of the store is damaged"
            )


def check_results_folder(results_dir: str | Path) -> Path:
    """Check that a folder holds a results store, without writing anything.

    Parameters
    ----------
    results_dir : str or Path
        Results folder of a screening round.

    Returns
    -------
    Path
        The folder (``~`` expanded).

    Raises
    ------
    NoResultsStoreError
        If the path does not exist, is not a folder, or holds no results store.
    CorruptStoreError
        If the store's montydb files or a collection file are damaged (the collections'
        contents are checked when they are read).
    StorePermissionError
        If a file of the store cannot be read.

    """
    path = Path(results_dir).expanduser()
    try:
        if not path.exists():
            hint = f"run hopscreen screen --results {path} first"
            raise NoResultsStoreError(f"results folder {path} does not exist ({hint})")
        if not path.is_dir():
            kind = "a file" if path.is_file() else "not a folder"
            raise NoResultsStoreError(f"{path} is {kind}, not a results folder")
        _check_storage_files(path)
        _check_collection_files(path)
    except PermissionError as exc:
        where = exc.filename or path
        raise StorePermissionError(f"cannot read {where}: permission denied") from exc
    return path
