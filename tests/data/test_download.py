from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hopscreen.data.download import diagnose, download, require_dataset, sha256_file, verify
from hopscreen.data.manifest import (
    EM_COMMIT,
    EM_DATASET,
    EM_REPO,
    EM_TEST_JSON,
    PRETRAIN,
    data_file,
)
from hopscreen.data.paths import DataCorruptError, DataNotDownloadableError, DataNotFoundError

EM_FILES = [f.relpath for f in EM_DATASET.files]


def test_registry_urls_are_pinned():
    for f in EM_DATASET.files:
        assert f.url == f"https://raw.githubusercontent.com/{EM_REPO}/{EM_COMMIT}/{f.path}"
    assert all(f.url is None for f in PRETRAIN.files)
    assert not PRETRAIN.downloadable


def test_pretrain_checksums_agree_with_sha256sums(data_dir: Path):
    sums = {}
    for line in (data_dir / "pretrain" / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.strip()] = digest
    for f in PRETRAIN.files:
        assert sums[f.path] == f.sha256, f.path


def test_verify_shared_data_is_intact(data_dir: Path):
    statuses = verify(data_dir)
    assert len(statuses) == len(EM_DATASET.files) + len(PRETRAIN.files)
    assert all(s.ok for s in statuses if s.present)
    assert all(s.present for s in statuses if s.required)
    assert diagnose(statuses, data_dir) is None
    first = statuses[0]
    assert first.size == data_file("em_dataset", first.path.split("/", 1)[1]).size


def test_download_success(tmp_path: Path, fake_network):
    paths = download(tmp_path, progress=False, timeout=7.0)
    assert sorted(str(p.relative_to(tmp_path)) for p in paths) == sorted(EM_FILES)
    assert len(fake_network.calls) == len(EM_FILES)
    assert {t for _, t in fake_network.calls} == {7.0}
    assert all(EM_COMMIT in url for url, _ in fake_network.calls)
    for status in verify(tmp_path, datasets=["em_dataset"]):
        assert status.ok, status
    assert not list(tmp_path.rglob("*.part"))


def test_download_with_progress_bar(tmp_path: Path, fake_network, capsys):
    download(tmp_path, progress=True)
    assert "RAW-Em-5-images-TEST.json" in capsys.readouterr().err


def test_checksum_mismatch_leaves_nothing(tmp_path: Path, fake_network):
    def tamper(url: str, data: bytes) -> bytes:
        return data[:-1] + b"?" if url.endswith("TEST.json") else data

    fake_network.tamper = tamper
    with pytest.raises(DataCorruptError) as info:
        download(tmp_path, progress=False)
    entry = data_file("em_dataset", info.value.path.relative_to(tmp_path / "em_dataset").as_posix())
    assert info.value.expected == entry.sha256
    assert not info.value.path.exists()
    assert not list(tmp_path.rglob("*.part"))


def test_present_files_are_skipped_unless_forced(tmp_path: Path, fake_network):
    download(tmp_path, progress=False)
    fake_network.calls.clear()
    download(tmp_path, progress=False)
    assert fake_network.calls == []
    download(tmp_path, progress=False, force=True)
    assert len(fake_network.calls) == len(EM_FILES)


def test_damaged_file_is_fetched_again(tmp_path: Path, fake_network):
    download(tmp_path, progress=False)
    target = tmp_path / "em_dataset" / EM_TEST_JSON
    target.write_bytes(b"[]")
    fake_network.calls.clear()
    download(tmp_path, progress=False)
    assert [url for url, _ in fake_network.calls] == [data_file("em_dataset", EM_TEST_JSON).url]
    assert sha256_file(target) == data_file("em_dataset", EM_TEST_JSON).sha256


def test_pretrain_cannot_be_downloaded(tmp_path: Path, fake_network):
    with pytest.raises(DataNotDownloadableError, match="HOPSCREEN_DATA_DIR"):
        download(tmp_path, datasets=("em_dataset", "pretrain"), progress=False)
    assert fake_network.calls == []
    assert not (tmp_path / "em_dataset").exists()


def test_present_pretrain_needs_no_download(data_dir: Path, fake_network):
    paths = download(data_dir, datasets=("pretrain",), progress=False)
    assert fake_network.calls == []
    assert data_dir / "pretrain" / "bg.jsonl.gz" in paths


def test_require_dataset_reports_missing_and_damaged(tmp_path: Path, data_dir: Path):
    with pytest.raises(DataNotFoundError, match="hopscreen data download"):
        require_dataset("em_dataset", tmp_path)
    target = tmp_path / "em_dataset" / EM_TEST_JSON
    target.parent.mkdir(parents=True)
    target.write_bytes(b"[]")
    with pytest.raises(DataCorruptError) as info:
        require_dataset("em_dataset", tmp_path, files=[EM_TEST_JSON])
    assert info.value.actual == hashlib.sha256(b"[]").hexdigest()
    assert require_dataset("em_dataset", data_dir) == data_dir / "em_dataset"


def test_diagnose_names_the_command(tmp_path: Path):
    message = diagnose(verify(tmp_path), tmp_path)
    assert message is not None
    assert "hopscreen data download" in message and str(tmp_path) in message
