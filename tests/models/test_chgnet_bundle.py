"""chgnet-head model folders: card round trip, checksum and version checks, dispatch."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingRegressor

from hopscreen.inference.chgnet_head import ChgnetHeadModel
from hopscreen.inference.load import load_model
from hopscreen.models.bundle import CARD_NAME, ModelLoadError, model_kind
from hopscreen.models.calibration import ConformalCalibration
from hopscreen.models.chgnet_backbone import ChgnetFeatureConfig, feature_names
from hopscreen.models.chgnet_bundle import load_chgnet_head, save_chgnet_head
from hopscreen.models.shipped import resolve_model_dir
from hopscreen.models.trees import export_gbr
from hopscreen.training.chgnet_head import GBR_RECIPE

NAMES = feature_names(64)
COLUMNS = ["e_dmid_ev", "e_dfin_ev", "mag_ion_init", "ion_init_0"]


CALIBRATION = ConformalCalibration(
    gamma_ev=0.05,
    levels=[0.5, 0.68, 0.9],
    score_quantiles=[1.0, 2.0, 4.0],
    n_calibration=80,
    oof_mae_ev=0.1,
)


def _save(folder, members: int = 2, calibration: ConformalCalibration | None = None):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, len(COLUMNS)))
    z = np.log1p(np.abs(X[:, 0]))
    trees = [
        export_gbr(GradientBoostingRegressor(n_estimators=20, random_state=s).fit(X, z))
        for s in range(members)
    ]
    card = save_chgnet_head(
        trees,
        folder,
        name="tiny-cg",
        preset="test",
        chgnet_version="0.4.2",
        feature_config=ChgnetFeatureConfig(),
        feature_cache_key="test",
        feature_names=NAMES,
        feature_columns=COLUMNS,
        fill_values=[0.5, 0.0, 0.0, 0.0],
        head=GBR_RECIPE,
        train_record_ids=["a", "b"],
        calibration=calibration,
    )
    return card, trees


def test_card_round_trip(tmp_path):
    card, trees = _save(tmp_path)
    assert model_kind(tmp_path) == "chgnet-head"
    loaded, members = load_chgnet_head(tmp_path)
    assert loaded == card
    assert loaded.model_version.startswith("cg-")
    assert loaded.target_transform == "log1p"
    assert [m.n_trees for m in members] == [t.n_trees for t in trees]
    _save(tmp_path / "again")
    assert load_chgnet_head(tmp_path / "again")[0].model_version == card.model_version


def test_dispatch_and_feature_prediction(tmp_path):
    _save(tmp_path)
    model = load_model(tmp_path, device="cpu")
    assert isinstance(model, ChgnetHeadModel)
    X = np.zeros((3, len(NAMES)))
    X[1, NAMES.index("e_dmid_ev")] = np.nan  # filled with 0.5
    X[2, NAMES.index("e_dmid_ev")] = 0.5
    values = model.predict_features(X, NAMES)
    assert values.shape == (2, 3)
    np.testing.assert_array_equal(values[:, 1], values[:, 2])
    with pytest.raises(ValueError, match="columns differ"):
        model.predict_features(X[:, :-1], NAMES[:-1])


def test_checksum_mismatch_and_edited_card_are_refused(tmp_path):
    _save(tmp_path)
    member = tmp_path / "member1.npz"
    original = member.read_bytes()
    member.write_bytes(original[:-10] + b"0123456789")
    with pytest.raises(ModelLoadError, match="does not match its card"):
        load_chgnet_head(tmp_path)
    member.write_bytes(original)
    card = json.loads((tmp_path / CARD_NAME).read_text())
    card["fill_values"][0] = 9.0
    (tmp_path / CARD_NAME).write_text(json.dumps(card))
    with pytest.raises(ModelLoadError, match="card was edited"):
        load_model(tmp_path)
    (tmp_path / CARD_NAME).write_text("{}")
    assert model_kind(tmp_path) == "alignn"
    with pytest.raises(ModelLoadError, match="invalid model card"):
        load_model(tmp_path)


def test_calibrated_card_round_trip_and_version(tmp_path):
    plain, _ = _save(tmp_path / "plain")
    card, _ = _save(tmp_path / "cal", calibration=CALIBRATION)
    assert plain.calibration is None
    assert card.model_version != plain.model_version  # the calibration is part of the version
    loaded, _ = load_chgnet_head(tmp_path / "cal")
    assert loaded == card and loaded.calibration == CALIBRATION
    edited = json.loads((tmp_path / "cal" / CARD_NAME).read_text())
    edited["calibration"]["score_quantiles"][2] = 5.0
    (tmp_path / "cal" / CARD_NAME).write_text(json.dumps(edited))
    with pytest.raises(ModelLoadError, match="card was edited"):
        load_chgnet_head(tmp_path / "cal")


def test_shipped_uncalibrated_card_keeps_its_version():
    card, _ = load_chgnet_head(resolve_model_dir("chgnet-gbr"))  # raises on a version change
    assert card.calibration is None
    assert (
        card.model_version
        == json.loads((resolve_model_dir("chgnet-gbr") / CARD_NAME).read_text())["model_version"]
    )


def test_calibrated_predictions_carry_intervals(tmp_path):
    _save(tmp_path, members=3, calibration=CALIBRATION)
    model = load_model(tmp_path, device="cpu")
    X = np.random.default_rng(1).normal(size=(4, len(NAMES)))
    values = model.predict_features(X, NAMES)
    preds = list(model.predictions_of(values))
    assert len(preds) == 4
    for j, pred in enumerate(preds):
        sigma = float(np.std(values[:, j], ddof=1))
        assert pred.sigma_ev == pytest.approx(sigma)
        assert pred.interval_68_ev == pytest.approx(2.0 * (sigma + 0.05))
        assert pred.interval_90_ev == pytest.approx(4.0 * (sigma + 0.05))
    _save(tmp_path / "plain", members=3)
    plain = load_model(tmp_path / "plain", device="cpu")
    first = next(plain.predictions_of(values))
    assert first.interval_68_ev is None and first.interval_90_ev is None
    assert first.barrier_ev == pytest.approx(preds[0].barrier_ev)
