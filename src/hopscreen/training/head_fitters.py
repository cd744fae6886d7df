"""The regressors behind a head's members: one fit function per ``ChgnetHeadConfig.kind``.

Each takes the prepared (filled, and for ``mlp``/``ridge`` standardised) inputs and the
target, and returns a fitted member; :mod:`hopscreen.training.chgnet_head` builds and applies
the heads.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from hopscreen.models.head_config import ChgnetHeadConfig


def fit_mlp(x: np.ndarray, z: np.ndarray, cfg: ChgnetHeadConfig, seed: int) -> Any:
    """An MLP (SiLU, dropout) trained with L1 loss, AdamW and a one-cycle schedule."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    width = x.shape[1]
    for h in cfg.hidden:
        layers += [nn.Linear(width, h), nn.SiLU(), nn.Dropout(cfg.dropout)]
        width = h
    layers.append(nn.Linear(width, 1))
    net = nn.Sequential(*layers).double()
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = -(-len(x) // cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=cfg.lr, total_steps=cfg.epochs * steps_per_epoch, pct_start=0.3
    )
    xt, zt = torch.from_numpy(x), torch.from_numpy(z).unsqueeze(1)
    gen = torch.Generator().manual_seed(seed)
    net.train()
    for _ in range(cfg.epochs):
        perm = torch.randperm(len(xt), generator=gen)
        for start in range(0, len(xt), cfg.batch_size):
            batch = perm[start : start + cfg.batch_size]
            opt.zero_grad()
            loss = torch.nn.functional.l1_loss(net(xt[batch]), zt[batch])
            loss.backward()
            opt.step()
            sched.step()
    net.eval()
    return net


def predict_mlp(net: Any, x: np.ndarray) -> np.ndarray:
    """The MLP's outputs for prepared inputs (no gradients)."""
    with torch.no_grad():
        return net(torch.from_numpy(x)).squeeze(1).numpy()


def fit_hgb(x: np.ndarray, z: np.ndarray, cfg: ChgnetHeadConfig, seed: int, cst: Any) -> Any:
    """Histogram gradient boosting with monotone constraints ``cst`` (one sign per column)."""
    from sklearn.ensemble import (  # optional heavy dependency: scikit-learn
        HistGradientBoostingRegressor,
    )

    # squared error: the absolute-error loss re-fits leaf values after growth, which can
    # break the monotone constraints
    model = HistGradientBoostingRegressor(
        loss="squared_error",
        max_iter=cfg.n_estimators,
        learning_rate=cfg.learning_rate,
        max_depth=cfg.max_depth,
        min_samples_leaf=cfg.min_samples_leaf,
        max_features=cfg.max_features,
        l2_regularization=1.0,
        monotonic_cst=cst,
        random_state=seed,
    )
    return model.fit(x, z)


def fit_sklearn(x: np.ndarray, z: np.ndarray, cfg: ChgnetHeadConfig, seed: int) -> Any:
    """A ridge, gradient-boosting (Huber) or random-forest member, seeded."""
    if cfg.kind == "ridge":
        from sklearn.linear_model import Ridge  # optional heavy dependency: scikit-learn

        return Ridge(alpha=cfg.alpha).fit(x, z)
    if cfg.kind == "gbr":
        from sklearn.ensemble import (  # optional heavy dependency: scikit-learn
            GradientBoostingRegressor,
        )

        model = GradientBoostingRegressor(
            loss="huber",
            n_estimators=cfg.n_estimators,
            max_depth=cfg.max_depth,
            learning_rate=cfg.learning_rate,
            subsample=cfg.subsample,
            max_features=cfg.max_features,
            min_samples_leaf=cfg.min_samples_leaf,
            random_state=seed,
        )
        return model.fit(x, z)
    from sklearn.ensemble import RandomForestRegressor  # optional heavy dependency: scikit-learn

    model = RandomForestRegressor(
        n_estimators=cfg.n_estimators,
        max_depth=cfg.max_depth,
        max_features=cfg.max_features,
        min_samples_leaf=cfg.min_samples_leaf,
        random_state=seed,
        n_jobs=1,
    )
    return model.fit(x, z)
