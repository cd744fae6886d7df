"""Fine-tuning on feedback: warm start, promotion rule, re-prediction of unverified hops."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from tests.model_fixtures import TINY, save_tiny_bundle, tiny_band
from tests.store.store_docs import candidate, hop, verification

from hopscreen.inference.load import load_model
from hopscreen.inference.predict import predict
from hopscreen.models.bundle import load_card
from hopscreen.schemas.candidate import CandidateDoc
from hopscreen.schemas.hop import HopDoc, HopFailure
from hopscreen.schemas.structure import Crystal
from hopscreen.screening.promotion import promotion_decision
from hopscreen.screening.repredict import repredict_unverified, unverified_hops
from hopscreen.store import open_results_store
from hopscreen.training.config import TrainConfig, get_preset
from hopscreen.training.finetune import finetune_ensemble

BANDS = [tiny_band(i) for i in range(6)]


@pytest.fixture(scope="module")
def parent(tmp_path_factory):
    # layer norm: batch norm would move its running statistics even at a zero learning rate
    arch = TINY.model_copy(update={"norm": "layer"})
    return save_tiny_bundle(tmp_path_factory.mktemp("parent"), config=arch, name="parent")


def _preset(**train):
    fast = get_preset("fast")
    cfg = TrainConfig(epochs=1, batch_size=3, val_fraction=0.0, patience=None, **train)
    return fast.model_copy(update={"finetune": cfg})


def test_warm_start_continues_from_the_parent(parent, tmp_path):
    # with a vanishing learning rate the child must predict what its parent predicts
    card = finetune_ensemble(
        BANDS,
        [0.3, 0.5, 0.7, 0.9, 1.1, 1.3],
        [f"r{i}" for i in range(6)],
        _preset(lr=1e-12, max_lr=1e-12),
        tmp_path / "child",
        backbone=None,
        init_from=parent,
    )
    pcard = load_card(parent)
    assert card.parent_version == pcard.model_version != card.model_version
    assert card.architecture == pcard.architecture and card.scaler == pcard.scaler
    assert card.ensemble_size == 2 and card.training["init_from"] == pcard.model_version
    old = [p.member_barriers_ev for p in predict(BANDS, model=load_model(parent))]
    new = [p.member_barriers_ev for p in predict(BANDS, model=load_model(tmp_path / "child"))]
    np.testing.assert_allclose(new, old, atol=1e-4)

    # a real learning rate moves the weights
    card2 = finetune_ensemble(
        BANDS, [0.3] * 6, [f"r{i}" for i in range(6)], _preset(), tmp_path / "c2",
        backbone=None, init_from=parent, ensemble_size=3,
    )  # fmt: skip
    assert card2.ensemble_size == 3 and card2.model_version != card.model_version


def test_backbone_and_init_from_are_exclusive(parent, tmp_path):
    with pytest.raises(ValueError, match="not both"):
        finetune_ensemble(
            BANDS[:2], [0.1, 0.2], ["a", "b"], _preset(), tmp_path,
            backbone=tmp_path / "bb.safetensors", init_from=parent,
        )  # fmt: skip


def test_promotion_rule():
    assert promotion_decision("if_not_worse", 0.30, 0.31)[0]
    assert promotion_decision("if_not_worse", 0.31, 0.31)[0]
    promoted, why = promotion_decision("if_not_worse", 0.40, 0.31)
    assert not promoted and "0.4000" in why and "0.3100" in why
    assert not promotion_decision("if_not_worse", None, 0.31)[0]
    assert promotion_decision("always", 9.0, 0.1)[0]


def test_unverified_hops_ignores_failed_and_unconverged_verifications():
    lfp = candidate("c1", "LiFePO4", "Li", "LiFePO4")
    hops = [hop(f"h{i}", lfp, 3.0) for i in range(4)]
    docs = [
        verification("h0", 0.4).model_dump(mode="json"),
        verification("h1", None, status="failed").model_dump(mode="json"),
    ]
    assert [h.hop_id for h in unverified_hops(hops, docs)] == ["h1", "h2", "h3"]


def fake_rebuild(
    hops: Sequence[HopDoc], hosts: Sequence[CandidateDoc]
) -> tuple[list[HopDoc], list[Crystal], list[HopFailure]]:
    return list(hops), [tiny_band(i) for i in range(len(hops))], []


def test_repredict_writes_new_version_next_to_the_old(parent, tmp_path):
    lfp = candidate("c1", "LiFePO4", "Li", "LiFePO4")
    hops = [hop(f"h{i}", lfp, 3.0 + i) for i in range(3)]
    with open_results_store(tmp_path) as store:
        store.write("candidates", [lfp])
        store.write("hops", hops)
        store.write("verifications", [verification("h0", 0.4)])
    docs, failures = repredict_unverified(tmp_path, parent, rebuild_band=fake_rebuild)
    version = load_card(parent).model_version
    assert failures == [] and sorted(d.hop_id for d in docs) == ["h1", "h2"]
    assert {d.model_version for d in docs} == {version}
    with open_results_store(tmp_path, create=False) as store:
        stored = store.read("predictions")
    assert sorted((p["hop_id"], p["model_version"]) for p in stored) == [
        ("h1", version),
        ("h2", version),
    ]


def _band_of_host(i: int) -> Crystal:
    """A tiny Li band whose host framework differs with ``i`` (10 distinct frameworks)."""
    band = tiny_band(i)
    numbers = np.array(band.numbers)
    cation, anion = [(11, 9), (11, 17), (11, 35), (19, 9), (19, 17)][i % 5]
    host = numbers[5:]
    host_types = sorted(set(host.tolist()))
    swapped = (
        np.where(host == host_types[0], cation, anion)
        if i < 5
        else np.where(host == host_types[0], anion, cation)
    )
    numbers[5:] = swapped
    return Crystal(band.lattice, band.frac_coords, numbers)


def test_refit_of_a_calibrated_parent_is_calibrated(tmp_path):
    pytest.importorskip("chgnet")
    from hopscreen.schemas.training import BandArrays, TrainingRecord
    from hopscreen.screening.finetune import feedback_host_groups, refit_chgnet_head
    from hopscreen.training.chgnet_head import GBR_RECIPE, train_chgnet_head_model

    cache = tmp_path / "features"
    bands = [_band_of_host(i) for i in range(10)]
    y = [float(v) for v in np.linspace(0.2, 1.4, 10)]
    cfg = GBR_RECIPE.model_copy(update={"ensemble_size": 2, "n_estimators": 20})
    parent = train_chgnet_head_model(
        bands,
        y,
        [f"p{i}" for i in range(10)],
        tmp_path / "parent",
        config=cfg,
        cache_dir=cache,
        name="parent",
        preset="tiny",
        groups=[f"g{i}" for i in range(10)],
    )
    assert parent.calibration is not None
    records = [
        TrainingRecord(
            record_id=f"r{i}",
            source="dataset",
            band=BandArrays.from_atoms(b),
            barrier_ev=v,
            raw_barrier_ev=v,
            level_of_theory="DFT-GGA",
            working_ion="Li",
        )
        for i, (b, v) in enumerate(zip(bands, y, strict=True))
    ]
    assert len(set(feedback_host_groups(records))) == 10  # one per framework
    child = refit_chgnet_head(
        records, tmp_path / "parent", tmp_path / "child", cache_dir=cache, name="child"
    )
    assert child.calibration is not None
    assert child.parent_version == parent.model_version
    assert child.calibration.n_calibration == len(records)
