"""Model folders of either kind: one card reader and one file list for the registry and tools.

A model folder holds a ``model_card.json`` and its member files. Two kinds exist:

- ``"alignn"`` (:mod:`hopscreen.models.bundle`): safetensors weights of ALIGNN members;
- ``"chgnet-head"`` (:mod:`hopscreen.models.chgnet_bundle`): tree arrays read on top of frozen
  CHGNet features.

Code that only needs the card, the files or a full verification goes through this module
instead of branching on the kind itself.
"""

from __future__ import annotations

from pathlib import Path

from hopscreen.models.bundle import ModelCard, ModelLoadError, load_bundle, load_card, model_kind
from hopscreen.models.chgnet_bundle import (
    CHGNET_HEAD_KIND,
    ChgnetHeadCard,
    load_chgnet_head,
    read_chgnet_head_card,
)
from hopscreen.models.shipped import shipped_folders

AnyCard = ModelCard | ChgnetHeadCard


def read_card(model_dir: Path | str) -> AnyCard:
    """The validated card of a model folder of any kind (member files are not read).

    Raises
    ------
    ModelLoadError
        No card, or an invalid one.
    """
    folder = Path(model_dir)
    if model_kind(folder) == CHGNET_HEAD_KIND:
        return read_chgnet_head_card(folder)
    return load_card(folder)


def verify_model(model_dir: Path | str) -> AnyCard:
    """Load a model folder of any kind completely (checksums, shapes, version); its card.

    Raises
    ------
    ModelLoadError
        Anything that would stop the folder from predicting.
    """
    folder = Path(model_dir)
    if model_kind(folder) == CHGNET_HEAD_KIND:
        card, _ = load_chgnet_head(folder)
        return card
    bundle_card, _ = load_bundle(folder)
    return bundle_card


def member_files(card: AnyCard) -> list[tuple[str, str]]:
    """``(file name, sha256)`` of every member file a card lists, in card order."""
    if isinstance(card, ChgnetHeadCard):
        return list(zip(card.arrays_files, card.arrays_sha256, strict=True))
    return list(zip(card.weights_files, card.weights_sha256, strict=True))


def shipped_versions() -> dict[str, str]:
    """``model_version`` -> name of every valid model folder shipped with the package."""
    out = {}
    for folder in shipped_folders():
        try:
            card = read_card(folder)
        except ModelLoadError:
            continue
        out[card.model_version] = card.name
    return out
