"""A configured job store: parsing jobflow.yaml-style files, and results folders bound to one."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from store_docs import candidate, hop
from tests.fake_mongo import database, fake_server, mongo_spec, write_job_store_file

from hopscreen.store import (
    COLLECTIONS,
    JobStoreFileError,
    bind_job_store,
    jobflow_store,
    load_job_store,
    open_results_store,
    round_job_store,
)
from hopscreen.store.folder import STORAGE_IDENT
from hopscreen.store.job_store import LINK_FILE, linked_job_store_file, results_stores_like


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_jobflow_yaml_gives_mongo_stores(tmp_path: Path) -> None:
    from maggma.stores import MongoStore

    store = load_job_store(write_job_store_file(tmp_path / "jobflow.yaml"))
    assert isinstance(store.docs_store, MongoStore)
    assert store.docs_store.collection_name == "jobflow_outputs"
    assert store.docs_store.host == "mongo.example.invalid"
    assert isinstance(store.additional_stores["data"], MongoStore)
    assert store.additional_stores["data"].collection_name == "jobflow_data"


def test_the_other_jobflow_forms_are_read(tmp_path: Path) -> None:
    from jobflow import JobStore
    from maggma.stores import GridFSStore, MongoStore
    from monty.serialization import dumpfn

    bare = tmp_path / "bare.yaml"  # JobStore.from_file's format: the spec at the top
    bare.write_text(
        yaml.safe_dump(
            {
                "docs_store": mongo_spec("outputs", "uuid"),
                "additional_stores": {
                    "data": {**mongo_spec("blobs", "blob_uuid"), "type": "GridFSStore"}
                },
            }
        )
    )
    assert isinstance(load_job_store(bare).additional_stores["data"], GridFSStore)
    pointer = tmp_path / "pointer.yaml"  # JOB_STORE naming another file, relative to this one
    pointer.write_text("JOB_STORE: bare.yaml\n")
    assert load_job_store(pointer).docs_store.collection_name == "outputs"
    dumped = tmp_path / "dumped.json"  # a monty-serialised JobStore
    original = JobStore(
        MongoStore("db", "docs", host="h.invalid"),
        additional_stores={"data": MongoStore("db", "blobs", host="h.invalid", key="blob_uuid")},
    )
    dumpfn({"JOB_STORE": original}, dumped)
    assert load_job_store(dumped).docs_store.collection_name == "docs"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("JOB_STORE: [1, 2]\n", "must name a file"),
        ("- just\n- a list\n", "expected a mapping"),
        ("JOB_STORE: {docs_store: {type: NoSuchStore}}\n", "NoSuchStore"),
        (
            "JOB_STORE: {docs_store: {type: MongoStore, database: d, "
            "collection_name: c, nonsense_argument: 1}}\n",
            "nonsense_argument",
        ),
        (
            "JOB_STORE: {docs_store: {type: MongoStore, database: d, collection_name: c}}\n",
            "'data'",
        ),
        (
            "JOB_STORE: {docs_store: {type: MemoryStore}, additional_stores: "
            "{data: {type: MemoryStore}}}\n",
            "MemoryStore is empty",
        ),
        ("JOB_STORE: {docs_store: [unclosed\n", "cannot read"),
    ],
)
def test_unusable_job_store_files_are_refused_with_the_file_named(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "jobflow.yaml"
    path.write_text(content)
    with pytest.raises(JobStoreFileError, match=message) as err:
        load_job_store(path)
    assert str(path) in str(err.value)


def test_missing_job_store_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(JobStoreFileError, match="cannot read"):
        load_job_store(tmp_path / "nope.yaml")


def test_results_collections_share_the_docs_store_connection(tmp_path: Path) -> None:
    from maggma.stores import MongoStore

    docs = load_job_store(write_job_store_file(tmp_path / "jobflow.yaml")).docs_store
    stores = results_stores_like(docs)
    assert set(stores) == set(COLLECTIONS)
    for name, store in stores.items():
        assert isinstance(store, MongoStore)
        assert (store.host, store.port, store.database) == (docs.host, docs.port, docs.database)
        assert store.collection_name == name
        assert store.key == COLLECTIONS[name].key_field


def test_a_bound_folder_writes_to_the_server_and_nothing_into_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = fake_server(monkeypatch)
    job_store_file = write_job_store_file(tmp_path / "jobflow.yaml")
    results = tmp_path / "results"
    store = bind_job_store(results, job_store_file)
    assert store.docs_store.collection_name == "jobflow_outputs"
    assert linked_job_store_file(results) == job_store_file.resolve()
    lfp = candidate("c-lfp", "LiFePO4", "Li", "LiFePO4")
    with open_results_store(results) as results_store:
        assert results_store.write("hops", [hop("h1", lfp, 3.0), hop("h2", lfp, 3.5)]) == 2
        assert "mongodb://mongo.example.invalid" in results_store.location
    assert database(server)["hops"].count_documents({}) == 2
    with open_results_store(results, read_only=True, create=False) as reader:
        assert reader.count("hops") == 2  # readers follow the binding too
    js = jobflow_store(results)
    assert js.docs_store.collection_name == "jobflow_outputs"
    assert round_job_store(results).docs_store.host == "mongo.example.invalid"
    assert _files(results) == {LINK_FILE}  # no montydb files, no sqlite


def test_binding_refuses_a_folder_with_an_embedded_store(tmp_path: Path) -> None:
    results = tmp_path / "results"
    with open_results_store(results):
        pass
    assert (results / STORAGE_IDENT).exists()
    with pytest.raises(JobStoreFileError, match="already holds an embedded results store"):
        bind_job_store(results, write_job_store_file(tmp_path / "jobflow.yaml"))
    assert not (results / LINK_FILE).exists()


def test_a_link_to_a_vanished_file_is_reported(tmp_path: Path) -> None:
    job_store_file = write_job_store_file(tmp_path / "jobflow.yaml")
    results = tmp_path / "results"
    bind_job_store(results, job_store_file)
    job_store_file.unlink()
    with pytest.raises(JobStoreFileError, match="does not exist"):
        open_results_store(results)
    with pytest.raises(JobStoreFileError, match="does not exist"):
        jobflow_store(results)


def test_an_unbound_folder_keeps_its_embedded_stores(tmp_path: Path) -> None:
    from maggma.stores import MontyStore

    js = round_job_store(tmp_path / "results")
    assert isinstance(js.docs_store, MontyStore)
    assert isinstance(js.additional_stores["data"], MontyStore)
    assert linked_job_store_file(tmp_path / "results") is None
