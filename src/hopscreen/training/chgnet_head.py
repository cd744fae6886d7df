"""Small regression heads on the frozen CHGNet hop vector (:mod:`hopscreen.models.chgnet_backbone`).

A head maps the (n, F) hop vectors to barriers (eV) with an uncertainty σ (eV): the spread of
an ensemble of members that differ only in their seed (``ensemble_size``). Four kinds:

* ``mlp``   — PyTorch MLP (SiLU, dropout), L1 loss on the standardised target, AdamW;
* ``ridge`` — sklearn ``Ridge`` (deterministic: σ = 0);
* ``gbr``   — sklearn ``GradientBoostingRegressor`` (Huber loss, row subsampling);
* ``rf``    — sklearn ``RandomForestRegressor``;
* ``hgb``   — sklearn ``HistGradientBoostingRegressor`` with optional monotone constraints
  (``monotone``: column-name prefix → +1/−1).

``baseline="bvse_ion"`` makes the members fit the residual of a per-ion-charge line from the
BVSE barrier to the target (:mod:`hopscreen.training.baseline`). Only plain ``gbr`` heads
are saved as model folders (their trees export to arrays); the others are for comparison
by cross-validation.

Non-finite inputs (CHGNet gives NaN for the midpoint structure when the straight-line
midpoint lands on a host atom) are replaced by the training column median, for every kind.
Inputs of ``mlp`` and ``ridge`` are standardised on the training rows and clipped to ±5 σ
(the unrelaxed CHGNet energy differences have heavy tails). Hyperparameters are chosen by
host-grouped cross-validation on the training hops only (:func:`cross_validate_head`);
:func:`calibrate_head` turns the out-of-fold residuals of the same CV into conformal intervals
(:mod:`hopscreen.models.calibration`) that a saved model's card carries.
Everything is a pure function of the inputs and the seeds.
"""

from __future__ import annotations

import importlib.metadata
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from hopscreen.data.splits import grouped_kfold
from hopscreen.features.physics import physics_version_tag
from hopscreen.models.calibration import ConformalCalibration, fit_conformal_calibration
from hopscreen.models.chgnet_backbone import ChgnetFeatureConfig
from hopscreen.models.chgnet_bundle import ChgnetHeadCard, save_chgnet_head
from hopscreen.models.head_config import (
    ChgnetHeadConfig,
    forward_target,
    inverse_target,
    select_columns,
)
from hopscreen.models.hop_features import FeatureTable, cache_key, extract_hop_features
from hopscreen.models.trees import TreeEnsemble, export_gbr
from hopscreen.training.baseline import BvseBaseline, baseline_columns, fit_bvse_baseline
from hopscreen.training.head_fitters import fit_hgb, fit_mlp, fit_sklearn, predict_mlp

_CLIP = 5.0

_T = TypeVar("_T")


@dataclass
class ChgnetHead:
    """A fitted head: column selection, input scaling, target scaling and its members.

    Use :func:`fit_head` to build one and :meth:`predict` to apply it.
    """

    config: ChgnetHeadConfig
    columns: np.ndarray
    x_fill: np.ndarray
    x_mean: np.ndarray
    x_std: np.ndarray
    z_mean: float
    z_std: float
    members: list[Any] = field(default_factory=list)
    baseline: BvseBaseline | None = None
    baseline_cols: tuple[int, int] | None = None

    def _base(self, X: np.ndarray) -> np.ndarray:
        """The physical baseline of each row's target (0 without a baseline)."""
        if self.baseline is None or self.baseline_cols is None:
            return np.zeros(len(X))
        bvse, charge = self.baseline_cols
        X = np.asarray(X, dtype=np.float64)
        return self.baseline.predict(X[:, bvse], X[:, charge])

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        x = np.asarray(X, dtype=np.float64)[:, self.columns]
        x = np.where(np.isfinite(x), x, self.x_fill)
        if self.config.kind in ("mlp", "ridge"):
            x = np.clip((x - self.x_mean) / self.x_std, -_CLIP, _CLIP)
        return x

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Barriers and their ensemble spread.

        Parameters
        ----------
        X : numpy.ndarray
            (n, F) hop vectors with the columns the head was fitted on.

        Returns
        -------
        barrier_ev, sigma_ev : numpy.ndarray
            (n,) mean of the members' barriers and their sample standard deviation
            (ddof = 1, as :func:`hopscreen.inference.predict.predict`; 0 for one member), eV.
        """
        x = self._inputs(X)
        base = self._base(X)
        outs = []
        for member in self.members:
            z = predict_mlp(member, x) if self.config.kind == "mlp" else member.predict(x)
            z = z * self.z_std + self.z_mean + base
            outs.append(inverse_target(z, self.config.target_transform))
        stack = np.vstack(outs)
        sigma = stack.std(axis=0, ddof=1) if len(stack) > 1 else np.zeros(stack.shape[1])
        return stack.mean(axis=0), sigma


def _monotone_sign(name: str, monotone: dict[str, int]) -> int:
    """+1/−1 when a ``monotone`` prefix matches the column name, else 0 (unconstrained)."""
    return next((sign for prefix, sign in monotone.items() if name.startswith(prefix)), 0)


def fit_head(
    X: np.ndarray, y: np.ndarray, names: Sequence[str], config: ChgnetHeadConfig | None = None
) -> ChgnetHead:
    """Fit a head on hop vectors.

    Parameters
    ----------
    X : numpy.ndarray
        (n, F) hop vectors.
    y : numpy.ndarray
        (n,) barriers, eV.
    names : sequence of str
        The F column names (for ``config.blocks``).
    config : ChgnetHeadConfig, optional
        Recipe (defaults if None).

    Returns
    -------
    ChgnetHead
    """
    cfg = config or ChgnetHeadConfig()
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    if len(X) != len(y):
        raise ValueError(f"{len(X)} rows but {len(y)} targets")
    cols = select_columns(names, cfg.blocks)
    x = X[:, cols]
    finite = np.isfinite(x)
    with np.errstate(all="ignore"):
        x_fill = np.nanmedian(np.where(finite, x, np.nan), axis=0)
    x_fill = np.where(np.isfinite(x_fill), x_fill, 0.0)
    x = np.where(finite, x, x_fill)
    x_mean, x_std = x.mean(axis=0), x.std(axis=0)
    x_std = np.where(x_std > 1e-12, x_std, 1.0)
    z = forward_target(y, cfg.target_transform)
    baseline = baseline_cols = None
    if cfg.baseline == "bvse_ion":
        baseline_cols = baseline_columns(names)
        baseline = fit_bvse_baseline(X[:, baseline_cols[0]], X[:, baseline_cols[1]], z)
        z = z - baseline.predict(X[:, baseline_cols[0]], X[:, baseline_cols[1]])
    z_mean, z_std = (float(z.mean()), float(z.std()) or 1.0) if cfg.kind == "mlp" else (0.0, 1.0)
    head = ChgnetHead(cfg, cols, x_fill, x_mean, x_std, z_mean, z_std)
    head.baseline, head.baseline_cols = baseline, baseline_cols
    xin = head._inputs(X)
    zin = (z - z_mean) / z_std
    n_members = 1 if cfg.kind == "ridge" else cfg.ensemble_size
    cst = [_monotone_sign(names[c], cfg.monotone) for c in cols]
    for i in range(n_members):
        if cfg.kind == "hgb":
            head.members.append(fit_hgb(xin, zin, cfg, cfg.seed + i, cst))
            continue
        fit = fit_mlp if cfg.kind == "mlp" else fit_sklearn
        head.members.append(fit(xin, zin, cfg, cfg.seed + i))
    return head


def cross_validate_head(
    X: np.ndarray,
    y: np.ndarray,
    names: Sequence[str],
    groups: Sequence[str],
    config: ChgnetHeadConfig | None = None,
    *,
    k: int = 5,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold predictions of host-grouped k-fold CV.

    Parameters
    ----------
    X, y, names
        As :func:`fit_head`.
    groups : sequence of str
        Host key per row (:func:`hopscreen.data.splits.host_groups`).
    config : ChgnetHeadConfig, optional
        Recipe.
    k, seed
        Folds and fold seed (:func:`hopscreen.data.splits.grouped_kfold`).

    Returns
    -------
    barrier_ev, sigma_ev : numpy.ndarray
        (n,) out-of-fold predictions and spreads, eV.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    pred = np.full(len(y), np.nan)
    sigma = np.full(len(y), np.nan)
    for train_idx, val_idx in grouped_kfold(groups, k=k, seed=seed):
        head = fit_head(X[train_idx], y[train_idx], names, config)
        pred[val_idx], sigma[val_idx] = head.predict(X[val_idx])
    return pred, sigma


def calibrate_head(
    X: np.ndarray,
    y: np.ndarray,
    names: Sequence[str],
    groups: Sequence[str],
    config: ChgnetHeadConfig | None = None,
    *,
    k: int = 5,
    seed: int = 0,
) -> ConformalCalibration:
    """Conformal intervals of a head recipe, from its host-grouped out-of-fold residuals.

    Parameters
    ----------
    X, y, names, groups, config, k, seed
        As :func:`cross_validate_head` (the hops the final head is fitted on).

    Returns
    -------
    ConformalCalibration
        Normalised split-conformal quantiles of |y − ŷ_oof| / (σ_oof + γ)
        (:mod:`hopscreen.models.calibration`).
    """
    pred, sigma = cross_validate_head(X, y, names, groups, config, k=k, seed=seed)
    return fit_conformal_calibration(y, pred, sigma, k_folds=k, fold_seed=seed)


GBR_RECIPE = ChgnetHeadConfig(
    kind="gbr",
    blocks=("ion_", "e_", "mag_"),
    target_transform="log1p",
    ensemble_size=5,
    n_estimators=400,
)
"""The ``chgnet-gbr`` head: chosen by host-grouped CV on the training hops."""

_PHYSICS_BLOCKS = ("phys_", "bvse_")

#: Named recipes (hop vector, head) that ``hopscreen train chgnet-head --recipe`` fits and
#: BENCHMARKS.md compares (``hopscreen bench --only-recipes``).
HEAD_RECIPES: dict[str, tuple[ChgnetFeatureConfig, ChgnetHeadConfig]] = {
    "chgnet-gbr": (ChgnetFeatureConfig(), GBR_RECIPE),
    "physics-bvse-gbr": (
        ChgnetFeatureConfig(chgnet=False, physics=True),
        GBR_RECIPE.model_copy(update={"blocks": _PHYSICS_BLOCKS}),
    ),
    "physics-bvse-chgnet-gbr": (
        ChgnetFeatureConfig(physics=True),
        GBR_RECIPE.model_copy(update={"blocks": (*_PHYSICS_BLOCKS, "ion_", "e_", "mag_")}),
    ),
}


def _timed(fn: Callable[..., _T], *args: Any, **kwargs: Any) -> tuple[_T, float]:
    """``fn(*args, **kwargs)`` and the wall-clock seconds it took."""
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def _exported_trees(
    head: ChgnetHead, X: np.ndarray, y: np.ndarray
) -> tuple[list[TreeEnsemble], dict[str, float]]:
    """A gbr head's members as tree arrays, checked to predict as the head, and its fit metrics.

    Parameters
    ----------
    head : ChgnetHead
        A fitted ``kind="gbr"`` head.
    X : numpy.ndarray
        (n, F) training hop vectors.
    y : numpy.ndarray
        (n,) training barriers, eV.

    Returns
    -------
    members : list of TreeEnsemble
        One per head member.
    metrics : dict
        Training-fit MAE and mean σ, eV.
    """
    members = [export_gbr(m) for m in head.members]
    pred, sigma = head.predict(X)
    exported = np.vstack([m.predict(head._inputs(X)) for m in members])
    if not np.allclose(inverse_target(exported, head.config.target_transform).mean(axis=0), pred):
        raise RuntimeError("exported trees do not reproduce the fitted head")
    metrics = {
        "train_fit_mae_ev": float(np.mean(np.abs(pred - y))),
        "train_mean_sigma_ev": float(np.mean(sigma)),
    }
    return members, metrics


def _backbone_label(feature_config: ChgnetFeatureConfig, version: str) -> str:
    """The card's ``pretrained_backbone``: what the hop vector was read from."""
    parts = []
    if feature_config.chgnet:
        parts.append(f"CHGNet {feature_config.model_name} (chgnet {version}), frozen")
    if feature_config.physics:
        parts.append(f"physics descriptors + BVSE ({physics_version_tag()})")
    return " + ".join(parts)


def _save_exported_head(
    members: list[TreeEnsemble],
    head: ChgnetHead,
    table: FeatureTable,
    feature_config: ChgnetFeatureConfig,
    out_dir: Path | str,
    **card_fields: Any,
) -> ChgnetHeadCard:
    """Write the tree arrays and a card naming the CHGNet version and feature columns."""
    version = importlib.metadata.version("chgnet")
    return save_chgnet_head(
        members,
        out_dir,
        chgnet_version=version,
        feature_config=feature_config,
        feature_cache_key=cache_key(feature_config),
        feature_names=table.names,
        feature_columns=[table.names[i] for i in head.columns],
        fill_values=head.x_fill.tolist(),
        head=head.config,
        pretrained_backbone=_backbone_label(feature_config, version),
        **card_fields,
    )


def _check_savable(
    config: ChgnetHeadConfig,
    n_bands: int,
    n_barriers: int,
    n_ids: int,
    groups: Sequence[str] | None,
) -> None:
    """Raise ValueError unless the recipe can be saved and the inputs have equal lengths."""
    if config.kind != "gbr" or config.baseline != "none":
        raise ValueError(
            f"only gbr heads without a baseline can be saved as a model folder, not "
            f"{config.kind!r} with baseline {config.baseline!r}"
        )
    if not (n_bands == n_barriers == n_ids):
        raise ValueError("bands, barriers_ev and record_ids differ in length")
    if groups is not None and len(groups) != n_bands:
        raise ValueError(f"{len(groups)} groups for {n_bands} bands")


def train_chgnet_head_model(
    bands: Sequence[Any],
    barriers_ev: Sequence[float],
    record_ids: Sequence[str],
    out_dir: Path | str,
    *,
    config: ChgnetHeadConfig = GBR_RECIPE,
    feature_config: ChgnetFeatureConfig | None = None,
    cache_dir: Path | str | None = None,
    name: str = "chgnet-gbr",
    preset: str = "gbr-log1p-ion-e-mag",
    notes: str = "",
    parent_version: str | None = None,
    groups: Sequence[str] | None = None,
) -> ChgnetHeadCard:
    """Extract CHGNet hop vectors, fit a gradient-boosting head and write a model folder.

    With ``groups`` the card also gets a conformal calibration of the prediction intervals
    from host-grouped 5-fold CV of the same recipe on the same hop vectors
    (:func:`calibrate_head`); the trees themselves do not depend on it.

    Parameters
    ----------
    bands : sequence of Crystal
        Model-3 bands of the training hops.
    barriers_ev : sequence of float
        Their barriers, eV.
    record_ids : sequence of str
        Their record ids (kept in the card).
    out_dir : path or str
        Model folder to write (:mod:`hopscreen.models.chgnet_bundle`).
    config : ChgnetHeadConfig
        Head recipe; only ``kind="gbr"`` can be saved.
    feature_config : ChgnetFeatureConfig, optional
        CHGNet feature settings (defaults if None).
    cache_dir : path or str, optional
        Feature cache root (:func:`~hopscreen.models.hop_features.extract_hop_features`).
    name, preset, notes, parent_version
        Card fields.
    groups : sequence of str, optional
        Host key per hop (:func:`hopscreen.data.splits.host_groups`); None writes an
        uncalibrated card.

    Returns
    -------
    ChgnetHeadCard
        The written card.
    """
    _check_savable(config, len(bands), len(barriers_ev), len(record_ids), groups)
    feature_config = feature_config or ChgnetFeatureConfig()
    table, t_features = _timed(
        extract_hop_features, bands, config=feature_config, cache_dir=cache_dir
    )
    y = np.asarray(barriers_ev, dtype=np.float64)
    head, t_fit = _timed(fit_head, table.X, y, table.names, config)
    members, metrics = _exported_trees(head, table.X, y)
    calibration, t_cal = None, 0.0
    if groups is not None:
        calibration, t_cal = _timed(calibrate_head, table.X, y, table.names, groups, config)
    return _save_exported_head(
        members,
        head,
        table,
        feature_config,
        out_dir,
        name=name,
        preset=preset,
        train_record_ids=list(record_ids),
        metrics=metrics,
        training={
            "n_train": len(y),
            "n_features_cached": table.n_cached,
            "feature_seconds": t_features,
            "fit_seconds": t_fit,
            **({"calibration_seconds": t_cal} if calibration is not None else {}),
        },
        notes=notes,
        parent_version=parent_version,
        calibration=calibration,
    )


def refit_like(
    card: ChgnetHeadCard,
    bands: Sequence[Any],
    barriers_ev: Sequence[float],
    record_ids: Sequence[str],
    out_dir: Path | str,
    *,
    cache_dir: Path | str | None,
    name: str,
    parent_version: str | None = None,
    groups: Sequence[str] | None = None,
) -> ChgnetHeadCard:
    """Fit a chgnet-head card's recipe and feature settings anew on other hops.

    Used for the folds of grouped CV and for refits on verification feedback; trees are
    not warm-started. Arguments as :func:`train_chgnet_head_model`: the refit is calibrated
    (on its own hops only) when ``groups`` are given.
    """
    return train_chgnet_head_model(
        bands,
        barriers_ev,
        record_ids,
        out_dir,
        config=card.head,
        feature_config=card.feature_config,
        cache_dir=cache_dir,
        name=name,
        preset=card.preset,
        parent_version=parent_version,
        groups=groups,
    )
