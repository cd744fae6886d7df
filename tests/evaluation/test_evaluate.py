"""evaluate_model on the authors' test split and host-grouped cross-validation."""

from __future__ import annotations

import csv
import json
import time

import numpy as np
import pytest

from hopscreen.evaluation.crossval import cross_validate
from hopscreen.evaluation.evaluate import evaluate_model
from hopscreen.evaluation.metrics import evaluate_predictions
from hopscreen.evaluation.paper_test import published_test_baselines
from hopscreen.evaluation.results import ROW_MACE, ROW_MODEL, ROW_PAPER, write_predictions_csv
from hopscreen.models.bundle import ModelLoadError

from .conftest import TINY_ARCH


def test_paper_test_rows_share_hops_and_metric_code(tiny_model_dir, data_dir, tmp_path) -> None:
    result = evaluate_model(tiny_model_dir, data_dir=data_dir, device="cpu", limit=6, n_boot=200)
    assert result["split"] == "paper-test" and result["n"] == 6
    assert [r["key"] for r in result["rows"]] == [ROW_MODEL, ROW_PAPER, ROW_MACE]
    assert result["model"]["name"] == "tiny"
    preds = result["predictions"]
    assert [p["record_id"] for p in preds] == [f"test-{i:04d}" for i in range(6)]
    y = np.array([p["barrier_ev"] for p in preds])
    # the published rows go through the same metric code, on the same hops
    paper = np.array([p["paper_model3_ev"] for p in preds])
    expected = evaluate_predictions(y, paper, n_boot=200)
    assert result["rows"][1]["metrics"] == expected
    base = published_test_baselines(data_dir)
    assert paper.tolist() == [base[ROW_PAPER][p["record_id"]] for p in preds]
    model_row = result["rows"][0]["metrics"]
    assert model_row == evaluate_predictions(y, [p["predicted_ev"] for p in preds], n_boot=200)
    assert all(p["sigma_ev"] == 0.0 for p in preds)  # one member
    assert result["coverage"] is None  # an ALIGNN model carries no calibrated intervals
    assert all(p["interval_90_ev"] is None for p in preds)
    assert {c["b"] for c in result["comparisons"]} == {ROW_PAPER, ROW_MACE}
    _check_paper_test_slices(result, y, paper, data_dir)
    json.dumps(result, allow_nan=False)

    path = write_predictions_csv(result, tmp_path / "pred.csv")
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6 and float(rows[0]["barrier_ev"]) == preds[0]["barrier_ev"]
    assert float(rows[0]["hop_length_angstrom"]) == pytest.approx(preds[0]["hop_length_angstrom"])


def _check_paper_test_slices(result: dict, y: np.ndarray, paper: np.ndarray, data_dir) -> None:
    """The first 6 test hops: 2.41, 1.239 and 1.8 eV are >= 1 eV; hops 0 and 3 are > 4.5 Å."""
    from hopscreen.data.em_dataset import load_em_dataset
    from hopscreen.evaluation.slices import hop_length_angstrom

    preds = result["predictions"]
    bands = {r.record_id: r.band for r in load_em_dataset(data_dir, splits=("test",))[:6]}
    lengths = np.array([p["hop_length_angstrom"] for p in preds])
    assert lengths == pytest.approx([hop_length_angstrom(bands[p["record_id"]]) for p in preds])
    assert lengths == pytest.approx([4.8005, 3.8592, 3.2968, 6.0934, 3.1707, 3.1577], abs=1e-3)
    slices = {(s["row"], s["key"]): s for s in result["slices"]}
    assert len(slices) == 9  # 3 slices x (model, paper Model-3, MACE)
    model = np.array([p["predicted_ev"] for p in preds])
    high, long_ = y >= 1.0, lengths > 4.5
    assert high.sum() == 3 and long_.sum() == 2
    for row, pred in ((ROW_MODEL, model), (ROW_PAPER, paper)):
        assert slices[row, "em_ge_1ev"]["n"] == 3
        assert slices[row, "em_ge_1ev"]["metrics"] == evaluate_predictions(
            y[high], pred[high], n_boot=200
        )
        mae_long = np.mean(np.abs(pred[long_] - y[long_]))
        reg = slices[row, "hop_gt_4p5a"]["metrics"]["regression"]
        assert reg["mae_ev"]["value"] == pytest.approx(mae_long)
    assert slices[ROW_MODEL, "all"]["metrics"] == result["rows"][0]["metrics"]
    spread = result["rows"][0]["metrics"]["regression"]["spread_ratio"]["value"]
    assert spread == pytest.approx(np.std(model) / np.std(y))


def test_missing_model_and_bad_split(tmp_path, data_dir) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError):
        evaluate_model(tmp_path / "empty", data_dir=data_dir, limit=1)
    with pytest.raises(ValueError, match="unknown split"):
        evaluate_model(tmp_path, split="nope")  # type: ignore[arg-type]


def test_cross_validate_tiny(synthetic_records, tmp_path) -> None:
    from hopscreen.graphs.build import GraphConfig
    from hopscreen.models.alignn import ALIGNNConfig
    from hopscreen.training.config import Preset, TrainConfig

    tiny = Preset(
        name="tiny",
        graph=GraphConfig(),
        model=ALIGNNConfig(**TINY_ARCH),
        pretrain=TrainConfig(epochs=1),
        finetune=TrainConfig(epochs=5, batch_size=8, patience=None),
        ensemble_size=1,
    )
    t0 = time.perf_counter()
    result = cross_validate(
        tiny,
        k=3,
        records=synthetic_records,
        out_dir=tmp_path / "cv",
        device="cpu",
        epochs=1,
        n_boot=100,
    )
    assert time.perf_counter() - t0 < 60
    assert result["split"] == "cv" and result["epochs"] == 1 and result["n"] == 15
    preds = result["predictions"]
    assert [p["record_id"] for p in preds] == [r.record_id for r in synthetic_records]
    assert all(np.isfinite(p["predicted_ev"]) for p in preds)
    hosts_by_fold: dict[int, set[str]] = {}
    for p in preds:
        hosts_by_fold.setdefault(p["fold"], set()).add(p["host"])
    assert sorted(hosts_by_fold) == [0, 1, 2]
    all_hosts = [h for hs in hosts_by_fold.values() for h in hs]
    assert len(all_hosts) == len(set(all_hosts)) == 5  # no host in two validation folds
    assert sum(f["n_val"] for f in result["folds"]) == 15
    assert (tmp_path / "cv" / "fold0" / "model_card.json").exists()
    assert result["rows"][0]["n"] == 15
    assert result["groups"] == "host" and result["n_groups"] == 5
    assert [s["key"] for s in result["slices"]] == ["em_ge_1ev", "hop_gt_4p5a", "all"]
    assert result["slices"][2]["metrics"] == result["rows"][0]["metrics"]
    y = np.array([p["barrier_ev"] for p in preds])
    assert result["slices"][0]["n"] == int(np.sum(y >= 1.0))
    # synthetic hops run 0.25 -> 0.75 of a 4-4.7 Å cube: all shorter than 4.5 Å
    assert result["slices"][1] == {
        "key": "hop_gt_4p5a",
        "label": "hop > 4.5 Å",
        "row": ROW_MODEL,
        "n": 0,
        "metrics": None,
    }
    json.dumps(result, allow_nan=False)


def test_cv_of_a_chgnet_head_refits_its_recipe_per_fold(data_dir, tmp_path) -> None:
    pytest.importorskip("chgnet")
    from tests.model_fixtures import save_tiny_chgnet_head

    card = save_tiny_chgnet_head(tmp_path / "model")
    result = evaluate_model(
        tmp_path / "model",
        split="cv",
        data_dir=data_dir,
        limit=12,
        k=2,
        n_boot=50,
        out_dir=tmp_path / "cv",
    )
    assert result["split"] == "cv" and result["n"] == 12 and result["k"] == 2
    assert result["model"]["model_version"] == card.model_version
    assert result["preset"] == "tiny" and result["ensemble_size"] == 2
    assert len(result["folds"]) == 2 and sum(f["n_val"] for f in result["folds"]) == 12
    hosts = [{p["host"] for p in result["predictions"] if p["fold"] == f} for f in (0, 1)]
    assert not hosts[0] & hosts[1]  # no host on both sides
    assert result["groups"] == "host" and len(result["slices"]) == 3
    assert all(np.isfinite(p["predicted_ev"]) for p in result["predictions"])
    assert len(list((tmp_path / "cv" / "chgnet-features").rglob("*.npy"))) == 12
