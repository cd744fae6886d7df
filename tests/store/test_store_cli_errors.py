"""``hopscreen query`` and ``hopscreen report`` on paths that hold no readable results store.

Each case: exit code 2, one ``error:`` line naming the path and the problem, no traceback, and
nothing created or changed where the command was pointed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from folder_state import listing
from typer.testing import CliRunner

from hopscreen.cli.main import app  # (hopscreen.cli.__getattr__ recurses when main is unloaded)

runner = CliRunner()

COMMANDS = {
    "query": lambda results, out: ["query", "--results", str(results)],
    "report": lambda results, out: ["report", "--results", str(results), "--out", str(out)],
}


def run(command: str, results: Path, out: Path) -> tuple[int, str, str]:
    """Exit code, stderr and all output of one command."""
    result = runner.invoke(app, COMMANDS[command](results, out))
    return result.exit_code, result.stderr, result.output


def assert_one_error_line(stderr: str, output: str, *needles: str) -> None:
    assert "Traceback" not in output
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("contents", ["empty", "unrelated"])
def test_folder_without_a_store_is_left_alone(tmp_path: Path, command: str, contents: str) -> None:
    folder = tmp_path / "results" / "x"
    folder.mkdir(parents=True)
    if contents == "unrelated":
        (folder / "notes.txt").write_text("not a store")
        (folder / "sub").mkdir()
        (folder / "sub" / "data.csv").write_text("a,b\n1,2\n")
    before = listing(folder)
    out = tmp_path / "report.html"
    code, stderr, output = run(command, folder, out)
    assert code == 2
    assert_one_error_line(
        stderr, output, f"{folder} holds no hopscreen results store", f"--results {folder}"
    )
    assert listing(folder) == before
    assert not out.exists()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_results_path_is_a_file(tmp_path: Path, command: str) -> None:
    path = tmp_path / "results.csv"
    path.write_text("a,b\n")
    out = tmp_path / "report.html"
    code, stderr, output = run(command, path, out)
    assert code == 2
    assert_one_error_line(stderr, output, f"{path} is a file, not a results folder")
    assert "does not exist" not in stderr
    assert path.read_text() == "a,b\n"
    assert not out.exists()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_missing_results_folder(tmp_path: Path, command: str) -> None:
    path = tmp_path / "results" / "nope"
    out = tmp_path / "report.html"
    code, stderr, output = run(command, path, out)
    assert code == 2
    assert_one_error_line(stderr, output, f"results folder {path} does not exist")
    assert not (tmp_path / "results").exists()
    assert not out.exists()


def _truncate(file: Path) -> None:
    file.write_bytes(file.read_bytes()[:100])  # the SQLite header survives, the pages do not


def _scramble_pages(file: Path) -> None:
    data = bytearray(file.read_bytes())  # header and length intact, pages after the first not
    data[4096:] = b"\x07" * (len(data) - 4096)
    file.write_bytes(bytes(data))


def _overwrite(file: Path) -> None:
    file.write_bytes(b"this is not a database\n" * 50)


def _garble_documents(file: Path) -> None:
    with sqlite3.connect(file) as conn:
        conn.execute("UPDATE documents SET v = ?", (b"\x10\x00\x00\x00garbage!!",))
    conn.close()


CORRUPTIONS = {
    "truncated": (
        lambda s: _truncate(s / "hopscreen" / "predictions.collection"),
        "predictions.collection is truncated (100 of",
    ),
    "scrambled pages": (
        lambda s: _scramble_pages(s / "hopscreen" / "predictions.collection"),
        "the predictions collection cannot be read",
    ),
    "overwritten": (
        lambda s: _overwrite(s / "hopscreen" / "predictions.collection"),
        "predictions.collection is not an SQLite file",
    ),
    "emptied": (
        lambda s: (s / "hopscreen" / "verifications.collection").write_bytes(b""),
        "verifications.collection is empty",
    ),
    "garbled documents": (
        lambda s: _garble_documents(s / "hopscreen" / "predictions.collection"),
        "the predictions collection cannot be read",
    ),
    "storage name": (
        lambda s: (s / ".monty.storage").write_text("\x00\x01garbage"),
        ".monty.storage names the storage engine",
    ),
    "storage settings": (
        lambda s: (s / "monty.storage.cfg").write_text("garbage"),
        "monty.storage.cfg is damaged",
    ),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("damage", sorted(CORRUPTIONS))
def test_damaged_store(results_dir: Path, tmp_path: Path, command: str, damage: str) -> None:
    corrupt, message = CORRUPTIONS[damage]
    corrupt(results_dir)
    before = listing(results_dir)
    out = tmp_path / "report.html"
    code, stderr, output = run(command, results_dir, out)
    assert code == 2, output
    assert_one_error_line(stderr, output, str(results_dir), message)
    assert "damaged" in stderr
    assert listing(results_dir) == before
    assert not out.exists()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_document_missing_fields(results_dir: Path, tmp_path: Path, command: str) -> None:
    from hopscreen.store import open_results_store

    with open_results_store(results_dir) as store:  # a document no round would write
        store.stores["predictions"].update(
            [{"prediction_id": "bad", "hop_id": "h1", "barrier_ev": "high"}], key="prediction_id"
        )
    code, stderr, output = run(command, results_dir, tmp_path / "report.html")
    assert code == 2, output
    assert_one_error_line(stderr, output, str(results_dir), "predictions", "candidate_name")


def test_query_and_report_on_a_good_store(results_dir: Path, tmp_path: Path) -> None:
    before = listing(results_dir)
    code, stderr, output = run("query", results_dir, tmp_path / "unused.html")
    assert code == 0, output
    assert "4 hops" in output and "LiFePO4" in output and stderr == ""
    out = tmp_path / "reports" / "r.html"
    code, stderr, output = run("report", results_dir, out)
    assert code == 0, output
    assert f"Report written to {out}" in output
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "LiFePO4" in page
    assert listing(results_dir) == before  # reading rewrites nothing, not even montydb's files
