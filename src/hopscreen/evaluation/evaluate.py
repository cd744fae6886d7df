"""Evaluate a barrier model on the authors' test split, or by grouped cross-validation.

Every evaluation returns one JSON-ready dict (the output of ``hopscreen evaluate --json``)::

    {"split": "paper-test" | "cv" | "cv-chemsys",
     "model": {...} | None,                      # card summary of the evaluated model
     "n": int, "thresholds_ev": [...],
     "bootstrap": {"n_boot", "seed", "ci"},
     "rows": [{"key", "label", "n", "metrics"}],  # metrics: evaluate_predictions() output
     "comparisons": [{"a", "b", ...paired_bootstrap_difference()}],
     "slices": [{"key", "label", "row", "n", "metrics" | None}],
     "coverage": {"68": {"n", "coverage", "mean_half_width_ev"}, "90": {...}} | None,
     "predictions": [{"record_id", "hop_length_angstrom", "barrier_ev", "predicted_ev",
                      "sigma_ev", "interval_68_ev", "interval_90_ev", ...}],
     ...split-specific extras...}

``coverage`` is the share of hops whose DFT E_m lies in the model's calibrated interval
``predicted_ev ± interval_<level>_ev`` and the mean half-width (None for a model without
calibrated intervals); in CV every fold model is calibrated on its own training folds only.

``metrics["regression"]`` includes ``spread_ratio`` = std(predicted) / std(DFT) with its
interval (below 1: barriers squeezed toward the mean). ``slices``
(:mod:`hopscreen.evaluation.slices`) scores the same predictions on the hops where screening
decisions flip: DFT E_m ≥ 1 eV, hops longer than 4.5 Å, and all hops.

On ``paper-test`` (:mod:`hopscreen.evaluation.paper_test`) the rows are this model, the
paper's Model-3 (its published test predictions) and MACE NEB with relaxed endpoints
(published), all scored by the same code of :mod:`hopscreen.evaluation.metrics` on the same
hops, so the three are directly comparable, and each has its slices. On ``cv`` and
``cv-chemsys`` (:mod:`hopscreen.evaluation.crossval`) the single row is the pooled out-of-fold
predictions, ``groups`` (``"host"`` or ``"chemsys"``) and ``n_groups`` say what a fold held
out, and ``folds`` lists each fold's size, hosts and MAE. ``cv`` holds out whole hosts;
``cv-chemsys`` whole chemical systems of the host framework (every Fe–P–O host at once), the
estimate for hosts of a chemistry the model has never seen.
:func:`hopscreen.evaluation.results.write_predictions_csv` writes ``predictions`` as CSV.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from hopscreen.evaluation.crossval import cross_validate_model
from hopscreen.evaluation.folds import GroupKind
from hopscreen.evaluation.metrics import DEFAULT_N_BOOT, DEFAULT_THRESHOLDS_EV
from hopscreen.evaluation.paper_test import evaluate_paper_test
from hopscreen.evaluation.results import Scoring

Split = Literal["paper-test", "cv", "cv-chemsys"]
SPLITS: tuple[str, ...] = ("paper-test", "cv", "cv-chemsys")
_CV_GROUPS: dict[str, GroupKind] = {"cv": "host", "cv-chemsys": "chemsys"}


def evaluate_model(
    model_dir: Path | str | None = None,
    *,
    split: Split = "paper-test",
    data_dir: Path | str | None = None,
    device: str | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS_EV,
    limit: int | None = None,
    batch_size: int = 16,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = 0,
    ci: float = 0.95,
    preset: str = "fast",
    k: int = 5,
    epochs: int | None = None,
    ensemble_size: int = 1,
    out_dir: Path | str | None = None,
) -> dict[str, Any]:
    """Evaluate a model on the authors' 60 test hops or by grouped CV on the training hops.

    Parameters
    ----------
    model_dir : path or str, optional
        Model folder or shipped model name (default: the shipped default model). For ``cv``
        it supplies the recipe: see :func:`~hopscreen.evaluation.crossval.cross_validate_model`.
    split : {"paper-test", "cv", "cv-chemsys"}
        The authors' test hops; CV holding out whole hosts, or whole chemical systems.
    data_dir : path or str, optional
        Data directory (see :func:`hopscreen.data.paths.resolve_data_dir`).
    device : str, optional
        ``"cpu"`` or ``"cuda"``; CUDA when available by default.
    thresholds : sequence of float
        Good/bad thresholds (eV) for the classification reports.
    limit : int, optional
        Only the first ``limit`` records of the split (file order): for quick checks and tests.
    batch_size : int
        Graphs per forward pass.
    n_boot, seed, ci
        Bootstrap settings (see :mod:`hopscreen.evaluation.metrics`).
    preset, k, epochs, ensemble_size, out_dir
        CV only: see :func:`~hopscreen.evaluation.crossval.cross_validate`.

    Returns
    -------
    dict
        The module docstring's layout; ``paper-test`` adds ``"seconds"`` (load, predict).

    Raises
    ------
    hopscreen.data.paths.HopscreenDataError
        The dataset is missing or damaged (the message says what to run).
    hopscreen.models.bundle.ModelLoadError, FileNotFoundError
        The model folder is missing or corrupt.
    """
    scoring = Scoring(thresholds=thresholds, n_boot=n_boot, seed=seed, ci=ci)
    if split in _CV_GROUPS:
        return cross_validate_model(
            model_dir,
            data_dir=data_dir,
            device=device,
            limit=limit,
            batch_size=batch_size,
            scoring=scoring,
            preset=preset,
            k=k,
            epochs=epochs,
            ensemble_size=ensemble_size,
            out_dir=out_dir,
            groups=_CV_GROUPS[split],
        )
    if split != "paper-test":
        raise ValueError(f"unknown split {split!r}; choose from {SPLITS}")
    return evaluate_paper_test(
        model_dir,
        data_dir=data_dir,
        device=device,
        limit=limit,
        batch_size=batch_size,
        scoring=scoring,
    )
