"""Saved candidates files: written once with a (fake) MP client, read back offline."""

from __future__ import annotations

import gzip
import json

import pytest
from tests.mp_fakes import DB_VERSION, KEY, forbid_network, install_fake

from hopscreen.candidates.mp import MPQuery
from hopscreen.candidates.saved import (
    CandidateFileError,
    candidates_file_name,
    read_candidates_file,
    save_mp_candidates,
)

QUERY = MPQuery(working_ion="Li", source="summary", max_energy_above_hull_ev=0.1)


@pytest.fixture
def fake(licoo2, licl, nacl):
    return install_fake(licoo2, licl, nacl)


@pytest.fixture
def saved(fake, tmp_path):
    return save_mp_candidates(QUERY, tmp_path / "mp", api_key=KEY, rester_factory=fake)


def test_save_then_read_offline(saved, tmp_path, monkeypatch):
    assert saved.path == tmp_path / "mp" / candidates_file_name(QUERY)
    assert saved.path.name.startswith("mp-Li-") and saved.path.name.endswith(".json.gz")
    assert not saved.reused
    head = saved.header
    assert head.query == QUERY and head.query_key == QUERY.key()
    assert head.mp_api_version == "0.46.5" and head.database_version == DB_VERSION
    assert (head.n_candidates, head.n_failures) == (2, 0) and head.working_ion == "Li"
    assert head.created_utc.endswith("+00:00")
    assert KEY not in gzip.decompress(saved.path.read_bytes()).decode()

    forbid_network(monkeypatch)
    again = read_candidates_file(saved.path, working_ion="Li")
    assert again.header == head
    assert [c.candidate_id for c in again.batch.candidates] == [
        c.candidate_id for c in saved.batch.candidates
    ]
    assert again.batch.candidates[0].mp_fields.material_id == "mp-22526"


def test_same_query_reuses_the_file_without_a_client(saved, monkeypatch):
    forbid_network(monkeypatch)
    before = saved.path.stat().st_mtime_ns

    def no_client(api_key):
        raise AssertionError("the client was created for a saved query")

    again = save_mp_candidates(QUERY, saved.path.parent, rester_factory=no_client)
    assert again.reused and again.path == saved.path and again.header == saved.header
    assert saved.path.stat().st_mtime_ns == before


def test_refresh_and_another_query_fetch_again(saved, fake):
    again = save_mp_candidates(
        QUERY, saved.path.parent, refresh=True, api_key=KEY, rester_factory=fake
    )
    assert not again.reused and len(fake.instances) == 2
    other = QUERY.model_copy(update={"max_energy_above_hull_ev": 0.0})
    third = save_mp_candidates(other, saved.path.parent, api_key=KEY, rester_factory=fake)
    assert third.path != saved.path and third.header.n_candidates == 1
    assert len(fake.instances) == 3


def _rewrite(path, change):
    data = json.loads(gzip.decompress(path.read_bytes()))
    change(data)
    path.write_bytes(gzip.compress(json.dumps(data).encode()))


def _damage(kind, path):
    raw = path.read_bytes()
    if kind == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif kind == "not gzip":
        path.write_bytes(b"hello, not a gzip file")
    elif kind == "gzip of garbage":
        path.write_bytes(gzip.compress(b"{not json"))
    elif kind == "no header":
        path.write_bytes(gzip.compress(b"[1, 2, 3]"))
    elif kind == "other format":
        _rewrite(path, lambda d: d["header"].update(format="something-else"))
    elif kind == "newer version":
        _rewrite(path, lambda d: d["header"].update(format_version=2))
    elif kind == "edited payload":
        _rewrite(path, lambda d: d["payload"]["candidates"][0].update(name="edited"))
    elif kind == "bad header":
        _rewrite(path, lambda d: d["header"].update(n_candidates=-1))


@pytest.mark.parametrize(
    ("kind", "needle"),
    [
        ("truncated", "damaged or truncated"),
        ("not gzip", "damaged or truncated"),
        ("gzip of garbage", "damaged or truncated"),
        ("no header", "not a hopscreen candidates file"),
        ("other format", "not a hopscreen candidates file"),
        ("newer version", "format version 2"),
        ("edited payload", "does not match its checksum"),
        ("bad header", "invalid header: n_candidates"),
    ],
)
def test_damaged_files_are_one_line_errors(saved, kind, needle):
    _damage(kind, saved.path)
    with pytest.raises(CandidateFileError, match=needle) as info:
        read_candidates_file(saved.path)
    assert "\n" not in str(info.value) and str(saved.path) in str(info.value)


def test_missing_file_folder_and_wrong_ion(saved, tmp_path):
    with pytest.raises(CandidateFileError, match="does not exist"):
        read_candidates_file(tmp_path / "nope.json.gz")
    with pytest.raises(CandidateFileError, match="cannot read"):
        read_candidates_file(tmp_path)
    with pytest.raises(CandidateFileError, match="holds Li candidates, not Na ones"):
        read_candidates_file(saved.path, working_ion="Na")


def test_a_damaged_cache_is_reported_then_replaced_on_refresh(saved, fake):
    _damage("truncated", saved.path)
    with pytest.raises(CandidateFileError, match="--refresh"):
        save_mp_candidates(QUERY, saved.path.parent, api_key=KEY, rester_factory=fake)
    fixed = save_mp_candidates(
        QUERY, saved.path.parent, refresh=True, api_key=KEY, rester_factory=fake
    )
    assert read_candidates_file(fixed.path).header.n_candidates == 2
