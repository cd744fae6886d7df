"""The multi-property pre-training corpus: seven bulk properties merged by structure.

Each of the seven ``pretrain/<prop>.jsonl.gz`` files holds records
``{"id", "structure" (JARVIS atoms dict), "target" (scaled to [-1, 1]), "formula", "repo_split",
...}``. The same crystal often carries several properties; :func:`load_pretrain_corpus` merges
them into one entry per distinct structure with a target vector (NaN where a property is
missing), the layout a seven-head pre-training run needs. This path never builds pymatgen
objects, so the whole corpus loads in a few seconds.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hopscreen.data.download import require_dataset
from hopscreen.schemas.structure import Crystal

# Head order of the multi-property model: shear modulus, phonon DOS peak, piezoelectric
# modulus, dielectric constant, experimental band gap, formation energy, PBE band gap.
PROPERTIES: tuple[str, ...] = ("gv", "ph", "pz", "dc", "ebg", "fe", "bg")
PROPERTY_NAMES: dict[str, str] = {
    "gv": "shear modulus log10(G_VRH)",
    "ph": "phonon DOS peak",
    "pz": "piezoelectric modulus",
    "dc": "dielectric constant",
    "ebg": "experimental band gap",
    "fe": "formation energy per atom",
    "bg": "PBE band gap",
}
KEY_DECIMALS = 3


def structure_key(atoms: Crystal, decimals: int = KEY_DECIMALS) -> str:
    """An atom-order-invariant hash of a crystal, used to merge records across properties.

    The lattice is rounded to ``10**-decimals`` Å; fractional coordinates are wrapped into
    [0, 1), rounded, and wrapped again (so 0.9999 and 0.0 agree); atoms are sorted by
    (Z, coordinates). Unlike :meth:`Crystal.fingerprint` (order-sensitive, 1e-4 rounding), this
    merges the same crystal stored with its atoms in another order or with last-digit
    differences: the corpus gives 27,039 entries here and 27,609 with ``Crystal.fingerprint``.
    Not symmetry-aware: a shifted origin or another setting gives another key.
    """
    lattice = np.round(atoms.lattice, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
    frac = np.mod(np.round(np.mod(atoms.frac_coords, 1.0), decimals), 1.0)
    frac = np.round(frac, decimals) + 0.0
    order = np.lexsort((frac[:, 2], frac[:, 1], frac[:, 0], atoms.numbers))
    h = hashlib.sha1(usedforsecurity=False)
    h.update(lattice.tobytes())
    h.update(atoms.numbers[order].astype(np.int64).tobytes())
    h.update(frac[order].tobytes())
    return h.hexdigest()


@dataclass
class PretrainCorpus:
    """Distinct structures with their property labels (a light, array-based container).

    Attributes
    ----------
    properties : tuple of str
        Column order of the label arrays (the head order).
    atoms : list of Crystal
        One crystal per entry (as stored in the first file, in ``properties`` order, that
        holds it).
    targets : numpy.ndarray
        (n, P) float32 scaled targets in [-1, 1]; NaN where the property is missing.
    record_ids : numpy.ndarray
        (n, P) int64 source ``id`` of each label within its property file; -1 where missing.
    is_repo_test : numpy.ndarray
        (n, P) bool, True where the label comes from the source repository's held-out test
        split (``repo_split == "test"``).
    keys : list of str
        :func:`structure_key` of each entry (stable id of the structure).
    formulas : list of str
        Reduced formula of each entry.
    n_records : int
        Number of property records read (labels, before merging).
    conflicts : list of str
        Records that landed on an entry already labelled for the same property (kept out).

    """

    properties: tuple[str, ...]
    atoms: list[Crystal]
    targets: np.ndarray
    record_ids: np.ndarray
    is_repo_test: np.ndarray
    keys: list[str]
    formulas: list[str]
    n_records: int
    conflicts: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.atoms)

    @property
    def label_mask(self) -> np.ndarray:
        """(n, P) bool: True where a label is present."""
        return ~np.isnan(self.targets)

    @property
    def repo_split(self) -> np.ndarray:
        """(n,) str per entry: 'test' if any of its labels is in the repo test split."""
        return np.where(self.is_repo_test.any(axis=1), "test", "train_pool")

    def counts(self) -> dict[str, int]:
        """Labels present per property."""
        return {
            p: int(n) for p, n in zip(self.properties, self.label_mask.sum(axis=0), strict=True)
        }

    def subset(self, index: Sequence[int] | np.ndarray) -> PretrainCorpus:
        """A new corpus holding the entries at ``index`` (positions or a boolean mask)."""
        idx = np.arange(len(self))[np.asarray(index)]
        return PretrainCorpus(
            properties=self.properties,
            atoms=[self.atoms[i] for i in idx],
            targets=self.targets[idx],
            record_ids=self.record_ids[idx],
            is_repo_test=self.is_repo_test[idx],
            keys=[self.keys[i] for i in idx],
            formulas=[self.formulas[i] for i in idx],
            n_records=int(self.label_mask[idx].sum()),
            conflicts=list(self.conflicts),
        )


def _iter_records(path: Path) -> Iterable[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def load_pretrain_corpus(
    data_dir: Path | str | None = None,
    *,
    properties: Sequence[str] = PROPERTIES,
    include_test: bool = True,
) -> PretrainCorpus:
    """Load the pre-training corpus, one entry per distinct structure.

    Parameters
    ----------
    data_dir : pathlib.Path or str, optional
        Data directory holding ``pretrain/`` (see
        :func:`~hopscreen.data.paths.resolve_data_dir`).
    properties : sequence of str
        Property files to read; their order is the column order of the label arrays.
    include_test : bool
        Keep the records of the source repository's test split (drop them to compare with
        that paper's test metrics; structures left without labels disappear).

    Returns
    -------
    PretrainCorpus
        30,529 records merge into 27,039 distinct structures with all seven properties
        (the source README counts 27,044 with a slightly different rounding of coordinates).

    Raises
    ------
    DataNotFoundError, DataCorruptError
        Missing or damaged property files.
    ValueError
        An unknown or repeated property name.

    """
    props = tuple(properties)
    unknown = [p for p in props if p not in PROPERTIES]
    if unknown or len(set(props)) != len(props):
        raise ValueError(f"properties must be distinct names from {PROPERTIES}, got {props}")
    root = require_dataset("pretrain", data_dir, files=[f"{p}.jsonl.gz" for p in props])

    merged = _merge_records(root, props, include_test=include_test)
    return _corpus_from_labels(props, merged)


@dataclass
class _MergedRecords:
    """Records of several property files grouped by :func:`structure_key` (first seen first)."""

    index: dict[str, int] = field(default_factory=dict)
    atoms: list[Crystal] = field(default_factory=list)
    formulas: list[str] = field(default_factory=list)
    # Per entry: column -> (scaled target, source id, in the repo test split).
    labels: list[dict[int, tuple[float, int, bool]]] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    n_records: int = 0


def _merge_records(root: Path, props: tuple[str, ...], *, include_test: bool) -> _MergedRecords:
    """Read ``<root>/<prop>.jsonl.gz`` for each property and merge records by structure."""
    merged = _MergedRecords()
    for col, prop in enumerate(props):
        for rec in _iter_records(root / f"{prop}.jsonl.gz"):
            is_test = rec.get("repo_split") == "test"
            if is_test and not include_test:
                continue
            a = Crystal.from_jarvis_dict(rec["structure"])
            key = structure_key(a)
            i = merged.index.get(key)
            if i is None:
                i = merged.index[key] = len(merged.atoms)
                merged.atoms.append(a)
                merged.formulas.append(str(rec.get("formula", "")))
                merged.labels.append({})
            entry = merged.labels[i]
            if col in entry:
                merged.conflicts.append(f"{prop}:{rec['id']} duplicates {prop}:{entry[col][1]}")
                continue
            entry[col] = (float(rec["target"]), int(rec["id"]), is_test)
            merged.n_records += 1
    return merged


def _corpus_from_labels(props: tuple[str, ...], merged: _MergedRecords) -> PretrainCorpus:
    """Lay the merged labels out as (n, P) arrays."""
    n, p = len(merged.atoms), len(props)
    targets = np.full((n, p), np.nan, dtype=np.float32)
    record_ids = np.full((n, p), -1, dtype=np.int64)
    is_repo_test = np.zeros((n, p), dtype=bool)
    for i, entry in enumerate(merged.labels):
        for col, (target, rid, is_test) in entry.items():
            targets[i, col] = target
            record_ids[i, col] = rid
            is_repo_test[i, col] = is_test
    return PretrainCorpus(
        properties=props,
        atoms=merged.atoms,
        targets=targets,
        record_ids=record_ids,
        is_repo_test=is_repo_test,
        keys=list(merged.index),
        formulas=merged.formulas,
        n_records=merged.n_records,
        conflicts=merged.conflicts,
    )


def count_pretrain_records(
    data_dir: Path | str | None = None, properties: Sequence[str] = PROPERTIES
) -> dict[str, int]:
    """Records per property file (non-empty lines), without parsing them (fast)."""
    root = require_dataset("pretrain", data_dir, files=[f"{p}.jsonl.gz" for p in properties])
    out = {}
    for prop in properties:
        with gzip.open(root / f"{prop}.jsonl.gz", "rb") as fh:
            out[prop] = sum(1 for line in fh if line.strip())
    return out
