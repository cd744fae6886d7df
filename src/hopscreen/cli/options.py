"""Help texts shared by several commands' options."""

from __future__ import annotations

MODEL_HELP = (
    "Model folder or shipped model name: physics-bvse-gbr (default; physics and BVSE, no "
    "CHGNet), physics-bvse-chgnet-gbr (adds CHGNet features, 16-27x slower, not significantly "
    "better on host CV), chgnet-gbr, model3-default (ALIGNN)."
)
"""Help of every ``--model`` option that takes a shipped model name."""
