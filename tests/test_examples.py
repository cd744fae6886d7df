"""The example campaign files in ``examples/`` stay valid as the configuration evolves."""

from __future__ import annotations

from pathlib import Path

import pytest

from hopscreen.workflow.campaign import CampaignConfig

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_campaign_parses(path):
    config = CampaignConfig.from_yaml(path)
    config.check_sources()
    assert config.ion


def test_finetune_example_accepts_the_chgnet_level_it_verifies_with():
    import chgnet

    from hopscreen.training.feedback import level_key

    config = CampaignConfig.from_yaml(EXAMPLES[0].parent / "finetune_demo.yaml")
    key = level_key({"method": "CI-NEB", "code": "CHGNet", "code_version": chgnet.__version__})
    assert config.finetune.enabled
    assert key in config.finetune.level_policy.accept
