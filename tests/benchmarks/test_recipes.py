"""The recipes section: host and chemistry CV of model recipes, ablation of the physics."""

from __future__ import annotations

import numpy as np
import pytest

from hopscreen.benchmarks.recipes import (
    PHYSICS_BLOCKS,
    Recipe,
    _parts_used,
    default_recipes,
    render_recipes,
    run_recipes,
)
from hopscreen.features.physics import PHYSICS_NAMES
from hopscreen.models.chgnet_backbone import ChgnetFeatureConfig
from hopscreen.models.head_config import ChgnetHeadConfig

PHYSICS_ONLY = ChgnetFeatureConfig(chgnet=False, physics=True)


def test_every_physics_column_is_in_exactly_one_ablation_block() -> None:
    for name in PHYSICS_NAMES:
        owners = [b for b, prefixes in PHYSICS_BLOCKS.items() if name.startswith(prefixes)]
        assert len(owners) == 1, (name, owners)


def test_default_recipes_name_the_parts_they_read() -> None:
    recipes = {r.name: r for r in default_recipes()}
    assert _parts_used(recipes["chgnet-gbr"]) == ["chgnet"]
    assert _parts_used(recipes["physics-bvse-gbr"]) == ["physics"]
    assert _parts_used(recipes["physics-bvse-chgnet-gbr"]) == ["chgnet", "physics"]
    ablations = [r for r in recipes.values() if r.ablation]
    assert len(ablations) == len(PHYSICS_BLOCKS)
    for r in ablations:
        dropped = r.name.split(" − ")[1]
        assert not any(b.startswith(PHYSICS_BLOCKS[dropped]) for b in r.head.blocks or ())


def test_recipes_are_scored_on_both_cvs_and_the_test_split(data_dir, tmp_path) -> None:
    head = ChgnetHeadConfig(kind="gbr", ensemble_size=2, n_estimators=20, target_transform="log1p")
    recipes = [
        Recipe("bvse-only", PHYSICS_ONLY, head.model_copy(update={"blocks": ("bvse_",)}), "a"),
        Recipe("all-physics", PHYSICS_ONLY, head, "b", ablation=True, ablation_of="bvse-only"),
    ]
    out = run_recipes(
        recipes, data_dir=data_dir, cache_dir=tmp_path, k=3, n_boot=20, timing_hops=2, limit=36
    )
    assert out["n_train"] == 36 and out["n_test"] == 36 and out["k"] == 3
    assert out["n_chemsys"] <= out["n_hosts"]
    assert [r["name"] for r in out["recipes"]] == ["bvse-only", "all-physics"]
    for row in out["recipes"]:
        for split in ("host_cv", "chemsys_cv", "test"):
            m = row[split]
            assert 0 < m["mae_ev"]["value"] < 3
            assert m["mae_ev"]["ci_low"] <= m["mae_ev"]["value"] <= m["mae_ev"]["ci_high"]
            assert m["spread_ratio"]["value"] > 0
        assert row["seconds_per_hop"] > 0
    # different columns, different out-of-fold predictions
    a, b = (r["host_cv"]["mae_ev"]["value"] for r in out["recipes"])
    assert a != b
    first, second = out["recipes"]
    assert first["vs_first"]["host_cv"]["value"] == 0.0
    diff = second["vs_first"]["host_cv"]["value"]
    assert diff == pytest.approx(
        second["host_cv"]["mae_ev"]["value"] - first["host_cv"]["mae_ev"]["value"]
    )
    timing = next(iter(out["feature_seconds_per_hop"].values()))
    assert set(timing) == {"physics"} and timing["physics"] > 0
    vs_full = second["vs_full"]["host_cv"]["value"]
    assert vs_full == pytest.approx(diff)  # its full recipe is the first row here
    assert "vs_full" not in first
    text = render_recipes({**out, "seconds": 60.0}, "Machine: test.", note="busy machine")
    assert "Conditions: busy machine" in text
    assert "- `all-physics`: " in text
    assert "`bvse-only`" in text and "`all-physics`" in text
    assert text.count("\n| `") == 2
    assert "+0.000 (+0.000…+0.000)" in text
    assert "chemistry-held-out 3-fold CV" in text


def test_a_hop_vector_needs_some_columns() -> None:
    with pytest.raises(ValueError, match="needs the chgnet columns"):
        ChgnetFeatureConfig(chgnet=False, physics=False)


def test_physics_only_vectors_never_load_chgnet(data_dir, tmp_path, monkeypatch) -> None:
    from hopscreen.data.em_dataset import load_em_dataset
    from hopscreen.models import hop_features

    def refuse(*_a, **_k):
        raise AssertionError("CHGNet must not be loaded for a physics-only vector")

    monkeypatch.setattr(hop_features, "load_chgnet", refuse)
    bands = [r.band for r in load_em_dataset(data_dir, splits=("test",))[:3]]
    table = hop_features.extract_hop_features(bands, config=PHYSICS_ONLY, cache_dir=tmp_path)
    assert table.names == list(PHYSICS_NAMES)
    assert table.X.shape == (3, len(PHYSICS_NAMES))
    again = hop_features.extract_hop_features(bands, config=PHYSICS_ONLY, cache_dir=tmp_path)
    assert again.n_cached == 3
    np.testing.assert_array_equal(again.X, table.X)
