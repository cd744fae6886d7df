"""Write the smallest VASP output files that pymatgen and emmet parse, for fake-VASP tests.

A real VASP run leaves ``vasprun.xml``, ``OUTCAR``, ``OSZICAR`` and ``CONTCAR`` next to its
inputs. The writers here produce the parts of those files that the parsers read (header,
INCAR, k-points, atom info, one ``<calculation>`` per ionic step with its SCF energies,
forces and stress; the OUTCAR header and timing), with energies chosen by the test. Nothing
else (eigenvalues, DOS, projections) is written, so each file is a few kB.

Run as a script to (re)record the NEB reference set used by ``test_vasp_fake_run.py``::

    .venv/bin/python tests/verification/vasp_recording.py

The inputs of that set are written by the real atomate2 input generation with
``potcar_spec=True`` (what atomate2 would hand to VASP), the outputs by the writers below.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
from pymatgen.core import Element, Lattice, Structure
from pymatgen.io.vasp import Incar, Poscar

OUTPUTS = Path(__file__).parent / "vasp_outputs"
VASP_VERSION = "6.4.2"

# The recorded hop: Li between two tetrahedral sites of a rock-salt "FeO" cell, PBE+U (Fe 5.3).
HUBBARD_U = {"Fe": 5.3}
N_IMAGES = 3
ENDPOINT_ENERGIES_EV = (-60.00, -59.98)
IMAGE_ENERGIES_EV = (-59.81, -59.58, -59.79)
REF_BARRIER_EV = max(IMAGE_ENERGIES_EV) - ENDPOINT_ENERGIES_EV[0]  # 0.42 eV
REF_BACKWARD_EV = max(IMAGE_ENERGIES_EV) - ENDPOINT_ENERGIES_EV[1]  # 0.40 eV

_FE = [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]
_O = [[0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5], [0.5, 0.5, 0.5]]


def recorded_endpoints() -> tuple[Structure, Structure]:
    """Endpoints of the recorded hop (9 atoms, migrating Li first)."""
    lattice = Lattice.cubic(4.30)
    species = ["Li"] + ["Fe"] * 4 + ["O"] * 4
    initial = Structure(lattice, species, [[0.25, 0.25, 0.25], *_FE, *_O])
    final = Structure(lattice, species, [[0.75, 0.25, 0.25], *_FE, *_O])
    return initial, final


# ---------------------------------------------------------------------------------------------
# vasprun.xml
# ---------------------------------------------------------------------------------------------
def _value(key: str, value: Any) -> str:
    """One ``<i>`` or ``<v>`` element of an ``<incar>`` or ``<parameters>`` block."""
    if isinstance(value, bool):
        return f'  <i type="logical" name="{key}"> {"T" if value else "F"}  </i>'
    if isinstance(value, int):
        return f'  <i type="int" name="{key}">{value:8d}</i>'
    if isinstance(value, float):
        return f'  <i name="{key}">{value:16.8f}</i>'
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return f'  <v type="int" name="{key}">' + " ".join(f"{v:6d}" for v in value) + "</v>"
        return f'  <v name="{key}">' + " ".join(f"{float(v):16.8f}" for v in value) + "</v>"
    return f'  <i type="string" name="{key}">{escape(str(value))}</i>'


def _varray(name: str, rows: np.ndarray) -> str:
    lines = [f'  <varray name="{name}" >']
    lines += [
        "   <v>" + " ".join(f"{x:16.8f}" for x in row) + " </v>" for row in np.atleast_2d(rows)
    ]
    lines.append("  </varray>")
    return "\n".join(lines)


def _structure(structure: Structure, name: str | None = None) -> str:
    head = f'<structure name="{name}" >' if name else "<structure>"
    lattice = structure.lattice
    return "\n".join(
        [
            head,
            " <crystal>",
            _varray("basis", lattice.matrix),
            f'  <i name="volume">{lattice.volume:16.8f}</i>',
            _varray("rec_basis", lattice.inv_matrix.T),
            " </crystal>",
            _varray("positions", structure.frac_coords),
            "</structure>",
        ]
    )


def _energy_block(energy_ev: float, indent: str) -> str:
    names = ("e_fr_energy", "e_wo_entrp", "e_0_energy")
    inner = "\n".join(f'{indent} <i name="{n}">{energy_ev:16.8f}</i>' for n in names)
    return f"{indent}<energy>\n{inner}\n{indent}</energy>"


def _species_blocks(structure: Structure) -> list[tuple[str, int]]:
    """(element, count) in POSCAR order (consecutive runs of the same species)."""
    blocks: list[tuple[str, int]] = []
    for site in structure:
        symbol = site.specie.symbol
        if blocks and blocks[-1][0] == symbol:
            blocks[-1] = (symbol, blocks[-1][1] + 1)
        else:
            blocks.append((symbol, 1))
    return blocks


def vasprun_xml(
    structures: Sequence[Structure],
    energies_ev: Sequence[float],
    *,
    incar: Mapping[str, Any],
    potcar_symbols: Sequence[str],
    forces: Sequence[np.ndarray] | None = None,
    scf_steps: int = 2,
    nelm: int | None = None,
) -> str:
    """A minimal ``vasprun.xml`` with one ``<calculation>`` per ionic step.

    Parameters
    ----------
    structures : sequence of Structure
        Structure of each ionic step (the first is also the initial structure, the last the
        final one).
    energies_ev : sequence of float
        Total energy of each ionic step, eV (``e_fr_energy = e_wo_entrp = e_0_energy``).
    incar : mapping
        INCAR settings VASP read (written to ``<incar>`` and ``<parameters>``).
    potcar_symbols : sequence of str
        POTCAR symbol per species block, e.g. ``["Li_sv", "Fe_pv", "O"]``.
    forces : sequence of (n_atoms, 3) arrays, optional
        Forces per ionic step, eV/Å; zeros by default.
    scf_steps : int
        Electronic steps per ionic step; VASP's SCF did not converge when this reaches NELM.
    nelm : int, optional
        Electronic step limit (default: INCAR ``NELM`` or VASP's 60).

    Returns
    -------
    str
        The XML text.

    """
    if len(structures) != len(energies_ev):
        raise ValueError("one energy per ionic step is needed")
    first = structures[0]
    params = {key: value for key, value in incar.items() if value is not None}
    params["NELM"] = int(nelm if nelm is not None else params.get("NELM", 60))
    params.setdefault("NSW", 0)
    params.setdefault("IBRION", -1)
    params.setdefault("ISPIN", 1)
    params.setdefault("LORBIT", 0)
    blocks = _species_blocks(first)
    if len(potcar_symbols) != len(blocks):
        raise ValueError(f"{len(blocks)} species blocks but {len(potcar_symbols)} POTCARs")
    type_of = {symbol: i + 1 for i, (symbol, _) in enumerate(blocks)}
    lines = [
        '<?xml version="1.0" encoding="ISO-8859-1"?>',
        "<modeling>",
        " <generator>",
        '  <i name="program" type="string">vasp </i>',
        f'  <i name="version" type="string">{VASP_VERSION}  </i>',
        '  <i name="platform" type="string">LinuxIFC </i>',
        '  <i name="date" type="string">2026 01 01 </i>',
        '  <i name="time" type="string">12:00:00 </i>',
        " </generator>",
        " <incar>",
        *(_value(k, v) for k, v in incar.items() if v is not None),
        " </incar>",
        " <kpoints>",
        '  <generation param="Gamma">',
        '   <v type="int" name="divisions">       1        1        1 </v>',
        '   <v name="usershift">      0.00000000      0.00000000      0.00000000 </v>',
        "  </generation>",
        _varray("kpointlist", np.zeros((1, 3))),
        _varray("weights", np.ones((1, 1))),
        " </kpoints>",
        " <parameters>",
        *(_value(k, v) for k, v in params.items()),
        " </parameters>",
        " <atominfo>",
        f"  <atoms>{len(first):8d} </atoms>",
        f"  <types>{len(blocks):8d} </types>",
        '  <array name="atoms" >',
        '   <dimension dim="1">ion</dimension>',
        '   <field type="string">element</field>',
        '   <field type="int">atomtype</field>',
        "   <set>",
        *(
            f"    <rc><c>{s.specie.symbol:2s}</c><c>{type_of[s.specie.symbol]:4d}</c></rc>"
            for s in first
        ),
        "   </set>",
        "  </array>",
        '  <array name="atomtypes" >',
        '   <dimension dim="1">type</dimension>',
        '   <field type="int">atomspertype</field>',
        '   <field type="string">element</field>',
        "   <field>mass</field>",
        "   <field>valence</field>",
        '   <field type="string">pseudopotential</field>',
        "   <set>",
        *(
            f"    <rc><c>{count:4d}</c><c>{symbol:2s}</c><c>{Element(symbol).atomic_mass:16.8f}"
            f"</c><c>{1.0:16.8f}</c><c>  PAW_PBE {potcar} 01Jan2000</c></rc>"
            for (symbol, count), potcar in zip(blocks, potcar_symbols, strict=True)
        ),
        "   </set>",
        "  </array>",
        " </atominfo>",
        _structure(first, "initialpos"),
    ]
    for step, (structure, energy) in enumerate(zip(structures, energies_ev, strict=True)):
        step_forces = np.zeros((len(structure), 3)) if forces is None else forces[step]
        lines.append(" <calculation>")
        for scf in range(scf_steps):
            # SCF energies approach the converged value from above
            lines += [
                "  <scstep>",
                _energy_block(energy + 0.1 / (scf + 1) ** 3, "   "),
                "  </scstep>",
            ]
        lines[-2] = _energy_block(energy, "   ")
        lines += [
            _structure(structure),
            _varray("forces", step_forces),
            _varray("stress", np.zeros((3, 3))),
            _energy_block(energy, "  "),
            " </calculation>",
        ]
    lines += [_structure(structures[-1], "finalpos"), "</modeling>", ""]
    return "\n".join(lines)


def outcar_text(
    structure: Structure, energy_ev: float, *, ibrion: int = -1, finished: bool = True
) -> str:
    """A minimal OUTCAR: header, final energy and (when ``finished``) the timing footer."""
    lines = [
        f" vasp.{VASP_VERSION} 01Jan26 (build Jan 01 2026) complex",
        " running on    2 total cores",
        f"   number of dos      NEDOS =    301   number of ions     NIONS = {len(structure):6d}",
        "   k-points           NKPTS =      1   k-points in BZ     NKDIM =      1   "
        "number of bands    NBANDS=     48",
        "   total plane-waves  NPLWV =  32768",
        f"   IBRION = {ibrion:6d}    ionic relax: 0-MD 1-quasi-New 2-CG",
        "",
        " E-fermi :   4.2000     XC(G=0):  -8.0000     alpha+bet : -5.0000",
        "",
        "    total drift:                                0.000000      0.000000      0.000000",
        "",
        "  FREE ENERGIE OF THE ION-ELECTRON SYSTEM (eV)",
        "  ---------------------------------------------------",
        f"  free  energy   TOTEN  = {energy_ev:18.8f} eV",
        "",
        f"  energy  without entropy= {energy_ev:18.8f}  energy(sigma->0) = {energy_ev:18.8f}",
        "",
    ]
    if finished:
        lines += [
            " General timing and accounting informations for this job:",
            " ========================================================",
            "",
            "                  Total CPU time used (sec):       12.345",
            "                            User time (sec):       12.000",
            "                          System time (sec):        0.345",
            "                         Elapsed time (sec):       13.000",
            "",
            "                   Maximum memory used (kb):      123456.",
            "                   Average memory used (kb):          N/A",
            "",
        ]
    return "\n".join(lines)


def oszicar_text(energies_ev: Sequence[float]) -> str:
    """An OSZICAR with one line per ionic step (SCF lines left out)."""
    lines = []
    for step, energy in enumerate(energies_ev, start=1):
        lines.append(
            f"{step:4d} F= {energy:.8E} E0= {energy:.8E}  d E ={energy - energies_ev[0]:.6E}"
        )
    return "\n".join(lines) + "\n"


def write_outputs(
    directory: Path,
    structures: Sequence[Structure],
    energies_ev: Sequence[float],
    *,
    incar: Mapping[str, Any],
    potcar_symbols: Sequence[str],
    scf_steps: int = 2,
    nelm: int | None = None,
) -> None:
    """Write vasprun.xml, OUTCAR, OSZICAR and CONTCAR of one VASP run into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vasprun.xml").write_text(
        vasprun_xml(
            structures,
            energies_ev,
            incar=incar,
            potcar_symbols=potcar_symbols,
            scf_steps=scf_steps,
            nelm=nelm,
        )
    )
    (directory / "OUTCAR").write_text(
        outcar_text(structures[-1], energies_ev[-1], ibrion=int(incar.get("IBRION", -1)))
    )
    (directory / "OSZICAR").write_text(oszicar_text(energies_ev))
    Poscar(structures[-1]).write_file(directory / "CONTCAR")


# ---------------------------------------------------------------------------------------------
# The recorded NEB set (atomate2 layout: <job>/inputs, <job>/outputs)
# ---------------------------------------------------------------------------------------------
def _inputs_of(maker: Any, structure: Structure, directory: Path) -> Incar:
    """Write what the atomate2 maker would give VASP for ``structure`` (POTCAR.spec only)."""
    from atomate2.vasp.files import write_vasp_input_set

    directory.mkdir(parents=True, exist_ok=True)
    write_vasp_input_set(
        structure, maker.input_set_generator, directory, potcar_spec=True, clean_prev=False
    )
    return Incar.from_file(directory / "INCAR")


def _potcar_symbols(directory: Path) -> list[str]:
    return (directory / "POTCAR.spec").read_text().split()


def record_neb_set(dest: Path = OUTPUTS) -> Path:
    """Record the reference runs of a VASP NEB of the recorded hop into ``dest``.

    Writes ``relax_endpoint_1``, ``relax_endpoint_2`` and ``neb`` (each with ``inputs`` and
    ``outputs``, image folders ``00``–``04`` in the NEB), as atomate2's ``fake_run_vasp``
    expects them.
    """
    from hopscreen.verification import VaspNebConfig, vasp_neb_makers

    config = VaspNebConfig(n_images=N_IMAGES, hubbard_u=HUBBARD_U, vtst=True)
    relax, images_maker = vasp_neb_makers(config)
    if dest.exists():
        shutil.rmtree(dest)
    endpoints = recorded_endpoints()
    for idx, (endpoint, energy) in enumerate(zip(endpoints, ENDPOINT_ENERGIES_EV, strict=True)):
        job_dir = dest / f"relax_endpoint_{idx + 1}"
        incar = _inputs_of(relax, endpoint, job_dir / "inputs")
        shutil.copytree(job_dir / "inputs", job_dir / "outputs")
        # two ionic steps; the relaxed structure equals the input (a converged endpoint)
        write_outputs(
            job_dir / "outputs",
            [endpoint, endpoint],
            [energy + 0.01, energy],
            incar=dict(incar),
            potcar_symbols=_potcar_symbols(job_dir / "inputs"),
        )
    band = endpoints[0].interpolate(endpoints[1], nimages=N_IMAGES + 1, autosort_tol=0)
    images_maker.input_set_generator.num_images = N_IMAGES
    neb_dir = dest / "neb"
    incar = _inputs_of(images_maker, band[0], neb_dir / "inputs")
    for idx, image in enumerate(band):
        (neb_dir / "inputs" / f"{idx:02d}").mkdir()
        Poscar(image).write_file(neb_dir / "inputs" / f"{idx:02d}" / "POSCAR")
    shutil.copytree(neb_dir / "inputs", neb_dir / "outputs")
    potcars = _potcar_symbols(neb_dir / "inputs")
    for idx, (image, energy) in enumerate(zip(band[1:-1], IMAGE_ENERGIES_EV, strict=True)):
        write_outputs(
            neb_dir / "outputs" / f"{idx + 1:02d}",
            [image, image],
            [energy + 0.02, energy],
            incar=dict(incar),
            potcar_symbols=potcars,
        )
    return dest


if __name__ == "__main__":
    print(f"recorded into {record_neb_set()}")
