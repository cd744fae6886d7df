"""MP-compatible +U and the IMAGES / MPI-ranks check of the VASP tier."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pymatgen.core import Lattice, Structure
from pymatgen.io.vasp.sets import MPRelaxSet

from hopscreen.verification import (
    VaspNebConfig,
    applied_hubbard_u,
    check_images_against_tasks,
    mp_hubbard_u,
)
from hopscreen.workflow.campaign import CampaignConfig, CampaignConfigError

ROOT = Path(__file__).parents[2]


def _rocksalt(metal: str, anion: str) -> Structure:
    """Li + rock-salt (metal, anion) cell: 9 atoms."""
    metal_sites = [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]
    anion_sites = [[0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5], [0.5, 0.5, 0.5]]
    species = ["Li"] + [metal] * 4 + [anion] * 4
    return Structure(Lattice.cubic(4.2), species, [[0.25] * 3, *metal_sites, *anion_sites])


def test_mp_u_comes_from_pymatgens_mp_set_for_oxides_and_fluorides():
    table = MPRelaxSet.CONFIG["INCAR"]["LDAUU"]
    assert mp_hubbard_u(_rocksalt("Fe", "O")) == {"Fe": table["O"]["Fe"]}
    assert mp_hubbard_u(_rocksalt("Ni", "F")) == {"Ni": table["F"]["Ni"]}
    assert mp_hubbard_u(_rocksalt("Fe", "S")) is None  # sulfide: no U in MP
    assert mp_hubbard_u(_rocksalt("Mg", "O")) is None  # oxide without a U element
    assert mp_hubbard_u(_rocksalt("Fe", "N")) is None  # nitride (and cyanide frameworks)


def test_applied_u_of_each_setting():
    oxide = _rocksalt("Co", "O")
    assert applied_hubbard_u(None, oxide) is None
    assert applied_hubbard_u("mp", oxide) == mp_hubbard_u(oxide)
    # explicit values: only the elements present, zeros dropped
    assert applied_hubbard_u({"Co": 4.0, "Fe": 5.0, "O": 0.0}, oxide) == {"Co": 4.0}
    with pytest.raises(ValueError, match="hubbard_u"):
        applied_hubbard_u("pbe", oxide)
    assert VaspNebConfig().hubbard_u == "mp"
    assert VaspNebConfig().for_structure(oxide).hubbard_u == mp_hubbard_u(oxide)


def test_images_must_divide_the_ranks():
    check_images_against_tasks(5, 60)
    check_images_against_tasks(4, 64)
    with pytest.raises(ValueError, match="multiple of IMAGES") as err:
        check_images_against_tasks(5, 64)
    assert "n_images = 4 or 8" in str(err.value)
    assert "ntasks = 60 or 65" in str(err.value)
    with pytest.raises(ValueError, match="n_images = 2"):
        check_images_against_tasks(3, 2)  # fewer ranks than images
    with pytest.raises(ValueError, match="positive"):
        check_images_against_tasks(0, 8)


def test_config_checks_the_ranks_when_it_knows_them():
    assert VaspNebConfig(n_images=5, ntasks_per_neb=60).ntasks_per_neb == 60
    with pytest.raises(ValueError, match="multiple of IMAGES"):
        VaspNebConfig(n_images=5, ntasks_per_neb=64)
    VaspNebConfig(n_images=5, ntasks_per_neb=64, approx_neb=True)  # no IMAGES in ApproxNEB
    with pytest.raises(CampaignConfigError, match="multiple of IMAGES"):
        CampaignConfig.from_dict(
            {"sources": {"demo": True}, "verifier": "vasp", "vasp": {"ntasks_per_neb": 64}}
        )


def test_queue_adapter_template_runs_the_default_images():
    adapter = yaml.safe_load((ROOT / "launch_configs" / "my_qadapter.yaml").read_text())
    check_images_against_tasks(VaspNebConfig().n_images, int(adapter["ntasks"]))
