from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from hopscreen.data.paths import DataNotFoundError
from hopscreen.data.pretrain import (
    PROPERTIES,
    PretrainCorpus,
    count_pretrain_records,
    load_pretrain_corpus,
    structure_key,
)
from hopscreen.schemas.structure import Crystal

COUNTS = {"gv": 6683, "ph": 1265, "pz": 940, "dc": 1056, "ebg": 2449, "fe": 8741, "bg": 9395}


@pytest.fixture(scope="module")
def corpus(data_dir: Path) -> tuple[PretrainCorpus, float]:
    start = time.perf_counter()
    loaded = load_pretrain_corpus(data_dir)
    return loaded, time.perf_counter() - start


def test_counts_and_speed(corpus):
    c, elapsed = corpus
    assert elapsed < 30.0, f"loading took {elapsed:.1f} s"
    assert PROPERTIES == ("gv", "ph", "pz", "dc", "ebg", "fe", "bg")
    assert c.properties == PROPERTIES
    assert c.n_records == 30529
    assert c.counts() == COUNTS
    # the source README counts 27,044 with its own rounding; see structure_key
    assert len(c) == 27039
    assert c.conflicts == []
    assert len(set(c.keys)) == len(c)


def test_nan_masking(corpus):
    c, _ = corpus
    assert c.targets.dtype == np.float32 and c.targets.shape == (len(c), 7)
    assert np.array_equal(np.isnan(c.targets), c.record_ids < 0)
    assert not (c.is_repo_test & np.isnan(c.targets)).any()
    assert c.label_mask.any(axis=1).all()
    present = c.targets[c.label_mask]
    assert present.min() >= -1.0 and present.max() <= 1.0
    n_labels = c.label_mask.sum(axis=1)
    assert n_labels.max() > 1 and int(n_labels.sum()) == 30529
    assert int((n_labels > 1).sum()) > 2000


def test_multi_label_entry_is_consistent(corpus):
    c, _ = corpus
    i = int(np.argmax(c.label_mask.sum(axis=1)))
    assert c.label_mask[i].sum() >= 5
    assert isinstance(c.atoms[i], Crystal) and len(c.atoms[i]) > 0


def test_repo_test_split(corpus, data_dir: Path):
    c, _ = corpus
    assert int(c.is_repo_test.sum()) == 30529 - 28854
    train_only = load_pretrain_corpus(data_dir, include_test=False)
    assert train_only.n_records == 28854
    assert not train_only.is_repo_test.any()
    assert (train_only.repo_split == "train_pool").all()
    assert len(train_only) < len(c)


def test_property_subset_sets_column_order(data_dir: Path):
    c = load_pretrain_corpus(data_dir, properties=("pz", "ph"))
    assert c.properties == ("pz", "ph")
    assert c.counts() == {"pz": 940, "ph": 1265}
    sub = c.subset(np.flatnonzero(c.label_mask.all(axis=1)))
    assert len(sub) > 200 and sub.label_mask.all()
    with pytest.raises(ValueError):
        load_pretrain_corpus(data_dir, properties=("gv", "gv"))
    with pytest.raises(ValueError):
        load_pretrain_corpus(data_dir, properties=("em",))


def test_structure_key_ignores_atom_order_and_wrapping():
    lattice = np.diag([3.0, 4.0, 5.0])
    a = Crystal(lattice, [[0, 0, 0], [0.5, 0.5, 0.5]], [11, 17])
    b = Crystal(lattice, [[0.5, 0.5, 0.5], [0.99999, 1.0, -0.00001]], [17, 11])
    c = Crystal(lattice, [[0, 0, 0], [0.5, 0.5, 0.52]], [11, 17])
    assert structure_key(a) == structure_key(b)
    assert structure_key(a) != structure_key(c)
    assert a.fingerprint() != b.fingerprint()


def test_count_records_without_parsing(data_dir: Path):
    assert count_pretrain_records(data_dir) == COUNTS


def test_missing_pretrain_explains_what_to_do(tmp_path: Path):
    with pytest.raises(DataNotFoundError, match="HOPSCREEN_DATA_DIR") as info:
        load_pretrain_corpus(tmp_path)
    assert "hopscreen data download" not in str(info.value)
