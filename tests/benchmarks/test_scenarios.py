from __future__ import annotations

from collections import defaultdict

import pytest
from tests.evaluation.conftest import make_record

from hopscreen.benchmarks.scenarios import (
    GeneralizationSplit,
    GeneralizationSplitError,
    chemistry_split,
    composition_split,
    generalization_splits,
    pathway_split,
    record_state,
    structure_type,
)
from hopscreen.data.splits import framework_formula
from hopscreen.schemas.data import EmRecord

EMPTY = [("Mn", (0.0, 0.0, 0.0)), ("O", (0.5, 0.5, 0.5))]


def filled(ion: str) -> list[tuple[str, tuple[float, float, float]]]:
    return [*EMPTY, (ion, (0.5, 0.0, 0.0))]


def rec(i: int, sys_name: str, host, ion: str, cls: str = "SPINEL", sg: str = "Fd-3m") -> EmRecord:
    r = make_record(i, sys_name, host, ion, 0.1 * (i % 9) + 0.2)
    return r.model_copy(update={"structure_class": cls, "space_group": sg})


@pytest.fixture
def records() -> list[EmRecord]:
    out = []
    # multi-hop structures: 4 hops of LiMnO2 (discharged), 3 of MnO2_Li (charged)
    for h in range(4):
        out.append(rec(len(out), f"LiMnO2_{h + 1}", filled("Li"), "Li"))
    for h in range(3):
        out.append(rec(len(out), f"MnO2_Li_{h + 1}", EMPTY, "Li"))
    # single-hop structures in the spinel type with other ions / anions
    for ion in ("Mg", "Ca", "Zn"):
        out.append(rec(len(out), f"{ion}MnO2", filled(ion), ion))
    out.append(rec(len(out), "MnS_Mg", [("Mn", (0, 0, 0)), ("S", (0.5, 0.5, 0.5))], "Mg"))
    # a layered type with two chemistries
    out.append(
        rec(
            len(out), "NaCoO2", [("Co", (0, 0, 0)), ("O", (0.5, 0.5, 0.5))], "Na", "LAYERED", "R-3m"
        )
    )
    out.append(
        rec(len(out), "KCoO2", [("Co", (0, 0, 0)), ("O", (0.5, 0.5, 0.5))], "K", "LAYERED", "R-3m")
    )
    return out


def check_partition(split: GeneralizationSplit, records: list[EmRecord]) -> None:
    ids = {r.record_id for r in records}
    assert set(split.train_ids) | set(split.test_ids) == ids
    assert not set(split.train_ids) & set(split.test_ids)
    assert split.n_train + split.n_test == len(records)
    assert f"{split.n_train} train / {split.n_test} test hops" in split.description


def test_state_and_structure_type_are_read_from_the_record(records) -> None:
    assert record_state(records[0]) == "discharged"
    assert record_state(records[4]) == "charged"
    assert structure_type(records[0]) == "SPINEL Fd-3m"
    odd = records[0].model_copy(update={"structure_class": "SPINELS", "space_group": "P1"})
    assert structure_type(odd) == "SPINEL P1"
    post = records[0].model_copy(update={"structure_class": "POST-SPINEL(CF)"})
    assert structure_type(post).startswith("POST-SPINEL ")


def test_pathway_split_keeps_every_structure_on_both_sides(records) -> None:
    split = pathway_split(records, seed=0)
    check_partition(split, records)
    by_structure = defaultdict(set)
    for r in records[:7]:
        by_structure[r.sys_name.rsplit("_", 1)[0]].add(r.record_id)
    for members in by_structure.values():
        assert members & set(split.test_ids) and members & set(split.train_ids)
    single = {r.record_id for r in records[7:]}
    assert single <= set(split.train_ids)
    assert split.n_test == 2  # round(0.3 * 4) + max(1, round(0.3 * 3))
    assert pathway_split(records, seed=0) == split
    assert {pathway_split(records, seed=s).test_ids[0] for s in range(8)} != {split.test_ids[0]}


def test_pathway_split_needs_a_multi_hop_structure(records) -> None:
    with pytest.raises(GeneralizationSplitError, match="two or more hops"):
        pathway_split(records[7:])


@pytest.mark.parametrize("state", ["charged", "discharged"])
def test_composition_split_holds_out_one_state_of_paired_frameworks(records, state) -> None:
    split = composition_split(records, state)
    check_partition(split, records)
    assert split.name == f"composition-{state}"
    # only the Li/MnO2 framework is studied in both states
    expected = {r.record_id for r in records[:7] if record_state(r) == state}
    assert set(split.test_ids) == expected


def test_composition_split_needs_both_states(records) -> None:
    with pytest.raises(GeneralizationSplitError, match="both the charged state"):
        composition_split(records[:4], "charged")
    with pytest.raises(ValueError, match="held_out"):
        composition_split(records, "half")  # type: ignore[arg-type]


def test_chemistry_split_holds_out_whole_chemistries_of_seen_types(records) -> None:
    for seed in range(5):
        split = chemistry_split(records, seed=seed, fraction=0.25)
        check_partition(split, records)
        test = set(split.test_ids)
        chem = {
            r.record_id: (r.working_ion, framework_formula(r.band, r.working_ion)) for r in records
        }
        held = {chem[i] for i in test}
        assert held and all((chem[r.record_id] in held) == (r.record_id in test) for r in records)
        for r in records:
            if r.record_id in test:  # its structure type keeps another chemistry in training
                assert any(
                    structure_type(o) == structure_type(r) and o.record_id not in test
                    for o in records
                )


def test_chemistry_split_needs_two_chemistries_per_type(records) -> None:
    with pytest.raises(GeneralizationSplitError, match="two or more"):
        chemistry_split(records[:7])


def test_split_document_rejects_overlap() -> None:
    with pytest.raises(ValueError, match="train and test"):
        GeneralizationSplit(
            name="x", scenario="pathway", description="d", seed=0, train_ids=["a"], test_ids=["a"]
        )


def test_generalization_splits_on_the_published_data(data_dir) -> None:
    from hopscreen.data.em_dataset import load_em_dataset

    records = load_em_dataset(data_dir)
    splits = generalization_splits(records, seed=0)
    assert [s.name for s in splits] == [
        "pathway",
        "composition-charged",
        "composition-discharged",
        "chemistry",
    ]
    for split in splits:
        check_partition(split, records)
        assert 40 <= split.n_test <= 200
    assert generalization_splits(records, seed=0) == splits
    assert generalization_splits(records, seed=1)[0].test_ids != splits[0].test_ids
    charged, discharged = splits[1], splits[2]
    assert not set(charged.test_ids) & set(discharged.test_ids)
