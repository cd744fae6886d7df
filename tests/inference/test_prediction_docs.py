"""Calibrated intervals travel from a model's predictions into the PredictionDocs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError
from tests.store.store_docs import candidate, hop

from hopscreen.inference.base import Prediction
from hopscreen.inference.hops import predict_hops
from hopscreen.schemas.prediction import PredictionDoc


@dataclass
class _FakeModel:
    widths: tuple[float | None, float | None]
    card: Any = field(default_factory=lambda: SimpleNamespace(name="fake"))

    @property
    def model_version(self) -> str:
        return "cg-fake"

    def predict(
        self, bands: Iterable[Any], *, batch_size: int = 32, chunk_size: int = 256
    ) -> Iterator[Prediction]:
        for i, _ in enumerate(bands):
            yield Prediction.from_members(
                np.array([0.5, 0.7]) + i,
                interval_68_ev=self.widths[0],
                interval_90_ev=self.widths[1],
            )


@pytest.mark.parametrize("widths", [(0.2, 0.45), (None, None)])
def test_intervals_reach_the_prediction_docs(widths) -> None:
    cand = candidate("c1", "LiX", "Li", "LiX")
    hops = [hop("h1", cand, 2.5), hop("h2", cand, 3.0)]
    docs = predict_hops(hops, [None, None], model=_FakeModel(widths))
    assert [d.barrier_ev for d in docs] == pytest.approx([0.6, 1.6])
    assert docs[0].sigma_ev == pytest.approx(np.std([0.5, 0.7], ddof=1))  # ensemble spread
    assert [(d.interval_68_ev, d.interval_90_ev) for d in docs] == [widths, widths]
    dumped = docs[1].model_dump()
    assert dumped["interval_68_ev"] == widths[0] and dumped["interval_90_ev"] == widths[1]


def test_negative_half_widths_are_refused() -> None:
    cand = candidate("c1", "LiX", "Li", "LiX")
    doc = predict_hops([hop("h1", cand, 2.5)], [None], model=_FakeModel((0.2, 0.4)))[0]
    with pytest.raises(ValidationError):
        PredictionDoc(**{**doc.model_dump(), "interval_90_ev": -0.1})


def test_predict_table_shows_interval_columns_only_when_calibrated(capsys, monkeypatch) -> None:
    from hopscreen.cli.predict import _print_table

    monkeypatch.setenv("COLUMNS", "200")
    cand = candidate("c1", "LiX", "Li", "LiX")
    hops = [hop("h1", cand, 2.5)]
    _print_table(predict_hops(hops, [None], model=_FakeModel((0.234, 0.567))), _FakeModel((0, 0)))
    calibrated = capsys.readouterr().out
    assert "± 90 % eV" in calibrated and "0.234" in calibrated and "0.567" in calibrated
    _print_table(predict_hops(hops, [None], model=_FakeModel((None, None))), _FakeModel((0, 0)))
    plain = capsys.readouterr().out
    assert "σ_ens eV" in plain and "± 90 % eV" not in plain
