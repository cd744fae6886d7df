"""Library chatter goes to the results folder's log, not the terminal (cli/chatter.py)."""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path

import pytest

from hopscreen.cli.chatter import chatter_to_log


def _chatty_library() -> None:
    for _ in range(6):
        warnings.warn("old API, use the new one", FutureWarning, stacklevel=1)
    for _ in range(3):
        print("CHGNet will run on cpu")


def test_prints_and_warnings_reach_the_log_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "results" / "hopscreen.log"
    stdout = sys.stdout
    with chatter_to_log(log) as path:
        _chatty_library()
    assert path == log and sys.stdout is stdout
    captured = capsys.readouterr()
    assert "CHGNet" not in captured.out + captured.err
    assert "FutureWarning" not in captured.out + captured.err
    text = log.read_text()
    assert text.count("CHGNet will run on cpu") == 3
    assert text.count("FutureWarning: old API, use the new one") == 1  # once per place


def test_everything_restored_after_an_error(tmp_path: Path) -> None:
    filters = list(warnings.filters)
    handlers = list(logging.getLogger("py.warnings").handlers)
    with pytest.raises(RuntimeError), chatter_to_log(tmp_path / "x.log"):
        raise RuntimeError("the round failed")
    assert warnings.filters == filters
    assert logging.getLogger("py.warnings").handlers == handlers
    with pytest.warns(UserWarning):
        warnings.warn("seen again", UserWarning, stacklevel=1)
