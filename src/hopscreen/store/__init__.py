"""Results store: every document of every round, keyed by content ids (maggma)."""

from hopscreen.store.query import COLUMNS, query_results, results_frame
from hopscreen.store.results import COLLECTIONS, CollectionSpec, ResultsStore, content_hash
from hopscreen.store.stores import jobflow_store, mongo_store, monty_store, open_results_store

__all__ = [
    "COLLECTIONS",
    "COLUMNS",
    "CollectionSpec",
    "ResultsStore",
    "content_hash",
    "jobflow_store",
    "mongo_store",
    "monty_store",
    "open_results_store",
    "query_results",
    "results_frame",
]
