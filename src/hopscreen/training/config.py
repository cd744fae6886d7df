"""Training settings and the named presets (explicit objects; nothing read from the environment)."""

from __future__ import annotations

from typing import Any, Literal

from hopscreen.graphs.build import GraphConfig
from hopscreen.models.alignn import ALIGNNConfig
from hopscreen.schemas.base import Config


class TrainConfig(Config):
    """Optimisation settings (the paper's fine-tuning values by default).

    AdamW with a one-cycle schedule (peak ``max_lr`` after ``warmup_fraction`` of the steps),
    L1 loss on targets min–max scaled to [−1, 1], early stopping on a validation split carved
    from the training data only.
    """

    epochs: int = 500
    batch_size: int = 128
    micro_batch_size: int | None = None
    lr: float = 1e-4
    max_lr: float = 1e-3
    warmup_fraction: float = 0.3
    weight_decay: float = 1e-5
    val_fraction: float = 0.1
    patience: int | None = 100
    seed: int = 0
    grad_clip: float | None = 5.0
    max_minutes: float | None = None
    amp_bf16: bool = False


class Preset(Config):
    """A complete recipe: graph, architecture and optimisation for pre-training and fine-tuning."""

    name: str
    graph: GraphConfig
    model: ALIGNNConfig
    pretrain: TrainConfig
    finetune: TrainConfig
    ensemble_size: int = 5


PRESETS: dict[str, Preset] = {
    # Devi, Butler & Sai Gautam (2026) Model-3: 4 ALIGNN + 4 edge-gated layers, hidden 256.
    "paper": Preset(
        name="paper",
        graph=GraphConfig(),
        model=ALIGNNConfig(),
        pretrain=TrainConfig(epochs=100, batch_size=128, patience=None, val_fraction=0.05),
        finetune=TrainConfig(epochs=500, batch_size=128, micro_batch_size=64),
        ensemble_size=3,
    ),
    # Small enough to fine-tune on two CPU cores well inside an hour (~1 min per epoch on the
    # 559 training bands; see BENCHMARKS.md): one ALIGNN layer, hidden 32.
    "fast": Preset(
        name="fast",
        graph=GraphConfig(),
        model=ALIGNNConfig(
            hidden_features=32,
            embedding_features=16,
            edge_bins=40,
            angle_bins=20,
            alignn_layers=1,
            gcn_layers=2,
            head_hidden=(32,),
            norm="layer",
        ),
        pretrain=TrainConfig(epochs=5, batch_size=64, patience=None, val_fraction=0.05),
        finetune=TrainConfig(epochs=40, batch_size=32, patience=15),
        ensemble_size=3,
    ),
}


def get_preset(name: str) -> Preset:
    """Look a preset up by name, with a clear error for unknown names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}") from None


def with_stage_overrides(
    preset: Preset, stage: Literal["pretrain", "finetune"], **overrides: Any
) -> Preset:
    """A copy of ``preset`` with some optimisation settings of one stage replaced.

    Parameters
    ----------
    preset : Preset
        The recipe to start from (not changed).
    stage : {"pretrain", "finetune"}
        Which :class:`TrainConfig` of the preset to change.
    **overrides
        :class:`TrainConfig` fields and values; a value that is None, False or 0 keeps the
        preset's setting (an option not given on the command line).

    Returns
    -------
    Preset
        The changed copy.
    """
    update = {k: v for k, v in overrides.items() if v}
    return preset.model_copy(update={stage: getattr(preset, stage).model_copy(update=update)})
