"""The shipped chgnet-gbr model predicts tiny bands built in code (real CHGNet, CPU)."""

from __future__ import annotations

import numpy as np
import pytest
from tests.model_fixtures import tiny_band

from hopscreen.inference.chgnet_head import ChgnetHeadModel
from hopscreen.inference.load import load_model
from hopscreen.inference.predict import predict
from hopscreen.models.shipped import resolve_model_dir
from hopscreen.schemas.structure import Crystal

pytest.importorskip("chgnet")


@pytest.fixture(scope="module")
def shipped():
    model = load_model(resolve_model_dir("chgnet-gbr"))
    assert isinstance(model, ChgnetHeadModel)
    return model


def _shuffle_host(band: Crystal, seed: int) -> Crystal:
    order = np.r_[np.arange(5), 5 + np.random.default_rng(seed).permutation(len(band) - 5)]
    return Crystal(band.lattice, band.frac_coords[order], band.numbers[order])


def test_shipped_model_card(shipped):
    card = shipped.card
    assert card.kind == "chgnet-head"
    assert shipped.model_version == card.model_version
    assert card.ensemble_size == 5 and len(card.train_record_ids) == 559
    assert card.target_transform == "log1p"
    assert all(c.startswith(("ion_", "e_", "mag_")) for c in card.feature_columns)


def test_predicts_tiny_band_invariant_to_host_order(shipped):
    band = tiny_band(0)
    bands = [band, _shuffle_host(band, 1), _shuffle_host(band, 2)]
    preds = list(predict(bands, model=shipped, chunk_size=2))
    assert len(preds) == 3
    first = preds[0]
    assert np.isfinite(first.barrier_ev) and first.barrier_ev >= 0
    assert np.isfinite(first.sigma_ev) and first.sigma_ev >= 0
    assert len(first.member_barriers_ev) == 5
    for other in preds[1:]:
        assert other.barrier_ev == pytest.approx(first.barrier_ev, abs=1e-3)
        assert other.sigma_ev == pytest.approx(first.sigma_ev, abs=1e-3)
