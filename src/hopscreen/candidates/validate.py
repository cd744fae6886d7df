"""Sanity checks of a structure before it becomes a screening candidate.

The rules, applied in this order (the first that fails is reported):

``absurd_cell``
    Non-finite lattice or coordinates, a lattice angle below 10° or above 170°, a cell whose
    volume is below 1 % of a·b·c (flat cell), or a volume per atom outside
    [``min_volume_per_atom``, ``max_volume_per_atom``] (defaults 2–200 Å³; diamond, among the
    densest solids, has 5.7 Å³/atom).
``partial_occupancy``
    Any site with more than one species or an occupancy below one (disorder, vacancies).
    Order it first (e.g. with pymatgen's ``OrderDisorderedStructureTransformation``).
``no_working_ion``
    The working ion does not occur in the structure.
``overlapping_atoms``
    Two atoms, or an atom and its own periodic image, closer than ``min_distance_angstrom``.
``single_ion_site``
    Exactly one working-ion site in the cell *and* its nearest periodic image farther than
    ``max_hop_angstrom`` (default 6 Å). A single site whose images are close (the 4-atom
    primitive cell of LiCoO2: Li–Li 2.8 Å) still has hops to its images and is accepted; a
    single ion in a large cell has no hop a screening of nearest-neighbour migration can use.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np
from pymatgen.core import Element, Lattice, Structure

DEFAULT_MIN_DISTANCE_ANGSTROM = 0.5
DEFAULT_MIN_VOLUME_PER_ATOM = 2.0
DEFAULT_MAX_VOLUME_PER_ATOM = 200.0
DEFAULT_MAX_HOP_ANGSTROM = 6.0


class StructureProblem(NamedTuple):
    """Why a structure cannot be a candidate: a failure ``code`` and a readable ``reason``."""

    code: str
    reason: str


def check_working_ion(working_ion: str) -> str:
    """Return the canonical element symbol of ``working_ion`` or raise ``ValueError``."""
    try:
        return Element(str(working_ion).strip().capitalize()).symbol
    except ValueError:
        raise ValueError(f"working ion {working_ion!r} is not an element symbol") from None


def shortest_lattice_vector_angstrom(matrix: np.ndarray) -> float:
    """Length (Å) of the shortest non-zero lattice vector of a (3, 3) row-vector lattice.

    Searches integer combinations in [-2, 2]³ of the LLL-reduced basis, which contains the
    shortest vector for any reduced 3D basis.
    """
    reduced = Lattice(matrix).get_lll_reduced_lattice().matrix
    best = math.inf
    for n in itertools.product(range(-2, 3), repeat=3):
        if n == (0, 0, 0):
            continue
        best = min(best, float(np.linalg.norm(np.asarray(n, dtype=float) @ reduced)))
    return best


def _cell_problem(
    structure: Structure, min_volume_per_atom: float, max_volume_per_atom: float
) -> StructureProblem | None:
    matrix = np.asarray(structure.lattice.matrix, dtype=float)
    if not np.all(np.isfinite(matrix)) or not np.all(np.isfinite(structure.frac_coords)):
        return StructureProblem("absurd_cell", "lattice or coordinates are not finite (NaN/inf)")
    if len(structure) == 0:
        return StructureProblem("absurd_cell", "the structure has no sites")
    abc = np.linalg.norm(matrix, axis=1)
    volume = abs(float(np.linalg.det(matrix)))
    if np.any(abc < 1e-6) or volume < 1e-2 * float(np.prod(abc)):
        return StructureProblem(
            "absurd_cell",
            f"degenerate (flat) cell: volume {volume:.3g} Å³ for a·b·c "
            f"{float(np.prod(abc)):.3g} Å³",
        )
    angles = structure.lattice.angles
    if any(a < 10.0 or a > 170.0 for a in angles):
        return StructureProblem(
            "absurd_cell",
            "degenerate lattice angles " + ", ".join(f"{a:.1f}°" for a in angles),
        )
    per_atom = volume / len(structure)
    if not min_volume_per_atom <= per_atom <= max_volume_per_atom:
        return StructureProblem(
            "absurd_cell",
            f"volume per atom {per_atom:.3g} Å³ outside "
            f"[{min_volume_per_atom:g}, {max_volume_per_atom:g}] Å³",
        )
    return None


def _overlap_problem(structure: Structure, min_distance: float) -> StructureProblem | None:
    self_image = shortest_lattice_vector_angstrom(structure.lattice.matrix)
    if self_image < min_distance:
        return StructureProblem(
            "overlapping_atoms",
            f"an atom is {self_image:.3f} Å from its own periodic image (< {min_distance:g} Å)",
        )
    if len(structure) < 2:
        return None
    dist = np.array(structure.distance_matrix, dtype=float)
    iu = np.triu_indices(len(structure), k=1)
    pair = dist[iu]
    k = int(np.argmin(pair))
    if pair[k] < min_distance:
        i, j = int(iu[0][k]), int(iu[1][k])
        return StructureProblem(
            "overlapping_atoms",
            f"sites {i} ({structure[i].species_string}) and {j} "
            f"({structure[j].species_string}) are {pair[k]:.3f} Å apart "
            f"(< {min_distance:g} Å)",
        )
    return None


def validate_structure(
    structure: Structure,
    working_ion: str,
    *,
    min_distance_angstrom: float = DEFAULT_MIN_DISTANCE_ANGSTROM,
    min_volume_per_atom: float = DEFAULT_MIN_VOLUME_PER_ATOM,
    max_volume_per_atom: float = DEFAULT_MAX_VOLUME_PER_ATOM,
    max_hop_angstrom: float = DEFAULT_MAX_HOP_ANGSTROM,
) -> StructureProblem | None:
    """Check that a structure can be screened for the hops of ``working_ion``.

    Parameters
    ----------
    structure : pymatgen.core.Structure
        The structure to check (not modified).
    working_ion : str
        Element symbol of the migrating ion.
    min_distance_angstrom : float
        Smallest allowed interatomic distance, Å.
    min_volume_per_atom, max_volume_per_atom : float
        Allowed range of the cell volume per site, Å³.
    max_hop_angstrom : float
        Longest hop to a periodic image that still counts when the cell has one ion site, Å.

    Returns
    -------
    StructureProblem or None
        ``(code, reason)`` of the first rule broken (see the module docstring), or None.

    """
    ion = check_working_ion(working_ion)
    problem = _cell_problem(structure, min_volume_per_atom, max_volume_per_atom)
    if problem is not None:
        return problem
    if not structure.is_ordered:
        n_disordered = sum(1 for site in structure if not site.is_ordered)
        return StructureProblem(
            "partial_occupancy",
            f"{n_disordered} of {len(structure)} sites are partially occupied or mixed; "
            "order the structure first",
        )
    ion_sites = [i for i, site in enumerate(structure) if site.specie.symbol == ion]
    if not ion_sites:
        return StructureProblem(
            "no_working_ion",
            f"no {ion} in {structure.composition.reduced_formula}",
        )
    problem = _overlap_problem(structure, min_distance_angstrom)
    if problem is not None:
        return problem
    if len(ion_sites) == 1:
        image = shortest_lattice_vector_angstrom(structure.lattice.matrix)
        if image > max_hop_angstrom:
            return StructureProblem(
                "single_ion_site",
                f"one {ion} site whose nearest periodic image is {image:.2f} Å away "
                f"(> {max_hop_angstrom:g} Å): no hop to enumerate",
            )
    return None
