"""Reading atomate2's VASP NEB task document into a VerificationDoc (recorded documents)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from vasp_recording import recorded_endpoints

from hopscreen.verification import VaspNebConfig, parse_vasp_neb_output

DATA = Path(__file__).parent / "data"


def test_parse_recorded_neb_task_doc():
    recorded = json.loads((DATA / "neb_task_doc_pbe_u.json").read_text())
    config = VaspNebConfig(n_images=3, hubbard_u={"Fe": 5.3}, vtst=True)
    doc = parse_vasp_neb_output(recorded, hop_id="hop-r", config=config, candidate_id="c")
    assert doc.status == "ok" and doc.tier == "vasp"
    assert doc.n_images == 3 and len(doc.energies_ev) == 5
    assert doc.barrier_ev == pytest.approx(0.42)
    assert doc.backward_barrier_ev == pytest.approx(0.40)
    lot = doc.level_of_theory
    assert (lot.code, lot.functional, lot.hubbard_u, lot.method) == (
        "VASP",
        "PBE",
        {"Fe": 5.3},
        "CI-NEB",
    )


def test_parse_failed_and_incomplete_docs():
    recorded = json.loads((DATA / "neb_task_doc_pbe_u.json").read_text())
    recorded["state"] = "failed"
    doc = parse_vasp_neb_output(recorded, hop_id="h")
    assert doc.status == "not_converged" and doc.barrier_ev is not None
    recorded["energies"][0] = None
    doc = parse_vasp_neb_output(recorded, hop_id="h")
    assert doc.status == "failed" and "energies" in doc.reason


def test_parse_records_the_plain_neb_and_the_mp_u_of_its_images():
    recorded = json.loads((DATA / "neb_task_doc_pbe_u.json").read_text())
    config = VaspNebConfig(n_images=3)  # hubbard_u="mp", no VTST
    doc = parse_vasp_neb_output(recorded, hop_id="h", config=config)
    assert doc.climbing_image is False and "built-in" in doc.neb_tangent
    assert doc.level_of_theory.method == "NEB"
    assert doc.level_of_theory.hubbard_u is None  # no image: the U cannot be known
    initial, final = recorded_endpoints()  # Li in rock-salt FeO
    recorded["images"] = [s.as_dict() for s in initial.interpolate(final, nimages=4)]
    doc = parse_vasp_neb_output(recorded, hop_id="h", config=config)
    assert doc.status == "ok"
    assert doc.level_of_theory.hubbard_u == {"Fe": 5.3}  # MP's U of Fe in an oxide
