"""Host-grouped cross-validation splits: a host never sits in training and validation at once.

What is a host here
-------------------
The published records are hops in *frameworks* that the authors loaded with different ions
and at different ion contents: ``Mn2O4_Li``, ``Mn2O4_Mg``, ``MgMn2O4_I41amd`` and
``LiMn2O4`` are the same Mn–O spinel framework; ``a-V2O5_Na`` and ``a-MgV2O5`` the same
V2O5 layers; ``VPO4F_Rb`` appears in both of the authors' splits. Neither the free-text
labels nor the formula identify that framework:

* ``sys_name`` encodes the ion and the polymorph in ad-hoc ways (``Co2O4_Ca`` vs ``CaCo2O4``);
* ``structure_class`` is inconsistent for one framework (``SPINEL`` / ``SPINELS``,
  ``SILICATES`` / ``ORTHOSILICATE``; ``a1-VOPO4_Ca`` is ``OXIDES``, its Li/Na twins
  ``PHOSPHATES``), so keying on it would put twins on both sides of a split;
* the band formula still holds the other working-ion atoms, whose number depends on the
  supercell and on the vacancy, so ``Li11Mn16O32`` and ``Li5Mn16O32`` would differ.

The key used here is read from the structure itself: the **framework composition**, the
reduced formula of the band's host atoms (atoms 5 onward) with every atom of the working ion
removed. It does not depend on the supercell, the vacancy or the labels. Records whose
normalised ``sys_name`` (trailing ``_<n>`` hop numbers removed) coincide are joined into one
group as well, which catches a compound studied with two different migrating ions (e.g.
``CaNaV2PS2O12_1`` / ``_2``: Na and Ca hops in one host). Groups are the connected
components of these two relations.

The key merges polymorphs of one chemistry (spinel, layered and post-spinel MnO2 frameworks
form one group). That makes grouped CV slightly pessimistic, never leaky; on the published
559 training hops the largest group holds 34 hops (6 %), small enough for balanced folds.

Whole chemical systems out
--------------------------
A host key still lets a fold train on ``FePO4`` and validate on ``Fe2P2O7`` or ``FePO4F``:
other stoichiometries of the same elements, which a screening run on *new* chemistries does
not have. :func:`chemsys_groups` holds out whole chemical systems instead. Its key is the
**chemical system of the host framework**: the sorted set of elements of the band's host
atoms (atoms 5 onward) without the working ion, e.g. ``Fe-O-P`` for every Fe–P–O host of any
working ion, whatever its stoichiometry, polymorph or ion content. Other ions of the host
count (``Fe-Li-O-P`` with Na migrating is its own system), since they are part of the
framework the migrating ion sees. The chemical-system relation is then joined with the host
relation of :func:`host_groups` (connected components of both), so a host never straddles two
chemical-system groups: records that share a host key or a chemical system end up in one
group. The groups are coarser than the host groups, so chemistry-held-out CV is the more
pessimistic of the two; it answers "how good is the model on an element combination it has
never seen".
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import reduce
from typing import Protocol

import numpy as np

from hopscreen.schemas.structure import N_ION_COPIES, Z_TO_SYMBOL, Crystal

_HOP_SUFFIX = re.compile(r"(_\d+)+$")


class HostRecord(Protocol):
    """What :func:`host_groups` needs of a record (an ``EmRecord`` has all of it)."""

    @property
    def band(self) -> Crystal | None:  # noqa: D102
        ...

    @property
    def working_ion(self) -> str:  # noqa: D102
        ...

    @property
    def sys_name(self) -> str:  # noqa: D102
        ...


def reduced_formula(counts: dict[str, int]) -> str:
    """Alphabetical reduced formula: ``{"O": 32, "Mn": 16}`` -> ``"MnO2"``."""
    counts = {el: n for el, n in counts.items() if n > 0}
    if not counts:
        return ""
    g = reduce(math.gcd, counts.values())
    return "".join(f"{el}{n // g if n // g > 1 else ''}" for el, n in sorted(counts.items()))


def framework_formula(band: Crystal, working_ion: str) -> str:
    """Reduced formula of a band's host atoms without any atom of the working ion.

    Parameters
    ----------
    band : Crystal
        A Model-3 band: five ion copies (atoms 0–4), then the host supercell.
    working_ion : str
        Element of the migrating ion.

    Returns
    -------
    str
        E.g. ``"MnO2"`` for any Li/Mg/Ca/Zn spinel or layered Mn–O host. Empty when the
        host holds nothing but the working ion.
    """
    counts = Counter(Z_TO_SYMBOL[int(z)] for z in band.numbers[N_ION_COPIES:])
    counts.pop(working_ion, None)
    return reduced_formula(dict(counts))


def normalise_sys_name(sys_name: str) -> str:
    """Drop trailing hop numbers of a ``sys_name``: ``"LiMnBO3_p-6_1"`` -> ``"LiMnBO3_p-6"``."""
    return _HOP_SUFFIX.sub("", sys_name.strip())


def _components(n: int, key_lists: Sequence[Sequence[str]]) -> list[int]:
    """Connected components of ``n`` items linked by equal keys in any of ``key_lists``.

    Returns the component root of each item (the smallest index of its component).
    """
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for keys in key_lists:
        first: dict[str, int] = {}
        for i, key in enumerate(keys):
            ri, rj = find(i), find(first.setdefault(key, i))
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    return [find(i) for i in range(n)]


def _labels(roots: Sequence[int], names: Sequence[str]) -> list[str]:
    """Per item, the alphabetically first of the ``names`` of its component."""
    label: dict[int, str] = {}
    for root, name in zip(roots, names, strict=True):
        label[root] = min(label.get(root, name), name)
    return [label[root] for root in roots]


def _require_bands(records: Sequence[HostRecord]) -> None:
    for i, rec in enumerate(records):
        if rec.band is None:
            raise ValueError(f"record {i} ({rec.sys_name}) has no band; load with structures")


def host_groups(records: Sequence[HostRecord]) -> list[str]:
    """A host key per record for grouped cross-validation (see the module docstring).

    Parameters
    ----------
    records : sequence of EmRecord (or anything with ``band``, ``working_ion``, ``sys_name``)
        Records loaded with their structures.

    Returns
    -------
    list of str
        One key per record, ``"host:<framework formula>"``, where the formula is the
        alphabetically first framework formula of the record's group. Records with equal keys
        must stay on the same side of a split.
    """
    _require_bands(records)
    frameworks = [
        framework_formula(rec.band, rec.working_ion) or f"only-{rec.working_ion}" for rec in records
    ]
    names = [normalise_sys_name(rec.sys_name) for rec in records]
    roots = _components(len(records), [frameworks, names])
    return [f"host:{label}" for label in _labels(roots, frameworks)]


def chemical_system(band: Crystal, working_ion: str) -> str:
    """Sorted elements of a band's host atoms without the working ion, joined by ``-``.

    Parameters
    ----------
    band : Crystal
        A Model-3 band: five ion copies (atoms 0–4), then the host supercell.
    working_ion : str
        Element of the migrating ion.

    Returns
    -------
    str
        E.g. ``"Fe-O-P"`` for an Li, Na or Mg hop in FePO4, Fe2P2O7 or Fe3(PO4)2 alike.
        Empty when the host holds nothing but the working ion.
    """
    elements = {Z_TO_SYMBOL[int(z)] for z in band.numbers[N_ION_COPIES:]} - {working_ion}
    return "-".join(sorted(elements))


def chemsys_groups(records: Sequence[HostRecord]) -> list[str]:
    """A chemical-system key per record, for whole-chemistry-out CV (see the module docstring).

    Parameters
    ----------
    records : sequence of EmRecord (or anything with ``band``, ``working_ion``, ``sys_name``)
        Records loaded with their structures.

    Returns
    -------
    list of str
        One key per record, ``"chemsys:<El1-El2-...>"``: the alphabetically first chemical
        system (:func:`chemical_system`) of the record's group, where a group joins the records
        that share a chemical system or a :func:`host_groups` key. Records with one host key
        always share a chemical-system key.
    """
    hosts = host_groups(records)
    systems = [
        chemical_system(rec.band, rec.working_ion) or f"only-{rec.working_ion}" for rec in records
    ]
    roots = _components(len(records), [hosts, systems])
    return [f"chemsys:{label}" for label in _labels(roots, systems)]


def grouped_kfold(
    groups: Sequence[str], k: int = 5, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split indices into ``k`` folds without splitting a group, balanced by count.

    Groups are shuffled with ``seed``, then sorted by decreasing size (stable, so equal-size
    groups keep their shuffled order) and each is given to the fold that currently holds the
    fewest records (lowest fold number on ties).

    Parameters
    ----------
    groups : sequence of str
        A group key per record (e.g. from :func:`host_groups`).
    k : int
        Number of folds (at least 2, at most the number of distinct groups).
    seed : int
        Seed of the shuffle; the folds are a pure function of ``groups``, ``k`` and ``seed``.

    Returns
    -------
    list of (train_idx, val_idx)
        ``k`` pairs of sorted integer arrays; every index is validated exactly once.
    """
    if k < 2:
        raise ValueError(f"k must be at least 2, got {k}")
    keys = [str(g) for g in groups]
    members: dict[str, list[int]] = {}
    for i, g in enumerate(keys):
        members.setdefault(g, []).append(i)
    if len(members) < k:
        raise ValueError(f"{len(members)} group(s) cannot fill {k} folds")
    names = sorted(members)
    order = np.random.default_rng(seed).permutation(len(names))
    shuffled = [names[j] for j in order]
    shuffled.sort(key=lambda g: -len(members[g]))
    fold_of = np.empty(len(keys), dtype=int)
    sizes = [0] * k
    for g in shuffled:
        f = min(range(k), key=lambda j: (sizes[j], j))
        fold_of[members[g]] = f
        sizes[f] += len(members[g])
    all_idx = np.arange(len(keys))
    return [(all_idx[fold_of != f], all_idx[fold_of == f]) for f in range(k)]
