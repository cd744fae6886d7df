"""Local registry of trained model versions (lineage, training data ids, promotion)."""

from hopscreen.registry.local import (
    ModelRegistry,
    UnknownModelError,
    default_registry_root,
    entry_from_card,
    train_ids_hash,
)

__all__ = [
    "ModelRegistry",
    "UnknownModelError",
    "default_registry_root",
    "entry_from_card",
    "train_ids_hash",
]
