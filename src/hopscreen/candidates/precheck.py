"""Cheap checks of a structure file before (or instead of) parsing it.

* :func:`check_file_name`: a path component longer than the 255 bytes file systems allow
  (``OSError: File name too long`` otherwise escapes from the first ``stat``).
* :func:`poscar_atom_count`: the atom count of a POSCAR, checked against its coordinate lines.
  pymatgen's reader trusts the counts line: when it lists fewer atoms than there are
  coordinate lines (``Li Ti S`` / ``1 1 1`` over the four lines of LiTiS2) it silently reads
  the first ones (LiTiS) and drops the rest; when it lists more it raises ``IndexError``.
* :func:`cif_atom_rows`: the ``_atom_site`` rows of each CIF block, a lower bound of its atom
  count (symmetry only adds atoms), so that a 10,000-atom CIF is refused before pymatgen's
  parser (about 1.4 ms per atom) reads it.
"""

from __future__ import annotations

import os
from pathlib import Path

from pymatgen.io.cif import CifFile

from hopscreen.candidates.validate import InvalidInputError

#: Longest file or folder name, in bytes (NAME_MAX of Linux, macOS and Windows file systems).
MAX_NAME_BYTES = 255


def check_file_name(path: str | Path) -> None:
    """Raise :class:`InvalidInputError` (``not_found``) when a path component is too long."""
    for part in Path(path).parts:
        n_bytes = len(os.fsencode(part))
        if n_bytes > MAX_NAME_BYTES:
            shown = part if len(part) <= 40 else f"{part[:24]}…{part[-12:]}"
            raise InvalidInputError(
                "not_found",
                f"file name {shown!r} is {n_bytes} bytes long; file systems allow {MAX_NAME_BYTES}",
            )


def _floats(tokens: list[str], n: int) -> bool:
    if len(tokens) < n:
        return False
    try:
        [float(t) for t in tokens[:n]]
    except ValueError:
        return False
    return True


def _ints(tokens: list[str]) -> list[int] | None:
    try:
        return [int(t) for t in tokens] if tokens else None
    except ValueError:
        return None


def poscar_atom_count(text: str) -> int | None:
    """The number of atoms of a POSCAR, checked against its coordinate lines.

    Parameters
    ----------
    text : str
        The POSCAR/CONTCAR text (VASP 4 or 5 format, selective dynamics allowed).

    Returns
    -------
    int or None
        The sum of the counts line; None when the header cannot be read (the parser then
        reports the problem).

    Raises
    ------
    InvalidInputError
        ``unparsable``, naming the counts and the number of coordinate lines, when they differ.

    """
    lines = text.splitlines()
    if len(lines) < 7:
        return None
    species: list[str] = []
    counts = _ints(lines[5].split())
    k = 6
    if counts is None:
        species = lines[5].split()
        counts = _ints(lines[6].split())
        k = 7
    if counts is None or any(c < 0 for c in counts):
        return None
    if k < len(lines) and lines[k].strip()[:1].lower() == "s":
        k += 1  # "Selective dynamics"
    n_coords = 0
    for line in lines[k + 1 :]:
        if not _floats(line.split(), 3):
            break  # a blank line ends the positions (velocities may follow)
        n_coords += 1
    if species and len(species) != len(counts):
        raise InvalidInputError(
            "unparsable",
            f"POSCAR names {len(species)} species ({' '.join(species)}) but gives "
            f"{len(counts)} counts ({' '.join(map(str, counts))})",
        )
    total = sum(counts)
    if n_coords != total:
        listed = " ".join(
            f"{s} {c}" for s, c in zip(species or [""] * len(counts), counts, strict=True)
        ).strip()
        raise InvalidInputError(
            "unparsable",
            f"POSCAR species counts ({listed}: {total} atoms) do not match its "
            f"{n_coords} coordinate lines",
        )
    return total


def cif_atom_rows(text: str) -> list[int]:
    """The number of ``_atom_site`` rows of each data block of a CIF (0 when it has none)."""
    blocks = CifFile.from_str(text).data.values()
    rows = []
    for block in blocks:
        column = block.data.get("_atom_site_fract_x") or block.data.get("_atom_site_Cartn_x")
        rows.append(len(column) if isinstance(column, list) else int(column is not None))
    return rows
