"""A tiny round with --finetune: verification → fine-tune → re-predict, through run_locally."""

from __future__ import annotations

import pytest

from hopscreen.models.bundle import load_card
from hopscreen.registry import ModelRegistry
from hopscreen.store import open_results_store
from hopscreen.workflow.campaign import CampaignConfig, build_round, run_round_locally

FAKE_LEVEL = "CHGNet/CI-NEB"  # level key of the fake verifier's documents


def finetune_config(results_dir, registry, model: str | None, **finetune) -> CampaignConfig:
    settings = {
        "enabled": True,
        "epochs": 1,
        "batch_size": 4,
        "replay_limit": 4,
        "eval_limit": 4,
        "n_boot": 20,
        "device": "cpu",
        "level_policy": {"accept": ["DFT-GGA", FAKE_LEVEL]},
        "promote": "always",
        **finetune,
    }
    return CampaignConfig.from_dict(
        {
            "sources": {"demo": True},
            "ion": "Na",
            "results_dir": str(results_dir),
            "model": model,
            "registry": str(registry),
            "selection": {"budget": 2, "coverage": None, "k_sigma": 1000.0, "max_host_sites": 12},
            "prediction": {"device": "cpu"},
            "verifier": "umlip",
            "finetune": settings,
        }
    )


@pytest.fixture
def with_data(data_dir, monkeypatch):
    monkeypatch.setenv("HOPSCREEN_DATA_DIR", str(data_dir))
    return data_dir


def test_round_with_finetune_registers_promotes_and_repredicts(
    tiny_model, fake_verifier, results_dir, tmp_path, with_data
):
    registry = tmp_path / "registry"
    parent = load_card(tiny_model).model_version
    summary = run_round_locally(
        build_round(finetune_config(results_dir, registry, tiny_model)), results_dir
    )
    ft = summary.finetune
    assert ft is not None and ft.status == "finetuned", ft
    assert ft.parent_version == parent and ft.model_version != parent
    assert ft.n_new_records == 1 and ft.n_replay_records == 4
    assert ft.promoted and ft.test_metrics["n"] == 4 and ft.parent_test_metrics["n"] == 4

    reg = ModelRegistry(registry)
    entry = reg.get(ft.model_version)
    assert entry.parent_version == parent and entry.promoted
    assert entry.n_train_records == 5 and entry.metrics["mae_ev"] >= 0
    assert [e.model_version for e in reg.lineage(ft.model_version)] == [ft.model_version, parent]
    card = load_card(entry.path)
    assert card.training["feedback"]["level_policy"]["accept"] == ["DFT-GGA", FAKE_LEVEL]
    assert set(card.metrics) == {"test", "parent_test", "test_vs_parent"}
    assert not list(registry.glob(".finetune-*"))  # no training leftovers

    # the only hop was verified, so nothing is left to re-predict; the store keeps the
    # prediction of the parent, and the next round predicts with the promoted version
    assert summary.n_repredicted == 0
    nxt = finetune_config(results_dir, registry, None, enabled=False)
    again = run_round_locally(build_round(nxt), results_dir)
    assert again.model_version == ft.model_version
    with open_results_store(results_dir, create=False) as store:
        versions = {p["model_version"] for p in store.read("predictions")}
    assert versions == {parent, ft.model_version}


def test_labels_of_an_unaccepted_level_are_excluded_not_mixed(
    tiny_model, fake_verifier, results_dir, tmp_path, with_data
):
    registry = tmp_path / "registry"
    config = finetune_config(results_dir, registry, tiny_model, level_policy={})  # DFT only
    summary = run_round_locally(build_round(config), results_dir)
    ft = summary.finetune
    assert ft.status == "skipped" and ft.model_version is None
    assert ft.feedback.excluded_by_level == {FAKE_LEVEL: 1}
    assert FAKE_LEVEL in ft.reason
    assert ModelRegistry(registry).list() == []


def test_screen_options_enable_finetune(tmp_path):
    from hopscreen.cli.screen import make_config

    config = make_config(
        config_file=None,
        demo=True,
        files=[],
        mp_chemsys=[],
        ion=None,
        results=tmp_path,
        budget=None,
        verifier=None,
        model=None,
        finetune=True,
        registry=tmp_path / "reg",
        accept_levels=[FAKE_LEVEL],
    )
    assert config.finetune.enabled and config.registry == str(tmp_path / "reg")
    assert config.finetune.level_policy.accept == ["DFT-GGA", "DFT-GGA+U", FAKE_LEVEL]
    assert config.finetune.promote == "if_not_worse"
    names = [job.name for job in build_round(config).jobs]
    assert names[1:] == ["finetune", "re-predict unverified", "collect finetune"]


def test_chgnet_head_parent_is_refitted_with_lineage(
    fake_verifier, results_dir, tmp_path, with_data
):
    pytest.importorskip("chgnet")
    from tests.model_fixtures import save_tiny_chgnet_head

    from hopscreen.models.chgnet_bundle import load_chgnet_head

    parent = save_tiny_chgnet_head(tmp_path / "parent")
    registry = tmp_path / "registry"
    features = tmp_path / "features"
    config = finetune_config(
        results_dir, registry, str(tmp_path / "parent"), replay_limit=6, cache_dir=str(features)
    )
    summary = run_round_locally(build_round(config), results_dir)
    ft = summary.finetune
    assert ft is not None and ft.status == "finetuned", ft
    assert ft.parent_version == parent.model_version != ft.model_version
    assert ft.n_new_records == 1 and ft.n_replay_records == 6
    card, _ = load_chgnet_head(ModelRegistry(registry).get(ft.model_version).path)
    assert card.parent_version == parent.model_version and card.head == parent.head
    assert len(card.train_record_ids) == 7 and set(card.metrics) == {
        "test",
        "parent_test",
        "test_vs_parent",
    }
    assert len(list(features.rglob("*.npy"))) >= 6 + 1 + 4  # replay, new hop, test hops
    lineage = ModelRegistry(registry).lineage(ft.model_version)
    assert [e.model_version for e in lineage] == [ft.model_version, parent.model_version]
