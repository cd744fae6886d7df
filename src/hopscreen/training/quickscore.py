"""One-line score of a model folder on the authors' test split, for training scripts.

Point estimates only (MAE, accuracy at 0.65 eV, mean σ) plus the members' validation losses;
the full report with confidence intervals is ``hopscreen evaluate``.

Run as ``python -m hopscreen.training.quickscore MODEL_DIR``; writes ``quickscore.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from hopscreen.inference.load import load_model


def quickscore(model_dir: Path, data_dir: Path | None = None) -> dict[str, float]:
    """Point estimates on the 60 test hops (the full report is ``hopscreen evaluate``)."""
    from hopscreen.data.em_dataset import load_em_dataset
    from hopscreen.inference.predict import predict

    model = load_model(model_dir)
    records = load_em_dataset(data_dir, splits=("test",))
    preds = list(predict([r.band for r in records], model=model, batch_size=16))
    y = np.array([r.barrier_ev for r in records])
    p = np.array([x.barrier_ev for x in preds])
    s = np.array([x.sigma_ev for x in preds])
    members = np.array([x.member_barriers_ev for x in preds])
    out = {
        "model_version": model.model_version,
        "test_mae_ev": float(np.abs(p - y).mean()),
        "test_member_mae_ev": [float(np.abs(m - y).mean()) for m in members.T],
        "test_accuracy_065": float(((p < 0.65) == (y < 0.65)).mean()),
        "test_mean_sigma_ev": float(s.mean()),
        "val_l1_ev": [m["best_val_l1_ev"] for m in model.card.training.get("members", [])],
    }
    (Path(model_dir) / "quickscore.json").write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    print(json.dumps(quickscore(Path(sys.argv[1])), indent=None))
