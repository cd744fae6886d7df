"""One entry point from a model name or folder to a loaded :class:`BarrierModel`.

This is the only module that knows which model kinds exist; every caller goes through
:func:`load_model` and then uses the :class:`~hopscreen.inference.base.BarrierModel` protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hopscreen.inference.alignn import AlignnModel
from hopscreen.inference.base import BarrierModel
from hopscreen.inference.chgnet_head import ChgnetHeadModel
from hopscreen.models.bundle import ALIGNN_KIND, ModelLoadError, model_kind
from hopscreen.models.chgnet_bundle import CHGNET_HEAD_KIND
from hopscreen.models.shipped import resolve_model_dir

_LOADERS: dict[str, Callable[[Path, str | None, Path | None], BarrierModel]] = {
    ALIGNN_KIND: lambda folder, device, _cache: AlignnModel.load(folder, device=device),
    CHGNET_HEAD_KIND: lambda folder, device, cache: ChgnetHeadModel.load(
        folder, feature_cache_dir=cache, device=device
    ),
}


def load_model(
    name_or_path: str | Path | None = None,
    *,
    device: str | None = None,
    feature_cache_dir: Path | str | None = None,
) -> BarrierModel:
    """Load a model folder of any kind.

    Parameters
    ----------
    name_or_path
        A model folder, the name of a shipped model, or None for the shipped default.
    device
        Torch device of the model's network (ALIGNN, or the CHGNet of a tree head whose hop
        vector uses CHGNet); None: CUDA when available, else the CPU.
    feature_cache_dir
        Where models that cache per-band features (the CHGNet hop vector) keep them; None
        computes every band.

    Returns
    -------
    BarrierModel
        The loaded model, checksums verified.

    Raises
    ------
    FileNotFoundError
        No such folder and no shipped model of that name.
    ModelLoadError
        The folder is not a valid model of a known kind.
    """
    folder = resolve_model_dir(name_or_path)
    kind = model_kind(folder)
    loader = _LOADERS.get(kind)
    if loader is None:
        raise ModelLoadError(f"{folder}: unknown model kind {kind!r}; known: {sorted(_LOADERS)}")
    cache = Path(feature_cache_dir) if feature_cache_dir is not None else None
    return loader(folder, device, cache)
