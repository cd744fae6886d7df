"""``hopscreen report --out``: a report that cannot be written is one line and exit code 2."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hopscreen.cli.main import app  # (hopscreen.cli.__getattr__ recurses when main is unloaded)
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.store import open_results_store

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "results"
    pred = PredictionDoc(
        hop_id="h1",
        candidate_name="LiFePO4",
        working_ion="Li",
        model_version="m1",
        barrier_ev=0.4,
        sigma_ev=0.05,
        member_barriers_ev=[0.4],
        length_angstrom=3.0,
    )
    with open_results_store(path) as results:
        results.write("predictions", [pred])
    return path


@pytest.fixture
def read_only_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder without write permission; as root (chmod stops nothing) ``os.access`` says so."""
    folder = tmp_path / "published"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):
        real_access = os.access

        def access(path: object, mode: int, *args: object, **kwargs: object) -> bool:
            if mode & os.W_OK and Path(str(path)).resolve() == folder.resolve():
                return False
            return real_access(path, mode, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "access", access)
    yield folder
    folder.chmod(0o755)


def _report(store: Path, out: Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["report", "--results", str(store), "--out", str(out)])
    return result.exit_code, result.stderr, result.output


def test_out_in_a_read_only_folder(store: Path, read_only_folder: Path) -> None:
    out = read_only_folder / "report.html"
    code, stderr, output = _report(store, out)
    assert code == 2
    assert "Traceback" not in output
    assert stderr.strip() == (
        f"error: cannot write the report to {out}: permission denied "
        f"({read_only_folder} is read-only)"
    )
    assert not out.exists()


def test_out_under_a_file(store: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("x")
    out = blocker / "sub" / "report.html"
    code, stderr, _ = _report(store, out)
    assert code == 2
    assert stderr.strip() == f"error: cannot write the report to {out}: {blocker} is a file"


def test_out_is_a_folder(store: Path, tmp_path: Path) -> None:
    code, stderr, _ = _report(store, tmp_path)
    assert code == 2
    assert stderr.strip() == f"error: cannot write the report to {tmp_path}: it is a folder"


def test_write_fails_after_the_checks(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(self: Path, *args: object, **kwargs: object) -> int:
        raise OSError(28, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_text", disk_full)
    out = tmp_path / "report.html"
    code, stderr, output = _report(store, out)
    assert code == 2
    assert "Traceback" not in output
    assert stderr.strip() == f"error: cannot write the report to {out}: No space left on device"


def test_report_writes_a_page(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "new" / "report.html"
    code, _, output = _report(store, out)
    assert code == 0, output
    assert output.strip() == f"Report written to {out}"
    assert "LiFePO4" in out.read_text()
