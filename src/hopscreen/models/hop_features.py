"""The hop vector of a band as configured, and its per-band disk cache.

:class:`~hopscreen.models.chgnet_backbone.ChgnetFeatureConfig` says which parts the vector
holds: the frozen-CHGNet columns (:mod:`hopscreen.models.chgnet_backbone`), the physics
columns (:mod:`hopscreen.features.physics`) or both, in that order. Each part is cached on
its own, keyed by the band fingerprint and everything the part depends on, so a CHGNet-only
cache also serves the combined vector.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from platformdirs import user_cache_dir

from hopscreen.features.physics import PHYSICS_NAMES, physics_vector, physics_version_tag
from hopscreen.models.chgnet_backbone import (
    FEATURE_VERSION,
    STRUCTURES,
    ChgnetFeatureConfig,
    embed_structures,
    feature_names,
    hop_structures,
    hop_vector,
    load_chgnet,
)
from hopscreen.schemas.structure import Crystal

if TYPE_CHECKING:
    # optional heavy dependency (engine extra): chgnet
    from chgnet.model import CHGNet

log = logging.getLogger(__name__)


def vector_names(config: ChgnetFeatureConfig, dim: int = 64) -> list[str]:
    """Column names of the whole hop vector that ``config`` asks for (CHGNet, then physics)."""
    names = feature_names(dim) if config.chgnet else []
    return names + (list(PHYSICS_NAMES) if config.physics else [])


def hop_features(
    band: Crystal, *, model: CHGNet | None, config: ChgnetFeatureConfig | None = None
) -> np.ndarray:
    """The hop vector of one band (no cache): CHGNet columns, then physics ones, as configured.

    Parameters
    ----------
    band : Crystal
        A Model-3 band (ion copies 0–4 first).
    model : chgnet.model.CHGNet or None
        From :func:`load_chgnet`; may be None when ``config.chgnet`` is off.
    config : ChgnetFeatureConfig, optional
        Feature settings (defaults if None).

    Returns
    -------
    numpy.ndarray
        Columns as :func:`vector_names` (8·D + 20 CHGNet columns, then the physics ones).
    """
    config = config or ChgnetFeatureConfig()
    parts = []
    if config.chgnet:
        if model is None:
            raise ValueError("the CHGNet columns need a loaded CHGNet model")
        structures = hop_structures(band)
        embedded = embed_structures(
            model, [structures[k] for k in STRUCTURES], batch_size=config.batch_size
        )
        parts.append(
            hop_vector(
                structures,
                dict(zip(STRUCTURES, embedded, strict=True)),
                local_width_angstrom=config.local_width_angstrom,
            )
        )
    if config.physics:
        parts.append(physics_vector(band))
    return np.concatenate(parts)


def cache_key(config: ChgnetFeatureConfig) -> str:
    """Folder name of the feature cache: chgnet version, checkpoint, feature version, settings."""
    version = importlib.metadata.version("chgnet")
    dump = config.identity()
    digest = hashlib.sha256(json.dumps(dump, sort_keys=True).encode()).hexdigest()[:10]
    key = f"chgnet-{version}_ckpt-{config.model_name}_feat-v{FEATURE_VERSION}_{digest}"
    return f"{key}_{physics_version_tag()}" if config.physics else key


def default_feature_cache() -> Path:
    """The per-user CHGNet feature cache (``chgnet-features`` in the hopscreen user cache).

    ``platformdirs.user_cache_dir("hopscreen")/chgnet-features``; used where the same bands
    come back (fine-tuning replay, grouped CV); safe to delete.
    """
    return Path(user_cache_dir("hopscreen")) / "chgnet-features"


@dataclass(frozen=True)
class FeatureTable:
    """Hop vectors of many bands.

    Attributes
    ----------
    X : numpy.ndarray
        (n_bands, n_features) vectors, bands in input order.
    names : list of str
        Column names (:func:`vector_names`).
    seconds_per_hop : float
        Mean CHGNet time (3 structures) of the bands computed in this call; NaN if all cached.
    n_cached : int
        Bands read from the cache.
    """

    X: np.ndarray
    names: list[str]
    seconds_per_hop: float
    n_cached: int


def extract_hop_features(
    bands: Sequence[Crystal],
    *,
    config: ChgnetFeatureConfig | None = None,
    cache_dir: Path | str | None = None,
    model: Any = None,
) -> FeatureTable:
    """CHGNet hop vectors of many bands, cached per band on disk.

    Parameters
    ----------
    bands : sequence of Crystal
        Model-3 bands.
    config : ChgnetFeatureConfig, optional
        Feature settings (defaults if None).
    cache_dir : path or str, optional
        Root of the cache; vectors go to ``<cache_dir>/<cache_key>/<band fingerprint>.npy``.
        None disables the cache.
    model : chgnet.model.CHGNet, optional
        A loaded model; loaded on first need otherwise.

    Returns
    -------
    FeatureTable
        With both parts configured, each part is extracted (and cached) on its own, so a
        CHGNet-only cache serves the combined vector too.
    """
    config = config or ChgnetFeatureConfig()
    if config.chgnet and config.physics:
        parts = [
            extract_hop_features(
                bands,
                config=config.model_copy(
                    update={"physics": part == "physics", "chgnet": part == "chgnet"}
                ),
                cache_dir=cache_dir,
                model=model,
            )
            for part in ("chgnet", "physics")
        ]
        seconds = [p.seconds_per_hop for p in parts if np.isfinite(p.seconds_per_hop)]
        return FeatureTable(
            X=np.hstack([p.X for p in parts]),
            names=parts[0].names + parts[1].names,
            seconds_per_hop=float(sum(seconds)) if seconds else float("nan"),
            n_cached=min(p.n_cached for p in parts),
        )
    folder = None
    if cache_dir is not None:
        folder = Path(cache_dir) / cache_key(config)
        folder.mkdir(parents=True, exist_ok=True)
    rows: list[np.ndarray] = []
    n_cached, n_computed, seconds = 0, 0, 0.0
    for i, band in enumerate(bands):
        path = folder / f"{band.fingerprint()}.npy" if folder is not None else None
        if path is not None and path.is_file():
            rows.append(np.load(path))
            n_cached += 1
            continue
        if model is None and config.chgnet:
            model = load_chgnet(config.model_name)
        t0 = time.perf_counter()
        vec = hop_features(band, model=model, config=config)
        seconds += time.perf_counter() - t0
        n_computed += 1
        if path is not None:
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, vec)
            tmp.replace(path)
        rows.append(vec)
        if n_computed % 50 == 0:
            log.info("CHGNet features: %d/%d bands", i + 1, len(bands))
    n_physics = len(PHYSICS_NAMES) if config.physics else 0
    dim = (len(rows[0]) - n_physics - 20) // 8 if rows and config.chgnet else 64
    names = vector_names(config, dim)
    X = np.vstack(rows) if rows else np.zeros((0, len(names)))
    per_hop = seconds / n_computed if n_computed else float("nan")
    return FeatureTable(X=X, names=names, seconds_per_hop=per_hop, n_cached=n_cached)
