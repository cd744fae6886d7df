"""VASP tier offline: real atomate2 input writing with a fake VASP; parsing of a recorded doc.

VASP and POTCARs are absent: input sets are written with ``potcar_spec=True`` (as atomate2's
own tests do) and ``run_vasp`` is replaced by a fake that checks the inputs it was given.
"""

from __future__ import annotations

from pathlib import Path

import atomate2.vasp.jobs.neb
import pytest
from jobflow import Flow
from pymatgen.core import Structure
from pymatgen.io.vasp import Incar, Kpoints, Poscar
from pymatgen.io.vasp.sets import MPRelaxSet, VaspInputSet

from hopscreen.verification import (
    VaspNebConfig,
    make_vasp_neb_flow,
    vasp_incar_settings,
    vasp_level_of_theory,
    vasp_neb_makers,
)


class FakeVaspStop(Exception):
    """Raised by the fake VASP once the inputs are checked (no outputs are needed)."""


@pytest.fixture
def fake_vasp(monkeypatch, tmp_path):
    """Write inputs with potcar_spec, record what 'VASP' saw in the run directory."""
    from atomate2.vasp.sets.base import VaspInputGenerator

    seen: dict = {}
    get_input_set = VaspInputGenerator.get_input_set

    def with_potcar_spec(self, *args, **kwargs):
        kwargs["potcar_spec"] = True
        return get_input_set(self, *args, **kwargs)

    def fake_run_vasp(*_args, **kwargs):
        cwd = Path.cwd()
        seen["job_type"] = kwargs.get("job_type")
        seen["incar"] = Incar.from_file(cwd / "INCAR")
        seen["kpoints"] = Kpoints.from_file(cwd / "KPOINTS") if (cwd / "KPOINTS").exists() else None
        seen["potcar_spec"] = (cwd / "POTCAR.spec").read_text().split()
        seen["image_dirs"] = sorted(p.name for p in cwd.glob("[0-9][0-9]"))
        seen["poscars"] = [Poscar.from_file(cwd / d / "POSCAR") for d in seen["image_dirs"]]
        raise FakeVaspStop

    monkeypatch.setattr(VaspInputGenerator, "get_input_set", with_potcar_spec)
    monkeypatch.setattr(VaspInputSet, "nelect", lambda *_a, **_k: 12)
    monkeypatch.setattr(atomate2.vasp.jobs.neb, "run_vasp", fake_run_vasp)
    monkeypatch.chdir(tmp_path)
    return seen


def _run_neb_images_job(config, endpoints, fake_vasp):
    initial, final = endpoints
    _, images_maker = vasp_neb_makers(config, initial)
    images = initial.interpolate(final, nimages=config.n_images + 1, autosort_tol=0)
    with pytest.raises(FakeVaspStop):
        images_maker.make.original(images_maker, images)
    return fake_vasp


def test_neb_inputs_pbe_u_vtst(endpoints, fake_vasp):
    config = VaspNebConfig(n_images=3, hubbard_u={"Mg": 2.0}, vtst=True)
    seen = _run_neb_images_job(config, endpoints, fake_vasp)
    incar = seen["incar"]
    assert incar["IMAGES"] == 3
    assert seen["image_dirs"] == ["00", "01", "02", "03", "04"]  # n_images + 2 folders
    assert all(p.structure.num_sites == 9 for p in seen["poscars"])
    assert all(p.site_symbols == ["Li", "Mg", "O"] for p in seen["poscars"])
    assert incar["LCLIMB"] is True and incar["IBRION"] == 3 and incar["IOPT"] == 1
    assert incar["SPRING"] == -5 and incar["POTIM"] == 0 and incar["ISIF"] == 2
    assert incar["LDAU"] is True and incar["LDAUTYPE"] == 2
    assert incar["LDAUU"] == [0, 2.0, 0]  # per POSCAR species Li, Mg, O
    assert incar["GGA"].upper() == "PE" and "METAGGA" not in incar
    assert seen["kpoints"] is not None and seen["kpoints"].num_kpts >= 0
    assert seen["potcar_spec"] and len(seen["potcar_spec"]) == 3
    assert str(seen["job_type"]).lower().endswith("neb")


def test_neb_inputs_r2scan_no_u(endpoints, fake_vasp):
    config = VaspNebConfig(functional="r2SCAN", n_images=1, incar_updates={"ENCUT": 600})
    incar = _run_neb_images_job(config, endpoints, fake_vasp)["incar"]
    assert incar["IMAGES"] == 1
    assert incar["METAGGA"].upper() == "R2SCAN" and "GGA" not in incar
    assert not incar.get("LDAU", False)
    assert incar["ENCUT"] == 600
    assert fake_vasp["image_dirs"] == ["00", "01", "02"]


def test_endpoint_relax_same_level(endpoints):
    relax, _ = vasp_neb_makers(VaspNebConfig(hubbard_u={"Mg": 2.0}))
    incar = relax.input_set_generator.get_input_set(endpoints[0], potcar_spec=True).incar
    assert incar["ISIF"] == 2 and incar["LDAU"] is True and incar["LDAUU"] == [0, 2.0, 0]


def test_flow_shape(endpoints):
    initial, final = endpoints
    flow = make_vasp_neb_flow(initial, final, hop_id="hop-v", config=VaspNebConfig(n_images=3))
    assert isinstance(flow, Flow)
    names = [job.name for job in flow.jobs]
    assert sum(n.endswith((" endpoint 1", " endpoint 2")) for n in names) == 2  # relaxed first
    assert any(n == "NEB" for n in names) and "collect_neb_output" in names
    assert "hop-v" in flow.name
    assert all(job.metadata.get("hop_id") == "hop-v" for job in flow.jobs)

    approx = make_vasp_neb_flow(
        initial, final, hop_id="hop-a", config=VaspNebConfig(approx_neb=True)
    )
    assert isinstance(approx, Flow) and approx.jobs


def test_config_rejects_reserved_incar_keys():
    with pytest.raises(ValueError, match="IMAGES"):
        VaspNebConfig(incar_updates={"images": 7})


def test_neb_inputs_without_vtst_are_plain_vasp(endpoints, fake_vasp):
    config = VaspNebConfig(n_images=3)
    assert config.vtst is False and config.climbing_image is False
    incar = _run_neb_images_job(config, endpoints, fake_vasp)["incar"]
    assert "IOPT" not in incar and "LCLIMB" not in incar  # VTST-only tags
    assert incar["IBRION"] == 1 and incar["POTIM"] > 0 and incar["SPRING"] == -5
    assert incar["IMAGES"] == 3
    assert vasp_level_of_theory(config, endpoints[0]).method == "NEB"


def test_vtst_without_climbing_image_keeps_vtst_optimiser(endpoints, fake_vasp):
    config = VaspNebConfig(n_images=1, vtst=True, climbing_image=False)
    incar = _run_neb_images_job(config, endpoints, fake_vasp)["incar"]
    assert incar["IOPT"] == 1 and incar["LCLIMB"] is False and incar["IBRION"] == 3
    assert vasp_level_of_theory(config, endpoints[0]).method == "NEB"


def test_climbing_image_needs_vtst():
    with pytest.raises(ValueError, match="VTST"):
        VaspNebConfig(climbing_image=True)
    assert VaspNebConfig(vtst=True).climbing_image is True
    with pytest.raises(ValueError, match="IOPT"):
        VaspNebConfig(incar_updates={"iopt": 3})


def _oxide(endpoints: tuple[Structure, Structure], metal: str) -> list[Structure]:
    """The endpoints fixture (Li in rock-salt MgO) with ``metal`` in place of Mg."""
    out = [s.copy() for s in endpoints]
    for s in out:
        s.replace_species({"Mg": metal})
    return out


def test_mp_u_is_applied_to_oxides_and_recorded(endpoints, fake_vasp):
    initial, final = _oxide(endpoints, "Co")
    config = VaspNebConfig(n_images=1)  # hubbard_u="mp" by default
    incar = _run_neb_images_job(config, (initial, final), fake_vasp)["incar"]
    expected = MPRelaxSet.CONFIG["INCAR"]["LDAUU"]["O"]["Co"]
    assert incar["LDAU"] is True and incar["LDAUU"] == [0, expected, 0]
    assert vasp_level_of_theory(config, initial).hubbard_u == {"Co": expected}
    # the endpoint relaxation runs at the same U
    relax, _ = vasp_neb_makers(config, initial)
    relax_incar = relax.input_set_generator.get_input_set(initial, potcar_spec=True).incar
    assert relax_incar["LDAUU"] == [0, expected, 0]


def test_mp_u_needs_the_structure(endpoints):
    with pytest.raises(ValueError, match="structure"):
        vasp_incar_settings(VaspNebConfig())
    oxide = _oxide(endpoints, "Fe")[0]
    assert VaspNebConfig(hubbard_u=None).for_structure(oxide).hubbard_u is None
    assert VaspNebConfig().for_structure(oxide).hubbard_u == {"Fe": 5.3}
    assert VaspNebConfig().for_structure(endpoints[0]).hubbard_u is None  # Mg has no U
