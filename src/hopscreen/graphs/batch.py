"""Collation of many crystal graphs into one batch, and the line graph of a batch, in torch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import torch

from hopscreen.graphs.build import CrystalGraph
from hopscreen.graphs.features import feature_table

N_MARKED_COPIES = 5  # the five migrating-ion copies at the start of a band


@dataclass
class GraphBatch:
    """Many graphs as one disconnected graph, with its line graph.

    Attributes
    ----------
    atom_features : torch.Tensor
        (N, F) float node inputs (92 CGCNN features, +1 ion-copy marker when enabled).
    edge_src, edge_dst : torch.Tensor
        (E,) long indices of directed bonds.
    edge_length : torch.Tensor
        (E,) bond lengths in Å.
    lg_src, lg_dst : torch.Tensor
        (T,) long indices of line-graph edges (bond i→j followed by bond j→k).
    angle_cos : torch.Tensor
        (T,) cosine of the angle i–j–k.
    node_graph : torch.Tensor
        (N,) index of the graph each atom belongs to.
    n_graphs : int
        Number of graphs in the batch.

    """

    atom_features: torch.Tensor
    edge_src: torch.Tensor
    edge_dst: torch.Tensor
    edge_length: torch.Tensor
    lg_src: torch.Tensor
    lg_dst: torch.Tensor
    angle_cos: torch.Tensor
    node_graph: torch.Tensor
    n_graphs: int

    def to(self, device: torch.device | str) -> GraphBatch:
        """Move every tensor to ``device``."""
        values = {}
        for f in fields(self):
            v = getattr(self, f.name)
            values[f.name] = v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v
        return GraphBatch(**values)


def line_graph(
    src: torch.Tensor, dst: torch.Tensor, n_nodes: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Line graph of a directed graph: an edge e=(i→j) connects to every f=(j→k).

    Backtracking pairs (k = i, same image) are included, as in ALIGNN's DGL line graph.
    Fully vectorised; runs on whatever device ``src`` lives on.
    """
    n_edges = src.numel()
    order = torch.argsort(src, stable=True)
    counts = torch.bincount(src, minlength=n_nodes)
    starts = torch.cumsum(counts, 0) - counts
    n_partner = counts[dst]
    lg_src = torch.repeat_interleave(torch.arange(n_edges, device=src.device), n_partner)
    group_start = torch.cumsum(n_partner, 0) - n_partner
    offset = torch.arange(lg_src.numel(), device=src.device) - group_start[lg_src]
    lg_dst = order[starts[dst[lg_src]] + offset]
    return lg_src, lg_dst


def collate(
    graphs: Sequence[CrystalGraph],
    *,
    mark_ion_copies: bool = False,
    with_line_graph: bool = True,
    device: torch.device | str = "cpu",
) -> GraphBatch:
    """Concatenate graphs into a :class:`GraphBatch` built on ``device``.

    Parameters
    ----------
    graphs
        Crystal graphs (bands, hosts or bulk crystals).
    mark_ion_copies
        Append a node feature that is 1 for the first five atoms of each graph (the migrating-ion
        copies of a band) and 0 elsewhere. Off in the ``paper`` preset.
    with_line_graph
        Build the line graph and bond angles; models without ALIGNN layers do not read them,
        and they are then left empty.
    device
        Where the batch (and its line graph) is built.

    """
    if not graphs:
        raise ValueError("cannot collate an empty list of graphs")
    n_atoms = np.array([g.n_atoms for g in graphs])
    atom_offset = np.concatenate([[0], np.cumsum(n_atoms)[:-1]])
    numbers = np.concatenate([g.numbers for g in graphs]).astype(np.int64)
    src = np.concatenate(
        [g.src.astype(np.int64) + o for g, o in zip(graphs, atom_offset, strict=True)]
    )
    dst = np.concatenate(
        [g.dst.astype(np.int64) + o for g, o in zip(graphs, atom_offset, strict=True)]
    )
    vec = np.concatenate([g.vec for g in graphs]).astype(np.float32)
    node_graph = np.repeat(np.arange(len(graphs)), n_atoms)

    dev = torch.device(device)
    table = torch.from_numpy(feature_table()).to(dev)
    z = torch.from_numpy(numbers).to(dev)
    feats = table[z]
    if mark_ion_copies:
        local_index = torch.from_numpy(
            np.arange(len(numbers)) - np.repeat(atom_offset, n_atoms)
        ).to(dev)
        marker = (local_index < N_MARKED_COPIES).to(feats.dtype).unsqueeze(1)
        feats = torch.cat([feats, marker], dim=1)
    src_t = torch.from_numpy(src).to(dev)
    dst_t = torch.from_numpy(dst).to(dev)
    vec_t = torch.from_numpy(vec).to(dev)
    length = torch.linalg.norm(vec_t, dim=1)
    if with_line_graph:
        lg_src, lg_dst = line_graph(src_t, dst_t, len(numbers))
        # angle at atom j between bonds j→i (= −vec[e]) and j→k (= vec[f])
        r1 = -vec_t[lg_src]
        r2 = vec_t[lg_dst]
        cos = (r1 * r2).sum(1) / (torch.linalg.norm(r1, dim=1) * torch.linalg.norm(r2, dim=1))
        cos = torch.clamp(cos, -1.0, 1.0)
    else:
        lg_src = lg_dst = torch.zeros(0, dtype=torch.long, device=dev)
        cos = torch.zeros(0, dtype=vec_t.dtype, device=dev)
    return GraphBatch(
        atom_features=feats,
        edge_src=src_t,
        edge_dst=dst_t,
        edge_length=length,
        lg_src=lg_src,
        lg_dst=lg_dst,
        angle_cos=cos,
        node_graph=torch.from_numpy(node_graph).to(dev),
        n_graphs=len(graphs),
    )
