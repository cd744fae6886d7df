"""Opening the results store and the jobflow job store: embedded MontyDB or MongoDB.

Embedded default: montydb with sqlite storage in a results folder (database ``hopscreen``), one
collection per document kind, next to the collections of the jobflow ``JobStore``
(``jobflow_outputs`` and ``jobflow_data``) when the flows run with :func:`jobflow_store`.
Beyond one machine the same collections live in MongoDB, configured with a dict of
``maggma.stores.MongoStore`` arguments (never credentials in code: read them from a file), or
in the job store of a jobflow.yaml-style file that a results folder is bound to
(:mod:`hopscreen.store.job_store`): both functions here follow that binding.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from hopscreen.store.folder import DATABASE_NAME, check_results_folder
from hopscreen.store.job_store import (
    bind_job_store,
    describe_store,
    linked_job_store_file,
    load_job_store,
    results_stores_like,
)
from hopscreen.store.results import COLLECTIONS, ResultsStore

if TYPE_CHECKING:
    # optional dependency (engine extra): jobflow
    from jobflow import JobStore
    from maggma.core import Store

JOBFLOW_DOCS_COLLECTION = "jobflow_outputs"
JOBFLOW_DATA_COLLECTION = "jobflow_data"


def monty_store(
    results_dir: str | Path, collection_name: str, key: str, *, read_only: bool = False
) -> Store:
    """A maggma ``MontyStore`` (montydb, sqlite storage) in a results folder.

    Parameters
    ----------
    results_dir : str or Path
        Results folder (must exist).
    collection_name : str
        Collection name.
    key : str
        Key field of the collection.
    read_only : bool
        Only read an existing store: a :class:`~hopscreen.store.readonly.ReadOnlyMontyStore`,
        which writes nothing into the folder (check the folder first with
        :func:`~hopscreen.store.folder.check_results_folder`).

    Returns
    -------
    maggma.stores.MontyStore
        Not yet connected.

    """
    # optional dependency (engine extra): maggma
    from maggma.stores import MontyStore

    store_class = MontyStore
    if read_only:
        from hopscreen.store.readonly import ReadOnlyMontyStore

        store_class = ReadOnlyMontyStore
    return store_class(
        collection_name,
        database_path=str(Path(results_dir)),
        database_name=DATABASE_NAME,
        storage="sqlite",
        key=key,
    )


def mongo_store(mongo: dict[str, Any], collection_name: str, key: str) -> Store:
    """A maggma ``MongoStore`` for one collection.

    Parameters
    ----------
    mongo : dict
        ``MongoStore`` arguments (``host``, ``port``, ``username``, ``password``, ``uri``,
        ``database`` (default ``"hopscreen"``) ...), plus an optional ``collection_prefix``
        prepended to every collection name.
    collection_name : str
        Collection name (without the prefix).
    key : str
        Key field of the collection.

    Returns
    -------
    maggma.stores.MongoStore
        Not yet connected (constructing one does not touch the server).

    """
    # optional dependency (engine extra): maggma
    from maggma.stores import MongoStore

    options = dict(mongo)
    prefix = str(options.pop("collection_prefix", ""))
    options.setdefault("database", DATABASE_NAME)
    return MongoStore(collection_name=f"{prefix}{collection_name}", key=key, **options)


def _check_backend(results_dir: str | Path | None, mongo: dict[str, Any] | None) -> None:
    if (results_dir is None) == (mongo is None):
        raise ValueError("give either a results folder or a MongoDB configuration (not both)")


def open_results_store(
    results_dir: str | Path | None = None,
    *,
    mongo: dict[str, Any] | None = None,
    create: bool = True,
    read_only: bool = False,
) -> ResultsStore:
    """The results store of a results folder (embedded) or of a MongoDB server.

    Parameters
    ----------
    results_dir : str or Path, optional
        Results folder for the embedded MontyDB (sqlite) store.
    mongo : dict, optional
        MongoDB configuration (see :func:`mongo_store`), instead of a folder.
    create : bool
        Create the results folder if it does not exist; if False a missing folder raises.
    read_only : bool
        Only read a store a round wrote: the folder is checked first
        (:func:`~hopscreen.store.folder.check_results_folder`), nothing is written into it (a
        read-only store is read through a private copy of each collection), and writes raise
        :class:`~hopscreen.store.errors.StorePermissionError`. Implies ``create=False``; no
        effect with ``mongo`` or a bound folder.

    A folder bound to a job store file (:func:`~hopscreen.store.job_store.bind_job_store`)
    opens that job store's results collections instead of an embedded store.

    Returns
    -------
    ResultsStore
        Not yet connected: use it as ``with open_results_store(path) as store: ...``.

    Raises
    ------
    FileNotFoundError
        If ``create`` is False and the results folder does not exist (with ``read_only``: a
        :class:`~hopscreen.store.errors.NoResultsStoreError`, also when the path is a file or
        the folder holds no store).
    CorruptStoreError
        With ``read_only``, if the store's files are damaged.
    ValueError
        If neither or both of ``results_dir`` and ``mongo`` are given.
    JobStoreFileError
        If the folder is bound to a job store file that is missing or unusable.

    """
    _check_backend(results_dir, mongo)
    if mongo is not None:
        stores = {
            name: mongo_store(mongo, name, spec.key_field) for name, spec in COLLECTIONS.items()
        }
        location = mongo.get("uri") or f"mongodb://{mongo.get('host', 'localhost')}"
        return ResultsStore(stores, location=str(location))
    path = Path(results_dir).expanduser()  # type: ignore[arg-type]
    linked = linked_job_store_file(path)
    if linked is not None:
        docs_store = load_job_store(linked).docs_store
        location = f"{describe_store(docs_store)} (job store of {path})"
        return ResultsStore(results_stores_like(docs_store), location=location)
    if read_only:
        check_results_folder(path)
    elif not path.is_dir():
        if not create:
            raise FileNotFoundError(f"results folder {path} does not exist")
        path.mkdir(parents=True)
    stores = {
        name: monty_store(path, name, spec.key_field, read_only=read_only)
        for name, spec in COLLECTIONS.items()
    }
    return ResultsStore(stores, location=str(path))


def jobflow_store(
    results_dir: str | Path | None = None, *, mongo: dict[str, Any] | None = None
) -> JobStore:
    """A jobflow ``JobStore`` living beside the hopscreen collections.

    The job outputs go to ``jobflow_outputs`` and large data (``additional_stores`` name
    ``"data"``) to ``jobflow_data``, in the same MontyDB folder (or MongoDB database) as the
    results store. The store is on disk, so it also works for FireWorks workers. A folder
    bound to a job store file gives that file's job store.

    Parameters
    ----------
    results_dir : str or Path, optional
        Results folder (created if missing).
    mongo : dict, optional
        MongoDB configuration instead of a folder (see :func:`mongo_store`).

    Returns
    -------
    jobflow.JobStore
        Not yet connected (``run_locally`` connects it).

    """
    # optional dependency (engine extra): jobflow
    from jobflow import JobStore

    _check_backend(results_dir, mongo)
    if mongo is not None:
        docs = mongo_store(mongo, JOBFLOW_DOCS_COLLECTION, "uuid")
        data = mongo_store(mongo, JOBFLOW_DATA_COLLECTION, "blob_uuid")
    else:
        path = Path(results_dir).expanduser()  # type: ignore[arg-type]
        linked = linked_job_store_file(path)
        if linked is not None:
            return load_job_store(linked)
        path.mkdir(parents=True, exist_ok=True)
        docs = monty_store(path, JOBFLOW_DOCS_COLLECTION, "uuid")
        data = monty_store(path, JOBFLOW_DATA_COLLECTION, "blob_uuid")
    return JobStore(docs, additional_stores={"data": data})


def round_job_store(results_dir: str | Path, job_store_file: str | Path | None = None) -> JobStore:
    """The job store a round on ``results_dir`` writes to.

    Parameters
    ----------
    results_dir : str or Path
        Results folder of the round.
    job_store_file : str or Path, optional
        A jobflow.yaml-style job store file: the folder is bound to it
        (:func:`~hopscreen.store.job_store.bind_job_store`), so that the round's job documents
        and results collections all go to that store. None: :func:`jobflow_store` (the
        folder's embedded MontyStore, or the job store it is already bound to).

    Returns
    -------
    jobflow.JobStore
        Not yet connected.

    Raises
    ------
    JobStoreFileError
        If the file is not a usable job store, or the folder already holds an embedded store.

    """
    if job_store_file is not None:
        return bind_job_store(results_dir, job_store_file)
    return jobflow_store(results_dir)
