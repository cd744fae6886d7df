"""Host keys and host-grouped folds."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from tests.evaluation.conftest import make_band, make_record, spinel_like

from hopscreen.data.splits import (
    chemical_system,
    chemsys_groups,
    framework_formula,
    grouped_kfold,
    host_groups,
    normalise_sys_name,
    reduced_formula,
)


def test_formulas_and_names() -> None:
    assert reduced_formula({"O": 32, "Mn": 16}) == "MnO2"
    assert reduced_formula({"Li": 6, "Mn": 16, "O": 32}) == "Li3Mn8O16"
    band = make_band(
        [("Li", (0, 0, 0.5)), ("Mn", (0, 0, 0)), ("O", (0.5, 0.5, 0.5)), ("O", (0.5, 0, 0))], "Li"
    )
    assert framework_formula(band, "Li") == "MnO2"  # every Li removed, not only the copies
    assert normalise_sys_name("LiMnBO3_p-6_1 ") == "LiMnBO3_p-6"
    assert normalise_sys_name("Co2O4_Ca_P1") == "Co2O4_Ca_P1"


def test_host_groups_framework_and_name_links() -> None:
    recs = [
        make_record(0, "Mn2O4_Li", spinel_like("Mn", "O"), "Li", 0.5),
        make_record(1, "Mn2O4_Mg", spinel_like("Mn", "O"), "Mg", 0.9),
        make_record(2, "CaNaX_1", [("Na", (0, 0, 0)), ("O", (0.5, 0.5, 0.5))], "Ca", 1.0),
        make_record(3, "CaNaX_2", [("Ca", (0, 0, 0)), ("O", (0.5, 0.5, 0.5))], "Na", 0.7),
        make_record(4, "CoO2_Li", spinel_like("Co", "O"), "Li", 0.4),
    ]
    g = host_groups(recs)
    assert g[0] == g[1] == "host:MnO"
    assert g[2] == g[3] == "host:CaO"  # joined by sys_name; label = first framework formula
    assert g[4] == "host:CoO"
    assert len(set(g)) == 3


def _phosphate(fe: int, p: int, o: int, extra: tuple[str, ...] = ()) -> list:
    """A host with ``fe`` Fe, ``p`` P, ``o`` O and ``extra`` atoms."""
    els = ["Fe"] * fe + ["P"] * p + ["O"] * o + list(extra)
    return [(el, (0.1 * j % 1.0, 0.37, 0.61)) for j, el in enumerate(els)]


def test_chemical_system() -> None:
    band = make_band([("Li", (0, 0, 0.5)), *_phosphate(2, 2, 7)], "Li")
    assert chemical_system(band, "Li") == "Fe-O-P"  # sorted, working ion removed
    assert chemical_system(band, "Na") == "Fe-Li-O-P"  # another ion is part of the framework
    assert chemical_system(make_band([("Li", (0, 0, 0.5))], "Li"), "Li") == ""


def test_chemsys_groups_merge_stoichiometries_and_follow_hosts() -> None:
    recs = [
        make_record(0, "FePO4_Li", _phosphate(1, 1, 4), "Li", 0.5),
        make_record(1, "Fe2P2O7_Na", _phosphate(2, 2, 7), "Na", 0.8),
        make_record(
            2, "FePO4_Mg", _phosphate(1, 1, 4, ("Mg",)), "Mg", 0.9
        ),  # host Mg goes with the ion
        make_record(3, "LiFePO4_Na", _phosphate(1, 1, 4, ("Li",)), "Na", 0.6),
        make_record(4, "CaNaX_1", [("Na", (0, 0, 0)), ("O", (0.5, 0.5, 0.5))], "Ca", 1.0),
        make_record(5, "CaNaX_2", [("Ca", (0, 0, 0)), ("O", (0.5, 0.5, 0.5))], "Na", 0.7),
        make_record(
            6,
            "Na2O_Mg",
            [("Na", (0, 0, 0)), ("Na", (0.5, 0, 0)), ("O", (0.5, 0.5, 0.5))],
            "Mg",
            1.2,
        ),
        make_record(7, "MnO2_Li", spinel_like("Mn", "O"), "Li", 0.4),
    ]
    hosts = host_groups(recs)
    g = chemsys_groups(recs)
    assert hosts[0] != hosts[1]  # FePO4 and Fe2P2O7 are different hosts ...
    assert g[0] == g[1] == g[2] == "chemsys:Fe-O-P"  # ... but one chemical system
    assert g[3] == "chemsys:Fe-Li-O-P"
    # CaNaX_1 (Na-O) and CaNaX_2 (Ca-O) share a host, Na2O (Na-O) shares a system with _1
    assert hosts[4] == hosts[5] != hosts[6]
    assert g[4] == g[5] == g[6] == "chemsys:Ca-O"
    assert g[7] == "chemsys:Mn-O"
    assert len(set(g)) == 4 and len(set(hosts)) == 6  # 0 and 2 share the FePO4 host
    for h in set(hosts):  # no host straddles two chemical-system groups
        assert len({gi for hi, gi in zip(hosts, g, strict=True) if hi == h}) == 1


def _check_folds(groups: list[str], folds: list[tuple[np.ndarray, np.ndarray]]) -> None:
    n = len(groups)
    seen = np.zeros(n, dtype=int)
    for train, val in folds:
        assert len(train) + len(val) == n
        assert not set(train) & set(val)
        assert not {groups[i] for i in train} & {groups[i] for i in val}
        seen[val] += 1
    assert np.all(seen == 1)


def test_grouped_kfold_properties() -> None:
    rng = np.random.default_rng(0)
    groups = [f"g{int(x)}" for x in rng.integers(0, 40, 300)]
    folds = grouped_kfold(groups, k=5, seed=0)
    assert len(folds) == 5
    _check_folds(groups, folds)
    sizes = [len(v) for _, v in folds]
    assert max(sizes) - min(sizes) <= max(Counter(groups).values())
    again = grouped_kfold(groups, k=5, seed=0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))
    other = grouped_kfold(groups, k=5, seed=1)
    assert any(not np.array_equal(a[1], b[1]) for a, b in zip(folds, other, strict=True))


def test_grouped_kfold_errors() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        grouped_kfold(["a", "b"], k=1)
    with pytest.raises(ValueError, match="cannot fill"):
        grouped_kfold(["a", "a", "b"], k=3)


def test_published_training_hosts(data_dir) -> None:
    from hopscreen.data.em_dataset import load_em_dataset

    recs = load_em_dataset(data_dir, splits=("train",))
    groups = host_groups(recs)
    by_name = {r.sys_name: g for r, g in zip(recs, groups, strict=True)}
    assert by_name["Mn2O4_Li"] == by_name["Mn2O4_Mg"] == by_name["Mn2O4_Ca"]
    assert by_name["a-V2O5_Na"] == by_name["a-MgV2O5"]
    counts = Counter(groups)
    assert 150 <= len(counts) <= 200 and max(counts.values()) <= 40
    folds = grouped_kfold(groups, k=5, seed=0)
    _check_folds(groups, folds)
    sizes = [len(v) for _, v in folds]
    assert max(sizes) - min(sizes) <= 2

    systems = chemsys_groups(recs)
    by_name = {r.sys_name: g for r, g in zip(recs, systems, strict=True)}
    assert by_name["Mn2O4_Li"] == by_name["Mn2O4_Mg"] == "chemsys:Mn-O"
    counts = Counter(systems)
    assert 100 <= len(counts) < len(set(groups)) and max(counts.values()) <= 45
    for h in set(groups):
        assert len({s for g, s in zip(groups, systems, strict=True) if g == h}) == 1
    folds = grouped_kfold(systems, k=5, seed=0)
    _check_folds(systems, folds)
    _check_folds(groups, folds)  # holding out chemical systems holds out their hosts too
