"""VASP settings that depend on the structure or the cluster: Hubbard U, IMAGES vs MPI ranks.

* :func:`mp_hubbard_u` — the Materials Project's +U (Dudarev) for a structure, read from
  pymatgen's own MP input-set configuration (``MPRelaxSet.CONFIG``), so that verified
  barriers are at the level of theory of the MP data the candidates come from.
* :func:`check_images_against_tasks` — VASP splits its MPI ranks evenly over the NEB images;
  a rank count that is not a multiple of ``IMAGES`` aborts the run at start-up.
"""

from __future__ import annotations

from typing import Literal

from pymatgen.core import Element, Structure

#: Value of ``VaspNebConfig.hubbard_u`` that asks for the Materials Project's U values.
MP_HUBBARD_U = "mp"

HubbardSetting = Literal["mp"] | dict[str, float] | None


def mp_hubbard_u_table() -> dict[str, dict[str, float]]:
    """The MP +U table of pymatgen's ``MPRelaxSet``: ``{anion: {element: U (eV)}}``.

    Returns
    -------
    dict
        ``LDAUU`` of ``MPRelaxSet.CONFIG["INCAR"]`` (keys ``"O"`` and ``"F"`` in the installed
        pymatgen), with ``LDAUJ`` subtracted (Dudarev U_eff; MP's J values are 0).

    """
    from pymatgen.io.vasp.sets import MPRelaxSet  # reads pymatgen's MP input-set yaml

    incar = MPRelaxSet.CONFIG["INCAR"]
    u_table, j_table = incar["LDAUU"], incar.get("LDAUJ", {})
    return {
        anion: {el: float(u) - float(j_table.get(anion, {}).get(el, 0.0)) for el, u in us.items()}
        for anion, us in u_table.items()
    }


def mp_hubbard_u(structure: Structure) -> dict[str, float] | None:
    """The Materials Project's Hubbard U for ``structure``, by pymatgen's rule.

    The U table is chosen by the structure's most electronegative element (as pymatgen's
    MP sets do): oxides and fluorides (O or F present) get U on the transition metals of the
    table (Co, Cr, Fe, Mn, Mo, Ni, V, W in current pymatgen); anything else gets none.

    Parameters
    ----------
    structure : pymatgen.core.Structure
        The (supercell) structure of the calculation.

    Returns
    -------
    dict or None
        ``{element: U_eff (eV)}`` for the elements of ``structure`` that have a U; None when
        none applies.

    """
    elements = sorted(structure.composition.elements, key=lambda el: el.X)
    anion = elements[-1].symbol
    table = mp_hubbard_u_table().get(anion)
    if not table:
        return None
    present = {el.symbol for el in structure.composition.elements}
    values = {el: u for el, u in table.items() if el in present and u != 0}
    return values or None


def applied_hubbard_u(setting: HubbardSetting, structure: Structure) -> dict[str, float] | None:
    """The Hubbard U a VASP calculation of ``structure`` runs with under ``setting``.

    Parameters
    ----------
    setting : "mp", dict or None
        ``"mp"``: :func:`mp_hubbard_u`; a dict: these values for the elements present
        (others dropped); None: no +U.
    structure : pymatgen.core.Structure
        The structure of the calculation.

    Returns
    -------
    dict or None
        ``{element: U (eV)}`` actually applied, None when no +U.

    """
    if setting is None:
        return None
    if setting == MP_HUBBARD_U:
        return mp_hubbard_u(structure)
    if not isinstance(setting, dict):
        raise ValueError(f"hubbard_u must be 'mp', a mapping or None, not {setting!r}")
    present = {el.symbol for el in structure.composition.elements}
    values = {Element(el).symbol: float(u) for el, u in setting.items()}
    values = {el: u for el, u in values.items() if el in present and u != 0}
    return values or None


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def check_images_against_tasks(n_images: int, ntasks: int) -> None:
    """Raise ``ValueError`` unless ``ntasks`` MPI ranks can run ``n_images`` NEB images.

    VASP runs the intermediate images of an NEB (``IMAGES``) side by side, each on
    ``ntasks / IMAGES`` ranks, and stops at start-up when the division is not exact.

    Parameters
    ----------
    n_images : int
        Intermediate images (INCAR ``IMAGES``).
    ntasks : int
        MPI ranks of the VASP job (the queue adapter's ``ntasks``).

    Raises
    ------
    ValueError
        When ``ntasks`` is not a positive multiple of ``n_images``; the message proposes the
        nearest valid ``n_images`` (divisors of ``ntasks``) and ``ntasks`` (multiples of
        ``n_images``).

    """
    if n_images < 1 or ntasks < 1:
        raise ValueError(f"n_images ({n_images}) and ntasks ({ntasks}) must be positive")
    if ntasks % n_images == 0:
        return
    divisors = _divisors(ntasks)
    below = max((d for d in divisors if d < n_images), default=None)
    above = min((d for d in divisors if d > n_images), default=None)
    images = " or ".join(str(d) for d in (below, above) if d is not None)
    low = (ntasks // n_images) * n_images
    tasks = " or ".join(str(t) for t in (low, low + n_images) if t > 0)
    raise ValueError(
        f"VASP NEB with IMAGES = {n_images} cannot run on {ntasks} MPI ranks: the ranks must "
        f"be a multiple of IMAGES (each image gets ntasks / IMAGES ranks). Use n_images = "
        f"{images}, or ntasks = {tasks}."
    )
