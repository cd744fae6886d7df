from __future__ import annotations

import itertools
from importlib import resources

import numpy as np
import pytest

from hopscreen.candidates.demo import list_demo, load_demo_candidates, read_demo_structure

ENTRIES = list_demo()


def test_demo_set_is_broad():
    assert len(ENTRIES) >= 8
    assert len({e.working_ion for e in ENTRIES}) >= 4
    assert len({e.structure_type for e in ENTRIES}) >= 6
    assert len({e.name for e in ENTRIES}) == len(ENTRIES)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_demo_cif(entry):
    text = resources.files("hopscreen.candidates").joinpath("demo", entry.filename).read_text()
    header = text.split("data_")[0]
    assert header.startswith("# ") and ("Source" in header or "from" in header)
    assert any(ch.isdigit() for ch in header)  # journal volume / year
    s = read_demo_structure(entry)
    assert s.is_ordered and len(s) <= 60
    assert s.composition.reduced_formula == entry.formula
    assert entry.working_ion in {el.symbol for el in s.composition.elements}
    charge = sum(entry.oxidation_states[el.symbol] * n for el, n in s.composition.items())
    assert charge == pytest.approx(0.0, abs=1e-6)
    dist = np.array(s.distance_matrix)
    for i, j in itertools.combinations(range(len(s)), 2):
        a, b = s[i].specie, s[j].specie
        d = dist[i, j]
        if a.is_metal != b.is_metal:
            assert d > 1.5, f"cation-anion {a}-{b} {d:.2f} Å"
        elif a.is_metal and b.is_metal:
            assert d > 2.3, f"cation-cation {a}-{b} {d:.2f} Å"
        else:
            assert d > 1.0, f"{a}-{b} {d:.2f} Å"
    assert 5.0 < s.volume / len(s) < 30.0


def test_load_demo_candidates_all_valid():
    batch = load_demo_candidates()
    assert not batch.failures
    assert len(batch.candidates) == len(ENTRIES)
    assert len({c.candidate_id for c in batch.candidates}) == len(ENTRIES)
    by_name = {c.name: c for c in batch.candidates}
    olivine = by_name["LiFePO4-olivine"]
    assert (olivine.n_sites, olivine.space_group_number, olivine.source) == (28, 62, "demo")
    assert "Acta Cryst" in olivine.source_ref


def test_load_demo_candidates_by_ion():
    li = load_demo_candidates("Li")
    assert li.candidates and all(c.working_ion == "Li" for c in li.candidates)
    assert [c.working_ion for c in load_demo_candidates("mg").candidates] == ["Mg"]
    assert load_demo_candidates("Zn").candidates == []
