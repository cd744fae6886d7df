"""Host keys and host-grouped folds."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from tests.evaluation.conftest import make_band, make_record, spinel_like

from hopscreen.data.splits import (
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
