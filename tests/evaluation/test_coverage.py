"""Coverage of calibrated intervals: hand-made predictions, pooled out-of-fold CV."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from hopscreen.evaluation import crossval
from hopscreen.evaluation.folds import out_of_fold_result
from hopscreen.evaluation.metrics import interval_coverage
from hopscreen.evaluation.results import Scoring, coverage_entry, interval_half_widths
from hopscreen.inference.base import Prediction


def test_interval_coverage_hand_computed() -> None:
    y = [0.0, 1.0, 2.0, 3.0]
    p = [0.5, 1.0, 1.0, 4.0]  # |errors| 0.5, 0, 1, 1
    out = interval_coverage(y, p, {"68": [0.5, 0.1, 0.2, 0.2], "90": [0.4, 0.1, 1.0, 2.0]})
    assert out["68"] == {"n": 4, "coverage": 0.5, "mean_half_width_ev": pytest.approx(0.25)}
    assert out["90"]["coverage"] == 0.75  # 0.5 > 0.4 is the only miss
    assert out["90"]["mean_half_width_ev"] == pytest.approx(0.875)
    with pytest.raises(ValueError, match="half-widths"):
        interval_coverage(y, p, {"68": [0.1, 0.1, 0.1]})


def test_coverage_entry_needs_every_interval() -> None:
    preds = [
        Prediction(1.0, 0.1, (1.0,), interval_68_ev=0.2, interval_90_ev=0.5),
        Prediction(2.0, 0.1, (2.0,), interval_68_ev=0.2, interval_90_ev=0.5),
    ]
    y, p = np.array([1.1, 2.4]), np.array([1.0, 2.0])
    widths = interval_half_widths(preds)
    entry = coverage_entry(y, p, widths)
    assert entry is not None
    assert entry["68"]["coverage"] == 0.5 and entry["90"]["coverage"] == 1.0
    uncalibrated = [*preds[:1], Prediction(2.0, 0.1, (2.0,))]
    assert coverage_entry(y, p, interval_half_widths(uncalibrated)) is None


@dataclass
class _ConstantModel:
    """A fake calibrated model: every band gets 0.8 ± 0.3 (68 %) / ± 0.6 (90 %) eV."""

    card: Any = None

    @property
    def model_version(self) -> str:
        return "fake"

    def predict(
        self, bands: Iterable[Any], *, batch_size: int = 32, chunk_size: int = 256
    ) -> Iterator[Prediction]:
        for _ in bands:
            yield Prediction(0.8, 0.05, (0.75, 0.85), interval_68_ev=0.3, interval_90_ev=0.6)


def test_out_of_fold_coverage_pools_the_fold_models(synthetic_records, tmp_path) -> None:
    calls = []

    def fit_fold(train: list[Any], fold_dir) -> _ConstantModel:
        calls.append({r.record_id for r in train})
        return _ConstantModel()

    result = out_of_fold_result(
        synthetic_records, fit_fold, 3, tmp_path, 8, Scoring(n_boot=50), "host"
    )
    y = np.array([r.barrier_ev for r in synthetic_records])
    assert result["coverage"]["68"]["coverage"] == pytest.approx(np.mean(np.abs(y - 0.8) <= 0.3))
    assert result["coverage"]["90"]["coverage"] == pytest.approx(np.mean(np.abs(y - 0.8) <= 0.6))
    assert result["coverage"]["90"]["mean_half_width_ev"] == pytest.approx(0.6)
    assert all(p["interval_68_ev"] == 0.3 for p in result["predictions"])
    for f, train_ids in enumerate(calls):  # fold models never see their held-out hops
        held_out = {p["record_id"] for p in result["predictions"] if p["fold"] == f}
        assert held_out and not held_out & train_ids
    json.dumps(result, allow_nan=False)


@pytest.mark.parametrize("calibrated", [True, False])
def test_cv_fold_models_are_calibrated_on_their_own_training_hops(
    calibrated, data_dir, tmp_path, monkeypatch
) -> None:
    card = SimpleNamespace(
        calibration=object() if calibrated else None,
        preset="tiny",
        ensemble_size=2,
        pretrained_backbone=None,
        model_version="cg-fake",
        name="fake",
    )
    refits: list[tuple[list[str], list[str] | None]] = []

    def fake_refit(card_, bands, barriers, ids, fold_dir, *, cache_dir, name, groups=None):
        refits.append((list(ids), groups))

    monkeypatch.setattr(crossval, "load_chgnet_head", lambda folder: (card, []))
    monkeypatch.setattr(crossval, "refit_like", fake_refit)
    monkeypatch.setattr(
        crossval.ChgnetHeadModel, "load", classmethod(lambda cls, *a, **k: _ConstantModel())
    )
    result = crossval._cv_chgnet_head(
        tmp_path,
        data_dir=data_dir,
        limit=12,
        scoring=Scoring(n_boot=20),
        k=2,
        out_dir=tmp_path / "cv",
        groups="host",
    )
    assert len(refits) == 2
    by_id = {p["record_id"]: p for p in result["predictions"]}
    for f, (ids, groups) in enumerate(refits):
        assert not {i for i in ids if by_id[i]["fold"] == f}  # trained on the other fold only
        if calibrated:
            assert groups == [by_id[i]["host"] for i in ids]
        else:
            assert groups is None
    assert result["coverage"]["68"]["n"] == 12


def test_cli_prints_coverage_and_writes_intervals(synthetic_records, monkeypatch, tmp_path) -> None:
    from typer.testing import CliRunner

    import hopscreen.cli.evaluate as cli_evaluate
    from hopscreen.cli import app
    from hopscreen.evaluation.crossval import cross_validate

    def fake_evaluate_model(model, **options):
        return cross_validate(
            records=synthetic_records, k=3, fit_fold=lambda t, d: _ConstantModel(), n_boot=20
        )

    monkeypatch.setattr(cli_evaluate, "evaluate_model", fake_evaluate_model)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["evaluate", "--split", "cv", "--folds", "3", "--out", str(out)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    y = np.array([r.barrier_ev for r in synthetic_records])
    share = 100 * np.mean(np.abs(y - 0.8) <= 0.6)
    assert f"calibrated 90 % interval: coverage {share:.1f} % of 15 hops" in result.output
    assert "mean half-width 0.300 eV" in result.output
    header = (out / "predictions.csv").read_text().splitlines()[0].split(",")
    assert {"interval_68_ev", "interval_90_ev"} <= set(header)
