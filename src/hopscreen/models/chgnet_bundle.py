"""A CHGNet-head barrier model on disk: gradient-boosted trees per member + a model card.

Folder layout (model kind ``"chgnet-head"``)::

    model_card.json     ChgnetHeadCard (JSON)
    member0.npz ...     one TreeEnsemble per seed (:mod:`hopscreen.models.trees`, no pickle)

The card holds everything needed to turn a band into the trees' inputs: the chgnet version,
checkpoint and feature settings of :mod:`hopscreen.models.chgnet_backbone`, the names of all
hop-vector columns and of the columns the trees read (in their order), the value that replaces
a non-finite input in each of those columns, and the target transform. ``model_version`` is a
hash of those settings and of the trees' array contents, and is checked on load, so an edited
card or a replaced member file is refused. An optional ``calibration``
(:class:`~hopscreen.models.calibration.ConformalCalibration`, the conformal intervals of the
predictions) enters the hash when present; a card without one keeps the version it always had.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from hopscreen.data.download import sha256_file
from hopscreen.models.bundle import (
    CARD_NAME,
    ModelLoadError,
    read_card_as,
    verify_member_file,
)
from hopscreen.models.calibration import ConformalCalibration
from hopscreen.models.chgnet_backbone import ChgnetFeatureConfig
from hopscreen.models.head_config import ChgnetHeadConfig
from hopscreen.models.trees import (
    TreeEnsemble,
    TreeFileError,
    arrays_digest,
    load_trees,
    save_trees,
)
from hopscreen.schemas.base import Document

CHGNET_HEAD_KIND = "chgnet-head"


class ChgnetHeadCard(Document):
    """Everything about a CHGNet-head barrier model except its trees."""

    kind: Literal["chgnet-head"] = CHGNET_HEAD_KIND
    model_version: str = Field(
        description="'cg-' + first 12 hex of the sha256 over the input settings and the trees"
    )
    name: str
    preset: str = Field(description="name of the head recipe")
    created_utc: str
    chgnet_version: str = Field(description="version of the chgnet package the features came from")
    feature_config: ChgnetFeatureConfig = Field(
        description="CHGNet checkpoint and hop-vector settings"
    )
    feature_cache_key: str = Field(description="hop_features.cache_key of the features")
    feature_names: list[str] = Field(description="all columns of the CHGNet hop vector")
    feature_columns: list[str] = Field(description="the columns the trees read, in their order")
    fill_values: list[float] = Field(
        description="replacement of a non-finite input, per feature column (training median)"
    )
    target_transform: Literal["none", "log1p"] = Field(
        description="trees predict log(1 + E_m / eV) when 'log1p'; E_m = expm1(prediction)"
    )
    head: ChgnetHeadConfig
    ensemble_size: int
    arrays_files: list[str] = Field(description="one .npz of tree arrays per member")
    arrays_sha256: list[str] = Field(description="sha256 of each arrays file, same order")
    pretrained_backbone: str | None = Field(None, description="the frozen backbone")
    parent_version: str | None = Field(
        None, description="the version this one was refitted from (active learning)"
    )
    train_record_ids: list[str] = Field(default_factory=list)
    calibration: ConformalCalibration | None = Field(
        None,
        description="conformal calibration of the prediction intervals (None: only σ_ens)",
    )
    metrics: dict[str, Any] = Field(default_factory=dict)
    training: dict[str, Any] = Field(default_factory=dict)
    notes: str = ""


def content_version(
    members: Sequence[TreeEnsemble],
    *,
    chgnet_version: str,
    feature_config: ChgnetFeatureConfig,
    feature_columns: Sequence[str],
    fill_values: Sequence[float],
    target_transform: str,
    calibration: ConformalCalibration | None = None,
) -> str:
    """The ``model_version`` of a chgnet-head model.

    'cg-' + 12 hex of a sha256 over what decides its predictions: the input settings, the
    interval calibration when there is one, and the members' array contents (not the metrics
    or notes). Without a calibration the hash is the one of cards that predate it.
    """
    settings: dict[str, Any] = {
        "chgnet_version": chgnet_version,
        "feature_config": feature_config.identity(),
        "feature_columns": list(feature_columns),
        "fill_values": [float(v) for v in fill_values],
        "target_transform": target_transform,
    }
    if calibration is not None:
        settings["calibration"] = calibration.model_dump(mode="json")
    h = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for member in members:
        h.update(arrays_digest(member).encode())
    return f"cg-{h.hexdigest()[:12]}"


def _write_members(members: Sequence[TreeEnsemble], out: Path) -> tuple[list[str], list[str]]:
    """Write ``member{i}.npz`` per member into ``out`` (created); their names and sha256."""
    out.mkdir(parents=True, exist_ok=True)
    files, digests = [], []
    for i, member in enumerate(members):
        file = f"member{i}.npz"
        save_trees(member, out / file)
        files.append(file)
        digests.append(sha256_file(out / file))
    return files, digests


def save_chgnet_head(
    members: Sequence[TreeEnsemble],
    out_dir: Path | str,
    *,
    name: str,
    preset: str,
    chgnet_version: str,
    feature_config: ChgnetFeatureConfig,
    feature_cache_key: str,
    feature_names: Sequence[str],
    feature_columns: Sequence[str],
    fill_values: Sequence[float],
    head: ChgnetHeadConfig,
    calibration: ConformalCalibration | None = None,
    **card_fields: Any,
) -> ChgnetHeadCard:
    """Write the members' tree arrays and the card to ``out_dir``; returns the card.

    Parameters
    ----------
    members : sequence of TreeEnsemble
        One per seed; each reads ``len(feature_columns)`` inputs.
    out_dir : path or str
        Model folder (created).
    name, preset
        Model name and head-recipe name for the card.
    chgnet_version, feature_config, feature_cache_key, feature_names
        Where the hop vectors came from (:mod:`hopscreen.models.chgnet_backbone`).
    feature_columns, fill_values
        The trees' input columns and the replacement of non-finite values in each.
    head : ChgnetHeadConfig
        The recipe the trees were fitted with (its ``target_transform`` is applied inversely).
    calibration : ConformalCalibration, optional
        Conformal calibration of the intervals (part of ``model_version`` when given).
    **card_fields
        Further card fields (``train_record_ids``, ``metrics``, ``training``, ``notes``,
        ``pretrained_backbone``).
    """
    if not members:
        raise ValueError("a model needs at least one member")
    if len(fill_values) != len(feature_columns):
        raise ValueError("one fill value per feature column is needed")
    if any(m.n_features != len(feature_columns) for m in members):
        raise ValueError("members must read exactly the feature columns")
    unknown = sorted(set(feature_columns) - set(feature_names))
    if unknown:
        raise ValueError(f"feature columns not in the hop vector: {unknown[:5]}")
    out = Path(out_dir)
    files, digests = _write_members(members, out)
    card = ChgnetHeadCard(
        model_version=content_version(
            members,
            chgnet_version=chgnet_version,
            feature_config=feature_config,
            feature_columns=feature_columns,
            fill_values=fill_values,
            target_transform=head.target_transform,
            calibration=calibration,
        ),
        name=name,
        preset=preset,
        created_utc=datetime.now(UTC).isoformat(timespec="seconds"),
        chgnet_version=chgnet_version,
        feature_config=feature_config,
        feature_cache_key=feature_cache_key,
        feature_names=list(feature_names),
        feature_columns=list(feature_columns),
        fill_values=[float(v) for v in fill_values],
        target_transform=head.target_transform,
        head=head,
        ensemble_size=len(members),
        arrays_files=files,
        arrays_sha256=digests,
        calibration=calibration,
        **card_fields,
    )
    (out / CARD_NAME).write_text(card.model_dump_json(indent=2) + "\n")
    return card


def read_chgnet_head_card(model_dir: Path | str) -> ChgnetHeadCard:
    """Read and validate the card of a chgnet-head folder (member files are not read).

    Raises
    ------
    ModelLoadError
        The card is missing or invalid.
    """
    return read_card_as(model_dir, ChgnetHeadCard)


def load_chgnet_head(model_dir: Path | str) -> tuple[ChgnetHeadCard, list[TreeEnsemble]]:
    """Load a chgnet-head folder, verifying checksums, shapes and the content version.

    Raises
    ------
    ModelLoadError
        The card is missing or invalid, a member file is missing, corrupt or replaced, or
        the card's settings do not match its ``model_version``.
    """
    folder = Path(model_dir)
    card = read_chgnet_head_card(folder)
    if not (len(card.arrays_files) == len(card.arrays_sha256) == card.ensemble_size >= 1):
        raise ModelLoadError(f"model card in {folder} lists inconsistent member files")
    if len(card.fill_values) != len(card.feature_columns):
        raise ModelLoadError(f"model card in {folder}: one fill value per column is needed")
    members = []
    for file, expected in zip(card.arrays_files, card.arrays_sha256, strict=True):
        member_path = folder / file
        verify_member_file(member_path, expected)
        try:
            member = load_trees(member_path)
        except TreeFileError as exc:
            raise ModelLoadError(str(exc)) from exc
        if member.n_features != len(card.feature_columns):
            raise ModelLoadError(
                f"{member_path} reads {member.n_features} columns, the card lists "
                f"{len(card.feature_columns)}"
            )
        members.append(member)
    version = content_version(
        members,
        chgnet_version=card.chgnet_version,
        feature_config=card.feature_config,
        feature_columns=card.feature_columns,
        fill_values=card.fill_values,
        target_transform=card.target_transform,
        calibration=card.calibration,
    )
    if version != card.model_version:
        raise ModelLoadError(
            f"model card in {folder} says version {card.model_version} but its settings and "
            f"trees give {version}: the card was edited"
        )
    return card, members
