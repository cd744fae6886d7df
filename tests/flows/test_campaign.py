from __future__ import annotations

import pytest

from hopscreen.workflow.campaign import (
    CampaignConfig,
    CampaignConfigError,
    build_round,
    demo_config,
)


def test_yaml_round_trip(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "sources: {demo: true}\nion: Na\nresults_dir: out\nselection: {budget: 3}\nverifier: none\n"
    )
    config = CampaignConfig.from_yaml(path)
    assert config.ion == "Na"
    assert config.selection.budget == 3
    assert config.verifier == "none"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("budjet: 3\n", "unknown key 'budjet'"),
        ("selection: {treshold_ev: 0.5}\n", "unknown key 'selection.treshold_ev'"),
        ("verifier: dft\n", "verifier"),
    ],
)
def test_bad_keys_are_rejected_clearly(tmp_path, text, needle):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(CampaignConfigError) as err:
        CampaignConfig.from_yaml(path)
    assert needle in str(err.value)
    if "unknown" in needle:
        assert "allowed here:" in str(err.value)


def test_sources_are_checked():
    with pytest.raises(CampaignConfigError, match="no candidate source"):
        build_round(CampaignConfig())
    with pytest.raises(CampaignConfigError, match="working ion"):
        CampaignConfig.from_dict({"sources": {"files": ["x.cif"]}}).check_sources()


def test_demo_config_is_cpu_sized():
    config = demo_config()
    assert config.sources.demo and config.ion is None
    assert config.selection.budget == 2
    assert config.selection.max_host_sites == 12
    assert config.verifier == "umlip"


def test_build_round_uses_the_makers(tmp_path):
    config = demo_config(str(tmp_path)).model_copy(update={"verifier": "none"})
    flow = build_round(config)
    names = [j.name for j in flow.jobs]
    assert names == ["candidates", "hops", "predict", "select", "verify", "collect"]
    assert flow.output.uuid == flow.jobs[-1].uuid


def test_campaign_limits_reach_the_candidates_stage(tmp_path):
    from pymatgen.core import Lattice, Structure

    from hopscreen.screening.round import load_candidates

    path = tmp_path / "c.yaml"
    path.write_text(
        "sources: {demo: true}\nion: Li\nresults_dir: out\nhops: {limits: {max_atoms: 8}}\n"
    )
    config = CampaignConfig.from_yaml(path)
    maker = config.to_maker()
    assert maker.candidates.limits is not None
    assert maker.candidates.limits.max_atoms == 8
    job = maker.candidates.make(files=["x.cif"], working_ion="Li")
    assert job.function_kwargs["limits"].max_atoms == 8

    # a 16-atom rock-salt LiF cell: refused under the campaign's cap, accepted by default
    cell = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.03), ["Li", "F"], [[0] * 3, [0.5] * 3]
    )
    big = tmp_path / "LiF.json"
    big.write_text((cell * (2, 1, 1)).to_json())
    capped = load_candidates(files=[str(big)], working_ion="Li", limits=maker.candidates.limits)
    assert not capped.candidates and "max_atoms" in capped.failures[0].reason
    default = load_candidates(files=[str(big)], working_ion="Li")
    assert len(default.candidates) == 1
