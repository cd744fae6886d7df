"""A hop's VASP NEB folder: one atom moves between images, settings as the VASP tier's."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from pymatgen.io.vasp import Incar, Kpoints, Poscar

from hopscreen.candidates.demo import list_demo, read_demo_structure
from hopscreen.hops import SupercellOptions, hops_for_structure
from hopscreen.verification import (
    NebInputsSummary,
    VaspNebConfig,
    displacements_angstrom,
    ion_path_images,
    ordered_endpoints,
    write_neb_inputs,
)
from hopscreen.verification.neb_inputs import SUMMARY_FILE

SMALL = SupercellOptions(min_atoms=1, max_atoms=120, min_length_angstrom=6.0)


def _hops(name: str):
    entry = next(e for e in list_demo() if e.name == name)
    result = hops_for_structure(
        read_demo_structure(entry), entry.working_ion, name, build_bands=False
    )
    return result.hops


def _images(folder) -> list:
    return [Poscar.from_file(p).structure for p in sorted(folder.glob("[0-9][0-9]/POSCAR"))]


def _site_distance(cart, site) -> float:
    delta = site.lattice.get_fractional_coords(cart) - site.frac_coords
    delta -= np.round(delta)
    return float(np.linalg.norm(site.lattice.get_cartesian_coords(delta)))


@pytest.mark.parametrize("images_from", ["idpp", "linear"])
def test_only_the_ion_moves_between_images(images_from):
    hop = _hops("LiFePO4-olivine")[1]  # 4.69 Å, the c-axis hop
    initial, final = ordered_endpoints(hop, SMALL)
    band, converged = ion_path_images(initial, final, 4, images_from=images_from)
    assert len(band) == 6 and band[0] == initial and band[-1] == final
    assert converged is (None if images_from == "linear" else True)
    steps = np.array([displacements_angstrom(a, b) for a, b in itertools.pairwise(band)])
    assert np.all(steps[:, 1:] == 0.0)  # host atoms exactly where the endpoints have them
    assert np.all(steps[:, 0] > 0.1)
    line = _line(band)
    straight = np.array([displacements_angstrom(a, b)[0] for a, b in zip(band, line, strict=True)])
    if images_from == "linear":
        assert steps[:, 0] == pytest.approx(hop.length_angstrom / 5)
        assert straight.max() == pytest.approx(0.0, abs=1e-9)
    else:  # IDPP bends the path away from the atoms the line passes close to
        assert straight.max() > 0.05
        assert steps[:, 0].max() <= hop.length_angstrom / 3 + 0.1


def _line(band):
    return band[0].interpolate(band[-1], nimages=len(band) - 1, autosort_tol=0)


def test_ion_path_needs_an_image_and_ordered_endpoints():
    hop = _hops("LiCoO2-O3")[0]
    initial, final = ordered_endpoints(hop, SMALL)
    with pytest.raises(ValueError, match="≥ 1"):
        ion_path_images(initial, final, 0)
    shuffled = final.copy()
    shuffled.translate_sites([1], [0.1, 0, 0])  # a host atom moved
    with pytest.raises(ValueError, match="besides the migrating ion"):
        ion_path_images(initial, shuffled, 3)
    with pytest.raises(ValueError, match="same species"):
        ion_path_images(initial, final.get_sorted_structure(), 3)


@pytest.mark.parametrize(
    ("host", "u"), [("LiCoO2-O3", {"Co"}), ("LiMn2O4-spinel", {"Mn"}), ("LiTiS2-O1", None)]
)
def test_neb_folder_of_demo_hops(tmp_path, host, u):
    n_images = 3
    for hop in _hops(host):
        summary = write_neb_inputs(
            hop,
            tmp_path,
            candidate_name=host,
            config=VaspNebConfig(n_images=n_images),
            supercell=SMALL,
        )
        folder = tmp_path / host / hop.hop_id[:12]
        assert summary.folder == str(folder)
        assert NebInputsSummary(**json.loads((folder / SUMMARY_FILE).read_text())) == summary
        images = _images(folder)
        assert [p.parent.name for p in sorted(folder.glob("[0-9][0-9]/POSCAR"))] == [
            "00",
            "01",
            "02",
            "03",
            "04",
        ]
        for a, b in itertools.pairwise(images):  # one atom, the ion, per step
            moved = displacements_angstrom(a, b)
            assert np.flatnonzero(moved > 1e-4).tolist() == [0]
            assert moved[0] <= hop.length_angstrom / (n_images - 1) + 0.1
        assert images[0][0].specie.symbol == hop.working_ion
        assert displacements_angstrom(images[0], images[-1])[0] == pytest.approx(
            hop.length_angstrom, abs=1e-3
        )
        assert _site_distance(images[0][0].coords, hop.migration_hop.isite) < 1e-3
        assert _site_distance(images[-1][0].coords, hop.migration_hop.esite) < 1e-3

        incar = Incar.from_file(folder / "INCAR")
        assert incar["IMAGES"] == n_images and incar["ISIF"] == 2
        assert "IOPT" not in incar and "LCLIMB" not in incar and incar["IBRION"] == 1
        symbols = (folder / "POTCAR.spec").read_text().split()
        assert symbols == summary.potcar_symbols and symbols[0].startswith(hop.working_ion)
        assert Poscar.from_file(folder / "00" / "POSCAR").site_symbols == [
            s.split("_")[0] for s in symbols
        ]
        if u is None:
            assert not incar.get("LDAU", False) and summary.hubbard_u is None
        else:
            assert incar["LDAU"] is True and set(summary.hubbard_u) == u
            assert sum(v > 0 for v in incar["LDAUU"]) == 1
        kpoints = Kpoints.from_file(folder / "KPOINTS")
        assert Kpoints.from_file(folder / "02" / "KPOINTS").kpts == kpoints.kpts
        assert summary.max_host_displacement_angstrom == 0.0
        assert summary.method == "NEB" and not summary.vtst


def test_vtst_folder_and_stale_images_are_replaced(tmp_path):
    hop = _hops("NaFeO2-O3")[0]
    write_neb_inputs(
        hop,
        tmp_path,
        candidate_name="Na Fe O2 (test)",
        config=VaspNebConfig(n_images=5),
        supercell=SMALL,
        images_from="linear",
    )
    summary = write_neb_inputs(
        hop,
        tmp_path,
        candidate_name="Na Fe O2 (test)",
        config=VaspNebConfig(n_images=1, vtst=True),
        supercell=SMALL,
        images_from="linear",
    )
    folder = tmp_path / "Na_Fe_O2_test" / hop.hop_id[:12]
    assert sorted(p.name for p in folder.glob("[0-9][0-9]")) == ["00", "01", "02"]
    incar = Incar.from_file(folder / "INCAR")
    assert incar["IOPT"] == 1 and incar["LCLIMB"] is True and incar["IMAGES"] == 1
    assert summary.method == "CI-NEB" and summary.hubbard_u == {"Fe": 5.3}
