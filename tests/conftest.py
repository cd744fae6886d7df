"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def _shared_data_dir() -> Path | None:
    env = os.environ.get("HOPSCREEN_DATA_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[1].parent / "shared" / "data")
    for path in candidates:
        if (path / "em_dataset").is_dir():
            return path
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The published datasets (``HOPSCREEN_DATA_DIR``).

    Tests that need them are skipped on a user's machine without the data, but fail in CI
    (where ``CI`` is set and the data must be present), so a skip can never hide a failure there.
    """
    path = _shared_data_dir()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("HOPSCREEN_DATA_DIR is not set or holds no em_dataset/ in CI")
        pytest.skip("published dataset not available (run `hopscreen data download`)")
    return path


@pytest.fixture(autouse=True)
def _no_site_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    """Keep a developer's own site settings (``~/.config/hopscreen/settings.yaml``, a job store
    on a real MongoDB, a registry folder) out of the tests: an empty settings file, and no
    ``HOPSCREEN_JOB_STORE`` / ``HOPSCREEN_REGISTRY_DIR``. ``HOPSCREEN_DATA_DIR`` is kept."""
    empty = tmp_path_factory.getbasetemp() / "hopscreen-settings-empty.yaml"
    if not empty.exists():
        empty.write_text("{}\n")
    monkeypatch.setenv("HOPSCREEN_CONFIG_FILE", str(empty))
    monkeypatch.delenv("HOPSCREEN_JOB_STORE", raising=False)
    monkeypatch.delenv("HOPSCREEN_REGISTRY_DIR", raising=False)
