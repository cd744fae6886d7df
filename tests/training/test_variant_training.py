"""Fine-tuning the Model 1/2/4 variants end to end on tiny synthetic bands."""

from __future__ import annotations

import numpy as np
import pytest
from tests.model_fixtures import TINY, tiny_band

from hopscreen.graphs.cache import GraphCache
from hopscreen.training.config import Preset, TrainConfig
from hopscreen.training.variants import fit_variant, predict_variant, variant_samples

PRESET = Preset(
    name="tiny",
    graph=__import__("hopscreen.graphs.build", fromlist=["GraphConfig"]).GraphConfig(),
    model=TINY.model_copy(update={"norm": "layer"}),
    pretrain=TrainConfig(epochs=1, batch_size=4),
    finetune=TrainConfig(epochs=3, batch_size=4, val_fraction=0.25, patience=None),
    ensemble_size=1,
)


@pytest.mark.parametrize("name", ["model1-concat", "model2", "model4"])
def test_variant_trains_resumes_and_predicts(tmp_path, name):
    bands = [tiny_band(i) for i in range(8)]
    y = np.linspace(0.2, 1.4, 8)
    cache = GraphCache(tmp_path / "graphs", PRESET.graph)
    samples = variant_samples(name, bands, cache)
    trained = fit_variant(name, samples, y, PRESET, tmp_path / name, backbone=None)
    assert trained.result.epochs_run == 3
    pred = predict_variant(trained, samples, batch_size=3)
    assert pred.shape == (8,)
    assert np.isfinite(pred).all()
    # a finished run in the same folder resumes to the same weights and predictions
    again = fit_variant(name, samples, y, PRESET, tmp_path / name, backbone=None)
    np.testing.assert_allclose(predict_variant(again, samples), pred, rtol=1e-5, atol=1e-6)


def test_endpoint_variants_reject_the_ion_marker(tmp_path):
    bands = [tiny_band(i) for i in range(4)]
    samples = variant_samples("model2", bands, GraphCache(None, PRESET.graph))
    with pytest.raises(ValueError, match="no ion copies"):
        fit_variant(
            "model2",
            samples,
            [0.1, 0.2, 0.3, 0.4],
            PRESET,
            tmp_path,
            backbone=None,
            mark_ion_copies=True,
        )
    with pytest.raises(ValueError, match="4 samples but 3"):
        fit_variant("model2", samples, [0.1, 0.2, 0.3], PRESET, tmp_path, backbone=None)
