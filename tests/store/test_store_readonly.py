"""Reading a store without write permission, and a store opened read-only refusing writes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from folder_state import listing, make_read_only, make_writable
from typer.testing import CliRunner

from hopscreen.cli.main import app  # (hopscreen.cli.__getattr__ recurses when main is unloaded)
from hopscreen.store import StorePermissionError, open_results_store, query_results
from hopscreen.store.folder import check_results_folder

runner = CliRunner()


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder of this test only (where copies of read-only collections go)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def read_only_store(results_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``results_dir`` without write permission (emulated where the tests run as root)."""
    make_read_only(monkeypatch, results_dir)
    yield results_dir
    make_writable(results_dir)


def test_query_and_report_read_a_read_only_store(
    read_only_store: Path, private_tmp: Path, tmp_path: Path
) -> None:
    before = listing(read_only_store)
    result = runner.invoke(app, ["query", "--results", str(read_only_store), "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].startswith("LiFePO4,LiFePO4,Li,h1,")
    assert len(result.stdout.splitlines()) == 5  # header and four hops
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", "--results", str(read_only_store), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "LiFePO4" in out.read_text()
    assert listing(read_only_store) == before
    assert list(private_tmp.iterdir()) == []  # the private copies are gone


def test_read_only_store_is_read_through_a_copy(read_only_store: Path, private_tmp: Path) -> None:
    with open_results_store(read_only_store, read_only=True) as store:
        assert store.count("predictions") == 6
        copies = sorted(p.name for p in private_tmp.glob("*/hopscreen/*"))
        assert "predictions.collection" in copies
    assert list(private_tmp.iterdir()) == []
    assert len(query_results(read_only_store, ion="Na")) == 1


def test_writable_store_is_read_in_place(results_dir: Path, private_tmp: Path) -> None:
    with open_results_store(results_dir, read_only=True) as store:
        assert store.count("hops") == 4
        assert list(private_tmp.iterdir()) == []


def test_store_opened_read_only_refuses_writes(
    results_dir: Path, round_docs: dict[str, list]
) -> None:
    before = listing(results_dir)
    with open_results_store(results_dir, read_only=True) as store:
        with pytest.raises(StorePermissionError, match="hops collection was opened read-only"):
            store.write("hops", round_docs["hops"][:1])
    assert listing(results_dir) == before


def test_unreadable_store_is_one_line(results_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Path, *args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", refuse)  # as a user without read permission
    with pytest.raises(StorePermissionError, match=r"cannot read .*\.monty\.storage"):
        check_results_folder(results_dir)
    result = runner.invoke(app, ["query", "--results", str(results_dir)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.strip() == (
        f"error: cannot read {results_dir / '.monty.storage'}: permission denied"
    )
