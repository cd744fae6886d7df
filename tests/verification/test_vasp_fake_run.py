"""VASP tier end to end on recorded outputs, with atomate2's own fake VASP.

``atomate2.utils.testing.vasp.monkeypatch_vasp`` replaces ``run_vasp``: each VASP job's inputs
are checked against ``vasp_outputs/<job>/inputs`` and the recorded ``outputs`` are copied into
the job folder; then atomate2's and emmet's real parsers run (``TaskDoc`` for the endpoint
relaxations, ``NebIntermediateImagesDoc`` / ``NebTaskDoc`` for the band), and hopscreen's
parser turns the collected band into a VerificationDoc. The recorded files are written by
``vasp_recording.py`` (see there to re-record).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from atomate2.utils.testing.vasp import monkeypatch_vasp
from jobflow import run_locally
from vasp_recording import (
    HUBBARD_U,
    IMAGE_ENERGIES_EV,
    N_IMAGES,
    OUTPUTS,
    REF_BACKWARD_EV,
    REF_BARRIER_EV,
    recorded_endpoints,
    write_outputs,
)

from hopscreen.schemas.verification import VerificationDoc
from hopscreen.verification.vasp import VaspNebConfig
from hopscreen.verification.vasp_outputs import (
    functional_from_incar,
    hubbard_u_from_incar,
    level_of_theory_from_neb_dir,
    neb_image_problems,
)
from hopscreen.workflow.jobs import vasp_neb_verification_flow

REF_PATHS = {
    "NEB endpoint relax endpoint 1": "relax_endpoint_1",
    "NEB endpoint relax endpoint 2": "relax_endpoint_2",
    "NEB": "neb",
}
VASP = VaspNebConfig(n_images=N_IMAGES, hubbard_u=HUBBARD_U, vtst=True)  # as recorded


@pytest.fixture
def recorded(tmp_path) -> Path:
    """A private copy of the recorded set (tests may break an image in it)."""
    return Path(shutil.copytree(OUTPUTS, tmp_path / "recorded"))


@pytest.fixture
def mock_vasp(monkeypatch, recorded):
    """atomate2's fake VASP over the recorded set (as atomate2's own ``mock_vasp``)."""
    yield from monkeypatch_vasp(monkeypatch, recorded)


def _run_flow(mock_vasp, tmp_path, **kwargs) -> tuple[VerificationDoc, dict]:
    initial, final = recorded_endpoints()
    flow = vasp_neb_verification_flow(initial, final, hop_id="hop-rec", vasp=VASP, **kwargs)
    mock_vasp(REF_PATHS)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    responses = run_locally(flow, create_folders=True, root_dir=run_dir, ensure_success=False)
    final_out = responses[flow.output.uuid]
    return final_out[max(final_out)].output, responses


def test_fake_vasp_neb_gives_barrier_profile_and_level_of_theory(mock_vasp, tmp_path):
    doc, responses = _run_flow(mock_vasp, tmp_path, candidate_id="cand-rec")
    assert isinstance(doc, VerificationDoc)
    assert doc.status == "ok" and doc.converged and doc.reason is None
    assert doc.tier == "vasp" and doc.hop_id == "hop-rec" and doc.candidate_id == "cand-rec"
    # barrier on the computed images: max image energy − relaxed initial endpoint
    assert doc.barrier_ev == pytest.approx(REF_BARRIER_EV) == pytest.approx(0.42)
    assert doc.backward_barrier_ev == pytest.approx(REF_BACKWARD_EV)
    assert doc.n_images == N_IMAGES and doc.n_atoms == 9
    assert doc.energies_ev == pytest.approx([0.0, 0.19, 0.42, 0.21, 0.02])
    lot = doc.level_of_theory
    assert (lot.code, lot.method, lot.functional) == ("VASP", "CI-NEB", "PBE")
    assert lot.hubbard_u == {"Fe": 5.3}  # read back from the NEB folder's LDAUU/LDAUL
    # every VASP job of the flow ran (through the fake) and the band was collected
    assert len(responses) == 6  # 2 relaxations, images, NEB, collect, hopscreen parser


def test_unconverged_image_is_a_failure_with_its_reason(mock_vasp, recorded, tmp_path):
    initial, final = recorded_endpoints()
    band = initial.interpolate(final, nimages=N_IMAGES + 1, autosort_tol=0)
    image_dir = recorded / "neb" / "outputs" / "02"
    write_outputs(  # SCF hit NELM in the last ionic step of image 02
        image_dir,
        [band[2], band[2]],
        [IMAGE_ENERGIES_EV[1] + 0.02, IMAGE_ENERGIES_EV[1]],
        incar={"IBRION": 3, "NSW": 99, "IMAGES": N_IMAGES},
        potcar_symbols=["Li_sv", "Fe_pv", "O"],
        scf_steps=4,
        nelm=4,
    )
    doc, _ = _run_flow(mock_vasp, tmp_path)
    assert doc.status == "failed" and doc.barrier_ev is None
    assert "image 02: electronic SCF not converged (NELM = 4 reached)" in doc.reason
    assert doc.level_of_theory.hubbard_u == {"Fe": 5.3}


def test_missing_image_output_is_a_failure_not_a_crash(mock_vasp, recorded, tmp_path):
    (recorded / "neb" / "outputs" / "02" / "vasprun.xml").unlink()
    doc, _ = _run_flow(mock_vasp, tmp_path, candidate_id="cand-rec")
    assert doc.status == "failed" and doc.barrier_ev is None
    assert doc.reason.startswith("LookupError: no NEB output")
    assert doc.candidate_id == "cand-rec"
    # the id is that of the configured level of theory, as for a successful run
    assert doc.level_of_theory.hubbard_u == {"Fe": 5.3}


def test_image_problems_name_the_image(recorded):
    neb = recorded / "neb" / "outputs"
    assert neb_image_problems(neb) == []
    (neb / "02" / "vasprun.xml").unlink()
    text = (neb / "03" / "vasprun.xml").read_text()
    (neb / "03" / "vasprun.xml").write_text(text[: len(text) // 2])  # VASP killed mid-write
    problems = neb_image_problems(neb)
    assert problems[0].startswith("image 02: no vasprun.xml")
    assert problems[1].startswith("image 03: unreadable vasprun.xml")
    assert len(problems) == 2
    for name in ("02", "03", "04"):
        shutil.rmtree(neb / name)
    assert "2 image folders" in neb_image_problems(neb)[0]


def test_level_of_theory_from_recorded_incar():
    lot = level_of_theory_from_neb_dir(OUTPUTS / "neb" / "outputs")
    assert lot is not None
    assert (lot.functional, lot.hubbard_u, lot.method) == ("PBE", {"Fe": 5.3}, "CI-NEB")
    assert level_of_theory_from_neb_dir(OUTPUTS / "missing") is None


@pytest.mark.parametrize(
    ("incar", "expected"),
    [
        ({"GGA": "PE"}, "PBE"),
        ({"GGA": "Ps"}, "PBEsol"),
        ({"METAGGA": "R2scan", "GGA": None}, "r2SCAN"),
        ({"METAGGA": "None", "GGA": "PE"}, "PBE"),
        ({}, "PBE"),
    ],
)
def test_functional_from_incar(incar, expected):
    assert functional_from_incar(incar) == expected


def test_hubbard_u_from_incar():
    species = ["Li", "Mn", "Fe", "O"]
    incar = {"LDAU": True, "LDAUU": [0, 3.9, 5.3, 0], "LDAUL": [-1, 2, 2, -1]}
    assert hubbard_u_from_incar(incar, species) == {"Mn": 3.9, "Fe": 5.3}
    # Dudarev: U_eff = U - J; a U on a block with LDAUL = -1 is ignored by VASP
    incar = {
        "LDAU": True,
        "LDAUU": [0, 4.0, 5.3, 0],
        "LDAUJ": [0, 1.0, 0, 0],
        "LDAUL": [-1, 2, -1, -1],
    }
    assert hubbard_u_from_incar(incar, species) == {"Mn": 3.0}
    assert hubbard_u_from_incar({"LDAU": False, "LDAUU": [0, 3.9, 5.3, 0]}, species) is None
    with pytest.raises(ValueError, match="LDAUU"):
        hubbard_u_from_incar({"LDAU": True, "LDAUU": [1.0, 2.0]}, species)
