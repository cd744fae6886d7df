"""A trained barrier model on disk: one safetensors file per member + a model card (JSON).

The card records everything needed to rebuild and trust the weights: architecture and graph
settings, the target scaler, the ensemble size, the training data ids, metrics, lineage and the
sha256 of the weights file. ``model_version`` is derived from that checksum, so two different
weight files can never share a version.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import torch
from pydantic import Field
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from hopscreen.data.download import sha256_file
from hopscreen.graphs.build import GraphConfig
from hopscreen.models.alignn import ALIGNN, ALIGNNConfig
from hopscreen.models.scaling import TargetScaler
from hopscreen.schemas.base import Document

CardT = TypeVar("CardT", bound=Document)

CARD_NAME = "model_card.json"


ALIGNN_KIND = "alignn"
"""Model kind of an ALIGNN ensemble folder (cards without a ``kind`` field are this kind)."""


class ModelLoadError(RuntimeError):
    """A model folder is missing, corrupt, or does not match its card."""


class ModelCard(Document):
    """Everything about a trained barrier model except its weights."""

    model_version: str = Field(
        description="'m3-' + first 12 hex of the sha256 over the members' weight checksums"
    )
    name: str
    preset: str
    created_utc: str
    graph: GraphConfig
    architecture: ALIGNNConfig
    scaler: TargetScaler
    ensemble_size: int
    weights_files: list[str] = Field(description="one safetensors file per ensemble member")
    weights_sha256: list[str] = Field(description="sha256 of each weights file, same order")
    weights_dtype: str = "float32"
    parent_version: str | None = None
    pretrained_backbone: str | None = Field(None, description="where the backbone came from")
    train_record_ids: list[str] = Field(default_factory=list)
    metrics: dict[str, Any] = Field(default_factory=dict)
    training: dict[str, Any] = Field(default_factory=dict)
    notes: str = ""


def save_bundle(
    members: list[ALIGNN],
    out_dir: Path,
    *,
    name: str,
    preset: str,
    graph: GraphConfig,
    scaler: TargetScaler,
    dtype: torch.dtype = torch.float32,
    **card_fields: Any,
) -> ModelCard:
    """Write the ensemble ``members`` and their card to ``out_dir``; returns the card."""
    if not members:
        raise ValueError("an ensemble needs at least one member")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files, digests = [], []
    for i, member in enumerate(members):
        tensors = {}
        for key, value in member.state_dict().items():
            v = value.detach().cpu()
            if v.is_floating_point():
                v = v.to(dtype)
            tensors[key] = v.contiguous()
        name_i = f"member{i}.safetensors"
        save_file(tensors, str(out_dir / name_i))
        files.append(name_i)
        digests.append(sha256_file(out_dir / name_i))
    digest = hashlib.sha256("".join(digests).encode()).hexdigest()
    card = ModelCard(
        model_version=f"m3-{digest[:12]}",
        name=name,
        preset=preset,
        created_utc=datetime.now(UTC).isoformat(timespec="seconds"),
        graph=graph,
        architecture=members[0].config,
        scaler=scaler,
        ensemble_size=len(members),
        weights_files=files,
        weights_sha256=digests,
        weights_dtype=str(dtype).removeprefix("torch."),
        **card_fields,
    )
    (out_dir / CARD_NAME).write_text(card.model_dump_json(indent=2) + "\n")
    return card


def verify_member_file(path: Path, expected_sha256: str) -> None:
    """Raise :class:`ModelLoadError` unless ``path`` exists with the sha256 its card lists."""
    if not path.exists():
        raise ModelLoadError(f"{path} is missing")
    digest = sha256_file(path)
    if digest != expected_sha256:
        raise ModelLoadError(
            f"{path} does not match its card (sha256 {digest[:12]}…, card says "
            f"{expected_sha256[:12]}…): the file is corrupt or was replaced"
        )


def read_card_as(model_dir: Path | str, card_type: type[CardT]) -> CardT:
    """Read and validate the card of a model folder as ``card_type``.

    Raises
    ------
    ModelLoadError
        No card, or one that does not validate.
    """
    path = Path(model_dir) / CARD_NAME
    if not path.exists():
        raise ModelLoadError(f"no {CARD_NAME} in {model_dir}: not a hopscreen model folder")
    try:
        return card_type.model_validate(json.loads(path.read_text()))
    except Exception as exc:
        raise ModelLoadError(f"invalid model card {path}: {exc}") from exc


def load_card(model_dir: Path) -> ModelCard:
    """Read and validate the card of an ALIGNN model folder."""
    return read_card_as(model_dir, ModelCard)


def model_kind(model_dir: Path | str) -> str:
    """The kind of a model folder: its card's ``kind`` field, ``"alignn"`` when absent.

    An unreadable card also gives ``"alignn"``; :func:`load_card` then says what is wrong.
    """
    try:
        data = json.loads((Path(model_dir) / CARD_NAME).read_text())
    except (OSError, ValueError):
        return ALIGNN_KIND
    return str(data.get("kind", ALIGNN_KIND)) if isinstance(data, dict) else ALIGNN_KIND


def load_bundle(
    model_dir: Path, *, device: str | torch.device = "cpu"
) -> tuple[ModelCard, list[ALIGNN]]:
    """Load a model folder, verifying the weights' checksum and shapes against the card."""
    model_dir = Path(model_dir)
    card = load_card(model_dir)
    if len(card.weights_files) != card.ensemble_size or len(card.weights_sha256) != len(
        card.weights_files
    ):
        raise ModelLoadError(f"model card in {model_dir} lists inconsistent weight files")
    members = []
    for i, (name, expected) in enumerate(zip(card.weights_files, card.weights_sha256, strict=True)):
        weights = model_dir / name
        verify_member_file(weights, expected)
        try:
            tensors = load_file(str(weights), device="cpu")
        except (SafetensorError, OSError) as exc:
            raise ModelLoadError(f"cannot read {weights}: {exc}") from exc
        state = {k: v.float() if v.is_floating_point() else v for k, v in tensors.items()}
        model = ALIGNN(card.architecture)
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ModelLoadError(
                f"weights of member {i} do not fit the card's architecture: {exc}"
            ) from exc
        model.to(device).eval()
        members.append(model)
    return card, members


def combine_members(
    sources: list[tuple[Path, int]], out_dir: Path, *, name: str, notes: str = ""
) -> ModelCard:
    """Build a new ensemble from members of existing model folders.

    Every source must share the graph settings, architecture and target scaler (same training
    data). The weights are copied unchanged (dtype kept); the card records each source's
    version and member index as lineage and keeps their training summaries.
    """
    if not sources:
        raise ValueError("no members given")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cards = [load_card(d) for d, _ in sources]
    first = cards[0]
    for card in cards[1:]:
        if (card.graph, card.architecture, card.scaler) != (
            first.graph,
            first.architecture,
            first.scaler,
        ):
            raise ValueError("members differ in graph settings, architecture or target scaling")
    files, digests, lineage, members = [], [], [], []
    for i, ((src_dir, index), card) in enumerate(zip(sources, cards, strict=True)):
        load_bundle(src_dir)  # verifies checksums and shapes
        tensors = load_file(str(Path(src_dir) / card.weights_files[index]))
        target = f"member{i}.safetensors"
        save_file(tensors, str(out_dir / target))
        files.append(target)
        digests.append(sha256_file(out_dir / target))
        lineage.append(f"{card.model_version}#member{index}")
        summary = dict(card.training.get("members", [{}] * (index + 1))[index])
        summary["source"] = lineage[-1]
        members.append(summary)
    digest = hashlib.sha256("".join(digests).encode()).hexdigest()
    card = first.model_copy(
        update={
            "model_version": f"m3-{digest[:12]}",
            "name": name,
            "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "ensemble_size": len(files),
            "weights_files": files,
            "weights_sha256": digests,
            "parent_version": ",".join(sorted({c.model_version for c in cards})),
            "metrics": {},
            "training": {**first.training, "members": members},
            "notes": notes,
        }
    )
    (out_dir / CARD_NAME).write_text(card.model_dump_json(indent=2) + "\n")
    return card
