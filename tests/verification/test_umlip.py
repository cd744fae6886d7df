"""Real CHGNet on a 9-atom cell, with tiny step caps; one NEB shared by most tests."""

from __future__ import annotations

import ase.mep
import numpy as np
import pytest

from hopscreen.verification import UmlipNebConfig, VerificationDoc, run_umlip_neb, verify_hop

TINY = UmlipNebConfig(
    n_images=3, endpoint_fmax=0.5, endpoint_max_steps=3, neb_fmax=0.5, neb_max_steps=3
)


@pytest.fixture(scope="module")
def neb_run(endpoints, monkeypatch_module):
    """Run one capped NEB, recording the arguments ASE's NEB was built with."""
    seen: list[dict] = []
    original = ase.mep.NEB

    class SpyNEB(original):
        def __init__(self, images, **kwargs):
            seen.append({"n": len(images), **kwargs})
            super().__init__(images, **kwargs)

    monkeypatch_module.setattr(ase.mep, "NEB", SpyNEB)
    initial, final = endpoints
    doc = run_umlip_neb(initial, final, hop_id="hop-tiny", candidate_id="cand", config=TINY)
    return doc, seen


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_image_count_and_profile(neb_run):
    doc, seen = neb_run
    assert isinstance(doc, VerificationDoc)
    assert doc.status in ("ok", "not_converged"), doc.reason
    assert doc.n_images == 3
    assert seen[0]["n"] == 3 + 2  # band = intermediate images + both endpoints
    assert len(doc.energies_ev) == doc.n_images + 2
    assert doc.energies_ev[0] == 0.0
    assert doc.n_atoms == 9


def test_method_is_improved_tangent_with_climbing_image(neb_run):
    doc, seen = neb_run
    assert seen[0]["method"] == "improvedtangent"
    assert seen[0]["climb"] is True
    assert doc.neb_tangent == "improvedtangent"
    assert doc.climbing_image is True
    assert doc.level_of_theory.method == "CI-NEB"
    assert doc.level_of_theory.code == "CHGNet"
    assert doc.level_of_theory.potential.startswith("CHGNet-")


def test_endpoints_relaxed_first(neb_run):
    doc, _ = neb_run
    assert doc.endpoints_relaxed
    assert doc.endpoint_relax_steps is not None and len(doc.endpoint_relax_steps) == 2
    assert all(steps >= 0 for steps in doc.endpoint_relax_steps)


def test_barrier_is_max_minus_initial_and_caps_reported(neb_run):
    doc, _ = neb_run
    assert doc.barrier_ev == pytest.approx(max(doc.energies_ev))
    assert doc.forward_barrier_ev == doc.barrier_ev
    assert doc.backward_barrier_ev == pytest.approx(max(doc.energies_ev) - doc.energies_ev[-1])
    assert doc.barrier_ev > 0.0
    assert doc.steps is not None and doc.steps <= TINY.neb_max_steps
    assert doc.max_force_ev_per_angstrom is not None
    assert doc.converged == (doc.max_force_ev_per_angstrom <= TINY.neb_fmax)
    assert "max 3 steps" in doc.capped
    assert doc.verification_id.startswith("ver-")
    assert doc.wall_seconds > 0


def test_broken_input_fails_without_raising(endpoints):
    initial, final = endpoints
    short = final.copy()
    short.remove_sites([8])
    doc = run_umlip_neb(initial, short, hop_id="hop-bad", config=TINY)
    assert doc.status == "failed"
    assert "9 and 8 atoms" in doc.reason
    assert doc.barrier_ev is None and not doc.converged

    nan = final.copy()
    nan.translate_sites([0], [np.nan, 0, 0], frac_coords=False, to_unit_cell=False)
    doc = run_umlip_neb(initial, nan, hop_id="hop-nan", config=TINY)
    assert doc.status == "failed" and doc.reason


def test_too_large_cell_is_refused(endpoints):
    initial, final = endpoints
    doc = run_umlip_neb(
        initial, final, hop_id="hop-big", config=TINY.model_copy(update={"max_atoms": 8})
    )
    assert doc.status == "failed"
    assert "max_atoms=8" in doc.reason


def test_verify_hop_reports_supercell_failure():
    class BrokenMigrationHop:
        def get_sc_structures(self, **_kwargs):
            raise RuntimeError("no supercell")

    class FakeHop:
        hop_id = "hop-x"
        working_ion = "Li"
        migration_hop = BrokenMigrationHop()

    doc = verify_hop(FakeHop(), candidate_id="c", config=TINY)
    assert doc.status == "failed"
    assert "no supercell" in doc.reason
    assert doc.hop_id == "hop-x" and doc.candidate_id == "c"


def test_config_documents_caps():
    assert UmlipNebConfig.production().capped_description() is None
    assert "endpoints not relaxed" in UmlipNebConfig(relax_endpoints=False).capped_description()
    with pytest.raises(ValueError):
        UmlipNebConfig(method="aseneb")


@pytest.mark.slow
def test_verify_demo_lifepo4_hop_capped():
    from hopscreen.candidates import load_demo_candidates
    from hopscreen.hops import hops_for_structure

    batch = load_demo_candidates()
    cand = next(c for c in batch.candidates if "LiFePO4" in c.name)
    hop = min(
        hops_for_structure(cand.get_structure(), "Li", cand.name).hops,
        key=lambda h: h.length_angstrom,
    )
    doc = verify_hop(hop, candidate_id="demo", config=TINY)
    assert doc.status in ("ok", "not_converged"), doc.reason
    assert len(doc.energies_ev) == 5 and doc.n_atoms <= TINY.max_atoms
