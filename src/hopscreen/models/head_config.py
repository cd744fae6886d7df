"""Recipe of a regression head on the CHGNet hop vector and its target transform.

Shared by the model folder (:mod:`hopscreen.models.chgnet_bundle`), inference and training, so
it lives with the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field

from hopscreen.schemas.base import Config

HeadKind = Literal["mlp", "ridge", "gbr", "rf", "hgb"]


class ChgnetHeadConfig(Config):
    """Recipe of a head on the CHGNet hop vector (fields unused by a kind are ignored)."""

    kind: HeadKind = Field("mlp", description="Regressor family.")
    blocks: tuple[str, ...] | None = Field(
        None, description="Feature-name prefixes to keep (e.g. ('ion_', 'e_')); None = all."
    )
    target_transform: Literal["none", "log1p"] = Field(
        "none", description="Fit log(1 + E_m) instead of E_m (eV); predictions are mapped back."
    )
    ensemble_size: int = Field(5, ge=1, description="Members (seeds seed, seed+1, …).")
    seed: int = Field(0, description="Seed of the first member.")
    hidden: tuple[int, ...] = Field((128, 64), description="mlp: hidden widths.")
    dropout: float = Field(0.1, ge=0, lt=1, description="mlp: dropout probability.")
    epochs: int = Field(300, ge=1, description="mlp: passes over the training rows.")
    batch_size: int = Field(64, ge=1, description="mlp: rows per step.")
    lr: float = Field(1e-3, gt=0, description="mlp: AdamW learning rate.")
    weight_decay: float = Field(1e-2, ge=0, description="mlp: AdamW weight decay.")
    alpha: float = Field(10.0, gt=0, description="ridge: L2 strength.")
    n_estimators: int = Field(300, ge=1, description="gbr/rf: trees.")
    max_depth: int | None = Field(3, description="gbr/rf: tree depth (None = unlimited).")
    learning_rate: float = Field(0.05, gt=0, description="gbr: shrinkage.")
    subsample: float = Field(0.8, gt=0, le=1, description="gbr: row fraction per tree.")
    max_features: float = Field(0.3, gt=0, le=1, description="gbr/rf: column fraction per split.")
    min_samples_leaf: int = Field(3, ge=1, description="gbr/rf/hgb: rows per leaf.")
    monotone: dict[str, int] = Field(
        default_factory=dict,
        description="hgb: column-name prefix -> +1 (target rises with it) or -1 (falls).",
    )
    baseline: Literal["none", "bvse_ion"] = Field(
        "none",
        description="Fit the members on the residual of a per-ion-charge line from "
        "asinh(BVSE barrier) to the target (hopscreen.training.baseline); needs the physics "
        "columns.",
    )


def select_columns(names: Sequence[str], blocks: Sequence[str] | None) -> np.ndarray:
    """Indices of the columns whose name starts with one of ``blocks`` (all if None)."""
    if blocks is None:
        return np.arange(len(names))
    idx = np.array([i for i, n in enumerate(names) if n.startswith(tuple(blocks))], dtype=int)
    if idx.size == 0:
        raise ValueError(f"no feature column starts with any of {list(blocks)}")
    return idx


def forward_target(y: np.ndarray, how: str) -> np.ndarray:
    """A head's target values from barriers (eV) (``how`` is ``target_transform``)."""
    return np.log1p(np.clip(y, -0.99, None)) if how == "log1p" else y


def inverse_target(z: np.ndarray, how: str) -> np.ndarray:
    """Barriers (eV) from a head's target values (``how`` is ``target_transform``)."""
    return np.expm1(z) if how == "log1p" else z
