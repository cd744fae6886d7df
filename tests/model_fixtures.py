"""Tiny structures and models built in code, shared by the graph/model/training tests."""

from __future__ import annotations

import numpy as np

from hopscreen.models.alignn import ALIGNNConfig
from hopscreen.schemas.structure import Crystal

TINY_ARCH = {
    "hidden_features": 16,
    "embedding_features": 8,
    "edge_bins": 8,
    "angle_bins": 8,
    "alignn_layers": 1,
    "gcn_layers": 1,
    "head_hidden": (8,),
}
TINY = ALIGNNConfig(**TINY_ARCH)


def rocksalt(a: float = 4.2, cation: int = 3, anion: int = 8) -> Crystal:
    """Conventional rocksalt cell (8 atoms), e.g. LiO-like."""
    fcc = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    frac = np.vstack([fcc, fcc + [0.5, 0, 0]]) % 1.0
    numbers = [cation] * 4 + [anion] * 4
    return Crystal(np.eye(3) * a, frac, numbers)


def tiny_band(seed: int, ion: int = 3) -> Crystal:
    """A band-like structure: 5 ion copies on a line, then a perturbed rocksalt host."""
    rng = np.random.default_rng(seed)
    host = rocksalt(4.0 + 0.3 * rng.random())
    frac = host.frac_coords + rng.normal(0, 0.01, host.frac_coords.shape)
    start, end = frac[0], frac[1]
    copies = np.array([start + t * (end - start) for t in np.linspace(0, 1, 5)])
    coords = np.vstack([copies, frac[2:]])
    numbers = np.concatenate([[ion] * 5, host.numbers[2:]])
    return Crystal(host.lattice, coords, numbers)


def save_tiny_bundle(out, *, members: int = 2, config: ALIGNNConfig = TINY, name: str = "tiny"):
    """Write a random-init model folder (seed 0) of ``members`` tiny ALIGNNs to ``out``."""
    import torch

    from hopscreen.graphs.build import GraphConfig
    from hopscreen.models.alignn import ALIGNN
    from hopscreen.models.bundle import save_bundle
    from hopscreen.models.scaling import TargetScaler

    torch.manual_seed(0)
    save_bundle(
        [ALIGNN(config).eval() for _ in range(members)],
        out,
        name=name,
        preset="test",
        graph=GraphConfig(),
        scaler=TargetScaler(minimum=0.0, maximum=3.0),
    )
    return out


def save_tiny_chgnet_head(out, *, cache_dir=None, n_bands: int = 8, name: str = "tiny-cg"):
    """Fit a small chgnet-head folder (2 members × 20 trees) on real CHGNet features of tiny bands.

    Returns the written card.
    """
    from hopscreen.training.chgnet_head import GBR_RECIPE, train_chgnet_head_model

    bands = [tiny_band(s) for s in range(n_bands)]
    return train_chgnet_head_model(
        bands,
        list(np.linspace(0.2, 1.5, n_bands)),
        [f"tiny-{i}" for i in range(n_bands)],
        out,
        config=GBR_RECIPE.model_copy(update={"ensemble_size": 2, "n_estimators": 20}),
        cache_dir=cache_dir,
        name=name,
        preset="tiny",
    )
