"""Read what a VASP NEB left on disk: level of theory from INCAR, per-image problems.

atomate2 0.1.5 collects a VASP NEB into an emmet ``NebTaskDoc`` (``collect_neb_output``).
That document carries the band energies, but two things hopscreen needs are not in it:

* the level of theory: ``collect_neb_output`` stores no calculations, so the functional and
  the Hubbard U values are read here from the INCAR (and POSCAR species order) of the NEB
  folder, i.e. from what VASP actually ran;
* why a band failed: emmet 0.87's ``NebTaskDoc.from_directories`` reads each endpoint's
  ``state`` attribute, which its ``Calculation`` does not have, so a band with relaxed
  endpoints is always marked ``failed``. The image folders are therefore inspected directly
  (:func:`neb_image_problems`), and ``state`` is only a fallback when they are not readable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pymatgen.io.vasp import Incar, Poscar, Vasprun

from hopscreen.schemas.verification import LevelOfTheory

# INCAR GGA tags (VASP manual) and the functional names recorded for them.
_GGA_NAMES = {"PE": "PBE", "PS": "PBEsol", "91": "PW91", "RP": "RPBE", "AM": "AM05"}
_METAGGA_NAMES = {"R2SCAN": "r2SCAN", "SCAN": "SCAN", "RSCAN": "rSCAN"}


def _zpath(path: Path) -> Path:
    """``path`` or its gzipped twin (atomate2 gzips a job folder after parsing it)."""
    for candidate in (path, path.with_name(path.name + ".gz")):
        if candidate.exists():
            return candidate
    return path


def _as_list(value: Any, n: int) -> list[float]:
    if value is None:
        return [0.0] * n
    if isinstance(value, (int, float)):
        return [float(value)] * n
    return [float(v) for v in value]


def functional_from_incar(incar: Mapping[str, Any]) -> str:
    """The exchange-correlation functional named by an INCAR.

    Parameters
    ----------
    incar : mapping
        INCAR settings (keys in upper case, as pymatgen's ``Incar`` has them).

    Returns
    -------
    str
        ``"r2SCAN"``, ``"SCAN"`` … for a ``METAGGA`` tag, else the ``GGA`` tag's functional;
        ``"PBE"`` without either (VASP then takes the functional of the POTCARs, PBE in
        atomate2's sets). An unknown tag is returned as written.

    """
    metagga = str(incar.get("METAGGA") or "").strip().upper()
    if metagga and metagga != "NONE":
        return _METAGGA_NAMES.get(metagga, metagga)
    gga = str(incar.get("GGA") or "").strip().upper()
    return _GGA_NAMES.get(gga, gga) if gga else "PBE"


def hubbard_u_from_incar(
    incar: Mapping[str, Any], species: Sequence[str]
) -> dict[str, float] | None:
    """Hubbard U (eV) per element, from ``LDAU``/``LDAUU``/``LDAUL``/``LDAUJ``.

    Parameters
    ----------
    incar : mapping
        INCAR settings.
    species : sequence of str
        Element of each species block of the POSCAR, in order (``LDAUU`` has one value per
        block).

    Returns
    -------
    dict or None
        ``{element: U_eff}`` for the blocks with ``LDAUL >= 0`` and a non-zero U, where
        ``U_eff = U − J`` (Dudarev, ``LDAUTYPE = 2``, the default) or ``U`` otherwise;
        None when ``LDAU`` is off or no block has a U.

    Raises
    ------
    ValueError
        If ``LDAUU`` does not have one value per species block.

    """
    if not incar.get("LDAU", False):
        return None
    n = len(species)
    u = _as_list(incar.get("LDAUU"), n)
    if len(u) != n:
        raise ValueError(f"LDAUU has {len(u)} values for {n} POSCAR species {list(species)}")
    lvals = _as_list(incar.get("LDAUL"), n) if incar.get("LDAUL") is not None else [2.0] * n
    j = _as_list(incar.get("LDAUJ"), n)
    dudarev = int(incar.get("LDAUTYPE", 2)) == 2
    values: dict[str, float] = {}
    for element, u_i, l_i, j_i in zip(species, u, lvals, j, strict=True):
        u_eff = u_i - j_i if dudarev else u_i
        if l_i >= 0 and u_eff != 0:
            values[element] = round(u_eff, 6)
    return values or None


def poscar_species(directory: Path) -> list[str] | None:
    """Species blocks of the POSCAR of a VASP folder (head POSCAR, else ``00/POSCAR``)."""
    for path in (directory / "POSCAR", directory / "00" / "POSCAR"):
        path = _zpath(path)
        if path.exists():
            return list(Poscar.from_file(path, check_for_potcar=False).site_symbols)
    return None


def level_of_theory_from_neb_dir(
    neb_dir: str | Path, *, method: Literal["NEB", "CI-NEB"] | None = None
) -> LevelOfTheory | None:
    """Level of theory of the VASP NEB run in ``neb_dir`` (its INCAR and POSCAR).

    Parameters
    ----------
    neb_dir : str or Path
        Head folder of the NEB (holding INCAR and the image folders ``00`` … ``0N``).
    method : {"NEB", "CI-NEB"}, optional
        Band method; default from the INCAR (``LCLIMB``).

    Returns
    -------
    LevelOfTheory or None
        None when the folder has no INCAR or POSCAR (e.g. parsed on another machine).

    """
    directory = Path(neb_dir)
    incar_path = _zpath(directory / "INCAR")
    species = poscar_species(directory)
    if not incar_path.exists() or species is None:
        return None
    incar = Incar.from_file(incar_path)
    if method is None:
        method = "CI-NEB" if incar.get("LCLIMB", False) else "NEB"
    return LevelOfTheory(
        method=method,
        code="VASP",
        functional=functional_from_incar(incar),
        hubbard_u=hubbard_u_from_incar(incar, species),
    )


def neb_image_problems(neb_dir: str | Path) -> list[str]:
    """What is wrong with the intermediate images of a VASP NEB folder, in words.

    Parameters
    ----------
    neb_dir : str or Path
        Head folder of the NEB (image folders ``00`` … ``0N``; ``00`` and ``0N`` are the
        fixed endpoints and are not checked).

    Returns
    -------
    list of str
        One line per problem, e.g. ``"image 02: no vasprun.xml (the image did not run or
        its output was lost)"``, ``"image 02: electronic SCF not converged (NELM = 60
        reached)"``, ``"image 01: band not converged within NSW = 99 ionic steps"``; empty
        when every image finished and converged. A folder with fewer than three image
        folders is reported as such.

    """
    directory = Path(neb_dir)
    folders = sorted(p for p in directory.glob("[0-9][0-9]") if p.is_dir())
    if len(folders) < 3:
        return [f"{directory}: {len(folders)} image folders, an NEB needs at least 3"]
    problems: list[str] = []
    for folder in folders[1:-1]:
        label = f"image {folder.name}"
        path = _zpath(folder / "vasprun.xml")
        if not path.exists():
            problems.append(
                f"{label}: no vasprun.xml (the image did not run or its output was lost)"
            )
            continue
        try:
            run = Vasprun(path, parse_dos=False, parse_eigen=False, parse_potcar_file=False)
        except Exception as exc:  # a truncated file is what a killed VASP leaves
            problems.append(f"{label}: unreadable vasprun.xml (VASP stopped mid-run?): {exc}")
            continue
        if not run.converged_electronic:
            problems.append(
                f"{label}: electronic SCF not converged (NELM = {run.parameters['NELM']} reached)"
            )
        if not run.converged_ionic:
            problems.append(
                f"{label}: band not converged within NSW = {run.parameters.get('NSW')} ionic steps"
            )
    return problems
