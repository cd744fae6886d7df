"""The progress bar over hosts (``hopscreen.cli.progress``)."""

from __future__ import annotations

import io

from rich.console import Console

from hopscreen.cli.progress import host_progress


def test_bar_counts_hosts_on_a_terminal() -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=100)
    with host_progress(console) as on_host:
        for k, name in enumerate(["LiCoO2", "LiFePO4", "Li2MnO3"]):
            on_host(k, 3, name)
    drawn = stream.getvalue()
    assert "3/3" in drawn  # the last frame counts every host
    assert drawn.endswith("\x1b[2K")  # and is erased: the bar leaves no line behind


def test_nothing_drawn_when_not_a_terminal() -> None:
    stream = io.StringIO()
    with host_progress(Console(file=stream, force_terminal=False)) as on_host:
        on_host(0, 1, "LiCoO2")
    assert stream.getvalue().strip() == ""
