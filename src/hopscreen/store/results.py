"""The results store: every document of every round, upserted by content id, per collection.

A :class:`ResultsStore` holds one maggma ``Store`` per collection (``MontyStore`` under a results
folder by default, ``MongoStore`` on HPC; see :mod:`hopscreen.store.stores`). Documents are
written as their JSON dump plus three bookkeeping fields:

* the collection's key field (``candidate_id``, ``hop_id``, ``prediction_id``, ``selection_id``,
  ``verification_id``, ``failure_id`` or ``verdict_key``), computed when the document lacks
  it;
* ``doc_type``: the document's class name (``failures`` mixes several kinds);
* ``last_updated``: the UTC time of the write (maggma's convention), used to pick the latest.

Writes are upserts on the key field, so re-running a round updates documents instead of
duplicating them; a document stored with the same content is not written again. A collection
that cannot be read (a damaged SQLite file, undecodable BSON, a document that no longer
validates) raises :class:`~hopscreen.store.errors.CorruptStoreError`, one line naming the store
and the collection.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self, TypeVar

from pydantic import BaseModel, ValidationError

from hopscreen.store.bulk import insert_new, keep_matching, plan_write, split_large_in
from hopscreen.store.errors import CorruptStoreError, ResultsStoreError, StorePermissionError

if TYPE_CHECKING:
    from types import TracebackType

    from maggma.core import Store

M = TypeVar("M", bound=BaseModel)

KeyFunction = Callable[[dict[str, Any]], str]
"""Computes a document's key from its JSON dump (used when the dump lacks the key field)."""

LEVEL_OF_THEORY_FIELDS = ("level_of_theory", "tier", "method", "code", "potential", "functional")
"""Fields that tell verifications of one hop apart when a document carries no id of its own."""

BOOKKEEPING_FIELDS = ("doc_type", "last_updated")


def content_hash(record: Mapping[str, Any]) -> str:
    """sha256 (hex) of the canonical JSON (sorted keys, no spaces) of a JSON-able mapping."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _field(name: str) -> KeyFunction:
    def key(record: dict[str, Any]) -> str:
        if record.get(name) is None:
            raise ValueError(f"document has no {name!r}: {sorted(record)}")
        return str(record[name])

    return key


def prediction_key(record: dict[str, Any]) -> str:
    """``"{hop_id}:{model_version}"``: one prediction per hop and model version."""
    return f"{_field('hop_id')(record)}:{_field('model_version')(record)}"


def verification_key(record: dict[str, Any]) -> str:
    """``"{hop_id}:{hash}"``, the hash over the level-of-theory fields present (16 hex digits)."""
    level = {f: record[f] for f in LEVEL_OF_THEORY_FIELDS if f in record}
    return f"{_field('hop_id')(record)}:{content_hash(level)[:16]}"


def _read_errors() -> tuple[type[Exception], ...]:
    """What a damaged embedded store raises on reading (SQLite, BSON decoding, the file system)."""
    errors: list[type[Exception]] = [sqlite3.DatabaseError, OSError]
    try:
        # optional dependency (engine extra): bson (pymongo, with maggma)
        from bson.errors import BSONError
    except ImportError:  # pragma: no cover - maggma always brings pymongo
        pass
    else:
        errors.append(BSONError)
    return tuple(errors)


def verdict_key(record: dict[str, Any]) -> str:
    """``"{host}:{working_ion}:{model_version}"``: one verdict per host, ion and model version.

    The host is its ``candidate_id`` (its name when it has none).
    """
    host = record.get("candidate_id") or _field("candidate_name")(record)
    return f"{host}:{_field('working_ion')(record)}:{_field('model_version')(record)}"


def failure_key(record: dict[str, Any]) -> str:
    """Content hash of the whole failure document with its ``doc_type`` (stored once)."""
    return content_hash(record)


@dataclass(frozen=True)
class CollectionSpec:
    """A collection of the results store and how its documents are keyed.

    Attributes
    ----------
    key_field : str
        Field holding the unique key (the maggma store's ``key``).
    key : callable
        Computes the key from a document's JSON dump when the dump has no ``key_field``.

    """

    key_field: str
    key: KeyFunction


COLLECTIONS: dict[str, CollectionSpec] = {
    "candidates": CollectionSpec("candidate_id", _field("candidate_id")),
    "hops": CollectionSpec("hop_id", _field("hop_id")),
    "predictions": CollectionSpec("prediction_id", prediction_key),
    "selections": CollectionSpec("selection_id", _field("selection_id")),
    "verifications": CollectionSpec("verification_id", verification_key),
    "failures": CollectionSpec("failure_id", failure_key),
    "verdicts": CollectionSpec("verdict_key", verdict_key),
}
"""The collections of a results store, by name."""


def to_record(doc: BaseModel, spec: CollectionSpec, *, now: datetime | None = None) -> dict:
    """The stored form of a document: its JSON dump plus key, ``doc_type`` and ``last_updated``.

    Parameters
    ----------
    doc : pydantic.BaseModel
        Any document.
    spec : CollectionSpec
        Collection it goes to.
    now : datetime, optional
        Time stamp (UTC now if None).

    Returns
    -------
    dict
        A JSON-able dict (except ``last_updated``, a datetime).

    """
    record = doc.model_dump(mode="json")
    record["doc_type"] = type(doc).__name__
    if record.get(spec.key_field) is None:
        record[spec.key_field] = spec.key(record)
    record["last_updated"] = now or datetime.now(UTC)
    return record


class ResultsStore:
    """The collections of one results store, used as ``with store: ...``.

    Parameters
    ----------
    stores : mapping of str to maggma Store
        One store per collection name; each store's ``key`` is the collection's key field.
    collections : mapping of str to CollectionSpec, optional
        How each collection is keyed (default :data:`COLLECTIONS`).
    location : str
        Where the data live, for messages (a folder or a MongoDB address).

    """

    def __init__(
        self,
        stores: Mapping[str, Store],
        *,
        collections: Mapping[str, CollectionSpec] | None = None,
        location: str = "",
    ) -> None:
        self.collections = dict(collections or COLLECTIONS)
        missing = set(self.collections) - set(stores)
        if missing:
            raise ValueError(f"no store for collections {sorted(missing)}")
        self.stores = dict(stores)
        self.location = location
        self._connected = False

    def __repr__(self) -> str:
        return f"ResultsStore({self.location!r}, collections={sorted(self.collections)})"

    def connect(self) -> None:
        """Connect every collection's store (on failure, the ones connected are closed again).

        Raises
        ------
        StorePermissionError
            If the store's files cannot be opened for lack of permission.

        """
        try:
            for store in self.stores.values():
                store.connect()
        except Exception as exc:
            for store in self.stores.values():
                with suppress(Exception):  # a store that never connected cannot close
                    store.close()
            if isinstance(exc, PermissionError) and not isinstance(exc, ResultsStoreError):
                where = exc.filename or self.location
                raise StorePermissionError(
                    f"cannot open the results store {where}: permission denied"
                ) from exc
            raise
        self._connected = True

    def close(self) -> None:
        """Close every collection's store."""
        if not self._connected:
            return
        for store in self.stores.values():
            store.close()
        self._connected = False

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _store(self, collection: str) -> tuple[Store, CollectionSpec]:
        if collection not in self.collections:
            raise ValueError(
                f"unknown collection {collection!r}; known: {', '.join(sorted(self.collections))}"
            )
        if not self._connected:
            raise RuntimeError("the results store is not connected: use `with store:`")
        return self.stores[collection], self.collections[collection]

    @contextmanager
    def _reading(self, collection: str) -> Iterator[None]:
        """Turn a failed read of a damaged collection into one :class:`CorruptStoreError` line."""
        try:
            yield
        except ResultsStoreError:
            raise
        except PermissionError as exc:
            where = exc.filename or self.location
            raise StorePermissionError(
                f"cannot read the {collection} collection of {where}: permission denied"
            ) from exc
        except _read_errors() as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if isinstance(exc, sqlite3.OperationalError) and "readonly" in reason:
                raise StorePermissionError(
                    f"cannot read the {collection} collection of {self.location}: {reason} "
                    "(SQLite needs write permission to read it in place)"
                ) from exc
            raise CorruptStoreError(
                f"{self.location}: the {collection} collection cannot be read ({reason}); "
                "the store is damaged"
            ) from exc

    def write(self, collection: str, docs: Sequence[BaseModel]) -> int:
        """Upsert documents into a collection, keyed by their content ids.

        Parameters
        ----------
        collection : str
            Collection name (see :data:`COLLECTIONS`).
        docs : sequence of pydantic.BaseModel
            Documents to write; a document whose key is already stored with other content
            replaces it, one stored with the same content is left as it is (its
            ``last_updated`` unchanged). New documents of an embedded store go in with one
            bulk insert (:mod:`hopscreen.store.bulk`).

        Returns
        -------
        int
            Number of documents given (new, changed and unchanged).

        """
        store, spec = self._store(collection)
        now = datetime.now(UTC)
        records = [to_record(doc, spec, now=now) for doc in docs]
        if not records:
            return 0
        if getattr(store, "read_only", False):
            store.update(records, key=spec.key_field)  # raises: opened read-only
        with self._reading(collection):
            plan = plan_write(store, spec.key_field, records)
        insert_new(store, spec.key_field, plan.new)
        if plan.changed:
            store.update(plan.changed, key=spec.key_field)
        return len(records)

    def read(
        self,
        collection: str,
        criteria: dict[str, Any] | None = None,
        *,
        sort: dict[str, int] | None = None,
    ) -> list[dict[str, Any]]:
        """Documents of a collection matching a MongoDB-style filter.

        Parameters
        ----------
        collection : str
            Collection name.
        criteria : dict, optional
            MongoDB filter, e.g. ``{"working_ion": "Li"}`` (all documents if None).
        sort : dict of str to int, optional
            Sort fields, 1 ascending and -1 descending.

        Returns
        -------
        list of dict
            Stored records (document fields plus key, ``doc_type`` and ``last_updated``), without
            the database's ``_id``.

        Raises
        ------
        CorruptStoreError
            If the collection's file or documents cannot be read.
        StorePermissionError
            If the collection's file cannot be read for lack of permission.

        """
        store, _ = self._store(collection)
        rest, post = split_large_in(criteria)
        with self._reading(collection):
            records = keep_matching(store.query(criteria=rest, sort=sort), post)
        return [{k: v for k, v in record.items() if k != "_id"} for record in records]

    def read_docs(
        self, collection: str, model: type[M], criteria: dict[str, Any] | None = None
    ) -> list[M]:
        """Documents of a collection as pydantic models (bookkeeping fields dropped).

        Parameters
        ----------
        collection : str
            Collection name.
        model : type of pydantic.BaseModel
            Document class, e.g. ``PredictionDoc``.
        criteria : dict, optional
            MongoDB filter; add ``{"doc_type": model.__name__}`` for mixed collections.

        Returns
        -------
        list of model
            Validated documents.

        Raises
        ------
        CorruptStoreError
            If the collection cannot be read or a document does not validate as ``model``.

        """
        fields = set(model.model_fields)
        records = self.read(collection, criteria)
        try:
            return [
                model.model_validate({k: v for k, v in record.items() if k in fields})
                for record in records
            ]
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "document"
            raise CorruptStoreError(
                f"{self.location}: a document of the {collection} collection is not a valid "
                f"{model.__name__} ({where}: {first['msg']})"
            ) from exc

    def stamps(self, collection: str) -> list[tuple[str, str]]:
        """(key, ``last_updated``) of every document of a collection, sorted.

        Reads two fields per document, so it is cheap next to :meth:`read`; a document written
        again with other content changes its stamp.

        Raises
        ------
        CorruptStoreError
            If the collection cannot be read.

        """
        store, spec = self._store(collection)
        fields = [spec.key_field, "last_updated"]
        with self._reading(collection):
            records = store.query(criteria={}, properties=fields)
            return sorted((str(r.get(spec.key_field)), str(r.get("last_updated"))) for r in records)

    def count(self, collection: str, criteria: dict[str, Any] | None = None) -> int:
        """Number of documents of a collection matching a MongoDB-style filter.

        Raises
        ------
        CorruptStoreError
            If the collection's file cannot be read.

        """
        store, _ = self._store(collection)
        with self._reading(collection):
            return int(store.count(criteria or {}))
