"""On-disk cache of crystal graphs, keyed by structure fingerprint and graph settings.

Epochs after the first never rebuild a graph: each graph is one small ``.npz`` file named by
``sha256(fingerprint + settings)``. Writes are atomic (temporary file + rename), so a killed run
never leaves a truncated entry, and a corrupt entry is rebuilt.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from rich.progress import track

from hopscreen.graphs.build import CrystalGraph, GraphConfig, build_graph
from hopscreen.schemas.structure import Crystal


def graph_key(atoms: Crystal, config: GraphConfig) -> str:
    """Cache key of the graph of ``atoms`` under ``config``."""
    return hashlib.sha256(f"{atoms.fingerprint()}|{config.key()}".encode()).hexdigest()


def save_graph(graph: CrystalGraph, path: Path) -> None:
    """Write ``graph`` to ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, numbers=graph.numbers, src=graph.src, dst=graph.dst, vec=graph.vec)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_graph(path: Path) -> CrystalGraph:
    """Read a graph written by :func:`save_graph`."""
    with np.load(path) as data:
        return CrystalGraph(
            numbers=data["numbers"], src=data["src"], dst=data["dst"], vec=data["vec"]
        )


class GraphCache:
    """Build-or-load access to graphs in a directory (or in memory only when ``root`` is None)."""

    def __init__(self, root: Path | str | None, config: GraphConfig | None = None) -> None:
        self.root = Path(root) if root is not None else None
        self.config = config or GraphConfig()
        self._memory: dict[str, CrystalGraph] = {}
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / self.config.key() / key[:2] / f"{key}.npz"

    def get(self, atoms: Crystal) -> CrystalGraph:
        """The graph of ``atoms``, from memory, disk, or built (and stored) now."""
        key = graph_key(atoms, self.config)
        graph = self._memory.get(key)
        if graph is not None:
            self.hits += 1
            return graph
        if self.root is not None:
            path = self._path(key)
            if path.exists():
                try:
                    graph = load_graph(path)
                    self.hits += 1
                except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
                    graph = None  # corrupt entry: rebuild below
        if graph is None:
            self.misses += 1
            graph = build_graph(atoms, self.config)
            if self.root is not None:
                save_graph(graph, self._path(key))
        self._memory[key] = graph
        return graph

    def get_many(
        self, structures: Sequence[Crystal], *, workers: int = 1, progress: bool = False
    ) -> list[CrystalGraph]:
        """Graphs of many structures; ``workers > 1`` builds the missing ones in processes."""
        if workers <= 1:
            return [self.get(a) for a in _progress(structures, progress, "graphs")]
        keys = [graph_key(a, self.config) for a in structures]
        missing = {}
        for k, a in zip(keys, structures, strict=True):
            if k in self._memory or k in missing:
                continue
            if self.root is not None and self._path(k).exists():
                continue
            missing[k] = a
        if missing:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                built = pool.map(
                    build_graph, missing.values(), [self.config] * len(missing), chunksize=16
                )
                for k, g in zip(
                    missing, _progress(built, progress, "graphs", len(missing)), strict=True
                ):
                    self.misses += 1
                    self._memory[k] = g
                    if self.root is not None:
                        save_graph(g, self._path(k))
        return [self.get(a) for a in structures]


def _progress(items: Iterable, enabled: bool, label: str, total: int | None = None) -> Iterable:
    if not enabled:
        return items

    return track(items, description=f"building {label}", total=total, transient=True)
