"""Results store: every document of every round, keyed by content ids (maggma)."""

from hopscreen.store.errors import (
    CorruptStoreError,
    NoResultsStoreError,
    ResultsStoreError,
    StorePermissionError,
)
from hopscreen.store.folder import check_results_folder
from hopscreen.store.hosts import HOST_COLUMNS, host_frame, query_hosts
from hopscreen.store.job_store import JobStoreFileError, bind_job_store, load_job_store
from hopscreen.store.query import COLUMNS, query_results, results_frame
from hopscreen.store.results import COLLECTIONS, CollectionSpec, ResultsStore, content_hash
from hopscreen.store.stores import (
    jobflow_store,
    mongo_store,
    monty_store,
    open_results_store,
    round_job_store,
)

__all__ = [
    "COLLECTIONS",
    "COLUMNS",
    "HOST_COLUMNS",
    "CollectionSpec",
    "CorruptStoreError",
    "JobStoreFileError",
    "NoResultsStoreError",
    "ResultsStore",
    "ResultsStoreError",
    "StorePermissionError",
    "bind_job_store",
    "check_results_folder",
    "content_hash",
    "host_frame",
    "jobflow_store",
    "load_job_store",
    "mongo_store",
    "monty_store",
    "open_results_store",
    "query_hosts",
    "query_results",
    "results_frame",
    "round_job_store",
]
