"""The ``hopscreen`` command line (assembled in :mod:`hopscreen.cli.main`).

``app`` and ``main`` are resolved lazily so that importing one command module (for example
``hopscreen.cli.train`` on a bare GPU machine) does not import every other command's
dependencies.
"""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    if name in ("app", "main"):
        return getattr(importlib.import_module("hopscreen.cli.main"), name)
    raise AttributeError(f"module 'hopscreen.cli' has no attribute {name!r}")
