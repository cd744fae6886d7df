"""Fixtures of the data-layer tests: a fake network that serves the shared files."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from hopscreen.data import download as download_module
from hopscreen.data.manifest import DATASETS


class FakeNetwork:
    """Replaces ``download._open_url``: serves registered URLs from a local data directory."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.calls: list[tuple[str, float]] = []
        self.tamper: Callable[[str, bytes], bytes] = lambda url, data: data
        self._by_url = {f.url: f for ds in DATASETS.values() for f in ds.files if f.url}

    def __call__(self, url: str, timeout: float) -> io.BytesIO:
        self.calls.append((url, timeout))
        entry = self._by_url[url]
        data = (self.source / entry.relpath).read_bytes()
        return io.BytesIO(self.tamper(url, data))


@pytest.fixture
def fake_network(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> FakeNetwork:
    fake = FakeNetwork(data_dir)
    monkeypatch.setattr(download_module, "_open_url", fake)
    return fake
