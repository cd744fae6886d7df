"""Slices where screening decisions flip, hop lengths, and chemistry-held-out CV."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pytest

from hopscreen.evaluation.crossval import cross_validate
from hopscreen.evaluation.metrics import evaluate_predictions
from hopscreen.evaluation.results import ROW_MODEL, Scoring
from hopscreen.evaluation.slices import (
    SLICE_ALL,
    SLICE_HIGH,
    SLICE_LONG,
    hop_length_angstrom,
    hop_lengths,
    scored_slices,
)
from hopscreen.inference.base import Prediction
from hopscreen.schemas.structure import SYMBOL_TO_Z, Crystal

from .conftest import make_band, make_record


def test_hop_length_straight_and_wrapped() -> None:
    band = make_band([("Mn", (0, 0, 0)), ("O", (0.5, 0.5, 0.5))], "Li", a=4.0)
    assert hop_length_angstrom(band) == pytest.approx(2.0)  # 0.25 -> 0.75 of a 4 Å cell
    # a path across the cell boundary: 0.9, 0.95, 0.0, 0.05, 0.1 -> 0.2 of a 5 Å cell
    x = np.array([0.9, 0.95, 0.0, 0.05, 0.1])
    frac = np.column_stack([x, np.full(5, 0.5), np.full(5, 0.5)])
    frac = np.vstack([frac, [[0.0, 0.0, 0.0]]])
    wrapped = Crystal(np.eye(3) * 5.0, frac, [SYMBOL_TO_Z["Na"]] * 5 + [SYMBOL_TO_Z["O"]])
    assert hop_length_angstrom(wrapped) == pytest.approx(1.0)
    lengths = hop_lengths([make_record(0, "a", [("O", (0, 0, 0))], "Li", 0.3)])
    assert lengths.tolist() == pytest.approx([2.0])


# 6 hops: three with E_m >= 1 eV (indices 2, 3, 4), two longer than 4.5 Å (indices 1, 3);
# index 5 sits exactly on 4.5 Å and is not "longer".
Y = np.array([0.2, 0.6, 1.0, 1.5, 2.0, 0.4])
P = np.array([0.3, 0.5, 0.7, 1.1, 2.6, 0.4])  # errors +0.1, -0.1, -0.3, -0.4, +0.6, 0
LENGTHS = np.array([3.0, 5.0, 2.5, 4.6, 3.9, 4.5])


def test_scored_slices_hand_computed() -> None:
    scoring = Scoring(n_boot=200, seed=1)
    slices = scored_slices(scoring, Y, P, LENGTHS)
    assert [s["key"] for s in slices] == [SLICE_HIGH, SLICE_LONG, SLICE_ALL]
    assert all(s["row"] == ROW_MODEL for s in slices)
    high, long_, all_ = slices
    assert high["n"] == 3 and high["label"] == "DFT E_m ≥ 1 eV"
    reg = high["metrics"]["regression"]
    assert reg["mae_ev"]["value"] == pytest.approx((0.3 + 0.4 + 0.6) / 3)
    assert reg["bias_ev"]["value"] == pytest.approx((-0.3 - 0.4 + 0.6) / 3)
    assert reg["spread_ratio"]["value"] == pytest.approx(
        np.std([0.7, 1.1, 2.6]) / np.std([1, 1.5, 2])
    )
    # the same metric code, thresholds and bootstrap as the rows
    assert high["metrics"] == evaluate_predictions(Y[2:5], P[2:5], n_boot=200, seed=1)
    assert long_["n"] == 2
    assert long_["metrics"]["regression"]["mae_ev"]["value"] == pytest.approx(0.25)
    assert all_["n"] == 6 and all_["metrics"] == scoring.row(ROW_MODEL, Y, P)["metrics"]
    json.dumps(slices, allow_nan=False)


def test_small_slice_has_null_metrics_and_nan_predictions_are_left_out() -> None:
    scoring = Scoring(n_boot=50)
    slices = scored_slices(scoring, Y, P, np.full(6, 3.0), row="paper_model3")
    long_ = slices[1]
    assert long_ == {
        "key": SLICE_LONG,
        "label": "hop > 4.5 Å",
        "row": "paper_model3",
        "n": 0,
        "metrics": None,
    }
    p = P.copy()
    p[[2, 3]] = np.nan  # a baseline without values for two of the high hops
    high = scored_slices(scoring, Y, p, LENGTHS)[0]
    assert high["n"] == 1 and high["metrics"] is None
    assert scored_slices(scoring, Y, p, LENGTHS)[2]["n"] == 4


class _MeanModel:
    """Predicts the mean barrier of its training records for every band."""

    def __init__(self, mean: float) -> None:
        self.mean = mean

    def predict(self, bands: Iterable[Crystal], **_: object) -> Iterator[Prediction]:
        for _band in bands:
            yield Prediction(barrier_ev=self.mean, sigma_ev=0.0, member_barriers_ev=(self.mean,))


def _fit_mean(train: list, fold_dir: Path) -> _MeanModel:
    return _MeanModel(float(np.mean([r.barrier_ev for r in train])))


def _chemsys_records() -> list:
    """4 chemical systems x 2 frameworks (different stoichiometry) x 2 ions = 16 records."""
    out = []
    systems = [("Mn", "O"), ("Fe", "S"), ("Co", "F"), ("Ti", "Se")]
    for metal, anion in systems:
        for n_anion in (1, 2):
            host = [(metal, (0.0, 0.0, 0.0))] + [
                (anion, (0.5, 0.5, 0.1 + 0.4 * j)) for j in range(n_anion)
            ]
            for ion in ("Li", "Na"):
                i = len(out)
                barrier = 0.3 + 0.1 * i
                out.append(make_record(i, f"{metal}{anion}{n_anion}_{ion}", host, ion, barrier))
    return out


def test_chemsys_cv_holds_out_whole_chemical_systems() -> None:
    records = _chemsys_records()
    result = cross_validate(records=records, k=2, fit_fold=_fit_mean, n_boot=100, groups="chemsys")
    assert result["split"] == "cv-chemsys" and result["groups"] == "chemsys"
    assert result["n_groups"] == 4
    preds = result["predictions"]
    assert {p["group"] for p in preds} == {
        "chemsys:Mn-O",
        "chemsys:Fe-S",
        "chemsys:Co-F",
        "chemsys:Se-Ti",
    }
    assert len({p["host"] for p in preds}) == 8  # MX and MX2 are different hosts
    by_fold = [[p for p in preds if p["fold"] == f] for f in (0, 1)]
    assert not {p["group"] for p in by_fold[0]} & {p["group"] for p in by_fold[1]}
    y = np.array([p["barrier_ev"] for p in preds])
    for f, fold in enumerate(by_fold):
        train_mean = np.mean([p["barrier_ev"] for p in by_fold[1 - f]])
        assert all(p["predicted_ev"] == pytest.approx(train_mean) for p in fold)
        assert result["folds"][f]["n_groups_val"] == 2
        assert result["folds"][f]["n_hosts_val"] == 4
    pred = np.array([p["predicted_ev"] for p in preds])
    mae = np.mean(np.abs(pred - y))
    assert result["rows"][0]["metrics"]["regression"]["mae_ev"]["value"] == pytest.approx(mae)
    assert "chemical-system-grouped 2-fold" in result["rows"][0]["label"]
    # slices of the pooled out-of-fold predictions: E_m >= 1 eV is records 7..15
    high = result["slices"][0]
    assert high["key"] == SLICE_HIGH and high["n"] == int(np.sum(y >= 1.0)) == 9
    m = y >= 1.0
    assert high["metrics"]["regression"]["mae_ev"]["value"] == pytest.approx(
        np.mean(np.abs(pred[m] - y[m]))
    )
    assert all(p["hop_length_angstrom"] > 0 for p in preds)
    json.dumps(result, allow_nan=False)


def test_host_cv_groups_and_unknown_grouping() -> None:
    records = _chemsys_records()
    result = cross_validate(records=records, k=2, fit_fold=_fit_mean, n_boot=50)
    assert result["split"] == "cv" and result["groups"] == "host" and result["n_groups"] == 8
    assert all(p["group"] == p["host"] for p in result["predictions"])
    with pytest.raises(ValueError, match="unknown grouping"):
        cross_validate(records=records, k=2, fit_fold=_fit_mean, groups="element")  # type: ignore[arg-type]
