from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from hopscreen.data import em_dataset
from hopscreen.data.em_dataset import (
    band_structure,
    endpoint_atoms,
    endpoint_structure,
    load_em_dataset,
    summarize_em_dataset,
    working_ion,
)
from hopscreen.data.manifest import EM_BOTH_TEST_JSON, EM_TABULATION, EM_TEST_JSON, EM_TRAIN_JSON
from hopscreen.data.paths import DataCorruptError, DataNotFoundError, HopscreenDataError
from hopscreen.schemas.data import EmRecord
from hopscreen.schemas.structure import Crystal


@pytest.fixture(scope="module")
def records(data_dir: Path) -> list[EmRecord]:
    return load_em_dataset(data_dir)


def test_split_sizes_and_ids(records):
    assert Counter(r.split for r in records) == {"train": 559, "test": 60}
    assert len({r.record_id for r in records}) == 619
    assert records[0].record_id == "train-0000" and records[0].sys_name == "Li4P2S7"
    assert records[-1].record_id == "test-0059"
    assert all(r.record_id == f"{r.split}-{r.index:04d}" for r in records)
    assert len({r.sys_name for r in records}) == 619


def test_working_ions_and_xc(records):
    assert Counter(r.working_ion for r in records) == {
        "Li": 175,
        "Ca": 153,
        "Na": 109,
        "Mg": 106,
        "K": 36,
        "Zn": 23,
        "Rb": 8,
        "Al": 7,
        "Sr": 2,
    }
    assert Counter(r.xc_functional for r in records) == {
        "GGA": 545,
        "GGA+U": 45,
        "SCAN": 19,
        "LDA": 10,
    }


def test_metadata_is_normalised(records):
    assert all(
        r.crystal_system
        in {
            "Triclinic",
            "Monoclinic",
            "Orthorhombic",
            "Tetragonal",
            "Trigonal",
            "Hexagonal",
            "Cubic",
        }
        for r in records
    )
    assert all(r.space_group and r.space_group == r.space_group.strip() for r in records)
    assert all(r.structure_class == r.structure_class.upper() for r in records)
    barriers = np.array([r.barrier_ev for r in records])
    assert barriers.min() == pytest.approx(0.0035, abs=1e-4)
    assert barriers.max() == pytest.approx(8.77, abs=1e-2)
    assert np.median(barriers) == pytest.approx(0.616, abs=1e-3)


def test_band_hash_matches_band(records):
    for r in records[:20]:
        assert r.band is not None
        assert r.band_hash == r.band.fingerprint()
        assert r.n_atoms_band == len(r.band)
        assert set(r.band.symbols[:5]) == {r.working_ion}


def test_endpoints_rebuild_published_endpoints(records, data_dir: Path):
    both = json.loads((data_dir / "em_dataset" / EM_BOTH_TEST_JSON).read_text())
    by_name = {r.sys_name: r for r in records if r.split == "test"}

    def same(a: Crystal, b: Crystal) -> bool:
        if len(a) != len(b) or not np.array_equal(a.numbers, b.numbers):
            return False
        d = a.frac_coords - b.frac_coords
        d -= np.round(d)
        return np.allclose(a.lattice, b.lattice, atol=1e-4) and np.abs(d).max() < 1e-4

    n_initial = n_final = 0
    for raw in both:
        rec = by_name[raw["sys_name"]]
        n_initial += same(
            endpoint_atoms(rec.band, "initial"), Crystal.from_jarvis_dict(raw["atoms_ini"])
        )
        n_final += same(
            endpoint_atoms(rec.band, "final"), Crystal.from_jarvis_dict(raw["atoms_fin"])
        )
    # the data README: exact except for 10 test hops whose endpoints were relaxed separately
    assert (n_initial, n_final) == (60, 50)


def test_endpoint_atoms_keep_one_ion_copy():
    lattice = np.eye(3) * 5.0
    frac = [[0.1 * i, 0, 0] for i in range(5)] + [[0.5, 0.5, 0.5], [0.0, 0.5, 0.5]]
    band = Crystal(lattice, frac, [3] * 5 + [8, 8])
    initial = endpoint_atoms(band, "initial")
    final = endpoint_atoms(band, "final")
    assert len(initial) == len(final) == 3
    assert initial.frac_coords[0, 0] == pytest.approx(0.0)
    assert final.frac_coords[0, 0] == pytest.approx(0.4)
    assert initial.symbols == ["Li", "O", "O"]
    with pytest.raises(ValueError):
        endpoint_atoms(band, "middle")  # type: ignore[arg-type]


def test_working_ion_rejects_mixed_copies():
    band = Crystal(np.eye(3) * 5.0, np.zeros((7, 3)), [3, 3, 3, 11, 3, 8, 8])
    with pytest.raises(HopscreenDataError, match="not one element"):
        working_ion(band)


def test_pymatgen_structures(records):
    rec = next(r for r in records if r.split == "test")
    band = band_structure(rec)
    assert len(band) == rec.n_atoms_band
    assert band[0].specie.symbol == rec.working_ion
    final = endpoint_structure(rec, "final")
    assert len(final) == rec.n_atoms_band - 4
    assert np.allclose(final[0].frac_coords % 1, rec.band.frac_coords[4] % 1)


def test_without_structures(data_dir: Path, records):
    light = load_em_dataset(data_dir, splits=("test",), with_structures=False)
    assert len(light) == 60 and all(r.band is None for r in light)
    assert [r.band_hash for r in light] == [r.band_hash for r in records if r.split == "test"]
    with pytest.raises(ValueError):
        endpoint_structure(light[0], "initial")
    with pytest.raises(ValueError):
        band_structure(light[0])


def test_unknown_split(data_dir: Path):
    with pytest.raises(ValueError, match="unknown split"):
        load_em_dataset(data_dir, splits=("valid",))


def test_load_time(data_dir: Path):
    em_dataset._read_json.cache_clear()
    start = time.perf_counter()
    records = load_em_dataset(data_dir)
    elapsed = time.perf_counter() - start
    assert len(records) == 619
    assert elapsed < 3.0, f"cold load took {elapsed:.2f} s"


def test_record_json_round_trip(records):
    rec = records[1]
    payload = json.loads(rec.model_dump_json())
    assert len(payload["band"]["numbers"]) == rec.n_atoms_band
    assert payload["record_id"] == rec.record_id
    fields = rec.model_dump(exclude={"band"})
    with pytest.raises(ValidationError):
        EmRecord(**fields, unknown_field=1)


def test_summary(records):
    summary = summarize_em_dataset(records)
    assert summary["splits"] == {"train": 559, "test": 60}
    assert next(iter(summary["working_ions"])) == "Li"


def test_missing_data_names_the_command(tmp_path: Path):
    with pytest.raises(DataNotFoundError, match="hopscreen data download"):
        load_em_dataset(tmp_path)


def test_damaged_data_is_refused(tmp_path: Path, data_dir: Path):
    for rel in (EM_TRAIN_JSON, EM_TEST_JSON, EM_TABULATION):
        target = tmp_path / "em_dataset" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data_dir / "em_dataset" / rel, target)
    assert len(load_em_dataset(tmp_path, splits=("test",))) == 60
    target = tmp_path / "em_dataset" / EM_TEST_JSON
    target.write_text(target.read_text().replace('"target": 0.364', '"target": 0.365', 1))
    with pytest.raises(DataCorruptError):
        load_em_dataset(tmp_path, splits=("test",))
