"""Predictions for hop documents and their bands (the screening stage's entry point)."""

from __future__ import annotations

from collections.abc import Sequence

from hopscreen.inference.base import BarrierModel
from hopscreen.inference.predict import predict
from hopscreen.schemas.hop import HopDoc
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.schemas.structure import Crystal


def predict_hops(
    hops: Sequence[HopDoc],
    bands: Sequence[Crystal],
    *,
    model: BarrierModel,
    batch_size: int = 32,
) -> list[PredictionDoc]:
    """Predict E_m for each hop from its band; one :class:`PredictionDoc` per hop, in order.

    Parameters
    ----------
    hops
        Hop documents (from :func:`hopscreen.hops.hops_for_structure`).
    bands
        The Model-3 band of each hop, same order.
    model
        A loaded ensemble; its ``model_version`` is written into every document.
    batch_size
        Bands per forward pass.
    """
    if len(hops) != len(bands):
        raise ValueError(f"{len(hops)} hops but {len(bands)} bands")
    docs = []
    for hop, pred in zip(hops, predict(bands, model=model, batch_size=batch_size), strict=True):
        docs.append(
            PredictionDoc(
                hop_id=hop.hop_id,
                candidate_id=hop.candidate_id,
                candidate_name=hop.candidate_name,
                working_ion=hop.working_ion,
                model_version=model.model_version,
                barrier_ev=pred.barrier_ev,
                sigma_ev=pred.sigma_ev,
                interval_68_ev=pred.interval_68_ev,
                interval_90_ev=pred.interval_90_ev,
                member_barriers_ev=list(pred.member_barriers_ev),
                length_angstrom=hop.length_angstrom,
            )
        )
    return docs
