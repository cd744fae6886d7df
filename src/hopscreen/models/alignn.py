"""ALIGNN (Choudhary & DeCost, npj Comput. Mater. 7, 185, 2021) in plain PyTorch, no DGL.

Message passing alternates between the crystal graph (atoms, bonds) and its line graph (bonds,
bond angles). The backbone maps a :class:`~hopscreen.graphs.batch.GraphBatch` to one pooled
vector per graph; one or more heads map that vector to targets. The multi-head layout is the
"MPT" model of Devi et al. (npj Comput. Mater. 10, 300, 2024): a shared backbone pre-trained
with one head per property, then copied and fine-tuned with a fresh head.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

from hopscreen.graphs.batch import GraphBatch
from hopscreen.graphs.features import N_FEATURES
from hopscreen.schemas.base import Config


class ALIGNNConfig(Config):
    """Architecture of the network (the ``paper`` values by default)."""

    atom_input_features: int = N_FEATURES
    mark_ion_copies: bool = False
    hidden_features: int = 256
    embedding_features: int = 64
    edge_bins: int = 80
    angle_bins: int = 40
    cutoff_angstrom: float = 8.0
    alignn_layers: int = 4
    gcn_layers: int = 4
    norm: Literal["batch", "layer"] = "batch"
    head_hidden: tuple[int, ...] = (128, 128)
    n_heads: int = 1

    @property
    def uses_line_graph(self) -> bool:
        """Whether batches need the line graph (only ALIGNN layers read bond angles)."""
        return self.alignn_layers > 0

    @property
    def node_input_features(self) -> int:
        """Node input width: CGCNN features plus the optional ion-copy marker."""
        return self.atom_input_features + int(self.mark_ion_copies)


def scatter_sum(src: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    """Sum rows of ``src`` into ``size`` buckets given by ``index``."""
    out = torch.zeros((size, *src.shape[1:]), dtype=src.dtype, device=src.device)
    return out.index_add_(0, index, src)


def mean_pool(x: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    """Average rows of ``x`` per bucket of ``index`` (empty buckets give zeros)."""
    pooled = scatter_sum(x, index, size)
    counts = torch.bincount(index, minlength=size).clamp_min(1)
    return pooled / counts.unsqueeze(1).to(pooled.dtype)


def _norm(kind: str, width: int) -> nn.Module:
    return nn.BatchNorm1d(width) if kind == "batch" else nn.LayerNorm(width)


class MLPLayer(nn.Module):
    """Linear → norm → SiLU."""

    def __init__(self, in_features: int, out_features: int, norm: str = "batch") -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.norm = _norm(norm, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return F.silu(self.norm(self.linear(x)))


class RBFExpansion(nn.Module):
    """Gaussian radial basis expansion of a scalar on ``bins`` evenly spaced centres."""

    def __init__(self, vmin: float, vmax: float, bins: int) -> None:
        super().__init__()
        self.register_buffer("centers", torch.linspace(vmin, vmax, bins))
        self.gamma = 1.0 / ((vmax - vmin) / (bins - 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return torch.exp(-self.gamma * (x.unsqueeze(1) - self.centers) ** 2)


class EdgeGatedGraphConv(nn.Module):
    """Edge-gated graph convolution (Bresson & Laurent 2017, as used in ALIGNN), with residual.

    Node j is updated from its incoming edges i→j, each gated by sigmoid of the edge message.
    """

    def __init__(self, features: int, norm: str = "batch") -> None:
        super().__init__()
        self.src_gate = nn.Linear(features, features)
        self.dst_gate = nn.Linear(features, features)
        self.edge_gate = nn.Linear(features, features)
        self.src_update = nn.Linear(features, features)
        self.dst_update = nn.Linear(features, features)
        self.norm_edges = _norm(norm, features)
        self.norm_nodes = _norm(norm, features)

    def forward(
        self, src: torch.Tensor, dst: torch.Tensor, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Update node features ``x`` (N, H) and edge features ``y`` (E, H)."""
        m = self.src_gate(x)[src] + self.dst_gate(x)[dst] + self.edge_gate(y)
        sigma = torch.sigmoid(m)
        n = x.shape[0]
        numerator = scatter_sum(self.dst_update(x)[src] * sigma, dst, n)
        denominator = scatter_sum(sigma, dst, n)
        h = numerator / (denominator + 1e-6)
        x_new = F.silu(self.norm_nodes(self.src_update(x) + h))
        y_new = F.silu(self.norm_edges(m))
        return x + x_new, y + y_new


class ALIGNNLayer(nn.Module):
    """One ALIGNN update: edge-gated conv on the crystal graph, then on the line graph."""

    def __init__(self, features: int, norm: str = "batch") -> None:
        super().__init__()
        self.node_update = EdgeGatedGraphConv(features, norm)
        self.edge_update = EdgeGatedGraphConv(features, norm)

    def forward(
        self, batch: GraphBatch, x: torch.Tensor, y: torch.Tensor, z: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Update atom ``x``, bond ``y`` and angle ``z`` features."""
        x, m = self.node_update(batch.edge_src, batch.edge_dst, x, y)
        y, z = self.edge_update(batch.lg_src, batch.lg_dst, m, z)
        return x, y, z


class Head(nn.Module):
    """Readout MLP: hidden → head_hidden… (SiLU) → 1."""

    def __init__(self, in_features: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.SiLU()]
            width = h
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.mlp(x).squeeze(-1)


class ALIGNNBackbone(nn.Module):
    """Embeddings + ALIGNN layers + edge-gated layers + average pooling."""

    def __init__(self, config: ALIGNNConfig) -> None:
        super().__init__()
        c = config
        h, e = c.hidden_features, c.embedding_features
        self.atom_embedding = MLPLayer(c.node_input_features, h, c.norm)
        self.edge_embedding = nn.Sequential(
            RBFExpansion(0.0, c.cutoff_angstrom, c.edge_bins),
            MLPLayer(c.edge_bins, e, c.norm),
            MLPLayer(e, h, c.norm),
        )
        self.angle_embedding = (
            nn.Sequential(
                RBFExpansion(-1.0, 1.0, c.angle_bins),
                MLPLayer(c.angle_bins, e, c.norm),
                MLPLayer(e, h, c.norm),
            )
            if c.uses_line_graph
            else None
        )
        self.alignn_layers = nn.ModuleList([ALIGNNLayer(h, c.norm) for _ in range(c.alignn_layers)])
        self.gcn_layers = nn.ModuleList(
            [EdgeGatedGraphConv(h, c.norm) for _ in range(c.gcn_layers)]
        )

    def node_features(self, batch: GraphBatch) -> torch.Tensor:
        """Atom representations (N, hidden) after all message-passing layers."""
        x = self.atom_embedding(batch.atom_features)
        y = self.edge_embedding(batch.edge_length)
        z = self.angle_embedding(batch.angle_cos) if self.angle_embedding is not None else None
        for layer in self.alignn_layers:
            x, y, z = layer(batch, x, y, z)
        for layer in self.gcn_layers:
            x, y = layer(batch.edge_src, batch.edge_dst, x, y)
        return x

    def forward(self, batch: GraphBatch) -> torch.Tensor:
        """Pooled (n_graphs, hidden) representation of a batch (average over atoms)."""
        return mean_pool(self.node_features(batch), batch.node_graph, batch.n_graphs)


class ALIGNN(nn.Module):
    """Backbone with ``n_heads`` scalar heads; ``forward`` returns (n_graphs, n_heads)."""

    def __init__(self, config: ALIGNNConfig) -> None:
        super().__init__()
        self.config = config
        self.backbone = ALIGNNBackbone(config)
        self.heads = nn.ModuleList(
            [Head(config.hidden_features, config.head_hidden) for _ in range(config.n_heads)]
        )

    def forward(self, batch: GraphBatch) -> torch.Tensor:  # noqa: D102
        pooled = self.backbone(batch)
        return torch.stack([head(pooled) for head in self.heads], dim=1)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
