"""The host order of the campaign benchmark: Li hosts of the pre-training corpus.

:func:`campaign_corpus` gives the hosts in a fixed, documented order (:data:`ORDER_RULE`);
:func:`write_structures` writes them as pymatgen JSON files for a round to read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Element

from hopscreen.data.paths import DataNotFoundError, resolve_data_dir
from hopscreen.data.pretrain import PretrainCorpus, load_pretrain_corpus
from hopscreen.schemas.structure import Crystal

DUPLICATES_FILE = "duplicates.json"
LEAKAGE_FILE = "leakage_em_hosts.json"

ORDER_RULE = (
    "the entries of the pre-training corpus (`hopscreen.data.pretrain.load_pretrain_corpus`: "
    "one entry per distinct structure of the seven property files, all Materials Project "
    "crystals) that hold Li and at least three elements; of each near-duplicate group listed "
    f"in the corpus's `{DUPLICATES_FILE}` only the entry with the smallest key is kept; "
    f"entries the corpus's `{LEAKAGE_FILE}` lists as sharing a reduced formula with a host of "
    "the E_m dataset (as written, or its ion-free framework) are left out; the rest are sorted "
    "by their `structure_key` (SHA-1 of the rounded lattice and the sorted atoms: a fixed "
    "order that mixes chemistries and cell sizes, so the first N are a fair sample)"
)
"""The order of the campaign's hosts, as stated in BENCHMARKS.md."""


@dataclass(frozen=True)
class CorpusHost:
    """One host of the campaign order.

    Attributes
    ----------
    rank : int
        1-based position in the order.
    key : str
        :func:`~hopscreen.data.pretrain.structure_key` of the entry.
    formula : str
        Reduced formula.
    crystal : Crystal
        The structure.
    """

    rank: int
    key: str
    formula: str
    crystal: Crystal

    @property
    def file_name(self) -> str:
        """``<rank>-<formula>-<key[:8]>.json``, with only letters and digits in the formula."""
        formula = re.sub(r"[^A-Za-z0-9]", "", self.formula)
        return f"{self.rank:04d}-{formula}-{self.key[:8]}.json"


@dataclass(frozen=True)
class CampaignCorpus:
    """The ordered campaign hosts and how many entries each step of the rule kept or dropped."""

    hosts: list[CorpusHost]
    counts: dict[str, int]


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise DataNotFoundError(path, "pretrain")
    return json.loads(path.read_text())


def _record_positions(corpus: PretrainCorpus) -> dict[tuple[str, int], int]:
    """(property, source id) → entry index, for every label of the corpus."""
    rows, cols = np.nonzero(corpus.record_ids >= 0)
    return {
        (corpus.properties[c], int(corpus.record_ids[r, c])): int(r)
        for r, c in zip(rows, cols, strict=True)
    }


def _leaked_entries(leakage: dict[str, Any], position: dict[tuple[str, int], int]) -> set[int]:
    """Entries whose formula matches an E_m host (or its framework), per ``leakage_em_hosts``."""
    found: set[int] = set()
    for prop, block in leakage.get("per_property", {}).items():
        for kind in ("matches_full", "matches_framework"):
            for match in block.get(kind, {}).values():
                found.update(position[(prop, i)] for i in match["ids"] if (prop, i) in position)
    return found


def _near_duplicate_losers(
    duplicates: dict[str, Any],
    position: dict[tuple[str, int], int],
    keys: Sequence[str],
) -> set[int]:
    """Entries of near-duplicate groups other than the one with the smallest key per group.

    Groups of different properties that share an entry are joined first (union-find), so a
    structure and all its near-duplicates keep exactly one representative.
    """
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.setdefault(i, i) != i:
            i = parent[i]
        return i

    for prop, block in duplicates.items():
        for group in block.get("near_duplicates_kept", []):
            members = [position[(prop, i)] for i in group["ids"] if (prop, i) in position]
            for other in members[1:]:
                parent[root(other)] = root(members[0])
    components: dict[int, list[int]] = {}
    for i in parent:
        components.setdefault(root(i), []).append(i)
    losers: set[int] = set()
    for members in components.values():
        keep = min(members, key=lambda i: keys[i])
        losers.update(i for i in members if i != keep)
    return losers


def campaign_corpus(
    data_dir: Path | str | None = None, *, ion: str = "Li", min_elements: int = 3
) -> CampaignCorpus:
    """The campaign's hosts in their fixed order (see :data:`ORDER_RULE`).

    Parameters
    ----------
    data_dir : Path or str, optional
        Data directory holding ``pretrain/`` (resolved as usual when None).
    ion : str
        Element every host must contain.
    min_elements : int
        Fewest distinct elements of a host.

    Returns
    -------
    CampaignCorpus
        The ordered hosts and the counts ``corpus_entries``, ``with_ion``,
        ``near_duplicates_dropped``, ``leakage_excluded`` and ``hosts``.

    Raises
    ------
    DataNotFoundError, DataCorruptError
        The corpus or its duplicates / leakage files are missing or damaged.
    """
    corpus = load_pretrain_corpus(data_dir)
    root = resolve_data_dir(data_dir) / "pretrain"
    duplicates = _read_json(root / DUPLICATES_FILE)
    leakage = _read_json(root / LEAKAGE_FILE)
    z = Element(ion).Z
    wanted = {
        i
        for i, atoms in enumerate(corpus.atoms)
        if z in set(atoms.numbers.tolist()) and len(set(atoms.numbers.tolist())) >= min_elements
    }
    position = _record_positions(corpus)
    losers = _near_duplicate_losers(duplicates, position, corpus.keys) & wanted
    leaked = _leaked_entries(leakage, position) & (wanted - losers)
    kept = sorted(wanted - losers - leaked, key=lambda i: corpus.keys[i])
    hosts = [
        CorpusHost(rank, corpus.keys[i], corpus.formulas[i], corpus.atoms[i])
        for rank, i in enumerate(kept, start=1)
    ]
    counts = {
        "corpus_entries": len(corpus),
        "with_ion": len(wanted),
        "near_duplicates_dropped": len(losers),
        "leakage_excluded": len(leaked),
        "hosts": len(hosts),
    }
    return CampaignCorpus(hosts=hosts, counts=counts)


def write_structures(hosts: Sequence[CorpusHost], folder: Path | str) -> list[Path]:
    """Write each host as a pymatgen JSON file (:attr:`CorpusHost.file_name`) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for host in hosts:
        path = folder / host.file_name
        path.write_text(json.dumps(host.crystal.to_structure().as_dict()))
        paths.append(path)
    return paths
