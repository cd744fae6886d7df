"""A physical baseline for a head to correct: BVSE barrier → E_m, one line per ion charge.

``ChgnetHeadConfig(baseline="bvse_ion")`` fits, for each working-ion charge (+1, +2, +3) with
at least :data:`MIN_HOPS_PER_CHARGE` training hops, a Huber-robust straight line from
asinh(``bvse_barrier_ev``) to the head's target (E_m or log(1 + E_m)); charges with fewer hops
share one line fitted on all hops, and a hop without a BVSE profile (``bvse_ok`` = 0) gets its
charge's mean target. The head's members then fit the residual, so the trees (or the MLP)
only learn what the bond-valence landscape misses, and a hop whose BVSE barrier lies beyond
the training range is extrapolated by the line rather than clamped by the trees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

MIN_HOPS_PER_CHARGE = 10
_BVSE = "bvse_barrier_ev"
_CHARGE = "phys_ion_charge"


@dataclass
class BvseBaseline:
    """Per-charge lines (intercept, slope) and per-charge means for hops without BVSE."""

    lines: dict[float, tuple[float, float]] = field(default_factory=dict)
    means: dict[float, float] = field(default_factory=dict)
    shared: tuple[float, float] = (0.0, 0.0)
    shared_mean: float = 0.0

    def predict(self, bvse: np.ndarray, charge: np.ndarray) -> np.ndarray:
        """Baseline target of each hop (same units as the target it was fitted on)."""
        out = np.empty(len(bvse))
        x = np.arcsinh(bvse)
        for i, (xi, q) in enumerate(zip(x, charge, strict=True)):
            if not np.isfinite(xi):
                out[i] = self.means.get(float(q), self.shared_mean)
                continue
            a, b = self.lines.get(float(q), self.shared)
            out[i] = a + b * xi
        return out


def baseline_columns(names: Sequence[str]) -> tuple[int, int]:
    """Indices of the BVSE barrier and ion-charge columns; ValueError when one is missing."""
    missing = [c for c in (_BVSE, _CHARGE) if c not in names]
    if missing:
        raise ValueError(f"the bvse_ion baseline needs the physics columns {missing}")
    return list(names).index(_BVSE), list(names).index(_CHARGE)


def _huber_line(x: np.ndarray, z: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import HuberRegressor  # optional heavy dependency: scikit-learn

    fit = HuberRegressor().fit(x[:, None], z)
    return float(fit.intercept_), float(fit.coef_[0])


def fit_bvse_baseline(bvse: np.ndarray, charge: np.ndarray, z: np.ndarray) -> BvseBaseline:
    """Fit the per-charge lines of asinh(BVSE barrier) → target (see the module docstring)."""
    x = np.arcsinh(np.asarray(bvse, dtype=float))
    charge = np.asarray(charge, dtype=float)
    ok = np.isfinite(x)
    base = BvseBaseline(shared=_huber_line(x[ok], z[ok]), shared_mean=float(z.mean()))
    for q in np.unique(charge):
        mask = charge == q
        base.means[float(q)] = float(z[mask].mean())
        if (mask & ok).sum() >= MIN_HOPS_PER_CHARGE:
            base.lines[float(q)] = _huber_line(x[mask & ok], z[mask & ok])
    return base
