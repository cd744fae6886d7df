"""Periodic k-nearest-neighbour crystal graphs, as ALIGNN builds them, in plain numpy.

For every atom, all neighbours (periodic images included) within ``cutoff_angstrom`` are found;
if an atom has fewer than ``max_neighbors`` the cutoff is enlarged until all have enough. Each
atom keeps the neighbours up to and including its ``max_neighbors``-th nearest distance (ties
kept), and the edge set is made symmetric (i→j with image n implies j→i with image −n), which is
how ALIGNN's ``nearest_neighbor_edges`` + ``build_undirected_edgedata`` behave
(Choudhary & DeCost, npj Comput. Mater. 7, 185, 2021).

The graph stores only atoms and directed edges (source, destination, bond vector); the line
graph and the bond-angle cosines are built on the fly on the target device
(:func:`hopscreen.graphs.batch.line_graph`). No pymatgen here, so the builder also runs on
machines that only have numpy and torch.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from hopscreen.schemas.base import Config
from hopscreen.schemas.structure import Crystal


class GraphConfig(Config):
    """Settings of the crystal graph (the ``paper`` values by default)."""

    cutoff_angstrom: float = 8.0
    max_neighbors: int = 12
    tolerance_angstrom: float = 1e-4

    def key(self) -> str:
        """A short string identifying these settings in cache keys."""
        return f"knn{self.max_neighbors}-c{self.cutoff_angstrom:g}-t{self.tolerance_angstrom:g}"


@dataclass(frozen=True)
class CrystalGraph:
    """A directed, symmetric crystal graph.

    Attributes
    ----------
    numbers : numpy.ndarray
        (n,) int16 atomic numbers.
    src, dst : numpy.ndarray
        (E,) int32 source and destination atom of every directed edge.
    vec : numpy.ndarray
        (E, 3) float32 bond vector r_dst + image − r_src in Å.

    """

    numbers: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    vec: np.ndarray

    @property
    def n_atoms(self) -> int:
        """Number of atoms (graph nodes)."""
        return len(self.numbers)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return len(self.src)


def _image_range(lattice: np.ndarray, radius: float) -> list[np.ndarray]:
    """Integer translations along each axis needed to reach ``radius`` from anywhere in the cell."""
    inv = np.linalg.inv(lattice)
    # distance between opposite faces of the cell = 1 / |reciprocal vector|
    heights = 1.0 / np.linalg.norm(inv, axis=0)
    reach = np.ceil(radius / heights).astype(int)
    return [np.arange(-r, r + 1) for r in reach]


def _neighbors_within(atoms: Crystal, radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (i, j, image) with 0 < |r_j + image·L − r_i| ≤ radius, as flat arrays."""
    frac = np.mod(atoms.frac_coords, 1.0)
    cart = frac @ atoms.lattice
    ranges = _image_range(atoms.lattice, radius)
    images = np.array(list(itertools.product(*ranges)), dtype=np.float64)
    shifts = images @ atoms.lattice  # (M, 3)
    n = len(cart)
    srcs, dsts, imgs = [], [], []
    # chunk over images to bound memory for large cells: n * n * chunk doubles
    chunk = max(1, int(2e7 // max(1, n * n)))
    for start in range(0, len(images), chunk):
        sh = shifts[start : start + chunk]  # (m, 3)
        # d[m, i, j] = cart[j] + sh[m] - cart[i]
        diff = cart[None, None, :, :] + sh[:, None, None, :] - cart[None, :, None, :]
        dist2 = np.einsum("mijk,mijk->mij", diff, diff)
        m_idx, i_idx, j_idx = np.nonzero((dist2 <= radius * radius) & (dist2 > 1e-8))
        srcs.append(i_idx)
        dsts.append(j_idx)
        imgs.append(images[start + m_idx])
    return (
        np.concatenate(srcs),
        np.concatenate(dsts),
        np.concatenate(imgs).astype(np.int64),
    )


def build_graph(atoms: Crystal, config: GraphConfig | None = None) -> CrystalGraph:
    """Build the k-nearest-neighbour graph of a periodic structure.

    Parameters
    ----------
    atoms
        The structure (a band, a host, any crystal).
    config
        Graph settings; the paper's (8 Å, 12 neighbours) by default.

    Returns
    -------
    CrystalGraph
        Directed symmetric edges with bond vectors.

    """
    config = config or GraphConfig()
    if len(atoms) == 0:
        raise ValueError("cannot build a graph of an empty structure")
    if abs(np.linalg.det(atoms.lattice)) < 1e-6:
        raise ValueError("degenerate lattice (zero volume)")
    n = len(atoms)
    radius = config.cutoff_angstrom
    while True:
        src, dst, img = _neighbors_within(atoms, radius)
        counts = np.bincount(src, minlength=n)
        if counts.min() >= config.max_neighbors:
            break
        radius *= 1.5
        if radius > 100.0:
            raise ValueError("could not find enough neighbours within 100 Å")
    frac = np.mod(atoms.frac_coords, 1.0)
    vec = (frac[dst] + img - frac[src]) @ atoms.lattice
    dist = np.linalg.norm(vec, axis=1)
    # per-source k-th nearest distance
    order = np.lexsort((dist, src))
    src_s, dist_s = src[order], dist[order]
    starts = np.searchsorted(src_s, np.arange(n))
    kth = dist_s[starts + config.max_neighbors - 1]
    keep = dist <= kth[src] + config.tolerance_angstrom
    src, dst, img = src[keep], dst[keep], img[keep]
    # symmetrise: add the reverse of every kept edge, then deduplicate (i, j, image)
    all_src = np.concatenate([src, dst])
    all_dst = np.concatenate([dst, src])
    all_img = np.concatenate([img, -img])
    keys = np.column_stack([all_src, all_dst, all_img])
    keys = np.unique(keys, axis=0)
    src, dst, img = keys[:, 0], keys[:, 1], keys[:, 2:5]
    vec = (frac[dst] + img - frac[src]) @ atoms.lattice
    return CrystalGraph(
        numbers=atoms.numbers.astype(np.int16),
        src=src.astype(np.int32),
        dst=dst.astype(np.int32),
        vec=vec.astype(np.float32),
    )
