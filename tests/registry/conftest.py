"""Tiny random-init model folders (no training) for the registry tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.model_fixtures import TINY


def make_model(out: Path, seed: int, **card_fields: object) -> Path:
    """A one-member tiny model saved in ``out`` (distinct seeds give distinct versions)."""
    import torch

    from hopscreen.graphs.build import GraphConfig
    from hopscreen.models.alignn import ALIGNN
    from hopscreen.models.bundle import save_bundle
    from hopscreen.models.scaling import TargetScaler

    torch.manual_seed(seed)
    save_bundle(
        [ALIGNN(TINY).eval()],
        out,
        name=str(card_fields.pop("name", f"tiny-{seed}")),
        preset="test",
        graph=GraphConfig(),
        scaler=TargetScaler(minimum=0.0, maximum=3.0),
        **card_fields,
    )
    return out


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """base -> child (fine-tuned) and other -> combined(child, other)."""
    from hopscreen.models.bundle import combine_members, load_card

    root = tmp_path_factory.mktemp("models")
    base = make_model(root / "base", 0, name="base", train_record_ids=["train-0001"])
    base_v = load_card(base).model_version
    child = make_model(
        root / "child",
        1,
        name="child",
        parent_version=base_v,
        train_record_ids=["hop-b", "hop-a", "train-0001"],
        metrics={"test": {"mae_ev": 0.25, "n": 60}, "val": {"mae_ev": 0.2}},
    )
    other = make_model(root / "other", 2, name="other")
    combined = root / "combined"
    combine_members([(child, 0), (other, 0)], combined, name="combined")
    return {"base": base, "child": child, "other": other, "combined": combined}
