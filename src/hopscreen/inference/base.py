"""What every barrier model gives: one :class:`Prediction` per band, behind one protocol.

Every model kind (the ALIGNN ensemble of :mod:`hopscreen.inference.alignn`, the CHGNet-feature
head of :mod:`hopscreen.inference.chgnet_head`) implements :class:`BarrierModel`;
:func:`hopscreen.inference.load.load_model` is the only place that knows which kinds exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from hopscreen.schemas.structure import Crystal


@dataclass(frozen=True)
class Prediction:
    """One predicted barrier, eV.

    Attributes
    ----------
    barrier_ev : float
        Ensemble mean of the members' barriers.
    sigma_ev : float
        Ensemble spread σ_ens: the members' sample standard deviation (how much the seeds
        disagree, not the expected error; for a tree head it is far narrower than the error
        on unseen hosts).
    member_barriers_ev : tuple of float
        Each member's barrier.
    interval_68_ev, interval_90_ev : float or None
        Half-widths of the calibrated 68 % and 90 % intervals ``barrier_ev ± half-width``
        (normalised split conformal, :mod:`hopscreen.models.calibration`); None when the
        model carries no calibration.
    """

    barrier_ev: float
    sigma_ev: float
    member_barriers_ev: tuple[float, ...]
    interval_68_ev: float | None = None
    interval_90_ev: float | None = None

    @classmethod
    def from_members(
        cls,
        barriers_ev: np.ndarray,
        *,
        interval_68_ev: float | None = None,
        interval_90_ev: float | None = None,
    ) -> Prediction:
        """Mean and sample standard deviation (0 for one member) of the members' barriers (eV).

        The interval half-widths (eV) are passed through unchanged.
        """
        col = np.asarray(barriers_ev, dtype=float)
        sigma = float(col.std(ddof=1)) if len(col) > 1 else 0.0
        return cls(
            barrier_ev=float(col.mean()),
            sigma_ev=sigma,
            member_barriers_ev=tuple(col.tolist()),
            interval_68_ev=interval_68_ev,
            interval_90_ev=interval_90_ev,
        )


@runtime_checkable
class BarrierModel(Protocol):
    """A loaded model folder that predicts E_m ± σ for Model-3 bands.

    Attributes
    ----------
    card
        The folder's validated model card (its kind's pydantic document).
    model_version : str
        The card's content-derived version id.
    """

    card: Any

    @property
    def model_version(self) -> str:
        """The card's content-derived version id."""
        ...

    def predict(
        self, bands: Iterable[Crystal], *, batch_size: int = 32, chunk_size: int = 256
    ) -> Iterator[Prediction]:
        """One :class:`Prediction` per band, in input order, streaming in chunks."""
        ...
