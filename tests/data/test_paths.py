from __future__ import annotations

from pathlib import Path

import pytest

from hopscreen.data.paths import (
    ENV_VAR,
    DataCorruptError,
    DataNotDownloadableError,
    DataNotFoundError,
    HopscreenDataError,
    resolve_data_dir,
    user_cache_data_dir,
)


def test_explicit_argument_wins_over_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "from-env"))
    assert resolve_data_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert resolve_data_dir(str(tmp_path / "explicit")) == tmp_path / "explicit"


def test_env_wins_over_user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "from-env"))
    assert resolve_data_dir() == tmp_path / "from-env"


def test_user_cache_is_the_fallback(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    path = resolve_data_dir()
    assert path == user_cache_data_dir()
    assert path.name == "data"
    assert "hopscreen" in path.parts


def test_blank_env_is_ignored(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(ENV_VAR, "  ")
    assert resolve_data_dir() == user_cache_data_dir()


def test_resolving_creates_nothing(tmp_path: Path):
    target = tmp_path / "not-there"
    assert resolve_data_dir(target) == target
    assert not target.exists()


def test_home_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_data_dir("~/d") == tmp_path / "d"


def test_not_found_message_names_command_and_path(tmp_path: Path):
    err = DataNotFoundError(tmp_path / "em_dataset" / "x.json")
    assert "hopscreen data download" in str(err)
    assert str(tmp_path / "em_dataset" / "x.json") in str(err)
    assert isinstance(err, HopscreenDataError)
    assert isinstance(err, FileNotFoundError)


def test_error_hierarchy():
    err = DataCorruptError(Path("f"), "aa", "bb")
    assert isinstance(err, HopscreenDataError)
    assert "aa" in str(err) and "bb" in str(err) and "--force" in str(err)
    assert issubclass(DataNotDownloadableError, HopscreenDataError)
    assert not issubclass(DataCorruptError, DataNotFoundError)
