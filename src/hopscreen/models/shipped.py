"""Where models live: the shipped default and user model folders."""

from __future__ import annotations

from pathlib import Path

SHIPPED_DIR = Path(__file__).with_name("weights")
DEFAULT_MODEL = "physics-bvse-gbr"
"""The shipped default: physics descriptors + BVSE profile, no CHGNet. On host-grouped CV the
CHGNet recipe (:data:`ACCURATE_MODEL`) is not significantly better, on all hops or on the hops a
cascade would send it, and costs about 16–27× more per hop (BENCHMARKS.md, sections recipes and
cascade); chosen on grouped CV, never on the test split."""
ACCURATE_MODEL = "physics-bvse-chgnet-gbr"
"""The shipped CHGNet-feature recipe (lowest host-CV MAE, 0.303 eV vs 0.319; not significant):
tier 2 of the optional cascade, or ``--model physics-bvse-chgnet-gbr``."""
ALIGNN_MODEL = "model3-default"
"""The shipped ALIGNN Model-3 ensemble (the paper's architecture; fast GPU/CPU inference)."""


def default_model_dir() -> Path:
    """Folder of the shipped default model (:data:`DEFAULT_MODEL`)."""
    return SHIPPED_DIR / DEFAULT_MODEL


def alignn_model_dir() -> Path:
    """Folder of the shipped ALIGNN Model-3 ensemble (:data:`ALIGNN_MODEL`)."""
    return SHIPPED_DIR / ALIGNN_MODEL


def resolve_model_dir(name_or_path: str | Path | None) -> Path:
    """A model given as a folder path, a shipped model name, or None for the default."""
    if name_or_path is None:
        return default_model_dir()
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    shipped = SHIPPED_DIR / str(name_or_path)
    if shipped.is_dir():
        return shipped
    names = [folder.name for folder in shipped_folders()]
    raise FileNotFoundError(f"no model folder {name_or_path!r}; shipped models: {names}")


def shipped_folders() -> list[Path]:
    """The model folders shipped with the package, sorted by name."""
    if not SHIPPED_DIR.exists():
        return []
    return sorted(p for p in SHIPPED_DIR.iterdir() if p.is_dir())
