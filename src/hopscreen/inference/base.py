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
    """One predicted barrier: ensemble mean and standard deviation in eV."""

    barrier_ev: float
    sigma_ev: float
    member_barriers_ev: tuple[float, ...]

    @classmethod
    def from_members(cls, barriers_ev: np.ndarray) -> Prediction:
        """Mean and sample standard deviation (0 for one member) of the members' barriers (eV)."""
        col = np.asarray(barriers_ev, dtype=float)
        sigma = float(col.std(ddof=1)) if len(col) > 1 else 0.0
        return cls(
            barrier_ev=float(col.mean()), sigma_ev=sigma, member_barriers_ev=tuple(col.tolist())
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
