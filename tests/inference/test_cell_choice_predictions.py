"""The default model predicts the same barrier for a hop whatever cell its host is given in.

Before the band was built from a canonical cell, the prediction for this one Cc LiNiO2 hop
moved between 107 and 140 meV with the cell (conventional, primitive, supercell, rotated).
Three cells, one hop each: about 15 s on a CPU.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hopscreen.hops import hops_for_structure
from hopscreen.inference.hops import predict_hops
from hopscreen.inference.load import load_model

sys.path.insert(0, str(Path(__file__).parents[1] / "hops"))
from low_symmetry_structures import cc_linio2, cell_choices


def test_default_model_prediction_does_not_depend_on_the_cell():
    model = load_model(None)
    cells = cell_choices(cc_linio2())
    barriers: dict[str, list[float]] = {}
    for cell_name in ("given", "non-diagonal", "rotated"):
        result = hops_for_structure(cells[cell_name], "Li", cell_name)
        assert not result.failures and len(result.docs) == 1
        for doc in predict_hops(result.docs, result.bands, model=model, batch_size=16):
            barriers.setdefault(doc.hop_id, []).append(doc.barrier_ev)
    assert len(barriers) == 1
    (values,) = barriers.values()
    assert len(values) == 3
    assert max(values) - min(values) == pytest.approx(0.0, abs=0.005)
