"""Candidates from local structure files: CIF, POSCAR/CONTCAR and pymatgen JSON.

What a path may be
------------------
* a file, of any name: ``.cif`` is read as CIF, ``.json`` as pymatgen JSON, ``.vasp`` /
  ``.poscar`` and names containing POSCAR or CONTCAR as POSCAR; any other name is
  recognised by its content (JSON object, CIF ``data_`` block, else POSCAR);
* a folder: its files with one of the recognised names above (other files are skipped,
  hidden files always), sorted by name; sub-folders too with ``recursive=True``;
* a glob pattern (``*``, ``?``, ``[``): the matching files, sorted, read as explicit files.

A CIF with several data blocks gives one candidate per block, named ``<stem>#<k>``
(k = 1, 2, …); a JSON list of structure dicts likewise. A path that does not exist, a
pattern matching nothing and a file that cannot be parsed become failures; the rest of the
batch goes on. Structures equal by content id are reported as ``duplicate`` failures.
"""

from __future__ import annotations

import glob
import json
import logging
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

from pymatgen.core import Structure
from pymatgen.io.cif import CifParser
from pymatgen.io.vasp import Poscar

from hopscreen.candidates.validate import (
    DEFAULT_MAX_HOP_ANGSTROM,
    DEFAULT_MIN_DISTANCE_ANGSTROM,
    check_working_ion,
    validate_structure,
)
from hopscreen.schemas.candidate import (
    CandidateBatch,
    CandidateDoc,
    CandidateFailure,
    CandidateSource,
)

logger = logging.getLogger(__name__)

_GLOB_CHARS = set("*?[")


def _kind_by_name(path: Path) -> str | None:
    """'cif', 'json', 'poscar' from the file name, or None when the name says nothing."""
    name = path.name.lower()
    suffix = path.suffix.lower()
    if suffix == ".cif":
        return "cif"
    if suffix == ".json":
        return "json"
    if suffix in (".vasp", ".poscar") or "poscar" in name or "contcar" in name:
        return "poscar"
    return None


def _kind_by_content(text: str) -> str:
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return "json"
    for line in stripped.splitlines():
        low = line.strip().lower()
        if low.startswith("data_"):
            return "cif"
        if low.startswith("_cell_length_a"):
            return "cif"
    return "poscar"


def _structures_from_json(text: str) -> list[Structure]:
    data = json.loads(text)
    items = data if isinstance(data, list) else [data]
    structures = []
    for item in items:
        if not isinstance(item, dict) or "lattice" not in item or "sites" not in item:
            raise ValueError("JSON is not a pymatgen Structure.as_dict() (or a list of them)")
        structures.append(Structure.from_dict(item))
    if not structures:
        raise ValueError("JSON list holds no structure")
    return structures


def _structures_from_cif(path: Path) -> list[Structure]:
    parser = CifParser(path)
    # occupancy > 1 and other errors raise; partial occupancies come back as disordered sites
    return parser.parse_structures(primitive=False, on_error="raise")


def _structures_from_poscar(text: str) -> list[Structure]:
    return [Poscar.from_str(text, read_velocities=False).structure]


def read_structures(path: str | Path) -> list[Structure]:
    """Read every structure of one file (format from the name, else from the content).

    Parameters
    ----------
    path : str or pathlib.Path
        A CIF, POSCAR/CONTCAR or pymatgen JSON file.

    Returns
    -------
    list of pymatgen.core.Structure
        One per CIF data block / JSON item; one for a POSCAR.

    Raises
    ------
    ValueError, OSError
        When the file cannot be read or parsed.

    """
    path = Path(path)
    text = path.read_text(errors="replace")
    if not text.strip():
        raise ValueError("empty file")
    kind = _kind_by_name(path) or _kind_by_content(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "json":
            return _structures_from_json(text)
        if kind == "cif":
            return _structures_from_cif(path)
        return _structures_from_poscar(text)


def _expand(paths: Iterable[str | Path], recursive: bool) -> Iterator[tuple[str, Path | None]]:
    """Yield (reference, file) pairs; file None when the reference matched nothing."""
    for entry in paths:
        ref = str(entry)
        path = Path(entry).expanduser()
        if path.is_file():
            yield ref, path
        elif path.is_dir():
            pattern = "**/*" if recursive else "*"
            files = sorted(
                p
                for p in path.glob(pattern)
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and _kind_by_name(p) is not None
            )
            if not files:
                yield ref, None
            for file in files:
                yield str(file), file
        elif _GLOB_CHARS & set(ref):
            matches = sorted(
                Path(m) for m in glob.glob(str(path), recursive=recursive) if Path(m).is_file()
            )
            if not matches:
                yield ref, None
            for file in matches:
                yield str(file), file
        else:
            yield ref, None


def candidates_from_structures(
    named: Iterable[tuple[str, str, Structure]],
    working_ion: str,
    *,
    source: CandidateSource,
    min_distance_angstrom: float = DEFAULT_MIN_DISTANCE_ANGSTROM,
    max_hop_angstrom: float = DEFAULT_MAX_HOP_ANGSTROM,
) -> CandidateBatch:
    """Validate (name, source_ref, structure) triples into a batch (duplicates reported)."""
    ion = check_working_ion(working_ion)
    batch = CandidateBatch()
    for name, ref, structure in named:
        problem = validate_structure(
            structure,
            ion,
            min_distance_angstrom=min_distance_angstrom,
            max_hop_angstrom=max_hop_angstrom,
        )
        if problem is not None:
            batch.failures.append(
                CandidateFailure(
                    name=name, source_ref=ref, code=problem.code, reason=problem.reason
                )
            )
            continue
        doc = CandidateDoc.from_structure(
            structure, name=name, source=source, source_ref=ref, working_ion=ion
        )
        batch.extend(CandidateBatch(candidates=[doc]))
    return batch


def load_local_candidates(
    paths: Iterable[str | Path],
    working_ion: str,
    *,
    recursive: bool = False,
    min_distance_angstrom: float = DEFAULT_MIN_DISTANCE_ANGSTROM,
    max_hop_angstrom: float = DEFAULT_MAX_HOP_ANGSTROM,
) -> CandidateBatch:
    """Load and validate candidates from files, folders and glob patterns.

    Parameters
    ----------
    paths : iterable of str or pathlib.Path
        Files, folders or glob patterns (see the module docstring).
    working_ion : str
        Element symbol of the migrating ion (e.g. ``"Li"``).
    recursive : bool
        Descend into sub-folders of folders; let ``**`` in patterns match sub-folders.
    min_distance_angstrom, max_hop_angstrom : float
        Passed to :func:`~hopscreen.candidates.validate.validate_structure`.

    Returns
    -------
    CandidateBatch
        Candidates with ``source="file"`` and ``source_ref`` the file path, and one failure
        per missing path, unparsable file or rejected structure.

    """
    ion = check_working_ion(working_ion)
    named: list[tuple[str, str, Structure]] = []
    failures: list[CandidateFailure] = []
    for ref, file in _expand(paths, recursive):
        if file is None:
            failures.append(
                CandidateFailure(
                    name=Path(ref).name or ref,
                    source_ref=ref,
                    code="not_found",
                    reason="no such file, or no structure file in the folder / pattern",
                )
            )
            continue
        try:
            structures = read_structures(file)
        except Exception as exc:  # any parser error: report it, go on with the batch
            logger.debug("cannot parse %s", file, exc_info=True)
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            failures.append(
                CandidateFailure(
                    name=file.stem,
                    source_ref=ref,
                    code="unparsable",
                    reason=f"{type(exc).__name__}: {message}"[:300],
                )
            )
            continue
        many = len(structures) > 1
        for k, structure in enumerate(structures, start=1):
            named.append((f"{file.stem}#{k}" if many else file.stem, ref, structure))
    batch = candidates_from_structures(
        named,
        ion,
        source="file",
        min_distance_angstrom=min_distance_angstrom,
        max_hop_angstrom=max_hop_angstrom,
    )
    batch.failures[:0] = failures
    return batch
