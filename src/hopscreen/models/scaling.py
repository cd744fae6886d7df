"""Min–max scaling of targets to [−1, 1], as in the paper."""

from __future__ import annotations

import numpy as np

from hopscreen.schemas.base import Config


class TargetScaler(Config):
    """t = 2 (y − min) / (max − min) − 1 and its inverse."""

    minimum: float
    maximum: float

    @classmethod
    def fit(cls, values: np.ndarray) -> TargetScaler:
        """Fit on the training targets (finite values only)."""
        v = np.asarray(values, dtype=np.float64)
        v = v[np.isfinite(v)]
        if v.size == 0:
            raise ValueError("no finite targets to fit a scaler on")
        lo, hi = float(v.min()), float(v.max())
        if hi - lo < 1e-12:
            hi = lo + 1.0
        return cls(minimum=lo, maximum=hi)

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Scale physical values to [−1, 1]."""
        return (
            2.0
            * (np.asarray(values, dtype=np.float64) - self.minimum)
            / (self.maximum - self.minimum)
            - 1.0
        )

    def inverse(self, scaled: np.ndarray) -> np.ndarray:
        """Map scaled values back to physical units."""
        return (np.asarray(scaled, dtype=np.float64) + 1.0) * 0.5 * (
            self.maximum - self.minimum
        ) + self.minimum
