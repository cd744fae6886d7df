"""The paper's other input encodings on the same ALIGNN backbone (Models 1, 2 and 4).

Devi, Butler & Sai Gautam compare four ways of showing a hop to the network; Model-3 (the band
as one graph) is :class:`~hopscreen.models.alignn.ALIGNN` itself. The others:

* **Model 1** reads the initial and the final structure separately through one shared backbone
  and combines the two pooled vectors by concatenation, sum or difference.
* **Model 2** reads the initial structure and the difference initial − final of the pooled
  vectors (the two concatenated).
* **Model 4** reads the band, like Model 3, and adds an attention-weighted pooling over the
  migrating ion's local subgraph (the five ion copies and, for each copy, its at most six
  nearest host atoms within 3 Å), concatenated with the average over all atoms.

Here the initial and final structures are cut from the band (host + ion copy 0, host + ion
copy 4), i.e. unrelaxed endpoints at the band's geometry; the paper used relaxed endpoints
(for the published bands the two coincide except for 10 test hops whose endpoints were relaxed
separately, see :func:`hopscreen.data.em_dataset.endpoint_atoms`).
Every variant keeps ``backbone`` as an :class:`~hopscreen.models.alignn.ALIGNNBackbone`, so the
pre-trained backbone loads into each the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from hopscreen.data.em_dataset import endpoint_atoms
from hopscreen.graphs.batch import N_MARKED_COPIES, GraphBatch, collate
from hopscreen.graphs.build import CrystalGraph
from hopscreen.models.alignn import (
    ALIGNN,
    ALIGNNBackbone,
    ALIGNNConfig,
    Head,
    mean_pool,
    scatter_sum,
)
from hopscreen.schemas.structure import Crystal

Combine = Literal["concat", "add", "subtract", "delta"]
VariantName = Literal[
    "model1-concat", "model1-add", "model1-subtract", "model2", "model3", "model4"
]
VARIANTS: tuple[VariantName, ...] = (
    "model1-concat",
    "model1-add",
    "model1-subtract",
    "model2",
    "model3",
    "model4",
)
LOCAL_CUTOFF_ANGSTROM = 3.0
LOCAL_NEIGHBORS = 6


def endpoints_from_band(band: Crystal) -> tuple[Crystal, Crystal]:
    """Initial (host + ion copy 0) and final (host + ion copy 4) structures of a band."""
    if len(band) <= N_MARKED_COPIES:
        raise ValueError(f"a band has 5 ion copies plus a host; got {len(band)} atoms")
    return endpoint_atoms(band, "initial"), endpoint_atoms(band, "final")


@dataclass
class PairBatch:
    """Initial and final structures of the same hops, batched separately."""

    initial: GraphBatch
    final: GraphBatch


class PairedALIGNN(nn.Module):
    """Models 1 and 2: one shared backbone over the initial and final structures.

    Samples are ``(initial_graph, final_graph)`` pairs. ``combine`` is ``concat``, ``add``,
    ``subtract`` (Model 1) or ``delta`` (Model 2: initial concatenated with initial − final).
    """

    def __init__(self, config: ALIGNNConfig, combine: Combine) -> None:
        super().__init__()
        if combine not in ("concat", "add", "subtract", "delta"):
            raise ValueError(f"unknown combination {combine!r}")
        self.config = config
        self.combine = combine
        self.backbone = ALIGNNBackbone(config)
        width = config.hidden_features * (2 if combine in ("concat", "delta") else 1)
        self.heads = nn.ModuleList([Head(width, config.head_hidden)])

    def collate(
        self,
        samples: Sequence[tuple[CrystalGraph, CrystalGraph]],
        *,
        mark_ion_copies: bool,
        device: torch.device | str,
    ) -> PairBatch:
        """Batch the initial and the final graphs of ``samples`` (no ion-copy marker)."""
        if mark_ion_copies:
            raise ValueError("paired models read endpoint structures: no ion copies to mark")
        lg = self.config.uses_line_graph
        return PairBatch(
            initial=collate([s[0] for s in samples], with_line_graph=lg, device=device),
            final=collate([s[1] for s in samples], with_line_graph=lg, device=device),
        )

    def forward(self, batch: PairBatch) -> torch.Tensor:  # noqa: D102
        a = self.backbone(batch.initial)
        b = self.backbone(batch.final)
        if self.combine == "concat":
            h = torch.cat([a, b], dim=1)
        elif self.combine == "add":
            h = a + b
        elif self.combine == "subtract":
            h = a - b
        else:
            h = torch.cat([a, a - b], dim=1)
        return self.heads[0](h).unsqueeze(1)


@dataclass
class LocalBatch:
    """A band batch plus the atoms of each band's local subgraph around the migrating ion."""

    graphs: GraphBatch
    local_nodes: torch.Tensor
    local_graph: torch.Tensor


def local_subgraph(
    graph: CrystalGraph,
    *,
    cutoff_angstrom: float = LOCAL_CUTOFF_ANGSTROM,
    max_neighbors: int = LOCAL_NEIGHBORS,
) -> np.ndarray:
    """Atom indices of a band's local subgraph: the ion copies and their nearest host atoms.

    For each of the five ion copies, its at most ``max_neighbors`` nearest host atoms (index
    ≥ 5) within ``cutoff_angstrom`` along the graph's edges are kept; the result is sorted and
    unique.
    """
    src = graph.src.astype(np.int64)
    dst = graph.dst.astype(np.int64)
    length = np.linalg.norm(graph.vec, axis=1)
    chosen = [np.arange(min(N_MARKED_COPIES, graph.n_atoms))]
    for copy in range(min(N_MARKED_COPIES, graph.n_atoms)):
        mask = (src == copy) & (dst >= N_MARKED_COPIES) & (length <= cutoff_angstrom)
        order = np.argsort(length[mask], kind="stable")[:max_neighbors]
        chosen.append(dst[mask][order])
    return np.unique(np.concatenate(chosen))


class LocalAttentionALIGNN(nn.Module):
    """Model 4: the band graph, pooled over all atoms and by attention over the ion's locale."""

    def __init__(self, config: ALIGNNConfig) -> None:
        super().__init__()
        self.config = config
        self.backbone = ALIGNNBackbone(config)
        self.attention = nn.Linear(config.hidden_features, 1)
        self.heads = nn.ModuleList([Head(2 * config.hidden_features, config.head_hidden)])

    def collate(
        self,
        samples: Sequence[CrystalGraph],
        *,
        mark_ion_copies: bool,
        device: torch.device | str,
    ) -> LocalBatch:
        """Batch band graphs and index their local subgraphs."""
        batch = collate(
            samples,
            mark_ion_copies=mark_ion_copies,
            with_line_graph=self.config.uses_line_graph,
            device=device,
        )
        offsets = np.concatenate([[0], np.cumsum([g.n_atoms for g in samples])[:-1]])
        nodes, owner = [], []
        for i, (g, off) in enumerate(zip(samples, offsets, strict=True)):
            local = local_subgraph(g)
            nodes.append(local + off)
            owner.append(np.full(len(local), i))
        return LocalBatch(
            graphs=batch,
            local_nodes=torch.from_numpy(np.concatenate(nodes)).to(device),
            local_graph=torch.from_numpy(np.concatenate(owner)).to(device),
        )

    def forward(self, batch: LocalBatch) -> torch.Tensor:  # noqa: D102
        g = batch.graphs
        x = self.backbone.node_features(g)
        pooled = mean_pool(x, g.node_graph, g.n_graphs)
        xl = x[batch.local_nodes]
        score = self.attention(xl).squeeze(1)
        # softmax within each graph's local subgraph (shifted by the per-graph maximum)
        top = torch.full((g.n_graphs,), -torch.inf, dtype=score.dtype, device=score.device)
        top = top.scatter_reduce(0, batch.local_graph, score, reduce="amax")
        weight = torch.exp(score - top[batch.local_graph])
        norm = scatter_sum(weight, batch.local_graph, g.n_graphs)
        weight = weight / norm[batch.local_graph]
        local = scatter_sum(weight.unsqueeze(1) * xl, batch.local_graph, g.n_graphs)
        return self.heads[0](torch.cat([pooled, local], dim=1)).unsqueeze(1)


def build_variant(name: VariantName, config: ALIGNNConfig) -> nn.Module:
    """A fresh one-head network for ``name`` (``model3`` is the plain band ALIGNN)."""
    config = config.model_copy(update={"n_heads": 1})
    if name == "model3":
        return ALIGNN(config)
    if name == "model4":
        return LocalAttentionALIGNN(config)
    if name == "model2":
        return PairedALIGNN(config, "delta")
    if name.startswith("model1-"):
        return PairedALIGNN(config, name.split("-", 1)[1])  # type: ignore[arg-type]
    raise ValueError(f"unknown model variant {name!r}; choose from {', '.join(VARIANTS)}")


def reads_endpoints(name: VariantName) -> bool:
    """Whether the variant reads (initial, final) structures instead of the band."""
    return name.startswith("model1-") or name == "model2"
