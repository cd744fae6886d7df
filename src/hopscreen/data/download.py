"""Fetch the registered upstream files and verify data directories against pinned checksums.

Only the standard library touches the network (:func:`_open_url`, the one function tests
replace). Files are streamed to a temporary file next to their destination, hashed on the way,
and moved into place only when the sha256 matches, so a data directory never holds a partial
or wrong file under a registered name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import urllib.request
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TransferSpeedColumn,
)

from hopscreen.data.manifest import DATASETS, DataFile, get_dataset
from hopscreen.data.paths import (
    DataCorruptError,
    DataNotDownloadableError,
    DataNotFoundError,
    resolve_data_dir,
)
from hopscreen.schemas.data import FileStatus

TIMEOUT_S = 60.0
CHUNK_BYTES = 1 << 16
USER_AGENT = "hopscreen-data/0.1 (+https://github.com/sai-mat-group/predicting-migration-barriers)"


def _open_url(url: str, timeout: float) -> IO[bytes]:
    """Open ``url`` for streaming reads (the network boundary; tests replace this function)."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    return urllib.request.urlopen(request, timeout=timeout)


@lru_cache(maxsize=64)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_file(path: Path | str) -> str:
    """Hex sha256 of a file's bytes (memoised in memory on path, size and mtime)."""
    st = os.stat(path)
    return _sha256_cached(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


def file_status(data_dir: Path, entry: DataFile) -> FileStatus:
    """Check one registered file under ``data_dir`` (presence, size, sha256)."""
    path = Path(data_dir) / entry.relpath
    if not path.is_file():
        return FileStatus(
            dataset=entry.dataset,
            path=entry.relpath,
            expected_sha256=entry.sha256,
            present=False,
            required=entry.required,
        )
    return FileStatus(
        dataset=entry.dataset,
        path=entry.relpath,
        expected_sha256=entry.sha256,
        actual_sha256=sha256_file(path),
        present=True,
        required=entry.required,
        size=path.stat().st_size,
    )


def verify(
    data_dir: Path | str | None = None, *, datasets: Iterable[str] | None = None
) -> list[FileStatus]:
    """Check every registered file of ``datasets`` (default: all) in a data directory.

    Parameters
    ----------
    data_dir : pathlib.Path or str, optional
        Resolved with :func:`~hopscreen.data.paths.resolve_data_dir`.
    datasets : iterable of str, optional
        Registry names; all registered datasets by default.

    Returns
    -------
    list of FileStatus
        One per registered file, in manifest order; absent files have ``present=False``.

    """
    root = resolve_data_dir(data_dir)
    names = list(DATASETS) if datasets is None else list(datasets)
    return [file_status(root, f) for name in names for f in get_dataset(name).files]


def require_dataset(
    dataset: str, data_dir: Path | str | None = None, files: Iterable[str] | None = None
) -> Path:
    """Make sure the required files of a dataset are present and intact.

    Parameters
    ----------
    dataset : str
        Registry name.
    data_dir : pathlib.Path or str, optional
        Resolved with :func:`~hopscreen.data.paths.resolve_data_dir`.
    files : iterable of str, optional
        Only these paths (relative to the dataset folder); default all required files.

    Returns
    -------
    pathlib.Path
        The dataset folder, ``<data_dir>/<dataset>``.

    Raises
    ------
    DataNotFoundError
        A file is missing (the message says what to run).
    DataCorruptError
        A file's checksum differs from the manifest.

    """
    root = resolve_data_dir(data_dir)
    ds = get_dataset(dataset)
    wanted = set(files) if files is not None else None
    hint = None if ds.downloadable else ds.note
    for entry in ds.files:
        if (wanted is None and not entry.required) or (
            wanted is not None and entry.path not in wanted
        ):
            continue
        status = file_status(root, entry)
        if not status.present:
            raise DataNotFoundError(root / entry.relpath, dataset, hint=hint)
        if not status.ok:
            raise DataCorruptError(
                root / entry.relpath, entry.sha256, status.actual_sha256 or "", hint=hint
            )
    return root / dataset


@contextlib.contextmanager
def _progress_bar(enabled: bool) -> Iterator[object | None]:
    if not enabled:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=Console(stderr=True),
    ) as bar:
        yield bar


def _fetch(entry: DataFile, target: Path, *, timeout: float, bar: object | None) -> None:
    """Stream one file to a temporary file, check its sha256, then move it into place."""
    assert entry.url is not None
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    task = None
    if bar is not None:
        task = bar.add_task(entry.path.rsplit("/", 1)[-1], total=entry.size)  # type: ignore[attr-defined]
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, contextlib.closing(_open_url(entry.url, timeout)) as src:
            while chunk := src.read(CHUNK_BYTES):
                h.update(chunk)
                out.write(chunk)
                if task is not None:
                    bar.advance(task, len(chunk))  # type: ignore[attr-defined]
        actual = h.hexdigest()
        if actual != entry.sha256:
            raise DataCorruptError(
                target,
                entry.sha256,
                actual,
                hint=f"The download from {entry.url} did not match the pinned checksum; "
                "nothing was written. Retry later, or report it if it persists.",
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def download(
    dest: Path | str | None = None,
    *,
    datasets: Iterable[str] = ("em_dataset",),
    force: bool = False,
    progress: bool = True,
    timeout: float = TIMEOUT_S,
) -> list[Path]:
    """Download registered datasets into a data directory, verifying every checksum.

    Parameters
    ----------
    dest : pathlib.Path or str, optional
        Data directory (files land in ``dest/<dataset>/<path>``); resolved with
        :func:`~hopscreen.data.paths.resolve_data_dir` when None.
    datasets : iterable of str
        Registry names to fetch.
    force : bool
        Fetch again even when a file with the right checksum is already there.
    progress : bool
        Show a progress bar on stderr.
    timeout : float
        Socket timeout of each request, seconds.

    Returns
    -------
    list of pathlib.Path
        The paths of all files of the requested datasets (fetched or already present; for a
        dataset that cannot be downloaded, the files present).

    Raises
    ------
    DataNotDownloadableError
        A requested dataset cannot be fetched (``pretrain``) and is not already present and
        intact in ``dest``; raised before anything is fetched.
    DataCorruptError
        A downloaded file did not match its checksum (the partial file is deleted).
    OSError
        Network failures (``urllib.error.URLError``, timeouts) propagate unchanged.

    """
    root = resolve_data_dir(dest)
    selected = [get_dataset(name) for name in dict.fromkeys(datasets)]
    for ds in selected:
        if ds.downloadable:
            continue
        bad = [s for s in (file_status(root, f) for f in ds.files) if s.required and not s.ok]
        if bad:
            raise DataNotDownloadableError(
                f"cannot download {ds.name!r}: {ds.note} (missing or damaged under {root}: "
                f"{', '.join(s.path for s in bad)})"
            )
    paths: list[Path] = []
    with _progress_bar(progress) as bar:
        for ds in selected:
            for entry in ds.files:
                target = root / entry.relpath
                if not ds.downloadable:
                    if target.is_file():
                        paths.append(target)
                    continue
                paths.append(target)
                if not force and file_status(root, entry).ok:
                    continue
                _fetch(entry, target, timeout=timeout, bar=bar)
    return paths


def diagnose(statuses: Iterable[FileStatus], data_dir: Path | str) -> str | None:
    """One human message about what is wrong with a data directory, or None if usable.

    A directory is usable when every required ``em_dataset`` file is present and intact and no
    present file (of any dataset) has a wrong checksum. A missing ``pretrain`` folder is not a
    problem here: it is optional and cannot be downloaded.
    """
    statuses = list(statuses)
    corrupt = [s for s in statuses if s.present and not s.ok]
    missing_em = [s for s in statuses if s.dataset == "em_dataset" and s.required and not s.present]
    if corrupt:
        names = ", ".join(s.path for s in corrupt)
        fix = "Run `hopscreen data download --force`"
        if any(not get_dataset(s.dataset).downloadable for s in corrupt):
            fix += " for em_dataset files; replace pretrain files with an intact copy"
        return f"Damaged data in {data_dir}: {names} do(es) not match the pinned sha256. {fix}."
    if missing_em:
        required = [f for f in get_dataset("em_dataset").files if f.required]
        names = (
            "em_dataset/ and its files"
            if len(missing_em) == len(required)
            else ", ".join(s.path for s in missing_em)
        )
        return (
            f"No usable em_dataset in {data_dir} (missing: {names}). Run "
            "`hopscreen data download` to fetch it (or `hopscreen data download --dest DIR` "
            "and set HOPSCREEN_DATA_DIR=DIR)."
        )
    return None
