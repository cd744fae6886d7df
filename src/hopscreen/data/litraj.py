"""LiTraj Li-hop barriers (``nebDFT2k`` DFT-NEB, ``nebBVSE122k`` BVSE-NEB) as band records.

Records have the form of the Em dataset's :class:`~hopscreen.schemas.data.EmRecord` bands:
five copies of the migrating Li at t = 0, ¼, ½, ¾, 1 (atoms 0–4), then the host supercell with
the target site vacant. Each record carries its level of theory in ``xc_functional`` (``"GGA"``
for nebDFT2k, ``"BVSE"`` for nebBVSE122k), so the two can never be mixed silently. Fetching and
checksums live in :mod:`hopscreen.data.litraj_archive` (re-exported here). Nothing happens at
import time; ``ase`` is imported only by the readers.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hopscreen.data.litraj_archive import (
    CLI_NAMES,
    LITRAJ_SOURCE,
    LITRAJ_URLS,
    PINNED_SHA256,
    check_name,
    cli_name,
    download_hint,
    download_litraj,
    litraj_dir,
    litraj_status,
    recorded_sha256,
    safe_extract,
    verify_litraj_archive,
)
from hopscreen.data.paths import DataNotFoundError, HopscreenDataError
from hopscreen.schemas.data import EmRecord
from hopscreen.schemas.structure import N_ION_COPIES, SYMBOL_TO_Z, Z_TO_SYMBOL, Crystal

if TYPE_CHECKING:
    from ase import Atoms

__all__ = [
    "CLI_NAMES",
    "LITRAJ_SOURCE",
    "LITRAJ_URLS",
    "PINNED_SHA256",
    "XC_TAGS",
    "band_from_centroid",
    "band_from_trajectory",
    "download_litraj",
    "litraj_dir",
    "litraj_status",
    "load_litraj_neb",
    "recorded_sha256",
    "safe_extract",
    "verify_litraj_archive",
]


#: Level-of-theory tag of each set, stored as ``EmRecord.xc_functional`` (PBE without U).
XC_TAGS: dict[str, str] = {"nebDFT2k": "GGA", "nebBVSE122k": "BVSE"}
SPLITS = ("train", "val", "test")
FRACTIONS = np.linspace(0.0, 1.0, N_ION_COPIES)
VACANCY_TOL_A = 0.5
STRUCTURE_CLASS = "UNCLASSIFIED"
_LI = SYMBOL_TO_Z["Li"]
_SHIFTS = np.array([(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)])


def _shortest(dfrac: np.ndarray, lattice: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shortest periodic images of fractional differences: (frac vectors, lengths in Å)."""
    dfrac = np.atleast_2d(dfrac)
    base = dfrac - np.round(dfrac)
    cand = base[:, None, :] + _SHIFTS[None, :, :]
    lengths = np.linalg.norm(cand @ lattice, axis=-1)
    best = np.argmin(lengths, axis=1)
    rows = np.arange(len(dfrac))
    return cand[rows, best], lengths[rows, best]


def _ion_copies(path: np.ndarray, lattice: np.ndarray) -> np.ndarray:
    """Points at t = 0, ¼, ½, ¾, 1 of a continuous fractional path (images or arc length)."""
    n = len(path)
    if (n - 1) % (N_ION_COPIES - 1) == 0:
        return path[np.arange(N_ION_COPIES) * ((n - 1) // (N_ION_COPIES - 1))]
    arc = np.concatenate(
        [[0.0], np.cumsum(np.linalg.norm(np.diff(path, axis=0) @ lattice, axis=1))]
    )
    if arc[-1] <= 0.0:
        raise HopscreenDataError("the migrating ion does not move")
    return np.stack([np.interp(FRACTIONS * arc[-1], arc, path[:, k]) for k in range(3)], axis=1)


def _target_li(
    end: np.ndarray, frac: np.ndarray, numbers: np.ndarray, lattice: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of Li atoms (of ``frac``/``numbers``) within VACANCY_TOL_A of ``end``."""
    li = np.flatnonzero(numbers == _LI)
    dist = _shortest(frac[li] - end, lattice)[1]
    return li[dist < VACANCY_TOL_A], dist[dist < VACANCY_TOL_A]


def band_from_trajectory(images: Sequence[Atoms]) -> Crystal:
    """A band from NEB images: the ion along the path, then the first image without it.

    Parameters
    ----------
    images : sequence of ase.Atoms
        The NEB trajectory, endpoints included, with one fixed cell and atom order.

    Returns
    -------
    Crystal
        Five copies of the migrating Li (the atom that moves most between the first and the last
        image), then the host of the first image without it.

    Raises
    ------
    HopscreenDataError
        Fewer than two images, images that disagree, a mover that is not Li, or a host Li
        within VACANCY_TOL_A of the end point (the target site must be vacant).

    """
    if len(images) < 2:
        raise HopscreenDataError(f"a trajectory needs at least 2 images, got {len(images)}")
    lattice = np.asarray(images[0].cell.array, dtype=float)
    numbers = np.asarray(images[0].numbers)
    for i, img in enumerate(images):
        if not np.array_equal(img.numbers, numbers) or not np.allclose(img.cell.array, lattice):
            raise HopscreenDataError(f"image {i} has other atoms or another cell than image 0")
    frac = np.stack([img.get_scaled_positions(wrap=False) for img in images])
    moved = _shortest(frac[-1] - frac[0], lattice)[1]
    mover = int(np.argmax(moved))
    if moved[mover] < 0.1:
        raise HopscreenDataError("no atom moves between the first and the last image")
    if numbers[mover] != _LI:
        raise HopscreenDataError(f"the atom that moves most is {Z_TO_SYMBOL[int(numbers[mover])]}")
    steps = _shortest(np.diff(frac[:, mover], axis=0), lattice)[0]
    path = frac[0, mover] + np.concatenate([np.zeros((1, 3)), np.cumsum(steps, axis=0)])
    copies = _ion_copies(path, lattice)
    host = np.delete(np.arange(len(numbers)), mover)
    hit, dist = _target_li(copies[-1], frac[0, host], numbers[host], lattice)
    if len(hit):
        raise HopscreenDataError(
            f"host Li atom {int(host[hit[0]])} sits {dist[0]:.2f} Å from the end point; "
            "the target site should be vacant"
        )
    coords = np.mod(np.vstack([copies, frac[0, host]]), 1.0)
    return Crystal(lattice, coords, np.r_[[_LI] * N_ION_COPIES, numbers[host]])


def _edge_source(edge_id: str) -> int | None:
    parts = edge_id.split("_")
    return int(parts[-5]) if len(parts) >= 6 and parts[-5].isdigit() else None


def band_from_centroid(atoms: Atoms, edge_id: str = "") -> tuple[Crystal, bool]:
    """A straight-line band from a structure with one 'X' atom at the hop's centroid.

    The migrating Li is the Li nearest to X (ties go to the edge id's source index, else the
    lowest index); the end point is 2·X − start. A host Li at the end point (a centroid
    structure that keeps both sites) is removed, so the target is vacant as in every band.

    Returns
    -------
    band : Crystal
        Five Li copies on the line, then all atoms but X, the mover and any target Li.
    removed_target : bool
        Whether a Li at the end point was removed.

    """
    numbers = np.asarray(atoms.numbers)
    x = np.flatnonzero(numbers == 0)
    if len(x) != 1:
        raise HopscreenDataError(f"expected one 'X' centroid atom, found {len(x)}")
    lattice = np.asarray(atoms.cell.array, dtype=float)
    frac = atoms.get_scaled_positions(wrap=False)
    li = np.flatnonzero(numbers == _LI)
    if not len(li):
        raise HopscreenDataError("no Li atom next to the centroid")
    vec, dist = _shortest(frac[li] - frac[x[0]], lattice)
    tied = li[dist <= dist.min() + 1e-3]
    source = _edge_source(edge_id)
    pick = source if source is not None and source in tied else int(tied[0])
    if dist.min() < 0.1:
        raise HopscreenDataError(f"Li atom {pick} sits on the centroid: the hop has no length")
    start = frac[x[0]] + vec[int(np.flatnonzero(li == pick)[0])]
    end = 2.0 * frac[x[0]] - start
    copies = start + FRACTIONS[:, None] * (end - start)
    host = np.setdiff1d(np.arange(len(numbers)), [x[0], pick])
    hit, _ = _target_li(end, frac[host], numbers[host], lattice)
    if len(hit) > 1:
        raise HopscreenDataError(f"{len(hit)} Li atoms sit at the end point")
    host = np.delete(host, hit)
    coords = np.mod(np.vstack([copies, frac[host]]), 1.0)
    return Crystal(lattice, coords, np.r_[[_LI] * N_ION_COPIES, numbers[host]]), bool(len(hit))


def _formula(band: Crystal) -> str:
    """Formula of the band in order of first appearance, e.g. 'Li36 O16' (as the Em records)."""
    return " ".join(f"{el}{n}" for el, n in Counter(band.symbols).items())


def _record(
    name: str, edge_id: str, split: str, index: int, em: float, band: Crystal, keep: bool
) -> EmRecord:
    return EmRecord(
        record_id=f"litraj-{name}-{edge_id}",
        split=split,  # type: ignore[arg-type]
        index=index,
        sys_name=edge_id,
        structure_class=STRUCTURE_CLASS,
        formula=_formula(band),
        working_ion="Li",
        barrier_ev=em,
        band_hash=band.fingerprint(),
        band=band if keep else None,
        n_atoms_band=len(band),
        xc_functional=XC_TAGS[name],
        source=LITRAJ_SOURCE,
    )


def _read_index(path: Path, name: str) -> pd.DataFrame:
    """The index CSV with checked ``edge_id``, ``_split`` and numeric ``em`` (NaN if empty)."""
    if not path.is_file():
        raise DataNotFoundError(path, cli_name(name), hint=download_hint(name, "the archive"))
    try:
        df = pd.read_csv(path, dtype={"edge_id": str, "_split": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise HopscreenDataError(f"cannot parse {path}: {exc}") from None
    missing = {"edge_id", "_split", "em"} - set(df.columns)
    if missing:
        raise HopscreenDataError(f"{path} lacks column(s) {sorted(missing)}")
    em = pd.to_numeric(df["em"], errors="coerce")
    for row, (edge_id, split, raw, value) in enumerate(
        zip(df["edge_id"], df["_split"], df["em"], em, strict=True)
    ):
        where = f"{path}, line {row + 2}"
        if not isinstance(edge_id, str) or not edge_id.strip():
            raise HopscreenDataError(f"{where}: empty edge_id")
        if split not in SPLITS:
            raise HopscreenDataError(f"{where}: _split is {split!r}, not one of {SPLITS}")
        if np.isnan(value) and not pd.isna(raw):
            raise HopscreenDataError(f"{where}: em {raw!r} is not a number")
    return df.assign(em=em, edge_id=df["edge_id"].str.strip())


def _read_images(path: Path, name: str, what: str) -> list[Atoms]:
    from ase.io import read

    if not path.is_file():
        raise DataNotFoundError(path, cli_name(name), hint=f"{what}. " + download_hint(name))
    try:
        return read(path, index=":", format="extxyz")
    except Exception as exc:  # ase raises many types on malformed files
        raise HopscreenDataError(f"cannot read {path}: {exc}") from None


def _warn_skipped(name: str, skipped: Counter[str]) -> None:
    if skipped:
        detail = ", ".join(f"{n} {why}" for why, n in skipped.items())
        warnings.warn(f"{name}: skipped {sum(skipped.values())} hop(s): {detail}", stacklevel=3)


def _load_dft(folder: Path, name: str, splits: tuple[str, ...], keep: bool) -> list[EmRecord]:
    index_path = folder / f"{name}_index.csv"
    index = _read_index(index_path, name)
    records, seen, skipped = [], set(), Counter[str]()
    for row, (edge_id, split, em) in enumerate(
        zip(index["edge_id"], index["_split"], index["em"], strict=True)
    ):
        if split not in splits:
            continue
        if np.isnan(em):
            skipped["without em"] += 1
            continue
        if edge_id in seen:
            skipped["duplicate edge_id"] += 1
            continue
        seen.add(edge_id)
        path = folder / f"{edge_id}_relaxed.xyz"
        what = f"hop {edge_id} (line {row + 2} of {index_path}) has no relaxed trajectory"
        images = _read_images(path, name, what)
        try:
            band = band_from_trajectory(images)
        except HopscreenDataError as exc:
            raise HopscreenDataError(f"{path}: {exc}") from None
        records.append(_record(name, edge_id, split, row, float(em), band, keep))
    _warn_skipped(name, skipped)
    return records


def _frames(path: Path) -> Iterator[tuple[int, Atoms, str, float]]:
    """Frames of an extxyz file with their ``edge_id`` and ``em`` (errors name the frame)."""
    from ase.io import iread

    frames = iread(path, index=":", format="extxyz")
    i = 0
    while True:
        try:
            atoms = next(frames)
        except StopIteration:
            return
        except Exception as exc:  # ase raises many types on malformed frames
            raise HopscreenDataError(f"cannot read frame {i} of {path}: {exc}") from None
        edge_id = str(atoms.info.get("edge_id", "")).strip()
        try:
            em = float(atoms.info["em"])
        except (KeyError, TypeError, ValueError):
            em = None
        if not edge_id or em is None:
            raise HopscreenDataError(f"frame {i} of {path} lacks an edge_id or a numeric em")
        yield i, atoms, edge_id, em
        i += 1


def _load_bvse(folder: Path, name: str, splits: tuple[str, ...], keep: bool) -> list[EmRecord]:
    records, seen, skipped = [], set(), Counter[str]()
    for split in splits:
        path = folder / f"{name}_{split}.xyz"
        if not path.is_file():
            raise DataNotFoundError(path, cli_name(name), hint=download_hint(name))
        for i, atoms, edge_id, em in _frames(path):
            if not np.isfinite(em):
                skipped["without em"] += 1
                continue
            if edge_id in seen:
                skipped["duplicate edge_id"] += 1
                continue
            seen.add(edge_id)
            try:
                band, _ = band_from_centroid(atoms, edge_id)
            except HopscreenDataError as exc:
                raise HopscreenDataError(f"frame {i} ({edge_id}) of {path}: {exc}") from None
            records.append(_record(name, edge_id, split, i, em, band, keep))
    _warn_skipped(name, skipped)
    return records


def load_litraj_neb(
    data_dir: Path | str | None = None,
    *,
    name: str = "nebDFT2k",
    splits: Iterable[str] = SPLITS,
    with_structures: bool = True,
    verify: bool = True,
) -> list[EmRecord]:
    """Load LiTraj hops as band records (Li vacancy hops; extra labels, not the Em dataset).

    Parameters
    ----------
    data_dir : pathlib.Path or str, optional
        Data directory holding ``litraj/<name>/`` (see :func:`download_litraj`).
    name : {"nebDFT2k", "nebBVSE122k"}
        ``nebDFT2k``: DFT (PBE) climbing-image NEB, bands from the relaxed trajectories,
        tagged ``xc_functional="GGA"``. ``nebBVSE122k``: BVSE-NEB barriers with straight-line
        bands built from the centroid structures, tagged ``"BVSE"`` (pre-training only).
    splits : iterable of {"train", "val", "test"}
        Upstream splits to keep, in this order for nebBVSE122k (nebDFT2k keeps index order).
    with_structures : bool
        Keep the band on each record (``band_hash`` is computed either way).
    verify : bool
        Check the kept archive against its pinned or recorded sha256 first.

    Returns
    -------
    list of EmRecord
        ``record_id = "litraj-<name>-<edge_id>"``, ``sys_name = edge_id``, ``index`` = line of
        the index CSV (nebDFT2k, 0-based) or frame of the split file (nebBVSE122k). Hops
        without a barrier or with a repeated edge id are skipped, counted in a warning.

    Raises
    ------
    DataNotFoundError
        The folder, the archive (when verifying), the index or a hop's file is missing.
    DataCorruptError
        The archive differs from its pinned or recorded sha256.
    HopscreenDataError
        An unparsable index (file and line named) or a trajectory that breaks the band rules.

    """
    name = check_name(name)
    wanted = tuple(dict.fromkeys(splits))
    bad = [s for s in wanted if s not in SPLITS]
    if bad:
        raise ValueError(f"unknown split(s) {bad}; choose from {SPLITS}")
    folder = litraj_dir(data_dir) / name
    if not folder.is_dir():
        raise DataNotFoundError(folder, cli_name(name), hint=download_hint(name))
    if verify:
        verify_litraj_archive(name, data_dir)
    load = _load_dft if name == "nebDFT2k" else _load_bvse
    return load(folder, name, wanted, with_structures)
