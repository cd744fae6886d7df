from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hopscreen.cli import app as root_app
from hopscreen.cli.data import app
from hopscreen.data.manifest import EM_TEST_JSON
from hopscreen.data.paths import ENV_VAR

runner = CliRunner()


def test_registered_under_root_app():
    result = runner.invoke(root_app, ["data", "--help"])
    assert result.exit_code == 0
    assert "download" in result.output and "info" in result.output


def test_info_on_real_data(data_dir: Path):
    result = runner.invoke(app, ["info", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert str(data_dir) in result.output
    assert "619 records" in result.output
    assert "'train': 559, 'test': 60" in result.output
    assert "'GGA+U': 45" in result.output
    assert "pretrain: 30529 records" in result.output
    assert "BAD" not in result.output


def test_info_json(data_dir: Path):
    result = runner.invoke(app, ["info", "--data-dir", str(data_dir), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["em_dataset"]["splits"] == {"train": 559, "test": 60}
    assert payload["em_dataset"]["working_ions"]["Li"] == 175
    assert payload["em_dataset"]["xc_functionals"] == {
        "GGA": 545,
        "GGA+U": 45,
        "SCAN": 19,
        "LDA": 10,
    }
    assert payload["em_dataset"]["join"] == {"n_matched": 619, "ok": True}
    assert all(f["ok"] for f in payload["files"] if f["present"])
    assert sum(payload["pretrain"]["records"].values()) == 30529


def test_info_on_empty_dir_is_one_clear_message(tmp_path: Path):
    result = runner.invoke(app, ["info", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "hopscreen data download" in result.stderr
    assert str(tmp_path) in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_info_reads_the_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "elsewhere"))
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 1
    assert str(tmp_path / "elsewhere") in result.stderr


def test_info_on_damaged_file(tmp_path: Path):
    target = tmp_path / "em_dataset" / EM_TEST_JSON
    target.parent.mkdir(parents=True)
    target.write_text("[]")
    result = runner.invoke(app, ["info", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "sha256" in result.stderr and "--force" in result.stderr
    assert "RAW-Em-5-images-TEST.json" in result.stderr


def test_download_then_info(tmp_path: Path, fake_network):
    result = runner.invoke(app, ["download", "--dest", str(tmp_path), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "em_dataset: 5 file(s) verified" in result.output
    assert len(fake_network.calls) == 5
    info = runner.invoke(app, ["info", "--data-dir", str(tmp_path)])
    assert info.exit_code == 0, info.output
    assert "pretrain: not present" in info.output


def test_download_pretrain_explains(tmp_path: Path, fake_network):
    result = runner.invoke(
        app, ["download", "--dest", str(tmp_path), "--dataset", "all", "--no-progress"]
    )
    assert result.exit_code == 1
    assert "em_dataset: 5 file(s) verified" in result.stdout
    assert "HOPSCREEN_DATA_DIR" in result.stderr and "Traceback" not in result.output


def test_download_network_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import urllib.error

    from hopscreen.data import download as download_module

    def offline(url: str, timeout: float):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(download_module, "_open_url", offline)
    result = runner.invoke(app, ["download", "--dest", str(tmp_path), "--no-progress"])
    assert result.exit_code == 1
    assert "raw.githubusercontent.com" in result.stderr
    assert not list(tmp_path.rglob("*.part"))
