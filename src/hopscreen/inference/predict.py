"""Batched barrier prediction with any :class:`~hopscreen.inference.base.BarrierModel`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from hopscreen.inference.base import BarrierModel, Prediction
from hopscreen.schemas.structure import Crystal


def predict(
    bands: Iterable[Crystal],
    *,
    model: BarrierModel,
    batch_size: int = 32,
    chunk_size: int = 256,
) -> Iterator[Prediction]:
    """Predict E_m for any number of bands, streaming in chunks (bounded memory).

    Parameters
    ----------
    bands
        Model-3 bands (five ion copies first), e.g. from :func:`hopscreen.hops.band.build_band`.
    model
        A loaded model (:func:`hopscreen.inference.load.load_model`).
    batch_size
        Bands per forward pass, for models that batch.
    chunk_size
        Bands whose graphs or features are held in memory at once.

    Yields
    ------
    Prediction
        One per band, in input order.

    """
    yield from model.predict(bands, batch_size=batch_size, chunk_size=chunk_size)
