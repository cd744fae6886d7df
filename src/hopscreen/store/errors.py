"""Why a results store cannot be opened or read: one-line messages for the command line.

Every error here is a :class:`ResultsStoreError`; its message is one line naming the path and the
problem, ready to print after ``error:``. The subclasses also derive from the matching built-in
error (``FileNotFoundError``, ``PermissionError``), so callers catching those keep working.
"""

from __future__ import annotations


class ResultsStoreError(Exception):
    """A results store is missing, unreadable or damaged (the message says which and where)."""


class NoResultsStoreError(ResultsStoreError, FileNotFoundError):
    """No results store at a path: the folder is missing, is a file, or holds no store."""


class CorruptStoreError(ResultsStoreError):
    """The store's files exist but cannot be read as a results store (truncated, overwritten)."""


class StorePermissionError(ResultsStoreError, PermissionError):
    """The store cannot be read, or a write was asked of a store opened read-only."""
