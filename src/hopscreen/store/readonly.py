"""Reading a results folder's MontyDB collections without writing anything into the folder.

maggma's ``MontyStore.connect`` rewrites montydb's storage files (``.monty.storage`` and
``monty.storage.cfg``) on every connect, and montydb opens each collection's SQLite file in WAL
mode, which creates ``-wal``/``-shm`` files beside it even to read it and fails when the file or
its folder is read-only. :class:`ReadOnlyMontyStore` connects with the storage settings already
on disk, refuses writes, and, where the collection file or its folder is not writable, reads a
private copy of the collection in a temporary folder (removed on close). So a read-only store can
be queried, and reading leaves the store's folder as it was.

Imported only when a store is opened read-only (it needs maggma and montydb, the engine extra).
"""

from __future__ import annotations

import configparser
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

# optional dependency (engine extra): maggma, montydb
from maggma.stores import MontyStore
from montydb.errors import ConfigurationError

from hopscreen.store.errors import CorruptStoreError, StorePermissionError
from hopscreen.store.folder import STORAGE_CONFIG, STORAGE_IDENT, collection_file


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


def _copy(source: Path, target: Path) -> None:
    try:
        shutil.copyfile(source, target)  # contents only: the copy is writable
    except PermissionError as exc:
        raise StorePermissionError(f"cannot read {source}: permission denied") from exc


class ReadOnlyMontyStore(MontyStore):
    """A maggma ``MontyStore`` that only reads an existing montydb (sqlite) repository.

    Takes ``MontyStore``'s arguments. Connecting needs the repository's ``.monty.storage`` (checked
    by :func:`hopscreen.store.folder.check_results_folder` before a store is opened read-only);
    ``update`` and ``remove_docs`` raise :class:`~hopscreen.store.errors.StorePermissionError`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._snapshot: str | None = None

    @property
    def source_file(self) -> Path:
        """The SQLite file holding this collection in the results folder."""
        return collection_file(self.database_path, self.collection_name, self.database_name)

    def _snapshot_repository(self) -> str:
        """Copy the storage files and this collection into a temporary repository."""
        source = Path(self.database_path)
        self._snapshot = tempfile.mkdtemp(prefix="hopscreen-store-")
        target = Path(self._snapshot)
        for name in (STORAGE_IDENT, STORAGE_CONFIG):
            _copy(source / name, target / name)
        copy = collection_file(target, self.collection_name, self.database_name)
        copy.parent.mkdir()
        _copy(self.source_file, copy)
        wal = self.source_file.with_name(self.source_file.name + "-wal")
        if wal.is_file():  # changes not yet checkpointed into the collection file
            _copy(wal, copy.with_name(copy.name + "-wal"))
        return self._snapshot

    def connect(self, force_reset: bool = False) -> None:
        """Connect with the storage settings on disk; read a copy if the collection is read-only.

        Raises
        ------
        CorruptStoreError
            If montydb cannot read the repository's storage settings.
        StorePermissionError
            If a file of the store cannot be read.

        """
        # optional dependency (engine extra): montydb
        from montydb import MontyClient

        if self._coll is not None and not force_reset:
            return
        repository = self.database_path
        path = self.source_file
        if path.is_file() and not (_writable(path) and _writable(path.parent)):
            repository = self._snapshot_repository()
        try:
            client = MontyClient(repository)
        except (configparser.Error, ConfigurationError, UnicodeDecodeError) as exc:
            raise CorruptStoreError(
                f"{self.database_path}: montydb cannot read the store's settings ({exc})"
            ) from exc
        self._coll = client[self.database_name][self.collection_name]

    def close(self) -> None:
        """Close the client and remove the private copy, if one was made."""
        if self._coll is not None:
            self._coll.database.client.close()
            self._coll = None
        if self._snapshot is not None:
            shutil.rmtree(self._snapshot, ignore_errors=True)
            self._snapshot = None

    read_only = True
    """Writers check this before taking any path around :meth:`update`."""

    def update(self, docs: Any, key: Any = None) -> None:
        """Refuse: the store was opened read-only."""
        raise StorePermissionError(
            f"{self.database_path}: the {self.collection_name} collection was opened read-only"
        )

    def remove_docs(self, criteria: dict) -> None:
        """Refuse: the store was opened read-only."""
        self.update([])
