"""Where the published datasets live, and the errors raised when they are missing or damaged.

The data directory is resolved, in order of precedence, from an explicit argument, the
``data_dir`` site setting (the ``HOPSCREEN_DATA_DIR`` environment variable, else the settings
file: :mod:`hopscreen.settings`), and the user cache directory
(``platformdirs.user_cache_dir("hopscreen")/data``). Nothing is created or read at import time.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_cache_dir

from hopscreen.settings import load_settings

ENV_VAR = "HOPSCREEN_DATA_DIR"
DOWNLOAD_COMMAND = "hopscreen data download"


class HopscreenDataError(Exception):
    """Base class of every data-layer error (missing, corrupt or unjoinable data)."""


class DataNotFoundError(HopscreenDataError, FileNotFoundError):
    """A dataset file is missing from the resolved data directory.

    Parameters
    ----------
    path : pathlib.Path
        The file (or directory) that was looked for.
    dataset : str
        Registry name of the dataset (``"em_dataset"`` or ``"pretrain"``).
    hint : str, optional
        What to do about it; by default, the download command to run.

    """

    def __init__(self, path: Path, dataset: str = "em_dataset", hint: str | None = None) -> None:
        self.path = Path(path)
        self.dataset = dataset
        if hint is None:
            hint = (
                f"Run `{DOWNLOAD_COMMAND} --dataset {dataset}` to fetch it into the default "
                f"directory, or set {ENV_VAR} to a folder that holds {dataset}/."
            )
        self.hint = hint
        super().__init__(f"{dataset} data not found: {self.path} does not exist. {hint}")


class DataCorruptError(HopscreenDataError):
    """A file's sha256 does not match the pinned checksum of the manifest."""

    def __init__(self, path: Path, expected: str, actual: str, hint: str | None = None) -> None:
        self.path = Path(path)
        self.expected = expected
        self.actual = actual
        if hint is None:
            hint = f"Run `{DOWNLOAD_COMMAND} --force` to fetch a fresh copy."
        self.hint = hint
        super().__init__(
            f"checksum mismatch for {self.path}: expected sha256 {expected}, got {actual}. {hint}"
        )


class DataNotDownloadableError(HopscreenDataError):
    """A dataset has no single upstream file to fetch (it was derived from many)."""


def user_cache_data_dir() -> Path:
    """The per-user default data directory, ``<user cache dir>/hopscreen/data`` (not created)."""
    return Path(user_cache_dir("hopscreen")) / "data"


def resolve_data_dir(explicit: Path | str | None = None) -> Path:
    """Resolve the data directory without touching the file system.

    Parameters
    ----------
    explicit : pathlib.Path or str, optional
        A directory given by the caller; it wins over everything else.

    Returns
    -------
    pathlib.Path
        ``explicit`` if given, else the ``data_dir`` setting (``$HOPSCREEN_DATA_DIR`` if set
        and non-empty, else the settings file's), else :func:`user_cache_data_dir`. ``~`` is
        expanded; the directory may not exist.

    """
    if explicit is not None and str(explicit) != "":
        return Path(explicit).expanduser()
    configured = load_settings().data_dir
    return configured if configured is not None else user_cache_data_dir()
