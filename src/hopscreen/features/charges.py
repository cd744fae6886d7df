"""Nominal oxidation states of a band's atoms, by fixed chemical rules (fast, never fails).

Why not ``Composition.oxi_state_guesses``: on the 409 distinct compositions of the published
hops it took 300 s in all (94 s for one vanadyl phosphate) and found no charge-neutral
assignment for 6 of them. A descriptor must take milliseconds and exist for every hop, so the
charges here come from rules instead:

1. **Anions** take their usual negative state: F, Cl, Br, I −1; O −2; N −3; S, Se, Te −2
   unless the cell holds at least three O + F atoms per S/Se/Te atom, where they are oxo-anion
   centres (sulfates: S +6; Se, Te +4; an oxysulfide such as CaFeSO keeps S −2); P −3 and
   Si −4 only when no other anion is present (phosphides, silicides).
2. **Fixed-valence cations**: alkali metals +1; alkaline earths and Zn, Cd +2; Al, Ga, In, Sc,
   Y, B and the lanthanides +3; Si, Ge, Sn, Zr, Hf and C +4 (C +2 when N is present: cyanide);
   P, As, Nb, Ta +5.
3. **Everything else** (the redox-active transition metals: Ti, V, Cr, Mn, Fe, Co, Ni, Cu, Mo,
   Ru, …) shares the charge that makes the cell neutral, equally per atom: their charge is the
   average oxidation state that balances rules 1–2, clipped to [0, +7] (a few published
   cells, e.g. ``Na4MnAlP3O12`` stored as Na91Mn16Al16P72O192, cannot be balanced by
   physical states).

Neutrality is imposed on the *endpoint* (host atoms plus one migrating ion). When no element
falls under rule 3, or its charge was clipped, the rules cannot balance the cell; the residual
charge is kept and reported
(the Ewald sum neutralises it with a uniform background), it is not spread artificially.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
from pymatgen.core import Element

from hopscreen.schemas.structure import SYMBOL_TO_Z, Z_TO_SYMBOL

_HALIDES = {"F": -1, "Cl": -1, "Br": -1, "I": -1}
_CHALCOGENS = ("S", "Se", "Te")
_LANTHANIDES = "La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu".split()
_FIXED_CATIONS: dict[str, int] = {
    **dict.fromkeys(["H", "Li", "Na", "K", "Rb", "Cs"], 1),
    **dict.fromkeys(["Be", "Mg", "Ca", "Sr", "Ba", "Zn", "Cd"], 2),
    **dict.fromkeys(["Al", "Ga", "In", "Sc", "Y", "B", *_LANTHANIDES], 3),
    **dict.fromkeys(["Si", "Ge", "Sn", "Zr", "Hf", "C"], 4),
    **dict.fromkeys(["P", "As", "Nb", "Ta"], 5),
}
#: Nominal charge of each working ion of the published data (and a few more).
ION_CHARGES: dict[str, int] = {
    el: q for el, q in _FIXED_CATIONS.items() if el not in ("H", "B", "C", "Si", "P", "As")
}


def ion_charge(ion: str) -> int:
    """Nominal charge of a working ion (``"Li"`` -> 1, ``"Mg"`` -> 2, ``"Al"`` -> 3).

    Elements outside :data:`ION_CHARGES` get their lowest positive common oxidation state
    from pymatgen, or +1 when pymatgen lists none.
    """
    if ion in ION_CHARGES:
        return ION_CHARGES[ion]

    positive = [q for q in Element(ion).common_oxidation_states if q > 0]
    return min(positive) if positive else 1


def _rule_charges(counts: dict[str, int]) -> dict[str, int]:
    """Fixed charges of rules 1–2 for the elements present (balancing elements absent)."""
    elements = set(counts)
    charges: dict[str, int] = {}
    n_chalcogen = sum(counts.get(el, 0) for el in _CHALCOGENS)
    oxo = counts.get("O", 0) + counts.get("F", 0) >= 3 * n_chalcogen > 0
    for el in elements:
        if el in _HALIDES:
            charges[el] = _HALIDES[el]
        elif el == "O":
            charges[el] = -2
        elif el == "N":
            charges[el] = -3
        elif el in _CHALCOGENS:
            charges[el] = (6 if el == "S" else 4) if oxo else -2
        elif el == "C" and "N" in elements:
            charges[el] = 2
        elif el in _FIXED_CATIONS:
            charges[el] = _FIXED_CATIONS[el]
    if not any(q < 0 for q in charges.values()):
        for el, q in (("P", -3), ("Si", -4)):
            if el in elements:
                charges[el] = q
    return charges


class ChargeAssignment(NamedTuple):
    """Result of :func:`nominal_charges`."""

    charges: np.ndarray
    """(n,) charge of each host atom, e."""
    residual_e: float
    """Net charge of the balanced cell, e: 0 unless no element could balance it."""
    balancing_charge: float
    """Charge per atom of the rule-3 (balancing) elements, e; 0 when there are none."""


def nominal_charges(
    numbers: Iterable[int], ion: str, *, extra_ion: bool = True
) -> ChargeAssignment:
    """Per-atom nominal charges of host atoms (see the module docstring for the rules).

    Parameters
    ----------
    numbers : iterable of int
        Atomic numbers of the host atoms (a band's atoms 5 onward).
    ion : str
        The working ion; its atoms always take :func:`ion_charge`.
    extra_ion : bool
        Count one more ion (the migrating one) when balancing, so that the endpoint, not the
        host alone, is neutral.

    Returns
    -------
    ChargeAssignment
        ``charges`` ((n,) in e, in the order of ``numbers``), ``residual_e`` and
        ``balancing_charge``.
    """
    z = np.asarray(list(numbers), dtype=np.int64)
    symbols = [Z_TO_SYMBOL[int(v)] for v in z]
    elements = set(symbols) | {ion}
    counts = {el: symbols.count(el) for el in elements}
    counts[ion] += 1 if extra_ion else 0
    fixed = _rule_charges(counts)
    fixed[ion] = ion_charge(ion)
    fixed_total = sum(fixed[el] * n for el, n in counts.items() if el in fixed)
    balancing = [el for el in elements if el not in fixed]
    n_balancing = sum(counts[el] for el in balancing)
    shared = float(np.clip(-fixed_total / n_balancing, 0.0, 7.0)) if n_balancing else 0.0
    table = np.zeros(max(SYMBOL_TO_Z.values()) + 1)
    for el in elements:
        table[SYMBOL_TO_Z[el]] = fixed.get(el, shared)
    residual = float(fixed_total + shared * n_balancing)
    return ChargeAssignment(table[z], residual if abs(residual) > 1e-9 else 0.0, shared)
