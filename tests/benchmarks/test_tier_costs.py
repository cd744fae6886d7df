"""Per-hop cost of both tiers and of a CHGNet NEB, on the same hops."""

from __future__ import annotations

import pytest
from tests.hops.hops_structures import layered_licoo2

from hopscreen.benchmarks.tier_costs import measure_tier_costs, tier_costs_markdown
from hopscreen.models.shipped import DEFAULT_MODEL
from hopscreen.schemas.candidate import CandidateDoc
from hopscreen.verification.umlip import UmlipNebConfig

pytestmark = pytest.mark.slow  # real CHGNet NEBs (short ones): about 20-40 s


@pytest.fixture(scope="module")
def figures() -> dict:
    host = CandidateDoc.from_structure(
        layered_licoo2(), name="LiCoO2", source="file", source_ref="x", working_ion="Li"
    )
    neb = UmlipNebConfig(n_images=1, endpoint_max_steps=2, neb_max_steps=2)
    # the default model for both tiers keeps the test fast; the CLI times the two real tiers
    return measure_tier_costs([host], tiers=(DEFAULT_MODEL, DEFAULT_MODEL), neb=neb)


def test_every_hop_has_three_timings_and_the_ratios_follow(figures: dict) -> None:
    rows = figures["rows"]
    assert len(rows) >= 1
    for row in rows:
        assert row["tier1_s"] > 0 and row["tier2_s"] > 0 and row["neb_s"] > 0
        assert row["tier1_ev"] == pytest.approx(row["tier2_ev"])  # same model twice
        assert row["neb_status"] in ("ok", "not_converged", "failed")
    m, r = figures["means"], figures["ratios"]
    assert r["neb_over_tier1"] == pytest.approx(m["neb"] / m["tier1"])
    assert r["neb_over_tier2"] == pytest.approx(m["neb"] / m["tier2"])
    assert r["neb_over_tier1"] > 10  # an NEB costs far more than a prediction


def test_section_lists_each_hop_and_the_ratios(figures: dict) -> None:
    text = tier_costs_markdown(figures, "Machine: test.", note="idle")
    assert text.startswith("## Cost per hop")
    assert text.count("| LiCoO2 |") == len(figures["rows"])
    assert "Ratios: tier 2 / tier 1" in text and "NEB / tier 1" in text
    assert "Conditions noted by the person who ran it: idle" in text


def test_no_hop_is_an_error() -> None:
    with pytest.raises(ValueError, match="no hop"):
        measure_tier_costs([])
