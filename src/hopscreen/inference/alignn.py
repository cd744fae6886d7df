"""The ALIGNN Model-3 ensemble as a :class:`~hopscreen.inference.base.BarrierModel`.

Batched prediction (on the GPU when there is one): the members' mean is the barrier, their
spread σ.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from hopscreen.graphs.batch import collate
from hopscreen.graphs.build import CrystalGraph, build_graph
from hopscreen.inference.base import Prediction
from hopscreen.inference.device import resolve_device
from hopscreen.models.alignn import ALIGNN
from hopscreen.models.bundle import ModelCard, load_bundle
from hopscreen.schemas.structure import Crystal


@dataclass(frozen=True)
class AlignnModel:
    """A loaded ALIGNN ensemble with its card (model kind ``"alignn"``)."""

    card: ModelCard
    members: list[ALIGNN]
    device: torch.device

    @classmethod
    def load(cls, model_dir: Path | str, *, device: str | None = None) -> AlignnModel:
        """Load an ALIGNN model folder; ``device`` defaults to CUDA when available, else CPU."""
        dev = torch.device(resolve_device(device))
        card, members = load_bundle(Path(model_dir), device=dev)
        return cls(card=card, members=members, device=dev)

    @property
    def model_version(self) -> str:
        """The card's content-derived version id."""
        return self.card.model_version

    def predict(
        self, bands: Iterable[Crystal], *, batch_size: int = 32, chunk_size: int = 256
    ) -> Iterator[Prediction]:
        """Predict E_m for any number of bands, streaming in chunks (bounded memory).

        Parameters
        ----------
        bands
            Model-3 bands (five ion copies first), e.g. from
            :func:`hopscreen.hops.band.build_band`.
        batch_size
            Graphs per forward pass.
        chunk_size
            Graphs built and held in memory at once.

        Yields
        ------
        Prediction
            One per band, in input order.

        """
        iterator = iter(bands)
        while True:
            chunk = list(itertools.islice(iterator, chunk_size))
            if not chunk:
                return
            graphs = [build_graph(b, self.card.graph) for b in chunk]
            values = predict_graphs(graphs, self, batch_size=batch_size)
            for j in range(values.shape[1]):
                yield Prediction.from_members(values[:, j])


def predict_graphs(
    graphs: list[CrystalGraph], model: AlignnModel, *, batch_size: int = 32
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
