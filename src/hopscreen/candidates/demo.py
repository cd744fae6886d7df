"""The bundled demo set: small, ordered, well-known intercalation hosts.

Each structure is a CIF in ``hopscreen/candidates/demo/``, written with pymatgen from the
space group, lattice parameters and Wyckoff positions of a published refinement; the
citation, and any idealisation made to get an ordered model, is in the comment at the top
of the file. The cells are small (4–28 atoms) so that NEB verification can run on them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pymatgen.core import Structure
from pymatgen.io.cif import CifParser

from hopscreen.candidates.local import candidates_from_structures
from hopscreen.candidates.validate import check_working_ion
from hopscreen.schemas.candidate import CandidateBatch


@dataclass(frozen=True)
class DemoEntry:
    """One host of the demo set.

    Attributes
    ----------
    name : str
        Short name, also the candidate name.
    filename : str
        CIF file in the package's ``candidates/demo`` folder.
    formula : str
        Reduced formula.
    working_ion : str
        The migrating ion.
    structure_type : str
        Structure family.
    citation : str
        Source of the crystallographic data (short form; full form in the CIF header).
    oxidation_states : dict of str to float
        Formal (average) oxidation states, used to check charge balance.

    """

    name: str
    filename: str
    formula: str
    working_ion: str
    structure_type: str
    citation: str
    oxidation_states: dict[str, float]


DEMO_SET: tuple[DemoEntry, ...] = (
    DemoEntry(
        "LiFePO4-olivine",
        "LiFePO4_olivine.cif",
        "LiFePO4",
        "Li",
        "olivine (Pnma)",
        "Streltsov et al., Acta Cryst. B 49, 147 (1993)",
        {"Li": 1, "Fe": 2, "P": 5, "O": -2},
    ),
    DemoEntry(
        "LiCoO2-O3",
        "LiCoO2_layered.cif",
        "LiCoO2",
        "Li",
        "O3 layered (R-3m)",
        "Akimoto, Gotoh, Oosawa, J. Solid State Chem. 141, 298 (1998)",
        {"Li": 1, "Co": 3, "O": -2},
    ),
    DemoEntry(
        "LiMn2O4-spinel",
        "LiMn2O4_spinel.cif",
        "LiMn2O4",
        "Li",
        "spinel (Fd-3m)",
        "Akimoto et al., Chem. Mater. 12, 3246 (2000)",
        {"Li": 1, "Mn": 3.5, "O": -2},
    ),
    DemoEntry(
        "LiC6-graphite",
        "LiC6_graphite.cif",
        "LiC6",
        "Li",
        "graphite intercalation (P6/mmm)",
        "Guerard, Herold, Carbon 13, 337 (1975)",
        {"Li": 1, "C": -1 / 6},  # the electron goes to the graphene sheets
    ),
    DemoEntry(
        "LiTiS2-O1",
        "LiTiS2_layered.cif",
        "LiTiS2",
        "Li",
        "O1 layered, CdI2-derived (P-3m1)",
        "Whittingham, Prog. Solid State Chem. 12, 41 (1978)",
        {"Li": 1, "Ti": 3, "S": -2},
    ),
    DemoEntry(
        "NaFeO2-O3",
        "NaFeO2_layered.cif",
        "NaFeO2",
        "Na",
        "O3 layered (R-3m)",
        "Takeda et al., Mater. Res. Bull. 29, 659 (1994)",
        {"Na": 1, "Fe": 3, "O": -2},
    ),
    DemoEntry(
        "MgCr2O4-spinel",
        "MgCr2O4_spinel.cif",
        "MgCr2O4",
        "Mg",
        "spinel (Fd-3m)",
        "O'Neill, Dollase, Phys. Chem. Miner. 20, 541 (1994)",
        {"Mg": 2, "Cr": 3, "O": -2},
    ),
    DemoEntry(
        "K2FeFe(CN)6-PW",
        "K2FeFeCN6_prussian_white.cif",
        "KFe(CN)3",
        "K",
        "Prussian blue analogue, idealised cubic (Fm-3m)",
        "Buser et al., Inorg. Chem. 16, 2704 (1977) (framework)",
        {"K": 1, "Fe": 2, "C": 2, "N": -3},
    ),
)


def list_demo() -> list[DemoEntry]:
    """The hosts of the demo set (name, formula, ion, structure type, citation)."""
    return list(DEMO_SET)


def read_demo_structure(entry: DemoEntry) -> Structure:
    """Parse the bundled CIF of one demo entry."""
    text = resources.files("hopscreen.candidates").joinpath("demo", entry.filename).read_text()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "rounded to ideal values" for 1/3-type coordinates
        return CifParser.from_str(text).parse_structures(primitive=False, on_error="raise")[0]


def demo_files() -> list[tuple[str, Path]]:
    """(reference, file) of every bundled demo CIF, in the demo set's order."""
    folder = resources.files("hopscreen.candidates").joinpath("demo")
    return [(f"demo/{e.filename}", Path(str(folder.joinpath(e.filename)))) for e in DEMO_SET]


def load_demo_candidates(working_ion: str | None = None) -> CandidateBatch:
    """Load the bundled demo hosts as candidates.

    Parameters
    ----------
    working_ion : str or None
        Keep only the hosts of this ion; None keeps all (each with its own ion).

    Returns
    -------
    CandidateBatch
        Candidates with ``source="demo"`` and ``source_ref`` the citation; an empty batch
        when no demo host has the requested ion.

    """
    ion = check_working_ion(working_ion) if working_ion is not None else None
    batch = CandidateBatch()
    for entry in DEMO_SET:
        if ion is not None and entry.working_ion != ion:
            continue
        structure = read_demo_structure(entry)
        batch.extend(
            candidates_from_structures(
                [(entry.name, entry.citation, structure)], entry.working_ion, source="demo"
            )
        )
    return batch
