"""A function worker processes can import by module path (tests of inference.workers)."""

from __future__ import annotations

import os


def worker_pid(_item: int) -> int:
    """The id of the process that ran this call."""
    return os.getpid()
