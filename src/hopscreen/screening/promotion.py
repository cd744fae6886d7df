"""Test-split metrics of a new model version beside its parent, and the promotion rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np

from hopscreen.data.em_dataset import load_em_dataset
from hopscreen.evaluation.metrics import evaluate_predictions, paired_bootstrap_difference
from hopscreen.inference.load import load_model
from hopscreen.inference.predict import predict

TEST_THRESHOLD_EV = 0.65


def summarise_metrics(evaluation: dict[str, Any]) -> dict[str, Any]:
    """A compact, registry-friendly dict of :func:`evaluate_predictions` output.

    Returns
    -------
    dict
        ``{"split", "n", "mae_ev", "mae_ci_ev", "rmse_ev", "r2", "accuracy_065"}`` (eV;
        ``mae_ci_ev`` is the bootstrap interval ``[low, high]``).
    """
    reg = evaluation["regression"]
    cls = {c["threshold_ev"]: c for c in evaluation["classification"]}.get(TEST_THRESHOLD_EV)
    return {
        "split": "paper-test",
        "n": int(evaluation["n"]),
        "mae_ev": reg["mae_ev"]["value"],
        "mae_ci_ev": [reg["mae_ev"]["ci_low"], reg["mae_ev"]["ci_high"]],
        "rmse_ev": reg["rmse_ev"]["value"],
        "r2": reg["r2"]["value"],
        "accuracy_065": cls["accuracy"]["value"] if cls else None,
    }


def paper_test_metrics(
    new_dir: Path,
    parent_dir: Path,
    *,
    data_dir: Path | str | None = None,
    limit: int | None = None,
    device: str | None = None,
    n_boot: int = 1000,
    feature_cache_dir: Path | str | None = None,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Score a new model and its parent on the same test hops of the authors' split.

    Parameters
    ----------
    new_dir, parent_dir
        Model folders.
    data_dir
        Data folder (see :func:`hopscreen.data.paths.resolve_data_dir`).
    limit
        Only the first ``limit`` test hops (file order).
    device
        ``"cpu"`` / ``"cuda"``; None picks CUDA when available.
    n_boot
        Bootstrap resamples.
    feature_cache_dir
        CHGNet feature cache for chgnet-head models (ignored by ALIGNN models).

    Returns
    -------
    tuple
        (new metrics, parent metrics, paired MAE difference new − parent), the first two as
        :func:`summarise_metrics`, the last as
        :func:`~hopscreen.evaluation.metrics.paired_bootstrap_difference`.
    """
    records = load_em_dataset(data_dir, splits=("test",))
    if limit is not None:
        records = records[:limit]
    y = np.array([r.barrier_ev for r in records])
    preds = []
    for folder in (new_dir, parent_dir):
        model = load_model(folder, device=device, feature_cache_dir=feature_cache_dir)
        out = predict([r.band for r in records], model=model)
        preds.append(np.array([p.barrier_ev for p in out]))
    new, parent = (
        summarise_metrics(evaluate_predictions(y, p, (TEST_THRESHOLD_EV,), n_boot=n_boot))
        for p in preds
    )
    diff = paired_bootstrap_difference(y, preds[0], preds[1], n_boot=n_boot)
    return new, parent, diff


def promotion_decision(
    rule: Literal["if_not_worse", "always"], new_mae_ev: float | None, parent_mae_ev: float | None
) -> tuple[bool, str]:
    """Whether a new version is promoted under ``rule``, and why (one sentence).

    ``if_not_worse`` promotes when ``new_mae_ev <= parent_mae_ev`` (same test hops); without
    both numbers it does not promote.
    """
    if rule == "always":
        return True, "promoted: rule 'always'"
    if new_mae_ev is None or parent_mae_ev is None:
        return False, "not promoted: test MAE of the new version or its parent is unknown"
    verdict = "promoted" if new_mae_ev <= parent_mae_ev else "not promoted"
    relation = "<=" if new_mae_ev <= parent_mae_ev else ">"
    return (
        new_mae_ev <= parent_mae_ev,
        f"{verdict}: test MAE {new_mae_ev:.4f} eV {relation} parent's {parent_mae_ev:.4f} eV "
        "(rule 'if_not_worse')",
    )
