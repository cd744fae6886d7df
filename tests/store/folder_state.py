"""A folder's state before and after a command, and read-only folders (also when run as root)."""

from __future__ import annotations

import builtins
import os
import sqlite3
from pathlib import Path

import montydb.configure
import montydb.storage
import pytest


def listing(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every path under a folder (hidden ones too): mode, and a file's size and modification time.

    A folder's own time is left out: SQLite creates and removes its journal files beside a
    collection while reading it in place, which touches the folder but leaves nothing behind.
    """
    return {
        str(p.relative_to(folder)): (
            (p.stat().st_mode, p.stat().st_size, p.stat().st_mtime_ns)
            if p.is_file()
            else (p.stat().st_mode, 0, 0)
        )
        for p in sorted(folder.rglob("*"))
    }


def _inside(path: object, folder: Path) -> bool:
    if not isinstance(path, str | os.PathLike):
        return False
    return Path(path).resolve().is_relative_to(folder.resolve())


def _emulate_read_only(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """What a user without write permission meets in ``folder`` (root meets none of it).

    ``os.access`` says not writable, SQLite cannot open a collection there (montydb's WAL
    pragma fails on a read-only file: "attempt to write a readonly database"), and montydb's own
    writes of its storage files raise ``PermissionError``.
    """
    real_access = os.access

    def access(path: object, mode: int, *args: object, **kwargs: object) -> bool:
        if mode & os.W_OK and _inside(path, folder):
            return False
        return real_access(path, mode, *args, **kwargs)  # type: ignore[arg-type]

    real_connect = sqlite3.connect

    def connect(database: object, *args: object, **kwargs: object) -> sqlite3.Connection:
        if _inside(database, folder):
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return real_connect(database, *args, **kwargs)  # type: ignore[arg-type]

    def guarded_open(file: object, mode: str = "r", *args: object, **kwargs: object) -> object:
        if any(flag in mode for flag in "wax+") and _inside(file, folder):
            raise PermissionError(13, "Permission denied", str(file))
        return builtins.open(file, mode, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(sqlite3, "connect", connect)
    monkeypatch.setattr(montydb.configure, "open", guarded_open, raising=False)
    monkeypatch.setattr(montydb.storage, "open", guarded_open, raising=False)


def make_read_only(monkeypatch: pytest.MonkeyPatch, folder: Path) -> bool:
    """Take write permission away from a folder and everything in it.

    Returns True when the permissions were only emulated: the tests run as root, where
    ``chmod`` does not stop writes. Give the permission back with :func:`make_writable`.
    """
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    if not os.access(folder, os.W_OK):
        return False
    _emulate_read_only(monkeypatch, folder)
    return True


def make_writable(folder: Path) -> None:
    """Give the owner write permission back (so that pytest can remove the folder)."""
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
