"""What verified hops of a host say about its other hops: shrunken per-host offsets.

A model that has never seen a host misses all of its hops in a correlated way (same framework,
same chemistry): on the 559 training hops about a fifth of the variance of the host-grouped
out-of-fold residual of ``physics-bvse-gbr`` (in log(1 + E_m)) lies between hosts. Once some of
a host's hops are verified, their residuals estimate that host's offset, and the host's
unverified hops can be corrected by it. The estimate is an empirical-Bayes random intercept:

* residuals ``r = log(1 + y) − log(1 + ŷ)`` of held-out (out-of-fold, host-grouped)
  predictions, so that a residual shows how the model misses a host it has not seen;
* within-host variance ``s²`` pooled over the hosts with two or more residuals, between-host
  variance ``τ² = max(var(r) − s², τ²_min)``;
* a host with ``n`` residuals of mean ``r̄`` gets the offset ``r̄ · n τ² / (n τ² + s²)``,
  shrunk towards zero for hosts with few or noisy verifications.

:func:`apply_offsets` moves a prediction by its host's offset in log(1 + E_m).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

TAU2_MIN = 1e-4
"""Floor of the between-host variance (log(1 + eV)²): offsets never vanish entirely."""


def log_residuals(y_ev: np.ndarray, pred_ev: np.ndarray) -> np.ndarray:
    """``log(1 + y) − log(1 + max(ŷ, 0))`` per hop."""
    return np.log1p(np.asarray(y_ev, float)) - np.log1p(
        np.clip(np.asarray(pred_ev, float), 0, None)
    )


def host_offsets(groups: Sequence[str], residuals: np.ndarray) -> dict[str, float]:
    """Shrunken per-host offsets (log(1 + eV)) from held-out residuals (module docstring).

    Parameters
    ----------
    groups
        Host key of each residual.
    residuals
        (n,) held-out residuals in log(1 + E_m) (:func:`log_residuals`); NaNs are ignored.

    Returns
    -------
    dict of str to float
        Offset per host with at least one finite residual; empty when fewer than two hosts
        have residuals (no between-host variance can be told apart).
    """
    by_host: dict[str, list[float]] = defaultdict(list)
    for g, r in zip(groups, np.asarray(residuals, float), strict=True):
        if np.isfinite(r):
            by_host[g].append(float(r))
    if len(by_host) < 2:
        return {}
    values = np.concatenate([np.asarray(v) for v in by_host.values()])
    deviations = [np.asarray(v) - np.mean(v) for v in by_host.values() if len(v) > 1]
    dof = sum(len(d) - 1 for d in deviations)
    s2 = float(sum((d**2).sum() for d in deviations) / dof) if dof > 0 else float(values.var())
    tau2 = max(float(values.var()) - s2, TAU2_MIN)
    return {g: float(np.mean(v)) * len(v) * tau2 / (len(v) * tau2 + s2) for g, v in by_host.items()}


def apply_offsets(
    pred_ev: np.ndarray, groups: Sequence[str], offsets: Mapping[str, float]
) -> np.ndarray:
    """Predictions (eV) moved by their host's offset in log(1 + E_m); other hosts unchanged.

    ``pred_ev`` may be (n,) or (members, n); every member moves by the same offset.
    """
    pred = np.asarray(pred_ev, float)
    shift = np.array([offsets.get(g, 0.0) for g in groups], dtype=float)
    moved = np.expm1(np.log1p(np.clip(pred, 0, None)) + shift)
    return np.where(shift != 0.0, moved, pred)
