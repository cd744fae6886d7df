"""The local model registry: register, get, promote, current, lineage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hopscreen.models.bundle import ModelLoadError, load_card
from hopscreen.registry import ModelRegistry, UnknownModelError, train_ids_hash


def _version(path: Path) -> str:
    return load_card(path).model_version


def test_register_copies_and_indexes(tmp_path: Path, models: dict[str, Path]) -> None:
    reg = ModelRegistry(tmp_path / "reg")
    entry = reg.register(models["child"])
    card = load_card(models["child"])
    assert entry.model_version == card.model_version
    assert Path(entry.path) == (tmp_path / "reg" / card.model_version).resolve()
    assert models["child"].is_dir()  # copied, not moved
    assert entry.n_train_records == 3
    assert entry.train_ids_sha256 == train_ids_hash(["train-0001", "hop-a", "hop-b"])
    assert entry.metrics == {"mae_ev": 0.25, "n": 60}  # test split only
    assert entry.weights_sha256 == card.weights_sha256
    index = json.loads((tmp_path / "reg" / "index.json").read_text())
    assert [m["model_version"] for m in index["models"]] == [card.model_version]
    assert not [p for p in (tmp_path / "reg").iterdir() if p.name.startswith(".")]


def test_register_is_idempotent(tmp_path: Path, models: dict[str, Path]) -> None:
    reg = ModelRegistry(tmp_path)
    first = reg.register(models["base"])
    again = reg.register(models["base"])
    assert again == first
    assert len(reg.list()) == 1


def test_register_repairs_damaged_copy(tmp_path: Path, models: dict[str, Path]) -> None:
    reg = ModelRegistry(tmp_path)
    entry = reg.register(models["base"])
    reg.promote(entry.model_version)
    (Path(entry.path) / "member0.safetensors").write_bytes(b"junk")
    again = reg.register(models["base"])
    assert again.promoted
    assert len(reg.list()) == 1
    load_card(Path(again.path))


def test_register_rejects_corrupt_folder(tmp_path: Path, models: dict[str, Path]) -> None:
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(models["other"], bad)
    (bad / "member0.safetensors").write_bytes(b"junk")
    reg = ModelRegistry(tmp_path / "reg")
    with pytest.raises(ModelLoadError, match="does not match"):
        reg.register(bad)
    assert reg.list() == []


def test_register_move(tmp_path: Path, models: dict[str, Path]) -> None:
    import shutil

    src = tmp_path / "src"
    shutil.copytree(models["other"], src)
    entry = ModelRegistry(tmp_path / "reg").register(src, copy=False)
    assert not src.exists()
    assert Path(entry.path).is_dir()


def test_get_by_version_prefix_and_name(tmp_path: Path, models: dict[str, Path]) -> None:
    reg = ModelRegistry(tmp_path)
    child = reg.register(models["child"])
    reg.register(models["base"])
    assert reg.get(child.model_version) == child
    assert reg.get(child.model_version[:8]) == child
    assert reg.get("child") == child
    with pytest.raises(UnknownModelError, match="no model 'nope'"):
        reg.get("nope")
    with pytest.raises(UnknownModelError, match="ambiguous"):
        reg.get("m3-")


def test_promote_exactly_one_and_current(
    tmp_path: Path, models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import hopscreen.registry.local as registry_local

    monkeypatch.setattr(registry_local, "default_model_dir", lambda: models["other"])
    reg = ModelRegistry(tmp_path)
    current = reg.current()
    assert current.shipped and current.model_version == _version(models["other"])
    base = reg.register(models["base"])
    child = reg.register(models["child"])
    reg.promote(base.model_version)
    reg.promote(child.model_version)
    promoted = [e for e in reg.list() if e.promoted]
    assert [e.model_version for e in promoted] == [child.model_version]
    assert promoted[0].promoted_utc
    assert reg.current().model_version == child.model_version
    assert reg.current_dir() == Path(child.path)
    with pytest.raises(UnknownModelError):
        reg.promote("m3-000000000000")


def test_lineage_walks_single_and_combined_parents(tmp_path: Path, models: dict[str, Path]) -> None:
    reg = ModelRegistry(tmp_path)
    for key in ("base", "child", "other", "combined"):
        reg.register(models[key])
    combined = _version(models["combined"])
    names = [e.name for e in reg.lineage(combined)]
    assert names[0] == "combined"
    assert sorted(names[1:]) == ["base", "child", "other"]
    assert names.index("child") < names.index("base")
    assert [e.name for e in reg.lineage("child")] == ["child", "base"]
    assert reg.missing_parents(combined) == []


def test_lineage_reports_unregistered_parent(tmp_path: Path, models: dict[str, Path]) -> None:
    reg = ModelRegistry(tmp_path)
    reg.register(models["child"])
    assert [e.name for e in reg.lineage("child")] == ["child"]
    assert reg.missing_parents("child") == [_version(models["base"])]


def test_default_root_is_user_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_data_dir", lambda app: str(tmp_path / app))
    assert ModelRegistry().root == tmp_path / "hopscreen" / "models"


def test_chgnet_head_folders_register_with_lineage(tmp_path: Path) -> None:
    pytest.importorskip("chgnet")
    from tests.model_fixtures import save_tiny_chgnet_head, tiny_band

    from hopscreen.training.chgnet_head import train_chgnet_head_model

    cache = tmp_path / "features"
    parent = save_tiny_chgnet_head(tmp_path / "parent", cache_dir=cache)
    child = train_chgnet_head_model(
        [tiny_band(s) for s in range(10)],
        [0.1 * s for s in range(10)],
        [f"c{s}" for s in range(10)],
        tmp_path / "child",
        config=parent.head,
        cache_dir=cache,
        name="child",
        parent_version=parent.model_version,
    )
    reg = ModelRegistry(tmp_path / "reg")
    reg.register(tmp_path / "parent")
    entry = reg.register(tmp_path / "child")
    assert entry.weights_sha256 == child.arrays_sha256
    assert entry.n_train_records == 10 and entry.parent_version == parent.model_version
    assert [e.model_version for e in reg.lineage(child.model_version)] == [
        child.model_version,
        parent.model_version,
    ]
    reg.promote(child.model_version)
    assert reg.current_dir() == (tmp_path / "reg" / child.model_version).resolve()
    (Path(entry.path) / child.arrays_files[0]).write_bytes(b"junk")
    repaired = reg.register(tmp_path / "child")  # damaged copy replaced, promotion kept
    assert repaired.promoted
