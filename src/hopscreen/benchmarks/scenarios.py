"""Generalisation splits of the published hops: unseen pathways, intercalant contents, chemistries.

Three scenarios ask how a model transfers beyond the authors' random-looking test split. Each
is built from the records themselves (structure and labels), is a pure function of the
records and a seed, puts every record on exactly one side, and says in its ``description``
how it was built and how many hops each side holds.

Keys read from a record (see also :mod:`hopscreen.data.splits`)
---------------------------------------------------------------------
*structure* — one crystal studied with one working ion: the ``sys_name`` without its trailing
hop numbers (``e-NaVOPO4_1`` / ``_2`` / ``_3`` → ``e-NaVOPO4``), the working ion and the
framework formula (band host without working-ion atoms).

*state* — read from the band, not the labels: **charged** when the host holds no other atom of
the working ion (a single ion hops through an empty framework, the authors' ``Co2O4(Ca)``
records), **discharged** otherwise (a vacancy hops through a filled or partly filled host).

*framework* — framework formula + working ion + structural class (``SPINELS`` read as
``SPINEL``, every ``POST-SPINEL…`` class as ``POST-SPINEL``).

*chemistry* — working ion + framework formula (``Mg`` in ``Mn2O4`` vs ``Ca`` in ``Mn2O4`` vs
``Mg`` in ``Mn2S4``); *structure type* — structural class + space group (``SPINEL Fd-3m``).

The scenarios
-------------
``pathway``: every structure with ≥ 2 hops gives a seeded ``fraction`` of its hops (at least
one, never all) to test; its other hops, and every single-hop structure, stay in training.

``composition-charged`` / ``composition-discharged``: for frameworks studied in both states,
every hop of one state goes to test; the other state of the same framework, and everything
else, stays in training.

``chemistry``: within each structure type holding ≥ 2 chemistries, a seeded ``fraction`` of
its chemistries (at least one) is held out whole — every hop of that chemistry, in any
structure type, goes to test — while at least one other chemistry of each of its structure
types stays in training.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from hopscreen.data.splits import framework_formula, normalise_sys_name
from hopscreen.schemas.base import Document
from hopscreen.schemas.data import EmRecord
from hopscreen.schemas.structure import N_ION_COPIES, SYMBOL_TO_Z, Crystal

Scenario = Literal["pathway", "composition", "chemistry"]
State = Literal["charged", "discharged"]
_POST_SPINEL = re.compile(r"^POST-SPINEL")


class GeneralizationSplitError(ValueError):
    """A scenario cannot be built from the records given (the message says why)."""


class GeneralizationSplit(Document):
    """One train/test partition of records for a generalisation scenario."""

    name: str = Field(description="Split name, e.g. 'pathway' or 'composition-charged'.")
    scenario: Scenario = Field(description="Which generalisation question the split asks.")
    description: str = Field(description="How the split was built and the size of each side.")
    seed: int = Field(description="Seed of the random choices (none for composition splits).")
    train_ids: list[str] = Field(description="record_id of the training hops, sorted.")
    test_ids: list[str] = Field(description="record_id of the held-out hops, sorted.")

    @model_validator(mode="after")
    def _check_disjoint(self) -> GeneralizationSplit:
        overlap = set(self.train_ids) & set(self.test_ids)
        if overlap:
            raise ValueError(f"{len(overlap)} record(s) in train and test: {sorted(overlap)[:5]}")
        if not self.train_ids or not self.test_ids:
            raise ValueError("a generalisation split needs hops on both sides")
        return self

    @property
    def n_train(self) -> int:
        """Number of training hops."""
        return len(self.train_ids)

    @property
    def n_test(self) -> int:
        """Number of held-out hops."""
        return len(self.test_ids)


def _band(record: EmRecord) -> Crystal:
    if record.band is None:
        raise ValueError(f"{record.record_id} has no band; load the records with structures")
    return record.band


def record_state(record: EmRecord) -> State:
    """``"charged"`` when the host holds no other working-ion atom, else ``"discharged"``."""
    host = _band(record).numbers[N_ION_COPIES:]
    return "discharged" if bool((host == SYMBOL_TO_Z[record.working_ion]).any()) else "charged"


def structure_type(record: EmRecord) -> str:
    """Structural class (aliases merged) and space group, e.g. ``"SPINEL Fd-3m"``."""
    cls = record.structure_class.strip().upper()
    if cls == "SPINELS":
        cls = "SPINEL"
    elif _POST_SPINEL.match(cls):
        cls = "POST-SPINEL"
    return f"{cls} {record.space_group or '?'}"


def _framework(record: EmRecord) -> str:
    return framework_formula(_band(record), record.working_ion) or "-"


def _structure_key(record: EmRecord) -> tuple[str, str, str]:
    return (normalise_sys_name(record.sys_name), record.working_ion, _framework(record))


def _chemistry_key(record: EmRecord) -> tuple[str, str]:
    return (record.working_ion, _framework(record))


def _state_framework_key(record: EmRecord) -> tuple[str, str, str]:
    return (_framework(record), record.working_ion, structure_type(record).rsplit(" ", 1)[0])


def _group(
    records: Sequence[EmRecord], key: Callable[[EmRecord], Hashable]
) -> dict[Hashable, list[int]]:
    groups: dict[Hashable, list[int]] = defaultdict(list)
    for i, rec in enumerate(records):
        groups[key(rec)].append(i)
    return groups


def _make(
    records: Sequence[EmRecord],
    test: set[int],
    *,
    name: str,
    scenario: Scenario,
    seed: int,
    how: str,
) -> GeneralizationSplit:
    train_ids = sorted(r.record_id for i, r in enumerate(records) if i not in test)
    test_ids = sorted(records[i].record_id for i in test)
    description = f"{how} {len(train_ids)} train / {len(test_ids)} test hops."
    return GeneralizationSplit(
        name=name,
        scenario=scenario,
        description=description,
        seed=seed,
        train_ids=train_ids,
        test_ids=test_ids,
    )


def _check_ids(records: Sequence[EmRecord]) -> None:
    ids = [r.record_id for r in records]
    if len(set(ids)) != len(ids):
        raise ValueError("record_id values are not unique")


def pathway_split(
    records: Sequence[EmRecord], *, seed: int = 0, fraction: float = 0.3
) -> GeneralizationSplit:
    """Held-out pathways of seen structures (scenario (a), see the module docstring).

    Parameters
    ----------
    records : sequence of EmRecord
        Records with their bands.
    seed : int
        Seed of the choice of held-out hops.
    fraction : float
        Share of each multi-hop structure's hops held out (rounded; at least 1, at most n − 1).

    Returns
    -------
    GeneralizationSplit

    Raises
    ------
    GeneralizationSplitError
        No structure has two or more hops.
    """
    _check_ids(records)
    groups = _group(records, _structure_key)
    multi = {k: v for k, v in groups.items() if len(v) >= 2}
    if not multi:
        raise GeneralizationSplitError(
            "no structure (sys_name without hop number + working ion + framework) has two or "
            "more hops, so no pathway can be held out while its structure stays in training"
        )
    rng = np.random.default_rng(seed)
    test: set[int] = set()
    for key in sorted(multi, key=str):
        idx = sorted(multi[key])
        n_hold = min(len(idx) - 1, max(1, round(fraction * len(idx))))
        test.update(int(i) for i in rng.permutation(idx)[:n_hold])
    how = (
        f"Structures = sys_name without trailing hop numbers + working ion + framework formula; "
        f"{len(multi)} of {len(groups)} structures have >= 2 hops ({sum(map(len, multi.values()))}"
        f" hops). From each, a seeded (seed {seed}) {fraction:.0%} of its hops (rounded, at least "
        f"1, never all) is held out; its other hops and all single-hop structures train."
    )
    return _make(records, test, name="pathway", scenario="pathway", seed=seed, how=how)


def composition_split(records: Sequence[EmRecord], held_out: State) -> GeneralizationSplit:
    """Held-out intercalant content (scenario (b)): test on one state of two-state frameworks.

    Parameters
    ----------
    records : sequence of EmRecord
        Records with their bands.
    held_out : {"charged", "discharged"}
        The state whose hops go to test (only in frameworks that also have the other state).

    Returns
    -------
    GeneralizationSplit
        Named ``composition-<held_out>``; deterministic (no random choice, seed 0).

    Raises
    ------
    GeneralizationSplitError
        No framework is studied in both states.
    """
    if held_out not in ("charged", "discharged"):
        raise ValueError(f"held_out must be 'charged' or 'discharged', not {held_out!r}")
    _check_ids(records)
    states = [record_state(r) for r in records]
    frameworks = _group(records, _state_framework_key)
    paired = {k: v for k, v in frameworks.items() if len({states[i] for i in v}) == 2}
    if not paired:
        raise GeneralizationSplitError(
            "no framework (framework formula + working ion + structural class) has hops in "
            "both the charged state (no other working-ion atom in the host) and the "
            "discharged state, so no intercalant content can be held out"
        )
    test = {i for v in paired.values() for i in v if states[i] == held_out}
    other = "discharged" if held_out == "charged" else "charged"
    n_other = sum(1 for v in paired.values() for i in v if states[i] == other)
    how = (
        f"State from the band: charged = the host holds no other working-ion atom "
        f"({states.count('charged')} hops), discharged = it does ({states.count('discharged')})."
        f" Frameworks = framework formula + working ion + structural class; {len(paired)} of "
        f"{len(frameworks)} have hops in both states. Test: their {len(test)} {held_out} hops; "
        f"their {n_other} {other} hops and all other frameworks train."
    )
    return _make(
        records, test, name=f"composition-{held_out}", scenario="composition", seed=0, how=how
    )


def chemistry_split(
    records: Sequence[EmRecord], *, seed: int = 0, fraction: float = 0.25
) -> GeneralizationSplit:
    """Held-out chemistries of seen structure types (scenario (c), see the module docstring).

    Parameters
    ----------
    records : sequence of EmRecord
        Records with their bands and space groups.
    seed : int
        Seed of the choice of held-out chemistries.
    fraction : float
        Share of each structure type's chemistries held out (rounded, at least 1).

    Returns
    -------
    GeneralizationSplit

    Raises
    ------
    GeneralizationSplitError
        No structure type holds two or more chemistries.
    """
    _check_ids(records)
    chem_of = [_chemistry_key(r) for r in records]
    types_of_chem: dict[tuple[str, str], set[str]] = defaultdict(set)
    chems_of_type: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for rec, chem in zip(records, chem_of, strict=True):
        types_of_chem[chem].add(structure_type(rec))
        chems_of_type[structure_type(rec)].add(chem)
    eligible = sorted(t for t, c in chems_of_type.items() if len(c) >= 2)
    if not eligible:
        raise GeneralizationSplitError(
            "no structure type (structural class + space group) holds two or more "
            "chemistries (working ion + framework formula), so no chemistry can be held out "
            "while its structure type stays in training"
        )
    rng = np.random.default_rng(seed)
    held: set[tuple[str, str]] = set()

    def keeps_type(chem: tuple[str, str]) -> bool:
        """Holding ``chem`` out leaves another chemistry of each of its types in training."""
        return all(len(chems_of_type[t] - held - {chem}) >= 1 for t in types_of_chem[chem])

    for stype in eligible:
        chems = sorted(chems_of_type[stype])
        n_hold = max(1, round(fraction * len(chems)))
        for j in rng.permutation(len(chems)):
            if len(held & set(chems)) >= n_hold:
                break
            if chems[j] not in held and keeps_type(chems[j]):
                held.add(chems[j])
    test = {i for i, chem in enumerate(chem_of) if chem in held}
    how = (
        f"Chemistry = working ion + framework formula; structure type = structural class + "
        f"space group. In each of the {len(eligible)} structure types with >= 2 chemistries "
        f"(of {len(chems_of_type)}), a seeded (seed {seed}) {fraction:.0%} of its chemistries "
        f"(rounded, at least 1) is held out whole, keeping >= 1 chemistry of every structure "
        f"type in training: {len(held)} of {len(types_of_chem)} chemistries held out, all of "
        f"their hops in test."
    )
    return _make(records, test, name="chemistry", scenario="chemistry", seed=seed, how=how)


def generalization_splits(
    records: Sequence[EmRecord], *, seed: int = 0
) -> list[GeneralizationSplit]:
    """The generalisation splits of issue #6, in a fixed order.

    Parameters
    ----------
    records : sequence of EmRecord
        Records with their bands, typically all 619 published hops (both of the authors'
        splits: these splits replace theirs).
    seed : int
        Seed of the pathway and chemistry splits.

    Returns
    -------
    list of GeneralizationSplit
        ``pathway``, ``composition-charged``, ``composition-discharged``, ``chemistry``.

    Raises
    ------
    GeneralizationSplitError
        A scenario cannot be built from these records (the message says which and why).
    """
    return [
        pathway_split(records, seed=seed),
        composition_split(records, "charged"),
        composition_split(records, "discharged"),
        chemistry_split(records, seed=seed),
    ]
