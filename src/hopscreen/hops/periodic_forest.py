"""Union-find forests of a periodic graph that track lattice offsets and cycle translations.

The sites of one cell are the nodes; an edge joins site ``u`` in cell 0 to site ``v`` in cell
``image``. Every site keeps its lattice offset from its parent, so the offset of a site from
its tree's root is the sum along its path. An edge between two sites of one tree closes a
cycle of the infinite crystal whose translation is ``offset(u) + image - offset(v)``; an
edge between two trees hangs the smaller under the larger and pools their translations. A
root keeps the rank of its tree's translations (0 for a finite cluster, 1 for a chain, 2 for
a layer, 3 for a network filling space) and the first two independent ones, so ranks stay
exact integer arithmetic.

Many independent forests over the same sites (one per row, e.g. one per draw of the class
barriers) are held side by side, so that adding one edge to each of them is a handful of
numpy operations. Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross products of two (n, 3) integer arrays."""
    return a[:, [1, 2, 0]] * b[:, [2, 0, 1]] - a[:, [2, 0, 1]] * b[:, [1, 2, 0]]


@dataclass(frozen=True)
class PeriodicForest:
    """Independent union-find forests over the same sites, one per row.

    Attributes
    ----------
    parent : numpy.ndarray
        (n_rows, n_sites) parent site; a root is its own parent.
    shift : numpy.ndarray
        (n_rows, n_sites, 3) lattice offset of a site from its parent (zero for a root).
    size : numpy.ndarray
        (n_rows, n_sites) number of sites of a root's tree.
    rank : numpy.ndarray
        (n_rows, n_sites) rank of the cycle translations of a root's tree (0 to 3).
    basis : numpy.ndarray
        (n_rows, n_sites, 3, 3) a root's first two independent cycle translations (the
        first ``rank`` of them are set) and, from rank 2 on, their cross product.

    """

    parent: np.ndarray
    shift: np.ndarray
    size: np.ndarray
    rank: np.ndarray
    basis: np.ndarray

    @classmethod
    def of_sites(cls, n_rows: int, n_sites: int) -> PeriodicForest:
        """``n_rows`` forests in which every site is its own tree."""
        return cls(
            parent=np.tile(np.arange(n_sites, dtype=np.int64), (n_rows, 1)),
            shift=np.zeros((n_rows, n_sites, 3), dtype=np.int64),
            size=np.ones((n_rows, n_sites), dtype=np.int64),
            rank=np.zeros((n_rows, n_sites), dtype=np.int64),
            basis=np.zeros((n_rows, n_sites, 3, 3), dtype=np.int64),
        )

    def find(self, rows: np.ndarray, sites: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Root of one site in each of some rows, and the site's lattice offset from it.

        Parameters
        ----------
        rows, sites : numpy.ndarray
            (n,) integer arrays: the forests looked in and the site looked up in each.

        Returns
        -------
        tuple of numpy.ndarray
            Roots (n,) and offsets (n, 3): the site lies at its root's cell plus the offset.

        """
        roots = sites
        offsets = np.zeros((len(sites), 3), dtype=np.int64)
        while True:
            parents = self.parent[rows, roots]
            if (parents == roots).all():
                return roots, offsets
            offsets += self.shift[rows, roots]
            roots = parents

    def absorb(self, rows: np.ndarray, roots: np.ndarray, vectors: np.ndarray) -> None:
        """Add a cycle translation to the translations of one root in each of some rows.

        Parameters
        ----------
        rows, roots : numpy.ndarray
            (n,) integer arrays, no row twice: the forests and the root in each.
        vectors : numpy.ndarray
            (n, 3) integer lattice translations; the root's rank grows where one is
            independent of those it has.

        """
        if not len(rows):
            return
        rank = self.rank[rows, roots]
        first, normal = self.basis[rows, roots, 0], self.basis[rows, roots, 2]
        cross = _cross(first, vectors)
        independent = np.where(
            rank == 0,
            vectors.any(axis=1),
            np.where(
                rank == 1,
                cross.any(axis=1),
                (rank == 2) & (np.einsum("ij,ij->i", normal, vectors) != 0),
            ),
        )
        kept = np.flatnonzero(independent & (rank < 2))
        self.basis[rows[kept], roots[kept], rank[kept]] = vectors[kept]
        second = kept[rank[kept] == 1]
        self.basis[rows[second], roots[second], 2] = cross[second]
        self.rank[rows, roots] = rank + independent

    def join(self, rows: np.ndarray, u: np.ndarray, v: np.ndarray, image: np.ndarray) -> np.ndarray:
        """Add one edge to each of some rows' forests.

        Parameters
        ----------
        rows : numpy.ndarray
            (n,) integer array, no row twice: the forests an edge is added to.
        u, v : numpy.ndarray
            (n,) integer arrays: the edge runs from site ``u`` in cell 0 ...
        image : numpy.ndarray
            (n, 3) integer array: ... to site ``v`` in cell ``image``.

        Returns
        -------
        numpy.ndarray
            (n,) rank of the translations of the tree that holds the edge afterwards.

        """
        root_u, offset_u = self.find(rows, u)
        root_v, offset_v = self.find(rows, v)
        # where ``root_v`` lies seen from ``root_u``: a cycle translation if they are one
        translation = offset_u + image - offset_v
        u_stays = self.size[rows, root_u] >= self.size[rows, root_v]
        keep = np.where(u_stays, root_u, root_v)
        gone = np.where(u_stays, root_v, root_u)
        closes = root_u == root_v
        merge = np.flatnonzero(~closes)
        r, k, g = rows[merge], keep[merge], gone[merge]
        self.parent[r, g] = k
        self.shift[r, g] = np.where(u_stays[merge, None], translation[merge], -translation[merge])
        self.size[r, k] += self.size[r, g]
        gone_rank = self.rank[r, g]
        # first vectors: each closing cycle, and the first basis vector of each merged tree
        has = gone_rank > 0
        self.absorb(
            np.concatenate([rows[closes], r[has]]),
            np.concatenate([keep[closes], k[has]]),
            np.concatenate([translation[closes], self.basis[r[has], g[has], 0]]),
        )
        has = gone_rank > 1
        self.absorb(r[has], k[has], self.basis[r[has], g[has], 1])
        self.rank[r, k] = np.maximum(self.rank[r, k], gone_rank)
        return self.rank[rows, keep]
