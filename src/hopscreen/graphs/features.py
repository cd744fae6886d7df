"""CGCNN-style 92-feature atom descriptors.

The scheme follows Xie & Grossman, Phys. Rev. Lett. 120, 145301 (2018), Table S2: categorical
one-hot codes and binned element properties. The numbers are element facts, regenerated here
from pymatgen's periodic-table data (not copied from CGCNN's ``atom_init.json``):

======================== ======= =============================================
feature                  length  encoding
======================== ======= =============================================
group                    18      one-hot (lanthanides/actinides counted as 3)
period                   7       one-hot
block                    4       one-hot s, p, d, f
valence electrons        12      one-hot 1..12 (s/d blocks: group; p: group-10)
electronegativity        10      bins on [0.5, 4.0] (Pauling)
no electronegativity     1       flag (noble gases and a few heavy elements)
atomic radius            10      bins on [0.25, 2.6] Å
first ionization energy  10      bins of log on [3.5, 25] eV
electron affinity        10      bins on [-1.5, 3.7] eV
molar volume             10      bins of log on [1.5, 75] cm³/mol
======================== ======= =============================================

The table for Z = 1..103 ships as ``atom_features.json`` beside this module; a test checks that
the shipped table equals :func:`build_feature_table`.
"""

from __future__ import annotations

import json
import math
import warnings
from functools import cache
from pathlib import Path

import numpy as np
from pymatgen.core import Element

N_ELEMENTS = 103
N_FEATURES = 92
_TABLE_PATH = Path(__file__).with_name("atom_features.json")


def _one_hot(index: int | None, length: int) -> list[float]:
    out = [0.0] * length
    if index is not None and 0 <= index < length:
        out[index] = 1.0
    return out


def _binned(
    value: float | None, lo: float, hi: float, bins: int = 10, log: bool = False
) -> list[float]:
    if value is None or not math.isfinite(value):
        return [0.0] * bins
    if log:
        value, lo, hi = math.log(max(value, 1e-9)), math.log(lo), math.log(hi)
    frac = (value - lo) / (hi - lo)
    return _one_hot(min(bins - 1, max(0, int(frac * bins))), bins)


def _element_features(z: int) -> list[float]:
    el = Element.from_Z(z)
    group = 3 if el.is_lanthanoid or el.is_actinoid else el.group
    block = {"s": 0, "p": 1, "d": 2, "f": 3}.get(el.block)
    valence = group - 10 if group > 12 else group
    if el.symbol == "He":
        valence = 2
    electronegativity = el.X if el.X and math.isfinite(el.X) and el.X > 0 else None
    radius = float(el.atomic_radius) if el.atomic_radius is not None else None
    ionization = el.ionization_energies[0] if el.ionization_energies else None
    affinity = None
    try:
        affinity = float(el.electron_affinity)
    except (TypeError, ValueError):
        affinity = None
    volume = float(el.molar_volume) if el.molar_volume is not None else None
    feats = (
        _one_hot(group - 1, 18)
        + _one_hot(el.row - 1, 7)
        + _one_hot(block, 4)
        + _one_hot(valence - 1, 12)
        + _binned(electronegativity, 0.5, 4.0)
        + [1.0 if electronegativity is None else 0.0]
        + _binned(radius, 0.25, 2.6)
        + _binned(ionization, 3.5, 25.0, log=True)
        + _binned(affinity, -1.5, 3.7)
        + _binned(volume, 1.5, 75.0, log=True)
    )
    assert len(feats) == N_FEATURES
    return feats


def build_feature_table() -> np.ndarray:
    """Compute the (104, 92) table from pymatgen's element data; row 0 (Z = 0) is zeros."""
    table = np.zeros((N_ELEMENTS + 1, N_FEATURES), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen warns about elements lacking some data
        for z in range(1, N_ELEMENTS + 1):
            table[z] = _element_features(z)
    return table


def write_feature_table(path: Path = _TABLE_PATH) -> None:
    """Regenerate the shipped table (run once when the scheme changes)."""
    rows = build_feature_table()[1:].astype(int).tolist()
    path.write_text(json.dumps({"scheme": "cgcnn-92", "z_from": 1, "rows": rows}) + "\n")


@cache
def feature_table() -> np.ndarray:
    """The shipped (104, 92) float32 table indexed by atomic number (row 0 is zeros)."""
    data = json.loads(_TABLE_PATH.read_text())
    table = np.zeros((N_ELEMENTS + 1, N_FEATURES), dtype=np.float32)
    table[1:] = np.asarray(data["rows"], dtype=np.float32)
    return table
