"""Batched barrier prediction with an ensemble: mean is the barrier, spread is σ."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from hopscreen.graphs.batch import collate
from hopscreen.graphs.build import CrystalGraph, build_graph
from hopscreen.models.alignn import ALIGNN
from hopscreen.models.bundle import ModelCard, load_bundle, model_kind
from hopscreen.schemas.structure import Crystal

if TYPE_CHECKING:
    from hopscreen.inference.chgnet_head import ChgnetHeadModel


@dataclass(frozen=True)
class BarrierModel:
    """A loaded ensemble with its card."""

    card: ModelCard
    members: list[ALIGNN]
    device: torch.device

    @classmethod
    def load(
        cls,
        model_dir: Path | str | None = None,
        *,
        device: str | None = None,
        feature_cache_dir: Path | str | None = None,
    ) -> BarrierModel | ChgnetHeadModel:
        """Load a model folder (the shipped default when ``model_dir`` is None).

        ``device`` defaults to CUDA when available, else CPU. A folder of kind
        ``"chgnet-head"`` gives a :class:`~hopscreen.inference.chgnet_head.ChgnetHeadModel`
        (same prediction interface; CHGNet runs on the CPU, ``device`` is ignored, and
        ``feature_cache_dir`` caches its hop vectors on disk).
        """
        from hopscreen.inference.device import resolve_device
        from hopscreen.models.shipped import default_model_dir

        folder = Path(model_dir) if model_dir else default_model_dir()
        if model_kind(folder) == "chgnet-head":
            from hopscreen.inference.chgnet_head import ChgnetHeadModel

            return ChgnetHeadModel.load(folder, feature_cache_dir=feature_cache_dir)
        dev = torch.device(resolve_device(device))
        card, members = load_bundle(folder, device=dev)
        return cls(card=card, members=members, device=dev)

    @property
    def model_version(self) -> str:
        """The card's content-derived version id."""
        return self.card.model_version


@dataclass(frozen=True)
class Prediction:
    """One predicted barrier: ensemble mean and standard deviation in eV."""

    barrier_ev: float
    sigma_ev: float
    member_barriers_ev: tuple[float, ...]


def predict_graphs(
    graphs: list[CrystalGraph], model: BarrierModel, *, batch_size: int = 32
) -> np.ndarray:
    """(n_members, n) barriers in eV for already-built graphs."""
    out = np.zeros((len(model.members), len(graphs)))
    mark = model.card.architecture.mark_ion_copies
    with torch.no_grad():
        for start in range(0, len(graphs), batch_size):
            batch = collate(
                graphs[start : start + batch_size],
                mark_ion_copies=mark,
                with_line_graph=model.card.architecture.uses_line_graph,
                device=model.device,
            )
            for m, member in enumerate(model.members):
                scaled = member(batch)[:, 0].double().cpu().numpy()
                out[m, start : start + len(scaled)] = model.card.scaler.inverse(scaled)
    return out


def predict(
    bands: Iterable[Crystal],
    *,
    model: BarrierModel | ChgnetHeadModel,
    batch_size: int = 32,
    chunk_size: int = 256,
) -> Iterator[Prediction]:
    """Predict E_m for any number of bands, streaming in chunks (bounded memory).

    Parameters
    ----------
    bands
        Model-3 bands (five ion copies first), e.g. from :func:`hopscreen.hops.band.build_band`.
    model
        A loaded :class:`BarrierModel` (or the chgnet-head model it loads, which predicts
        by itself; ``batch_size`` is then unused).
    batch_size
        Graphs per forward pass.
    chunk_size
        Graphs built and held in memory at once.

    Yields
    ------
    Prediction
        One per band, in input order.

    """
    if not isinstance(model, BarrierModel):
        yield from model.predict(bands, chunk_size=chunk_size)
        return
    iterator = iter(bands)
    while True:
        chunk = list(itertools.islice(iterator, chunk_size))
        if not chunk:
            return
        graphs = [build_graph(b, model.card.graph) for b in chunk]
        values = predict_graphs(graphs, model, batch_size=batch_size)
        for j in range(values.shape[1]):
            col = values[:, j]
            sigma = float(col.std(ddof=1)) if len(col) > 1 else 0.0
            yield Prediction(
                barrier_ev=float(col.mean()), sigma_ev=sigma, member_barriers_ev=tuple(col.tolist())
            )
