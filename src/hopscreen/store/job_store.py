"""A configured job store (MongoDB, GridFS, any maggma store) and the results folders bound to it.

By default a round keeps its job documents and its results collections in the results
folder's embedded MontyDB (:mod:`hopscreen.store.stores`). Beyond one machine they belong on
a database server: the ``job_store`` site setting (or ``hopscreen screen --job-store``) names
a jobflow.yaml-style file whose ``JOB_STORE`` is parsed the way jobflow parses it (a
``docs_store`` / ``additional_stores`` spec of maggma store types, a monty-serialised
``JobStore``, or the path of a file holding either). A round run with such a file *binds* its
results folder to it: the folder then holds only a small link file (:data:`LINK_FILE`) naming
the job store file, and every reader and writer of that folder
(:func:`~hopscreen.store.stores.open_results_store`,
:func:`~hopscreen.store.stores.jobflow_store`) uses the configured store instead:

* job documents go to its ``docs_store``; large outputs (hop lists, networks, candidates,
  predictions) to its ``data`` additional store (a ``GridFSStore`` or ``S3Store`` there lifts
  MongoDB's 16 MB limit on one document);
* the results collections (``candidates``, ``hops`` ...) are stores of the ``docs_store``'s own
  class and connection (same server, same database), one per collection.

Credentials stay in the job store file; the link file holds its path only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from hopscreen.store.errors import ResultsStoreError
from hopscreen.store.folder import DATABASE_NAME, STORAGE_IDENT
from hopscreen.store.results import COLLECTIONS

if TYPE_CHECKING:
    # optional dependency (engine extra): jobflow, maggma
    from jobflow import JobStore
    from maggma.core import Store

LINK_FILE = "job_store_link.yaml"
"""File in a results folder bound to a configured job store: ``job_store_file: <path>``."""

DATA_STORE = "data"
"""Name of the additional store that receives the large job outputs (jobflow's ``data=``)."""


class JobStoreFileError(ResultsStoreError, ValueError):
    """A job store file is unreadable or does not describe a usable job store."""


def _read_mapping(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise JobStoreFileError(f"cannot read job store file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise JobStoreFileError(f"job store file {path}: expected a mapping (JOB_STORE: ...)")
    return data


def _job_store_from_spec(spec: Any, path: Path) -> JobStore:
    """A JobStore from jobflow's three ``JOB_STORE`` forms (file path, serialised, spec)."""
    # optional dependency (engine extra): jobflow
    from jobflow import JobStore

    if isinstance(spec, str):
        target = Path(spec).expanduser()
        return JobStore.from_file(target if target.is_absolute() else path.parent / target)
    if isinstance(spec, dict) and spec.get("@class") == "JobStore":
        return JobStore.from_dict(spec)
    if isinstance(spec, dict) and "docs_store" in spec:
        return JobStore.from_dict_spec(spec)
    raise JobStoreFileError(
        f"job store file {path}: JOB_STORE must name a file, or hold docs_store and "
        "additional_stores (see launch_configs/jobflow.yaml)"
    )


def load_job_store(path: str | Path) -> JobStore:
    """The job store of a jobflow.yaml-style file (its ``JOB_STORE``, or the whole file).

    Parameters
    ----------
    path : str or Path
        A YAML (or JSON) file with a ``JOB_STORE`` entry as jobflow reads it from
        ``JOBFLOW_CONFIG_FILE``, or a file with ``docs_store`` / ``additional_stores`` at the
        top (``jobflow.JobStore.from_file``'s format).

    Returns
    -------
    jobflow.JobStore
        Not yet connected (constructing maggma stores touches no server).

    Raises
    ------
    JobStoreFileError
        If the file cannot be read or parsed, names an unknown store type or bad store
        arguments, has no ``data`` additional store, or uses a ``MemoryStore`` (empty in
        every other process).

    """
    # optional dependency (engine extra): maggma
    from maggma.stores import MemoryStore

    path = Path(path).expanduser().resolve()
    data = _read_mapping(path)
    spec = data.get("JOB_STORE", data)
    try:
        store = _job_store_from_spec(spec, path)
    except JobStoreFileError:
        raise
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise JobStoreFileError(
            f"job store file {path} does not describe a job store: {type(exc).__name__}: {exc}"
        ) from exc
    if DATA_STORE not in store.additional_stores:
        raise JobStoreFileError(
            f"job store file {path}: add a {DATA_STORE!r} additional store (hop lists, "
            "networks and predictions are written there)"
        )
    if type(store.docs_store) is MemoryStore:
        raise JobStoreFileError(
            f"job store file {path}: a MemoryStore is empty in every other process; use a "
            "MongoStore (or leave job_store unset for the results folder's MontyStore)"
        )
    return store


def results_stores_like(docs_store: Store) -> dict[str, Store]:
    """One store per results collection, of ``docs_store``'s class and connection.

    Each is ``docs_store``'s serialised arguments with the collection's name and key field,
    so a ``MongoStore`` gives ``MongoStore`` s in the same database of the same server.

    Raises
    ------
    JobStoreFileError
        If the store has no collections (no ``collection_name`` argument).

    """
    spec = docs_store.as_dict()
    if "collection_name" not in spec:
        raise JobStoreFileError(
            f"the results collections need a docs_store with collections (a MongoStore or "
            f"MontyStore), not a {type(docs_store).__name__}"
        )
    return {
        name: type(docs_store).from_dict({**spec, "collection_name": name, "key": c.key_field})
        for name, c in COLLECTIONS.items()
    }


def describe_store(store: Store) -> str:
    """Where a store's data live, for messages (no credentials)."""
    database = getattr(store, "database", None) or getattr(store, "database_name", DATABASE_NAME)
    if getattr(store, "database_path", None):
        return f"{store.database_path} ({type(store).__name__})"  # type: ignore[attr-defined]
    host = getattr(store, "host", None)
    if host:
        return f"mongodb://{host}:{getattr(store, 'port', 27017)}/{database}"
    return f"{type(store).__name__} database {database}"


def linked_job_store_file(results_dir: str | Path) -> Path | None:
    """The job store file a results folder is bound to, or None (embedded store or no folder).

    Raises
    ------
    JobStoreFileError
        If the link file is unreadable or names a file that does not exist.

    """
    link = Path(results_dir).expanduser() / LINK_FILE
    if not link.is_file():
        return None
    target = _read_mapping(link).get("job_store_file")
    if not isinstance(target, str) or not Path(target).is_file():
        raise JobStoreFileError(
            f"{link} binds this results folder to the job store file {target!r}, which does "
            "not exist; restore it or fix the path in the link file"
        )
    return Path(target)


def bind_job_store(results_dir: str | Path, job_store_file: str | Path) -> JobStore:
    """Bind a results folder to a job store file (the link file) and return its job store.

    The file is checked first (:func:`load_job_store`). Binding again rewrites the link.

    Raises
    ------
    JobStoreFileError
        If the file is not a usable job store, or the folder already holds an embedded store
        (its results would be hidden by the configured store's: use a new results folder).

    """
    path = Path(results_dir).expanduser()
    store = load_job_store(job_store_file)
    if (path / STORAGE_IDENT).exists():
        raise JobStoreFileError(
            f"{path} already holds an embedded results store; give a round that uses the job "
            f"store {job_store_file} a new results folder"
        )
    path.mkdir(parents=True, exist_ok=True)
    target = str(Path(job_store_file).expanduser().resolve())
    (path / LINK_FILE).write_text(
        "# Written by hopscreen: this results folder's documents live in this job store.\n"
        + yaml.safe_dump({"job_store_file": target})
    )
    return store
