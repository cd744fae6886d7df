"""Evaluate a barrier model on the authors' test split, or by host-grouped cross-validation.

Both evaluations return one JSON-ready dict (the output of ``hopscreen evaluate --json``)::

    {"split": "paper-test" | "cv",
     "model": {...} | None,                      # card summary of the evaluated model
     "n": int, "thresholds_ev": [...],
     "bootstrap": {"n_boot", "seed", "ci"},
     "rows": [{"key", "label", "n", "metrics"}],  # metrics: evaluate_predictions() output
     "comparisons": [{"a", "b", ...paired_bootstrap_difference()}],
     "predictions": [{"record_id", "barrier_ev", "predicted_ev", "sigma_ev", ...}],
     ...split-specific extras...}

On ``paper-test`` the rows are this model, the paper's Model-3 (its published test
predictions) and MACE NEB with relaxed endpoints (published), all scored by the same code of
:mod:`hopscreen.evaluation.metrics` on the same hops, so the three are directly comparable.
On ``cv`` the single row is the pooled out-of-fold predictions, and ``folds`` lists each
fold's size, hosts and MAE. :func:`write_predictions_csv` writes ``predictions`` as CSV.
"""

from __future__ import annotations

import csv
import logging
import math
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from hopscreen.data.em_dataset import join_tabulation, load_em_dataset
from hopscreen.data.published import load_paper_test_predictions
from hopscreen.data.splits import grouped_kfold, host_groups
from hopscreen.evaluation.metrics import (
    DEFAULT_N_BOOT,
    DEFAULT_THRESHOLDS_EV,
    evaluate_predictions,
    paired_bootstrap_difference,
)
from hopscreen.inference.chgnet_head import ChgnetHeadModel
from hopscreen.inference.device import resolve_device
from hopscreen.inference.load import load_model
from hopscreen.inference.predict import predict
from hopscreen.models.bundle import ModelLoadError, load_card, model_kind
from hopscreen.models.chgnet_backbone import default_feature_cache
from hopscreen.models.chgnet_bundle import load_chgnet_head
from hopscreen.models.shipped import default_model_dir, resolve_model_dir
from hopscreen.training.chgnet_head import refit_like
from hopscreen.training.config import get_preset
from hopscreen.training.finetune import finetune_ensemble

log = logging.getLogger(__name__)

Split = Literal["paper-test", "cv"]
SPLITS: tuple[str, ...] = ("paper-test", "cv")

ROW_MODEL = "model"
ROW_PAPER = "paper_model3"
ROW_MACE = "mace_neb_relaxed"
ROW_LABELS = {
    ROW_MODEL: "this model",
    ROW_PAPER: "paper Model-3 (published predictions)",
    ROW_MACE: "MACE NEB relaxed (published)",
}


def _none_if_nan(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


def _row(
    key: str,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    thresholds: Sequence[float],
    n_boot: int,
    seed: int,
    ci: float,
    label: str | None = None,
) -> dict[str, Any]:
    return {
        "key": key,
        "label": label or ROW_LABELS[key],
        "n": len(y_true),
        "metrics": evaluate_predictions(
            y_true, y_pred, thresholds, n_boot=n_boot, seed=seed, ci=ci
        ),
    }


def _comparison(
    a: str,
    b: str,
    y_true: np.ndarray,
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    n_boot: int,
    seed: int,
    ci: float,
) -> dict[str, Any]:
    ok = np.isfinite(pred_a) & np.isfinite(pred_b)
    return {
        "a": a,
        "b": b,
        **paired_bootstrap_difference(
            y_true[ok], pred_a[ok], pred_b[ok], n_boot=n_boot, seed=seed, ci=ci
        ),
    }


def _card_summary(model: Any, model_dir: Path) -> dict[str, Any]:
    card = model.card
    return {
        "model_dir": str(model_dir),
        "model_version": card.model_version,
        "name": card.name,
        "preset": card.preset,
        "ensemble_size": card.ensemble_size,
        "pretrained_backbone": card.pretrained_backbone,
        "n_train_records": len(card.train_record_ids),
    }


def published_test_baselines(data_dir: Path | str | None = None) -> dict[str, dict[str, float]]:
    """The published predictions on the authors' test hops, by record id.

    Returns
    -------
    dict
        ``{"paper_model3": {record_id: eV}, "mace_neb_relaxed": {record_id: eV}}``; a hop
        without a published value is absent from the inner dict.
    """
    paper = load_paper_test_predictions(data_dir)
    matches, _ = join_tabulation(data_dir)
    mace = {
        rid: float(row.mace_relaxed_ev)
        for rid, row in matches.items()
        if rid.startswith("test-") and row.mace_relaxed_ev is not None
    }
    return {
        ROW_PAPER: {
            str(r): float(p) for r, p in zip(paper.record_id, paper.predicted_ev, strict=True)
        },
        ROW_MACE: mace,
    }


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
    """Evaluate a model on the authors' 60 test hops (``paper-test``) or by grouped CV (``cv``).

    Parameters
    ----------
    model_dir : path or str, optional
        Model folder or shipped model name (default: the shipped default model). For ``cv``
        it only supplies the pre-trained backbone (its card's ``pretrained_backbone``, if the
        file exists); without a usable model, CV fine-tunes from scratch.
    split : {"paper-test", "cv"}
        Which evaluation.
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
        ``cv`` only: see :func:`cross_validate`.

    Returns
    -------
    dict
        The layout of the module docstring. ``paper-test`` adds ``"seconds"`` (model loading
        and prediction time).

    Raises
    ------
    hopscreen.data.paths.HopscreenDataError
        The dataset is missing or damaged (the message says what to run).
    hopscreen.models.bundle.ModelLoadError, FileNotFoundError
        The model folder is missing or corrupt.
    """
    if split == "cv":
        return _cv_from_model(
            model_dir,
            data_dir=data_dir,
            device=device,
            thresholds=thresholds,
            limit=limit,
            batch_size=batch_size,
            n_boot=n_boot,
            seed=seed,
            ci=ci,
            preset=preset,
            k=k,
            epochs=epochs,
            ensemble_size=ensemble_size,
            out_dir=out_dir,
        )
    if split != "paper-test":
        raise ValueError(f"unknown split {split!r}; choose from {SPLITS}")
    return _paper_test(
        model_dir,
        data_dir=data_dir,
        device=device,
        thresholds=thresholds,
        limit=limit,
        batch_size=batch_size,
        n_boot=n_boot,
        seed=seed,
        ci=ci,
    )


def _paper_test(
    model_dir: Path | str | None,
    *,
    data_dir: Path | str | None,
    device: str | None,
    thresholds: Sequence[float],
    limit: int | None,
    batch_size: int,
    n_boot: int,
    seed: int,
    ci: float,
) -> dict[str, Any]:
    records = load_em_dataset(data_dir, splits=("test",))
    baselines = published_test_baselines(data_dir)
    if limit is not None:
        records = records[: max(0, int(limit))]
    if not records:
        raise ValueError("no test records to evaluate (limit must be positive)")
    folder = resolve_model_dir(model_dir)
    if not folder.is_dir():
        raise ModelLoadError(
            f"model folder {folder} does not exist (no shipped default model yet?); "
            "pass a model folder or name"
        )
    t0 = time.perf_counter()
    model = load_model(folder, device=resolve_device(device))
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    preds = list(predict((r.band for r in records), model=model, batch_size=batch_size))
    t_pred = time.perf_counter() - t0

    y = np.array([r.barrier_ev for r in records])
    p = np.array([q.barrier_ev for q in preds])
    paper = np.array([baselines[ROW_PAPER].get(r.record_id, np.nan) for r in records])
    mace = np.array([baselines[ROW_MACE].get(r.record_id, np.nan) for r in records])
    rows = [_row(ROW_MODEL, y, p, thresholds, n_boot, seed, ci)]
    comparisons = []
    for key, ref in ((ROW_PAPER, paper), (ROW_MACE, mace)):
        ok = np.isfinite(ref)
        if ok.any():
            rows.append(_row(key, y[ok], ref[ok], thresholds, n_boot, seed, ci))
            comparisons.append(_comparison(ROW_MODEL, key, y, p, ref, n_boot, seed, ci))
    predictions = [
        {
            "record_id": r.record_id,
            "sys_name": r.sys_name,
            "working_ion": r.working_ion,
            "xc_functional": r.xc_functional,
            "barrier_ev": r.barrier_ev,
            "predicted_ev": q.barrier_ev,
            "sigma_ev": q.sigma_ev,
            "paper_model3_ev": _none_if_nan(pa),
            "mace_relaxed_ev": _none_if_nan(ma),
        }
        for r, q, pa, ma in zip(records, preds, paper, mace, strict=True)
    ]
    return {
        "split": "paper-test",
        "model": _card_summary(model, folder),
        "n": len(records),
        "thresholds_ev": [float(t) for t in thresholds],
        "bootstrap": {"n_boot": int(n_boot), "seed": int(seed), "ci": float(ci)},
        "rows": rows,
        "comparisons": comparisons,
        "predictions": predictions,
        "seconds": {"load": t_load, "predict": t_pred, "per_hop": t_pred / len(records)},
    }


def _cv_from_model(
    model_dir: Path | str | None,
    *,
    data_dir: Path | str | None,
    device: str | None,
    thresholds: Sequence[float],
    limit: int | None,
    batch_size: int,
    n_boot: int,
    seed: int,
    ci: float,
    preset: str,
    k: int,
    epochs: int | None,
    ensemble_size: int,
    out_dir: Path | str | None,
) -> dict[str, Any]:
    backbone = None
    model_info = None
    folder = None
    if model_dir is not None:
        folder = resolve_model_dir(model_dir)
    else:
        folder = default_model_dir() if default_model_dir().is_dir() else None
    if folder is not None and model_kind(folder) == "chgnet-head":
        return _cv_chgnet_head(
            folder,
            data_dir=data_dir,
            thresholds=thresholds,
            limit=limit,
            n_boot=n_boot,
            seed=seed,
            ci=ci,
            k=k,
            out_dir=out_dir,
        )
    if folder is not None:
        card = load_card(folder)
        model_info = {
            "model_dir": str(folder),
            "model_version": card.model_version,
            "name": card.name,
            "pretrained_backbone": card.pretrained_backbone,
        }
        if card.pretrained_backbone and Path(card.pretrained_backbone).is_file():
            backbone = Path(card.pretrained_backbone)
    result = cross_validate(
        preset,
        k=k,
        data_dir=data_dir,
        backbone=backbone,
        out_dir=out_dir,
        ensemble_size=ensemble_size,
        device=device,
        epochs=epochs,
        limit=limit,
        thresholds=thresholds,
        batch_size=batch_size,
        n_boot=n_boot,
        seed=seed,
        ci=ci,
    )
    result["model"] = model_info
    return result


def _cv_chgnet_head(
    folder: Path,
    *,
    data_dir: Path | str | None,
    thresholds: Sequence[float],
    limit: int | None,
    n_boot: int,
    seed: int,
    ci: float,
    k: int,
    out_dir: Path | str | None,
) -> dict[str, Any]:
    """Grouped CV of a chgnet-head model's recipe: each fold refits the trees on CHGNet features.

    The frozen CHGNet hop vectors are cached under ``<out_dir>/chgnet-features`` when
    ``out_dir`` is given, else in the per-user cache (``chgnet-features`` beside the data
    cache), so only the first run pays the CHGNet passes.
    """
    card, _ = load_chgnet_head(folder)
    if out_dir is not None:
        feature_cache = Path(out_dir) / "chgnet-features"
    else:
        feature_cache = default_feature_cache()

    def fit_fold(train: list[Any], fold_dir: Path) -> ChgnetHeadModel:
        bands, barriers, ids = zip(
            *((r.band, r.barrier_ev, r.record_id) for r in train), strict=True
        )
        refit_like(card, bands, barriers, ids, fold_dir, cache_dir=feature_cache, name="cv")
        return ChgnetHeadModel.load(fold_dir, feature_cache_dir=feature_cache)

    result = cross_validate(
        card.preset,
        k=k,
        data_dir=data_dir,
        out_dir=out_dir,
        limit=limit,
        thresholds=thresholds,
        n_boot=n_boot,
        seed=seed,
        ci=ci,
        fit_fold=fit_fold,
    )
    result.update(
        preset=card.preset,
        epochs=None,
        ensemble_size=card.ensemble_size,
        backbone=card.pretrained_backbone,
        model={
            "model_dir": str(folder),
            "model_version": card.model_version,
            "name": card.name,
            "pretrained_backbone": card.pretrained_backbone,
        },
    )
    return result


def cross_validate(
    preset: Any = "fast",
    k: int = 5,
    data_dir: Path | str | None = None,
    backbone: Path | str | None = None,
    out_dir: Path | str | None = None,
    ensemble_size: int = 1,
    device: str | None = None,
    epochs: int | None = None,
    *,
    records: Sequence[Any] | None = None,
    limit: int | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS_EV,
    batch_size: int = 16,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = 0,
    ci: float = 0.95,
    fit_fold: Callable[[list[Any], Path], Any] | None = None,
) -> dict[str, Any]:
    """Host-grouped k-fold CV of fine-tuning on the authors' training hops.

    Each fold fine-tunes a fresh ensemble (:func:`~hopscreen.training.finetune.finetune_ensemble`)
    on the other folds and predicts its held-out hosts; the out-of-fold predictions are pooled
    and scored once. Folds come from :func:`~hopscreen.data.splits.host_groups` and
    :func:`~hopscreen.data.splits.grouped_kfold`, so no host is on both sides.

    Parameters
    ----------
    preset : str or Preset
        Training recipe (a name for :func:`~hopscreen.training.config.get_preset`, or a
        ``Preset`` object).
    k : int
        Number of folds.
    data_dir : path or str, optional
        Data directory; unused when ``records`` is given.
    backbone : path or str, optional
        Pre-trained backbone weights (safetensors); None fine-tunes from scratch.
    out_dir : path or str, optional
        Where the fold models go (``fold{i}/``, resumable) plus a shared graph cache; a
        temporary folder, deleted afterwards, when None.
    ensemble_size : int
        Members per fold model.
    device : str, optional
        Training and prediction device; CUDA when available by default.
    epochs : int, optional
        Override the preset's fine-tuning epochs (e.g. 1 for a smoke test).
    records : sequence of EmRecord, optional
        Use these records instead of the published training split (tests use tiny ones).
    limit : int, optional
        Only the first ``limit`` training records.
    thresholds, batch_size, n_boot, seed, ci
        As in :func:`evaluate_model`; ``seed`` also seeds the fold assignment.
    fit_fold : callable, optional
        ``fit_fold(train_records, fold_dir) -> model`` trains one fold's model (anything
        :func:`~hopscreen.inference.predict.predict` accepts); default: fine-tune an ALIGNN
        ensemble with ``preset`` (and ``backbone``, ``ensemble_size``, ``device``).

    Returns
    -------
    dict
        The module layout with ``split="cv"``, ``k``, ``preset``, ``epochs``, ``backbone``,
        ``folds`` (per fold: ``fold``, ``n_train``, ``n_val``, ``n_hosts_val``, ``mae_ev``,
        ``seconds``) and, per prediction, ``host`` and ``fold``.
    """
    if records is None:
        records = load_em_dataset(data_dir, splits=("train",))
    records = list(records)
    if limit is not None:
        records = records[: max(0, int(limit))]
    recipe = None
    if fit_fold is None:
        recipe = get_preset(preset) if isinstance(preset, str) else preset
    if recipe is not None and epochs is not None:
        recipe = recipe.model_copy(
            update={"finetune": recipe.finetune.model_copy(update={"epochs": int(epochs)})}
        )
    dev = resolve_device(device)
    groups = host_groups(records)
    folds = grouped_kfold(groups, k=k, seed=seed)
    backbone_path = Path(backbone) if backbone is not None else None

    tmp = tempfile.TemporaryDirectory(prefix="hopscreen-cv-") if out_dir is None else None
    root = Path(tmp.name) if tmp is not None else Path(out_dir)  # type: ignore[arg-type]
    try:
        pred = np.full(len(records), np.nan)
        sigma = np.full(len(records), np.nan)
        fold_of = np.full(len(records), -1, dtype=int)
        fold_info = []
        for f, (train_idx, val_idx) in enumerate(folds):
            t0 = time.perf_counter()
            train = [records[i] for i in train_idx]
            log.info("fold %d/%d: %d train, %d validation hops", f + 1, k, len(train), len(val_idx))
            if fit_fold is not None:
                model = fit_fold(train, root / f"fold{f}")
            else:
                finetune_ensemble(
                    [r.band for r in train],
                    [r.barrier_ev for r in train],
                    [r.record_id for r in train],
                    recipe,
                    root / f"fold{f}",
                    backbone=backbone_path,
                    name=f"cv-fold{f}",
                    ensemble_size=ensemble_size,
                    device=dev,
                    cache_dir=root / "graphs",
                )
                model = load_model(root / f"fold{f}", device=dev)
            out = list(
                predict((records[i].band for i in val_idx), model=model, batch_size=batch_size)
            )
            pred[val_idx] = [q.barrier_ev for q in out]
            sigma[val_idx] = [q.sigma_ev for q in out]
            fold_of[val_idx] = f
            y_val = np.array([records[i].barrier_ev for i in val_idx])
            fold_info.append(
                {
                    "fold": f,
                    "n_train": len(train_idx),
                    "n_val": len(val_idx),
                    "n_hosts_val": len({groups[i] for i in val_idx}),
                    "mae_ev": float(np.mean(np.abs(pred[val_idx] - y_val))),
                    "seconds": time.perf_counter() - t0,
                }
            )
    finally:
        if tmp is not None:
            tmp.cleanup()

    y = np.array([r.barrier_ev for r in records])
    predictions = [
        {
            "record_id": r.record_id,
            "sys_name": r.sys_name,
            "working_ion": r.working_ion,
            "host": groups[i],
            "fold": int(fold_of[i]),
            "barrier_ev": float(r.barrier_ev),
            "predicted_ev": float(pred[i]),
            "sigma_ev": float(sigma[i]),
        }
        for i, r in enumerate(records)
    ]
    return {
        "split": "cv",
        "model": None,
        "n": len(records),
        "k": int(k),
        "preset": recipe.name if recipe is not None else str(preset),
        "epochs": int(recipe.finetune.epochs) if recipe is not None else None,
        "ensemble_size": int(ensemble_size),
        "backbone": str(backbone_path) if backbone_path else None,
        "thresholds_ev": [float(t) for t in thresholds],
        "bootstrap": {"n_boot": int(n_boot), "seed": int(seed), "ci": float(ci)},
        "rows": [
            _row(
                ROW_MODEL,
                y,
                pred,
                thresholds,
                n_boot,
                seed,
                ci,
                label=f"this recipe, host-grouped {k}-fold CV (out-of-fold)",
            )
        ],
        "comparisons": [],
        "folds": fold_info,
        "predictions": predictions,
    }


def write_predictions_csv(result: dict[str, Any], path: Path | str) -> Path:
    """Write ``result["predictions"]`` as CSV (columns in the order of the first row)."""
    rows = result["predictions"]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        if not rows:
            return path
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return path
