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
(k = 1, 2, …); a JSON list of structure dicts likewise. A path that does not exist or whose
name is longer than 255 bytes, a pattern matching nothing and a file that cannot be parsed
(a POSCAR whose counts line disagrees with its coordinate lines included) become failures;
the rest of the batch goes on. A file holding more atoms than ``InputLimits.max_atoms`` is
refused before it is parsed. Every structure then passes the input gate
(:func:`~hopscreen.candidates.validate.gate_structure`); the candidates keep it without
oxidation states. Structures equal by content id are reported as ``duplicate`` failures.
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

from hopscreen.candidates.precheck import check_file_name, cif_atom_rows, poscar_atom_count
from hopscreen.candidates.validate import (
    InputLimits,
    InvalidInputError,
    atom_count_problem,
    check_working_ion,
    gate_structure,
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


def _check_atoms(counts: Iterable[int], max_atoms: int | None) -> None:
    """Raise ``absurd_cell`` when any count (one per structure of a file) is above the cap."""
    if max_atoms is None:
        return
    for n_atoms in counts:
        problem = atom_count_problem(n_atoms, max_atoms)
        if problem is not None:
            raise InvalidInputError(problem.code, problem.reason)


def _structures_from_json(text: str, max_atoms: int | None) -> list[Structure]:
    data = json.loads(text)
    items = data if isinstance(data, list) else [data]
    for item in items:
        if not isinstance(item, dict) or "lattice" not in item or "sites" not in item:
            raise ValueError("JSON is not a pymatgen Structure.as_dict() (or a list of them)")
    if not items:
        raise ValueError("JSON list holds no structure")
    _check_atoms((len(item["sites"]) for item in items), max_atoms)
    return [Structure.from_dict(item) for item in items]


def _structures_from_cif(text: str, max_atoms: int | None) -> list[Structure]:
    if max_atoms is not None:
        try:
            rows = cif_atom_rows(text)
        except Exception:  # not a CIF the block reader takes: let the parser say why
            rows = []
        _check_atoms(rows, max_atoms)
    parser = CifParser.from_str(text)
    # occupancy > 1 and other errors raise; partial occupancies come back as disordered sites
    return parser.parse_structures(primitive=False, on_error="raise")


def _structures_from_poscar(text: str, max_atoms: int | None) -> list[Structure]:
    n_atoms = poscar_atom_count(text)
    if n_atoms is not None:
        _check_atoms([n_atoms], max_atoms)
    return [Poscar.from_str(text, read_velocities=False).structure]


def read_structures(path: str | Path, *, max_atoms: int | None = None) -> list[Structure]:
    """Read every structure of one file (format from the name, else from the content).

    Parameters
    ----------
    path : str or pathlib.Path
        A CIF, POSCAR/CONTCAR or pymatgen JSON file.
    max_atoms : int, optional
        Refuse the file, before its structures are built, when one of them has more atoms
        (CIF: more ``_atom_site`` rows; POSCAR: a larger counts line; JSON: more sites).

    Returns
    -------
    list of pymatgen.core.Structure
        One per CIF data block / JSON item; one for a POSCAR.

    Raises
    ------
    InvalidInputError
        For a file name over 255 bytes (``not_found``), a POSCAR whose counts disagree with
        its coordinate lines (``unparsable``) or a structure above ``max_atoms``
        (``absurd_cell``).
    ValueError, OSError
        When the file cannot be read or parsed otherwise.

    """
    check_file_name(path)
    path = Path(path)
    text = path.read_text(errors="replace")
    if not text.strip():
        raise ValueError("empty file")
    kind = _kind_by_name(path) or _kind_by_content(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "json":
            return _structures_from_json(text, max_atoms)
        if kind == "cif":
            return _structures_from_cif(text, max_atoms)
        return _structures_from_poscar(text, max_atoms)


_NOT_FOUND = "no such file, or no structure file in the folder / pattern"


def _expand_one(ref: str, path: Path, recursive: bool) -> list[Path]:
    """The files ``path`` names (itself, a folder's structure files or a pattern's matches)."""
    if path.is_file():
        return [path]
    if path.is_dir():
        pattern = "**/*" if recursive else "*"
        return sorted(
            p
            for p in path.glob(pattern)
            if p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
            and _kind_by_name(p) is not None
        )
    if _GLOB_CHARS & set(ref):
        return sorted(
            Path(m) for m in glob.glob(str(path), recursive=recursive) if Path(m).is_file()
        )
    return []


def _expand(
    paths: Iterable[str | Path], recursive: bool
) -> Iterator[tuple[str, Path | None, InvalidInputError | None]]:
    """Yield (reference, file, problem); file None (with the problem) when nothing is read."""
    for entry in paths:
        ref = str(entry)
        try:
            check_file_name(ref)
            files = _expand_one(ref, Path(entry).expanduser(), recursive)
        except InvalidInputError as exc:
            yield ref, None, exc
            continue
        except OSError as exc:  # e.g. a path longer than PATH_MAX, no permission
            reason = f"cannot access: {exc.strerror or type(exc).__name__}"
            yield ref, None, InvalidInputError("not_found", reason)
            continue
        if not files:
            yield ref, None, InvalidInputError("not_found", _NOT_FOUND)
        for file in files:
            yield (ref if file == Path(entry).expanduser() else str(file)), file, None


def expand_structure_paths(
    paths: Iterable[str | Path], *, recursive: bool = False
) -> list[tuple[str, Path | None]]:
    """The files that :func:`load_local_candidates` would read, with the reference of each.

    Parameters
    ----------
    paths : iterable of str or pathlib.Path
        Files, folders or glob patterns (see the module docstring).
    recursive : bool
        Also the sub-folders of folders.

    Returns
    -------
    list of (str, Path or None)
        (reference, file) in reading order; the file is None for a path that names nothing
        readable (it becomes a failure when the candidates are loaded).

    """
    return [(ref, file) for ref, file, _ in _expand(paths, recursive)]


def candidates_from_structures(
    named: Iterable[tuple[str, str, Structure]],
    working_ion: str,
    *,
    source: CandidateSource,
    limits: InputLimits | None = None,
) -> CandidateBatch:
    """Pass (name, source_ref, structure) triples through the input gate into a batch.

    Parameters
    ----------
    named : iterable of (str, str, pymatgen.core.Structure)
        Name, source reference and structure of each input.
    working_ion : str
        Element symbol of the migrating ion (any case).
    source : {"file", "mp", "demo"}
        Where the structures came from.
    limits : InputLimits, optional
        Caps and tolerances of :func:`~hopscreen.candidates.validate.gate_structure`.

    Returns
    -------
    CandidateBatch
        One candidate per accepted structure (kept without oxidation states), one failure per
        refused one (its gate code and reason) or repeated one (``duplicate``).

    """
    ion = check_working_ion(working_ion)
    batch = CandidateBatch()
    for name, ref, structure in named:
        try:
            plain = gate_structure(structure, ion, limits=limits)
        except InvalidInputError as exc:
            batch.failures.append(
                CandidateFailure(name=name, source_ref=ref, code=exc.code, reason=exc.reason)
            )
            continue
        doc = CandidateDoc.from_structure(
            plain, name=name, source=source, source_ref=ref, working_ion=ion
        )
        batch.extend(CandidateBatch(candidates=[doc]))
    return batch


def _read_failure(name: str, ref: str, exc: Exception) -> CandidateFailure:
    """The failure of a file that could not be read (its first line, 300 characters at most)."""
    if isinstance(exc, InvalidInputError):
        return CandidateFailure(name=name, source_ref=ref, code=exc.code, reason=exc.reason)
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    reason = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return CandidateFailure(name=name, source_ref=ref, code="unparsable", reason=reason[:300])


def load_local_candidates(
    paths: Iterable[str | Path],
    working_ion: str,
    *,
    recursive: bool = False,
    limits: InputLimits | None = None,
) -> CandidateBatch:
    """Load candidates from files, folders and glob patterns through the input gate.

    Parameters
    ----------
    paths : iterable of str or pathlib.Path
        Files, folders or glob patterns (see the module docstring).
    working_ion : str
        Element symbol of the migrating ion (any case: ``"li"`` is ``"Li"``).
    recursive : bool
        Descend into sub-folders of folders; let ``**`` in patterns match sub-folders.
    limits : InputLimits, optional
        Caps and tolerances of :func:`~hopscreen.candidates.validate.gate_structure`
        (defaults when None); ``max_atoms`` is also checked before a file is parsed.

    Returns
    -------
    CandidateBatch
        Candidates with ``source="file"`` and ``source_ref`` the file path, and one failure
        per missing path, unparsable file or refused structure.

    Raises
    ------
    ValueError
        When ``working_ion`` is not an element symbol.

    """
    ion = check_working_ion(working_ion)
    limits = limits or InputLimits()
    named: list[tuple[str, str, Structure]] = []
    failures: list[CandidateFailure] = []
    for ref, file, problem in _expand(paths, recursive):
        if file is None:
            name = Path(ref).name or ref
            problem = problem or InvalidInputError("not_found", _NOT_FOUND)
            failures.append(_read_failure(name[:80], ref, problem))
            continue
        try:
            structures = read_structures(file, max_atoms=limits.max_atoms)
        except Exception as exc:  # any parser error: report it, go on with the batch
            logger.debug("cannot parse %s", file, exc_info=True)
            failures.append(_read_failure(file.stem, ref, exc))
            continue
        many = len(structures) > 1
        for k, structure in enumerate(structures, start=1):
            named.append((f"{file.stem}#{k}" if many else file.stem, ref, structure))
    batch = candidates_from_structures(named, ion, source="file", limits=limits)
    batch.failures[:0] = failures
    return batch
