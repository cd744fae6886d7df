"""`hopscreen train chgnet-head` writes a loadable folder that predicts like the fitted head."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from tests.model_fixtures import tiny_band
from typer.testing import CliRunner

from hopscreen.cli.main import app
from hopscreen.inference.chgnet_head import ChgnetHeadModel
from hopscreen.inference.load import load_model
from hopscreen.inference.predict import predict
from hopscreen.models.hop_features import extract_hop_features
from hopscreen.training.chgnet_head import HEAD_RECIPES, fit_head

pytest.importorskip("chgnet")


@pytest.mark.parametrize("recipe", ["chgnet-gbr", "physics-bvse-chgnet-gbr"])
def test_cli_builds_folder_that_predicts_like_the_head(tmp_path, monkeypatch, recipe):
    import hopscreen.cli.train as train_cli

    bands = [tiny_band(s) for s in range(8)]
    barriers = np.linspace(0.2, 1.5, 8)
    records = [
        SimpleNamespace(band=b, barrier_ev=float(y), record_id=f"r{i}")
        for i, (b, y) in enumerate(zip(bands, barriers, strict=True))
    ]
    monkeypatch.setattr(train_cli, "load_em_dataset", lambda data_dir=None, splits=None: records)
    grouped = []

    def fake_host_groups(recs):  # tiny bands share one framework: one host per record here
        grouped.append(list(recs))
        return [f"host:{r.record_id}" for r in recs]

    monkeypatch.setattr(train_cli, "host_groups", fake_host_groups)
    out, cache = tmp_path / "model", tmp_path / "features"
    result = CliRunner().invoke(
        app,
        ["train", "chgnet-head", "--out", str(out), "--cache-dir", str(cache), "--recipe", recipe],
    )
    assert result.exit_code == 0, result.output
    model = load_model(out)
    assert isinstance(model, ChgnetHeadModel)
    assert model.card.train_record_ids == [r.record_id for r in records]
    assert model.card.model_version in result.output
    assert grouped == [records]  # the CLI calibrates on host groups of the training records
    cal = model.card.calibration
    assert cal is not None and cal.n_calibration == 8 and cal.groups == "host"

    feature_config, head_config = HEAD_RECIPES[recipe]
    assert model.card.feature_config == feature_config
    table = extract_hop_features(bands, config=feature_config, cache_dir=cache)
    assert table.n_cached == len(bands)
    assert any(n.startswith("bvse_") for n in table.names) == (recipe != "chgnet-gbr")
    head = fit_head(table.X, barriers, table.names, head_config)
    expected, expected_sigma = head.predict(table.X)
    got = list(predict(bands, model=model, chunk_size=3))
    np.testing.assert_allclose([p.barrier_ev for p in got], expected, atol=1e-10)
    np.testing.assert_allclose([p.sigma_ev for p in got], expected_sigma, atol=1e-10)
    np.testing.assert_allclose(
        [p.interval_90_ev for p in got], cal.half_width(expected_sigma, 0.9), atol=1e-9
    )
