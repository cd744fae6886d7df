"""Fetch, verify and extract the LiTraj archives (trust on first download).

Upstream publishes the archives without checksums and they could not be fetched when this
module was written, so they are trusted on first download: the sha256 of the first archive
fetched is recorded in ``<data_dir>/litraj/<name>.zip.sha256`` and every later download or load
is checked against it (or against :data:`PINNED_SHA256`, which wins once filled in)::

    <data_dir>/litraj/<name>.zip            the upstream archive, kept for verification
    <data_dir>/litraj/<name>.zip.sha256     the recorded checksum (``sha256sum`` format)
    <data_dir>/litraj/<name>/               the extracted folder

The network is reached only through an ``opener`` (default
:func:`hopscreen.data.download._open_url`); nothing happens at import time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import stat
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import IO, Any

from hopscreen.data import download as _download
from hopscreen.data.paths import (
    DataCorruptError,
    DataNotFoundError,
    HopscreenDataError,
    resolve_data_dir,
)

LITRAJ_REPO = "https://github.com/AIRI-Institute/LiTraj"
LITRAJ_SOURCE = (
    "Dembitskiy et al., 'Benchmarking machine learning models for predicting lithium ion "
    "migration', npj Comput. Mater. (2025), doi:10.1038/s41524-025-01571-z; LiTraj "
    f"({LITRAJ_REPO}, MIT; structures from the Materials Project, CC-BY-4.0)"
)
LITRAJ_URLS: dict[str, str] = {
    "nebDFT2k": "https://bs3u.obs.ru-moscow-1.hc.sbercloud.ru/litraj/nebDFT2k.zip",
    "nebBVSE122k": "https://bs3u.obs.ru-moscow-1.hc.sbercloud.ru/litraj/nebBVSE122k.zip",
}
# Not pinned: upstream publishes no checksum and the archives could not be downloaded where
# this loader was written (no network), so no value could be verified. A made-up value would
# be worse than none. `download_litraj` records the sha256 of the first download next to the
# zip and warns; copy that value here (after checking it against a second, independent
# download) to pin it.
PINNED_SHA256: dict[str, str | None] = {"nebDFT2k": None, "nebBVSE122k": None}
#: Dataset names of ``hopscreen data download --dataset``.
CLI_NAMES: dict[str, str] = {"litraj-nebdft2k": "nebDFT2k", "litraj-nebbvse122k": "nebBVSE122k"}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")

Opener = Callable[[str, float], IO[bytes]]


def check_name(name: str) -> str:
    """The upstream name of a LiTraj set given by its own or its CLI name (else ValueError)."""
    name = CLI_NAMES.get(name, name)
    if name not in LITRAJ_URLS:
        raise ValueError(f"unknown LiTraj set {name!r}; choose from {', '.join(LITRAJ_URLS)}")
    return name


def cli_name(name: str) -> str:
    """The ``hopscreen data download --dataset`` name of a set: ``litraj-nebdft2k``."""
    return f"litraj-{name.lower()}"


def litraj_dir(data_dir: Path | str | None = None) -> Path:
    """The LiTraj folder of a data directory, ``<data_dir>/litraj`` (not created)."""
    return resolve_data_dir(data_dir) / "litraj"


def recorded_sha256(name: str, data_dir: Path | str | None = None) -> str | None:
    """The sha256 recorded on the first download of ``name``, or None if none was recorded."""
    path = litraj_dir(data_dir) / f"{check_name(name)}.zip.sha256"
    if not path.is_file():
        return None
    digest = (path.read_text(encoding="utf-8").split() or [""])[0].lower()
    if not _HEX64.match(digest):
        raise HopscreenDataError(f"{path} does not hold a sha256; delete it and download again")
    return digest


def _check_digest(name: str, root: Path, path: Path, actual: str) -> bool:
    """Compare a digest to the pinned or recorded one; True when there was one to compare."""
    pinned = PINNED_SHA256.get(name)
    expected = pinned or recorded_sha256(name, root.parent)
    if expected is None:
        return False
    if actual != expected:
        origin = (
            "the pinned checksum (PINNED_SHA256)"
            if pinned
            else f"the checksum recorded on its first download ({root / f'{name}.zip.sha256'})"
        )
        raise DataCorruptError(
            path,
            expected,
            actual,
            hint=f"The archive differs from {origin}; nothing was replaced. If upstream "
            "republished it on purpose, delete the record and download again.",
        )
    return True


def _record_first_download(name: str, root: Path, digest: str) -> None:
    record = root / f"{name}.zip.sha256"
    tmp = record.with_suffix(".sha256.part")
    tmp.write_text(f"{digest}  {name}.zip\n", encoding="utf-8")
    os.replace(tmp, record)
    warnings.warn(
        f"{name}.zip has no pinned checksum; trusting this copy and recording its sha256 "
        f"{digest} in {record}. Pin it in hopscreen.data.litraj.PINNED_SHA256.",
        stacklevel=3,
    )


def verify_litraj_archive(name: str, data_dir: Path | str | None = None) -> str:
    """Check the kept archive of ``name`` against its pinned or recorded sha256.

    Returns
    -------
    str
        The archive's sha256. When nothing is pinned or recorded yet (an archive placed by
        hand), it is recorded now, with a warning.

    Raises
    ------
    DataNotFoundError
        The archive is missing.
    DataCorruptError
        Its sha256 differs from the pinned or recorded one.

    """
    name = check_name(name)
    root = litraj_dir(data_dir)
    path = root / f"{name}.zip"
    if not path.is_file():
        raise DataNotFoundError(path, cli_name(name), hint=download_hint(name, "its checksum"))
    digest = _download.sha256_file(path)
    if not _check_digest(name, root, path, digest):
        _record_first_download(name, root, digest)
    return digest


def _member_target(dest: Path, info: zipfile.ZipInfo) -> Path:
    """Where a zip member may be written, or an error for links and paths leaving ``dest``."""
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    unsafe = (
        stat.S_ISLNK(info.external_attr >> 16)
        or name.startswith("/")
        or ".." in parts
        or (parts and ":" in parts[0])
    )
    target = (dest / name).resolve()
    if unsafe or not target.is_relative_to(dest.resolve()):
        raise HopscreenDataError(f"unsafe zip member {info.filename!r}; nothing was extracted")
    return target


def check_archive(zip_path: Path | str, dest: Path | str) -> None:
    """Raise unless ``zip_path`` is a readable zip whose members all extract inside ``dest``.

    Reads every member once (CRC check), so a truncated or damaged download is refused
    before its checksum could be trusted.
    """
    try:
        with zipfile.ZipFile(zip_path) as zf:
            for info in zf.infolist():
                _member_target(Path(dest), info)
            bad = zf.testzip()
    except (zipfile.BadZipFile, EOFError) as exc:
        raise HopscreenDataError(f"{zip_path} is not a readable zip archive: {exc}") from None
    if bad is not None:
        raise HopscreenDataError(f"{zip_path}: member {bad!r} is damaged (CRC mismatch)")


def safe_extract(zip_path: Path | str, dest: Path | str) -> list[Path]:
    """Extract a zip into ``dest``, refusing absolute paths, ``..``, drive names and links.

    Every member is checked before anything is written. Returns the extracted files.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(zip_path) as zf:
            infos = zf.infolist()
            targets = [_member_target(dest, info) for info in infos]
            files = []
            for info, target in zip(infos, targets, strict=True):
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
                files.append(target)
    except zipfile.BadZipFile as exc:
        raise HopscreenDataError(f"{zip_path} is not a readable zip archive: {exc}") from None
    return files


def _install(zip_path: Path, root: Path, name: str) -> Path:
    """Extract to a temporary folder, then move ``<name>/`` into place in one step."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
    try:
        safe_extract(zip_path, tmp)
        inner = tmp / name if (tmp / name).is_dir() else tmp
        final = root / name
        if final.exists():
            shutil.rmtree(final)
        os.replace(inner, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _fetch_zip(url: str, target: Path, opener: Opener, timeout: float) -> tuple[Path, str]:
    """Stream ``url`` to a temporary file next to ``target``; return it and its sha256."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, contextlib.closing(opener(url, timeout)) as src:
            while chunk := src.read(_download.CHUNK_BYTES):
                h.update(chunk)
                out.write(chunk)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, h.hexdigest()


def download_litraj(
    name: str = "nebDFT2k",
    data_dir: Path | str | None = None,
    *,
    force: bool = False,
    opener: Opener | None = None,
    timeout: float = _download.TIMEOUT_S,
) -> Path:
    """Download, verify and extract a LiTraj archive (trust on first download).

    Parameters
    ----------
    name : {"nebDFT2k", "nebBVSE122k"}
        The set (the CLI names ``litraj-nebdft2k`` and ``litraj-nebbvse122k`` work too).
    data_dir : pathlib.Path or str, optional
        Data directory; files land in ``<data_dir>/litraj/``.
    force : bool
        Fetch the archive again and re-extract it even if present.
    opener : callable, optional
        ``opener(url, timeout)`` returning a readable binary stream; default the network
        (:func:`hopscreen.data.download._open_url`). Tests pass a fake.
    timeout : float
        Socket timeout, seconds.

    Returns
    -------
    pathlib.Path
        The extracted folder ``<data_dir>/litraj/<name>``.

    Raises
    ------
    DataCorruptError
        The archive differs from the pinned or recorded sha256 (nothing is replaced).
    HopscreenDataError
        The archive is not a zip or holds an unsafe member.
    OSError
        Network failures propagate unchanged.

    """
    name = check_name(name)
    root = litraj_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    zip_path = root / f"{name}.zip"
    if force or not zip_path.is_file():
        tmp, digest = _fetch_zip(
            LITRAJ_URLS[name], zip_path, opener or _download._open_url, timeout
        )
        try:
            known = _check_digest(name, root, zip_path, digest)
            if not known:  # never trust an archive that is unreadable or unsafe
                check_archive(tmp, root / name)
            os.replace(tmp, zip_path)
        finally:
            tmp.unlink(missing_ok=True)
        if not known:
            _record_first_download(name, root, digest)
    else:
        verify_litraj_archive(name, root.parent)
    if force or not (root / name).is_dir():
        _install(zip_path, root, name)
    return root / name


def litraj_status(data_dir: Path | str | None = None) -> list[dict[str, Any]]:
    """One line of state per LiTraj set for ``hopscreen data info`` (never raises on data)."""
    root = litraj_dir(data_dir)
    out = []
    for name, url in LITRAJ_URLS.items():
        zip_path = root / f"{name}.zip"
        try:
            recorded = recorded_sha256(name, root.parent)
        except HopscreenDataError:
            recorded = "unreadable"
        pinned = PINNED_SHA256[name]
        if zip_path.is_file():
            actual = _download.sha256_file(zip_path)
            expected = pinned or recorded
            state = "ok" if actual == expected else "BAD sha256" if expected else "unrecorded"
        else:
            state = "absent"
        out.append(
            {
                "dataset": cli_name(name),
                "url": url,
                "state": state,
                "extracted": (root / name).is_dir(),
                "pinned_sha256": pinned,
                "recorded_sha256": recorded,
                "note": "pinned" if pinned else "not pinned: recorded on first download",
            }
        )
    return out


def download_hint(name: str, what: str = "it") -> str:
    """What to run to get a missing LiTraj file."""
    return (
        f"Run `hopscreen data download --dataset {cli_name(name)}` to fetch {what} from "
        f"{LITRAJ_URLS[name]}, or set HOPSCREEN_DATA_DIR to a folder holding litraj/{name}/."
    )
