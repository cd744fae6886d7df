"""The VASP branch of verification on real enumerated hops of demo hosts, with a fake VASP.

``vasp_verification_flow`` (find the hop again → ordered endpoints → atomate2's VASP NEB flow
→ hopscreen's parser) runs here from end to end with ``jobflow.run_locally``. atomate2's
fake-VASP harness (``atomate2.utils.testing.vasp.monkeypatch_vasp``) writes the inputs with
``potcar_spec``; its ``run_vasp`` is then replaced by a fake that writes outputs for whatever
structures it finds in the job folder (the recorded-output writers of
``tests/verification/vasp_recording.py``), since no recorded run exists for these supercells.
The fake records the image POSCARs atomate2 wrote for the NEB, which are what the tests check:
between images 00 and 0N exactly one atom, the migrating ion, moves, by the hop's length.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
from pathlib import Path
from types import SimpleNamespace

import atomate2.vasp.jobs.base
import atomate2.vasp.jobs.neb
import numpy as np
import pytest
from atomate2.utils.testing.vasp import monkeypatch_vasp
from jobflow import run_locally
from pymatgen.io.vasp import Incar, Poscar

from hopscreen.candidates.demo import load_demo_candidates
from hopscreen.hops import HopOptions, SupercellOptions, hops_for_structure, supercell_endpoints
from hopscreen.schemas.verification import VerificationDoc
from hopscreen.screening.round import find_hop
from hopscreen.verification import VaspNebConfig, displacements_angstrom
from hopscreen.workflow.jobs import vasp_verification_flow, verify_selected

_spec = importlib.util.spec_from_file_location(
    "vasp_recording", Path(__file__).parents[1] / "verification" / "vasp_recording.py"
)
vasp_recording = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vasp_recording)

# Small supercells (≥ 6 Å) keep the fake outputs and their parsing quick.
OPTIONS = HopOptions(
    supercell=SupercellOptions(min_atoms=1, max_atoms=120, min_length_angstrom=6.0)
)
N_IMAGES = 3
ENDPOINT_EV = -100.0
PEAK_EV = 0.3  # image k of N + 1 intervals: ENDPOINT_EV + PEAK_EV * sin(pi k / (N + 1))
# (host, index of the hop in enumeration order, element with the MP +U in that oxide)
CASES = [("LiCoO2-O3", 1, "Co"), ("LiFePO4-olivine", 0, "Fe"), ("LiMn2O4-spinel", 0, "Mn")]


def _fake_vasp_run(seen: list) -> None:
    """Write the outputs of a VASP run for the inputs in the current folder."""
    cwd = Path.cwd()
    incar = Incar.from_file(cwd / "INCAR")
    potcars = (cwd / "POTCAR.spec").read_text().split()
    image_dirs = sorted(p for p in cwd.glob("[0-9][0-9]") if p.is_dir())
    if not image_dirs:  # an endpoint relaxation: converged at once
        structure = Poscar.from_file(cwd / "POSCAR").structure
        vasp_recording.write_outputs(
            cwd,
            [structure, structure],
            [ENDPOINT_EV + 0.01, ENDPOINT_EV],
            incar=dict(incar),
            potcar_symbols=potcars,
        )
        return
    images = [Poscar.from_file(d / "POSCAR").structure for d in image_dirs]
    seen.append({"incar": incar, "images": images})
    for k, (folder, image) in enumerate(zip(image_dirs, images, strict=True)):
        if 0 < k < len(images) - 1:
            energy = ENDPOINT_EV + PEAK_EV * math.sin(math.pi * k / (len(images) - 1))
            vasp_recording.write_outputs(
                folder,
                [image, image],
                [energy + 0.02, energy],
                incar=dict(incar),
                potcar_symbols=potcars,
            )


@pytest.fixture
def fake_vasp(monkeypatch, tmp_path):
    """atomate2's harness (POTCAR.spec, NELECT) with a VASP that writes outputs on the fly."""
    seen: list = []
    for _ in monkeypatch_vasp(monkeypatch, tmp_path):  # one pass; the harness undoes at exit
        monkeypatch.setattr(
            atomate2.vasp.jobs.base, "run_vasp", lambda *a, **k: _fake_vasp_run(seen)
        )
        monkeypatch.setattr(
            atomate2.vasp.jobs.neb, "run_vasp", lambda *a, **k: _fake_vasp_run(seen)
        )
        yield seen


@pytest.fixture(scope="module")
def demo_hosts():
    return {c.name: c for c in load_demo_candidates().candidates}


def _hop(candidate, index):
    result = hops_for_structure(
        candidate.get_structure(),
        candidate.working_ion,
        candidate.name,
        candidate_id=candidate.candidate_id,
        options=OPTIONS,
        build_bands=False,
    )
    return result.docs[index]


@pytest.mark.parametrize(("host", "index", "u_element"), CASES)
def test_vasp_flow_moves_only_the_migrating_ion(
    host, index, u_element, demo_hosts, fake_vasp, tmp_path
):
    candidate = demo_hosts[host]
    hop = _hop(candidate, index)
    flow = vasp_verification_flow(
        hop, candidate, hop_options=OPTIONS, vasp=VaspNebConfig(n_images=N_IMAGES)
    )
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    responses = run_locally(flow, create_folders=True, root_dir=run_dir, ensure_success=False)

    (neb,) = fake_vasp
    images = neb["images"]
    assert len(images) == N_IMAGES + 2
    moved = displacements_angstrom(images[0], images[-1])
    assert np.flatnonzero(moved > 1e-3).tolist() == [0]  # exactly one atom moves
    assert images[0][0].specie.symbol == candidate.working_ion
    assert moved[0] == pytest.approx(hop.length_angstrom, abs=0.05)
    for a, b in itertools.pairwise(images):  # and in every step of the band
        assert np.flatnonzero(displacements_angstrom(a, b) > 1e-3).tolist() == [0]
    incar = neb["incar"]
    assert incar["IMAGES"] == N_IMAGES and "IOPT" not in incar and "LCLIMB" not in incar

    out = responses[flow.output.uuid]
    doc = out[max(out)].output
    assert isinstance(doc, VerificationDoc)
    assert doc.status == "ok" and doc.hop_id == hop.hop_id, doc.reason
    assert doc.barrier_ev == pytest.approx(PEAK_EV * math.sin(math.pi / 2), abs=1e-6)
    assert doc.level_of_theory.method == "NEB"
    assert set(doc.level_of_theory.hubbard_u) == {u_element}  # the MP U, read back from INCAR


def test_pymatgen_endpoints_alone_would_move_many_atoms(demo_hosts):
    """Why ordered endpoints are needed: the raw vacancy-mode pair is in two atom orders."""
    candidate = demo_hosts["LiCoO2-O3"]
    hop = find_hop(candidate, _hop(candidate, 1).hop_id, OPTIONS)
    ends = supercell_endpoints(hop, OPTIONS.supercell)
    assert (displacements_angstrom(ends.initial, ends.final) > 1e-3).sum() > 1


def test_fan_out_records_a_hop_whose_inputs_cannot_be_built(demo_hosts):
    """A supercell too small for the hop fails that hop's verification, not the fan-out."""
    candidate = demo_hosts["LiCoO2-O3"]
    good, long_hop = _hop(candidate, 0), _hop(candidate, 1)
    tiny = HopOptions(supercell=SupercellOptions(min_atoms=1, max_atoms=8, min_length_angstrom=3.0))
    selection = SimpleNamespace(
        selected=[
            SimpleNamespace(hop_id=h.hop_id, candidate_id=candidate.candidate_id)
            for h in (good, long_hop)
        ]
    )
    response = verify_selected.original(
        selection, [good, long_hop], [candidate], tier="vasp", hop_options=tiny
    )
    jobs = response.replace.jobs
    gather = jobs[-1]
    assert len(jobs) == 2  # one VASP flow (the 2.8 Å hop) and the gatherer
    first, second = gather.function_args[0]
    assert not isinstance(first, VerificationDoc)  # a reference to the flow's output
    assert second.status == "failed" and second.tier == "vasp"
    assert second.reason.startswith("VASP NEB inputs: ") and second.hop_id == long_hop.hop_id
    # the failure is recorded at the level the flow would have run: plain NEB, MP's U for Co
    level = second.level_of_theory
    assert (level.method, level.code) == ("NEB", "VASP") and level.hubbard_u == {"Co": 3.32}
