"""Grouped k-fold cross-validation of a model's training recipe on the authors' training hops.

Each fold trains a fresh model on the other folds and predicts its held-out groups; the
out-of-fold predictions are pooled and scored once. The single row of the result is the pooled
out-of-fold predictions, ``slices`` scores them on the hops where screening decisions flip
(:mod:`hopscreen.evaluation.slices`), and ``folds`` lists each fold's size, hosts and MAE (the
layout is described in :mod:`hopscreen.evaluation.evaluate`).

Two groupings (``groups``): ``"host"`` holds out whole host frameworks
(:func:`~hopscreen.data.splits.host_groups`, split ``"cv"``); ``"chemsys"`` holds out whole
chemical systems, every stoichiometry and polymorph of a set of framework elements at once
(:func:`~hopscreen.data.splits.chemsys_groups`, split ``"cv-chemsys"``): the honest estimate
for hosts of an element combination the model has never seen.

Two recipes: an ALIGNN model fine-tunes an ensemble per fold (from the model's pre-trained
backbone when it has one); a chgnet-head model refits its trees per fold on frozen CHGNet
features.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from hopscreen.data.em_dataset import load_em_dataset
from hopscreen.data.splits import host_groups
from hopscreen.evaluation.folds import FitFold, GroupKind, out_of_fold_result, split_of_groups
from hopscreen.evaluation.metrics import DEFAULT_N_BOOT, DEFAULT_THRESHOLDS_EV
from hopscreen.evaluation.results import Scoring
from hopscreen.inference.chgnet_head import ChgnetHeadModel
from hopscreen.inference.device import resolve_device
from hopscreen.inference.load import load_model
from hopscreen.models.bundle import load_card, model_kind
from hopscreen.models.chgnet_bundle import load_chgnet_head
from hopscreen.models.hop_features import default_feature_cache
from hopscreen.models.shipped import default_model_dir, resolve_model_dir
from hopscreen.training.chgnet_head import refit_like
from hopscreen.training.config import Preset, get_preset
from hopscreen.training.finetune import finetune_ensemble


def _training_records(
    records: Sequence[Any] | None, data_dir: Path | str | None, limit: int | None
) -> list[Any]:
    if records is None:
        records = load_em_dataset(data_dir, splits=("train",))
    records = list(records)
    if limit is not None:
        records = records[: max(0, int(limit))]
    return records


def _recipe(preset: str | Preset, epochs: int | None) -> Preset:
    """The training preset, with its fine-tuning epochs overridden when ``epochs`` is given."""
    recipe = get_preset(preset) if isinstance(preset, str) else preset
    if epochs is not None:
        recipe = recipe.model_copy(
            update={"finetune": recipe.finetune.model_copy(update={"epochs": int(epochs)})}
        )
    return recipe


def _finetune_fold(
    train: list[Any],
    fold_dir: Path,
    *,
    recipe: Preset,
    backbone: Path | None,
    ensemble_size: int,
    device: str,
) -> Any:
    """Fine-tune an ALIGNN ensemble in ``fold_dir`` and load it.

    The graph cache (``graphs/`` beside the fold folders) is shared by all folds.
    """
    finetune_ensemble(
        [r.band for r in train],
        [r.barrier_ev for r in train],
        [r.record_id for r in train],
        recipe,
        fold_dir,
        backbone=backbone,
        name=f"cv-{fold_dir.name}",
        ensemble_size=ensemble_size,
        device=device,
        cache_dir=fold_dir.parent / "graphs",
    )
    return load_model(fold_dir, device=device)


def _alignn_fitter(
    recipe: Preset, backbone: Path | str | None, ensemble_size: int, device: str
) -> FitFold:
    """The default ``fit_fold``: fine-tune ``recipe`` from ``backbone`` (None: from scratch)."""
    return partial(
        _finetune_fold,
        recipe=recipe,
        backbone=Path(backbone) if backbone is not None else None,
        ensemble_size=ensemble_size,
        device=device,
    )


def _recipe_entries(
    preset: Any, recipe: Preset | None, ensemble_size: int, backbone: Path | str | None
) -> dict[str, Any]:
    """The ``preset``, ``epochs``, ``ensemble_size`` and ``backbone`` entries of the result."""
    backbone_path = Path(backbone) if backbone is not None else None
    return {
        "preset": recipe.name if recipe is not None else str(preset),
        "epochs": int(recipe.finetune.epochs) if recipe is not None else None,
        "ensemble_size": int(ensemble_size),
        "backbone": str(backbone_path) if backbone_path else None,
    }


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
    fit_fold: FitFold | None = None,
    groups: GroupKind = "host",
) -> dict[str, Any]:
    """Grouped k-fold CV of fine-tuning on the authors' training hops.

    Each fold fine-tunes a fresh ensemble (:func:`~hopscreen.training.finetune.finetune_ensemble`)
    on the other folds and predicts its held-out groups; the out-of-fold predictions are pooled
    and scored once (:func:`~hopscreen.evaluation.folds.out_of_fold_result`).

    Parameters
    ----------
    preset : str or Preset
        Training recipe (a :func:`~hopscreen.training.config.get_preset` name, or a Preset).
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
        As in :func:`~hopscreen.evaluation.evaluate.evaluate_model`; ``seed`` also seeds the
        fold assignment.
    fit_fold : callable, optional
        ``fit_fold(train_records, fold_dir) -> model`` trains one fold's model (anything
        :func:`~hopscreen.inference.predict.predict` accepts); default: fine-tune an ALIGNN
        ensemble with ``preset`` (and ``backbone``, ``ensemble_size``, ``device``).
    groups : {"host", "chemsys"}
        Hold out whole hosts (split ``"cv"``) or chemical systems (split ``"cv-chemsys"``).

    Returns
    -------
    dict
        The module layout with ``split``, ``k``, ``preset``, ``epochs``, ``backbone`` and the
        entries of :func:`~hopscreen.evaluation.folds.out_of_fold_result` (``groups``,
        ``n_groups``, ``slices``, ``folds``, ``predictions``); ValueError on unknown groups.
    """
    records = _training_records(records, data_dir, limit)
    split = split_of_groups(groups)
    recipe = _recipe(preset, epochs) if fit_fold is None else None
    if fit_fold is None:
        fit_fold = _alignn_fitter(recipe, backbone, ensemble_size, resolve_device(device))
    scoring = Scoring(thresholds=thresholds, n_boot=n_boot, seed=seed, ci=ci)
    return {
        "split": split,
        "model": None,
        "n": len(records),
        "k": int(k),
        **_recipe_entries(preset, recipe, ensemble_size, backbone),
        **out_of_fold_result(records, fit_fold, k, out_dir, batch_size, scoring, groups),
    }


def _model_info(folder: Path, card: Any) -> dict[str, Any]:
    return {
        "model_dir": str(folder),
        "model_version": card.model_version,
        "name": card.name,
        "pretrained_backbone": card.pretrained_backbone,
    }


def _cv_chgnet_head(
    folder: Path,
    *,
    data_dir: Path | str | None,
    limit: int | None,
    scoring: Scoring,
    k: int,
    out_dir: Path | str | None,
    groups: GroupKind,
) -> dict[str, Any]:
    """Grouped CV of a chgnet-head model's recipe: each fold refits the trees on CHGNet features.

    A calibrated model's fold models are calibrated too, by host-grouped CV inside their own
    training folds only (never on the held-out hops), so ``coverage`` is an honest estimate.
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
        groups_of_fold = host_groups(train) if card.calibration is not None else None
        refit_like(
            card,
            bands,
            barriers,
            ids,
            fold_dir,
            cache_dir=feature_cache,
            name="cv",
            groups=groups_of_fold,
        )
        return ChgnetHeadModel.load(fold_dir, feature_cache_dir=feature_cache)

    result = cross_validate(
        card.preset,
        k=k,
        data_dir=data_dir,
        out_dir=out_dir,
        limit=limit,
        thresholds=scoring.thresholds,
        n_boot=scoring.n_boot,
        seed=scoring.seed,
        ci=scoring.ci,
        fit_fold=fit_fold,
        groups=groups,
    )
    result.update(
        preset=card.preset,
        epochs=None,
        ensemble_size=card.ensemble_size,
        backbone=card.pretrained_backbone,
        model=_model_info(folder, card),
    )
    return result


def cross_validate_model(
    model_dir: Path | str | None,
    *,
    data_dir: Path | str | None,
    device: str | None,
    limit: int | None,
    batch_size: int,
    scoring: Scoring,
    preset: str,
    k: int,
    epochs: int | None,
    ensemble_size: int,
    out_dir: Path | str | None,
    groups: GroupKind = "host",
) -> dict[str, Any]:
    """Grouped CV of the recipe of the model in ``model_dir``, whichever its kind.

    Parameters
    ----------
    model_dir : path or str, optional
        Model folder or shipped model name; the shipped default model when None (if it
        exists). A chgnet-head model refits its own recipe per fold; otherwise the folds
        fine-tune ALIGNN with ``preset``, from the model card's ``pretrained_backbone`` when
        that file exists, else from scratch.
    data_dir, device, limit, batch_size, preset, k, epochs, ensemble_size, out_dir
        As in :func:`~hopscreen.evaluation.evaluate.evaluate_model`.
    scoring : Scoring
        Thresholds and bootstrap settings (its seed also seeds the fold assignment).
    groups : {"host", "chemsys"}
        Hold out whole hosts or whole chemical systems (see :func:`cross_validate`).

    Returns
    -------
    dict
        The output of :func:`cross_validate`, with ``model`` the summary of the model's card
        (None without a model).
    """
    if model_dir is not None:
        folder = resolve_model_dir(model_dir)
    else:
        folder = default_model_dir() if default_model_dir().is_dir() else None
    if folder is not None and model_kind(folder) == "chgnet-head":
        return _cv_chgnet_head(
            folder,
            data_dir=data_dir,
            limit=limit,
            scoring=scoring,
            k=k,
            out_dir=out_dir,
            groups=groups,
        )
    backbone = None
    model_info = None
    if folder is not None:
        card = load_card(folder)
        model_info = _model_info(folder, card)
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
        thresholds=scoring.thresholds,
        batch_size=batch_size,
        n_boot=scoring.n_boot,
        seed=scoring.seed,
        ci=scoring.ci,
        groups=groups,
    )
    result["model"] = model_info
    return result
