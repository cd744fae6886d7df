"""Tree-ensemble regressors of E_m on hop descriptors, with a per-hop uncertainty σ.

``rf``  — a scikit-learn ``RandomForestRegressor``; σ is the standard deviation of the
          individual trees' predictions (the spread of the forest).
``gbr`` — ``n_members`` scikit-learn ``GradientBoostingRegressor`` models that differ only in
          their seed (``seed``, ``seed + 1``, …; row subsampling makes them differ); the
          prediction is their mean and σ their standard deviation (0 when ``n_members`` is 1).

Missing descriptor values (NaN) are replaced by the training median of their column (a
column that is all NaN in training becomes 0). Everything is seeded: the same data and
config give the same predictions, bit for bit, on one machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field

from hopscreen.schemas.base import Config


class BaselineConfig(Config):
    """Hyperparameters of a descriptor baseline (defaults: a plain, untuned forest)."""

    kind: Literal["rf", "gbr"] = Field(default="rf", description="Random forest or boosting.")
    n_estimators: int = Field(default=500, ge=1, description="Trees (per member for gbr).")
    max_depth: int | None = Field(
        default=None, ge=1, description="Tree depth limit (None: unlimited; gbr default 3)."
    )
    min_samples_leaf: int = Field(default=1, ge=1, description="Minimum hops per leaf.")
    max_features: float = Field(
        default=1.0 / 3.0, gt=0.0, le=1.0, description="Fraction of descriptors per split."
    )
    learning_rate: float = Field(default=0.05, gt=0.0, description="gbr only: shrinkage.")
    subsample: float = Field(
        default=0.8, gt=0.0, le=1.0, description="gbr only: fraction of rows per tree."
    )
    loss: Literal["squared_error", "absolute_error", "huber"] = Field(
        default="huber", description="gbr only: training loss."
    )
    n_members: int = Field(
        default=5, ge=1, description="gbr only: differently seeded models for σ."
    )
    seed: int = Field(default=0, description="Random seed of the fit.")
    n_jobs: int = Field(default=1, description="Parallel jobs of the forest (rf only).")


@dataclass(frozen=True)
class BaselineModel:
    """A fitted baseline: the column medians used to fill NaN and the fitted estimators."""

    config: BaselineConfig
    fill_values: np.ndarray
    estimators: tuple[object, ...]

    def _fill(self, X: ArrayLike) -> np.ndarray:
        X = np.array(X, dtype=float, copy=True)
        if X.ndim != 2 or X.shape[1] != len(self.fill_values):
            raise ValueError(f"expected (n, {len(self.fill_values)}) descriptors, got {X.shape}")
        rows, cols = np.nonzero(np.isnan(X))
        X[rows, cols] = self.fill_values[cols]
        return X


def _estimators(config: BaselineConfig) -> list[object]:
    from sklearn.ensemble import (  # optional heavy dependency (baselines): scikit-learn
        GradientBoostingRegressor,
        RandomForestRegressor,
    )

    if config.kind == "rf":
        return [
            RandomForestRegressor(
                n_estimators=config.n_estimators,
                max_depth=config.max_depth,
                min_samples_leaf=config.min_samples_leaf,
                max_features=config.max_features,
                random_state=config.seed,
                n_jobs=config.n_jobs,
            )
        ]
    return [
        GradientBoostingRegressor(
            n_estimators=config.n_estimators,
            max_depth=config.max_depth or 3,
            min_samples_leaf=config.min_samples_leaf,
            max_features=config.max_features,
            learning_rate=config.learning_rate,
            subsample=config.subsample,
            loss=config.loss,
            random_state=config.seed + member,
        )
        for member in range(config.n_members)
    ]


def fit_baseline(X: ArrayLike, y: ArrayLike, config: BaselineConfig) -> BaselineModel:
    """Fit a descriptor baseline.

    Parameters
    ----------
    X : array_like
        (n_hops, n_descriptors) training descriptors (NaN allowed).
    y : array_like
        (n_hops,) barriers, eV.
    config : BaselineConfig
        Kind and hyperparameters.

    Returns
    -------
    BaselineModel
        The fitted model, for :func:`predict_baseline`.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).reshape(-1)
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"X must be (n, d) with n = len(y) = {len(y)}, got {X.shape}")
    if not np.isfinite(y).all():
        raise ValueError("y holds NaN or infinite barriers")
    with np.errstate(all="ignore"):
        medians = np.nanmedian(np.where(np.isnan(X).all(axis=0), 0.0, X), axis=0)
    model = BaselineModel(config=config, fill_values=medians, estimators=())
    filled = model._fill(X)
    estimators = _estimators(config)
    for est in estimators:
        est.fit(filled, y)  # type: ignore[attr-defined]
    return BaselineModel(config=config, fill_values=medians, estimators=tuple(estimators))


def predict_baseline(model: BaselineModel, X: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Predict barriers and their spread.

    Parameters
    ----------
    model : BaselineModel
        From :func:`fit_baseline`.
    X : array_like
        (n_hops, n_descriptors) descriptors, same columns as in training.

    Returns
    -------
    barrier_ev : numpy.ndarray
        (n_hops,) predicted E_m, eV.
    sigma_ev : numpy.ndarray
        (n_hops,) ≥ 0: std of the forest's trees (rf) or of the seeded members (gbr), eV.
    """
    filled = model._fill(X)
    if model.config.kind == "rf":
        (forest,) = model.estimators
        per_tree = np.stack([tree.predict(filled) for tree in forest.estimators_])  # type: ignore[attr-defined]
        return per_tree.mean(axis=0), per_tree.std(axis=0)
    members = np.stack([est.predict(filled) for est in model.estimators])  # type: ignore[attr-defined]
    return members.mean(axis=0), members.std(axis=0)
