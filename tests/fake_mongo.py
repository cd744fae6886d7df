"""A stand-in MongoDB server for the job-store tests: mongomock's in-memory server store.

No MongoDB server can run here. maggma's ``MongoStore`` connects through ``pymongo.MongoClient``;
the tests replace that one name with a mongomock client bound to a single ``ServerStore``, so
every store (the job store, its data store, the results collections) opened anywhere in the
process talks to the same fake server. Everything above the client is the real code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DATABASE = "hopscreen_test"


def fake_server(monkeypatch: Any) -> Any:
    """Patch maggma's MongoClient; the returned server store holds what the stores write."""
    # maggma depends on mongomock-ng (its MemoryStore uses it)
    import maggma.stores.mongolike as mongolike
    import mongomock_ng
    from mongomock_ng.store import ServerStore

    server = ServerStore()

    class Client(mongomock_ng.MongoClient):
        def close(self) -> None:  # a server keeps its data when a client disconnects
            pass

    monkeypatch.setattr(mongolike, "MongoClient", lambda *a, **k: Client(_store=server))
    return server


def database(server: Any, name: str = DATABASE) -> Any:
    """A pymongo-like handle on one database of the fake server."""
    import mongomock_ng

    return mongomock_ng.MongoClient(_store=server)[name]


def mongo_spec(collection: str, key: str) -> dict[str, Any]:
    """A ``MongoStore`` entry of a jobflow.yaml (a host that does not exist: never contacted)."""
    return {
        "type": "MongoStore",
        "database": DATABASE,
        "collection_name": collection,
        "host": "mongo.example.invalid",
        "port": 27017,
        "key": key,
    }


def write_job_store_file(path: Path) -> Path:
    """A jobflow.yaml with a MongoStore for the job documents and another for the data."""
    path.write_text(
        yaml.safe_dump(
            {
                "JOB_STORE": {
                    "docs_store": mongo_spec("jobflow_outputs", "uuid"),
                    "additional_stores": {"data": mongo_spec("jobflow_data", "blob_uuid")},
                }
            }
        )
    )
    return path


def fireworks_launchpad(tmp_path: Path, monkeypatch: Any) -> Any:
    """A FireWorks LaunchPad on FireWorks' own mongomock backend, persisted under ``tmp_path``."""
    import pytest

    pytest.importorskip("mongomock_persistence")
    import mongomock_persistence
    from fireworks.core import launchpad as lp_module

    server_file = tmp_path / "fireworks.json"
    server_file.write_text("{}")  # mongomock-persistence needs an existing (empty) store
    monkeypatch.setenv("MONGOMOCK_SERVERSTORE_FILE", str(server_file))
    monkeypatch.setattr(lp_module, "MongoClient", mongomock_persistence.MongoClient)
    monkeypatch.setattr(lp_module, "GRIDFS_FALLBACK_COLLECTION", None)  # no GridFS in mongomock
    lpad = lp_module.LaunchPad(name="hopscreen_test", strm_lvl="ERROR")
    lpad.reset("", require_password=False, max_reset_wo_password=1000)
    return lpad
