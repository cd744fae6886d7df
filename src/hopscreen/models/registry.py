"""Where models live: the shipped default and user model folders."""

from __future__ import annotations

from pathlib import Path

SHIPPED_DIR = Path(__file__).with_name("weights")
DEFAULT_MODEL = "model3-default"


def default_model_dir() -> Path:
    """Folder of the shipped default Model-3 ensemble."""
    return SHIPPED_DIR / DEFAULT_MODEL


def resolve_model_dir(name_or_path: str | Path | None) -> Path:
    """A model given as a folder path, a shipped model name, or None for the default."""
    if name_or_path is None:
        return default_model_dir()
    path = Path(name_or_path)
    if path.is_dir():
        return path
    shipped = SHIPPED_DIR / str(name_or_path)
    if shipped.is_dir():
        return shipped
    names = (
        sorted(p.name for p in SHIPPED_DIR.iterdir() if p.is_dir()) if SHIPPED_DIR.exists() else []
    )
    raise FileNotFoundError(f"no model folder {name_or_path!r}; shipped models: {names}")
