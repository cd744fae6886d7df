"""The input gate: sanity checks and resource caps applied to a structure before any work.

Every entry point (``hopscreen candidates``, ``hops``, ``predict``, ``screen``, and the Python
API: :func:`~hopscreen.candidates.local.load_local_candidates`,
:func:`~hopscreen.hops.enumerate_hops`, :func:`~hopscreen.hops.hops_for_structure`) passes
its structures through :func:`gate_structure`, which raises :class:`InvalidInputError` with a
one-line reason, or returns the structure without oxidation states (``Li+`` and ``Li`` are
screened alike; hop enumeration searches bare elements). The caps are the fields of
:class:`InputLimits`, an explicit configuration object (never an environment variable).

The rules, applied in this order (the first that fails is reported, with its failure code):

``absurd_cell``
    No sites; more than ``max_atoms`` sites (default 1000, checked first so that a huge cell
    is refused in microseconds); non-finite lattice or coordinates; a lattice angle below
    ``min_lattice_angle_degrees`` or above 180° minus it (default 10°); a cell whose volume
    is below 1 % of a·b·c (flat cell); a volume per atom outside
    [``min_volume_per_atom``, ``max_volume_per_atom``] (defaults 2–200 Å³; diamond, among
    the densest solids, has 5.7 Å³/atom).
``partial_occupancy``
    Any site with more than one species or an occupancy below one (disorder, vacancies).
    Order it first (e.g. with pymatgen's ``OrderDisorderedStructureTransformation``).
``no_working_ion``
    The working ion does not occur in the structure.
``absurd_cell`` (no host)
    Every site is the working ion (one Li atom, bcc Li): there is no host framework.
``overlapping_atoms``
    Two atoms, or an atom and its own periodic image, closer than ``min_distance_angstrom``
    (default 0.5 Å).
``single_ion_site``
    Exactly one working-ion site in the cell *and* its nearest periodic image farther than
    ``max_hop_angstrom`` (default 6 Å). A single site whose images are close (the 4-atom
    primitive cell of LiCoO2: Li–Li 2.8 Å) still has hops to its images and is accepted; a
    single ion in a large cell has no hop a screening of nearest-neighbour migration can use.

Two further caps of :class:`InputLimits` are applied by the hops stage:
``hop_length_cap_angstrom`` bounds the hop cut-off (``--max-length``, default cap 10 Å) and
``max_hops_per_host`` bounds the distinct hops of one host (default 200) before any
supercell or band is built.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np
from pydantic import Field
from pymatgen.core import Element, Lattice, Structure

from hopscreen.schemas.base import Config

DEFAULT_MIN_DISTANCE_ANGSTROM = 0.5
DEFAULT_MIN_VOLUME_PER_ATOM = 2.0
DEFAULT_MAX_VOLUME_PER_ATOM = 200.0
DEFAULT_MAX_HOP_ANGSTROM = 6.0
#: Most sites in one input cell. Screened hosts are unit cells (the hops stage builds its own
#: 80–240-atom supercells); the largest NEB supercells of the published dataset have ~1000.
DEFAULT_MAX_ATOMS = 1000
DEFAULT_MIN_LATTICE_ANGLE_DEGREES = 10.0
#: Upper bound of any hop cut-off, Å: nearest-neighbour hops are 2.5–4.5 Å and 94 % of the
#: published hops are within 6 Å; a cut-off of 10 Å already connects third neighbours.
DEFAULT_HOP_LENGTH_CAP_ANGSTROM = 10.0
#: Most symmetry-distinct hops of one host (each gets a supercell, a band and a prediction).
DEFAULT_MAX_HOPS_PER_HOST = 200


class InputLimits(Config):
    """Caps and tolerances of the input gate (see the module docstring for the rules)."""

    max_atoms: int = Field(DEFAULT_MAX_ATOMS, ge=1, description="Most sites in one input cell.")
    min_distance_angstrom: float = Field(
        DEFAULT_MIN_DISTANCE_ANGSTROM,
        gt=0,
        allow_inf_nan=False,
        description="Smallest allowed interatomic distance, Å.",
    )
    min_volume_per_atom: float = Field(
        DEFAULT_MIN_VOLUME_PER_ATOM,
        gt=0,
        allow_inf_nan=False,
        description="Smallest allowed cell volume per site, Å³.",
    )
    max_volume_per_atom: float = Field(
        DEFAULT_MAX_VOLUME_PER_ATOM,
        gt=0,
        allow_inf_nan=False,
        description="Largest allowed cell volume per site, Å³.",
    )
    min_lattice_angle_degrees: float = Field(
        DEFAULT_MIN_LATTICE_ANGLE_DEGREES,
        gt=0,
        lt=60,
        description="Lattice angles below this or above 180° minus this are refused, degrees.",
    )
    max_hop_angstrom: float = Field(
        DEFAULT_MAX_HOP_ANGSTROM,
        gt=0,
        allow_inf_nan=False,
        description="Longest hop to a periodic image that still counts when the cell has one "
        "working-ion site, Å.",
    )
    hop_length_cap_angstrom: float = Field(
        DEFAULT_HOP_LENGTH_CAP_ANGSTROM,
        gt=0,
        allow_inf_nan=False,
        description="Largest allowed hop cut-off (HopOptions.max_hop_length_angstrom), Å.",
    )
    max_hops_per_host: int = Field(
        DEFAULT_MAX_HOPS_PER_HOST,
        ge=1,
        description="Most symmetry-distinct hops of one host; more are refused before any "
        "supercell or band is built.",
    )


class StructureProblem(NamedTuple):
    """Why a structure cannot be a candidate: a failure ``code`` and a readable ``reason``."""

    code: str
    reason: str


class InvalidInputError(ValueError):
    """An input refused by the gate; ``str(exc)`` is a one-line reason.

    Attributes
    ----------
    code : str
        Failure code (one of :data:`hopscreen.schemas.candidate.FailureCode` for structures
        and files; ``"too_many_hops"`` from the hops stage).
    reason : str
        What is wrong, in one line.

    """

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        self.reason = " ".join(str(reason).split())
        super().__init__(code, self.reason)  # both in args: the error pickles

    def __str__(self) -> str:
        return self.reason


def check_working_ion(working_ion: str) -> str:
    """Return the canonical element symbol of ``working_ion`` (``"li"`` → ``"Li"``).

    Raises
    ------
    ValueError
        When ``working_ion`` is empty or not an element symbol.

    """
    text = str(working_ion).strip()
    try:
        if not text:
            raise ValueError
        return Element(text.capitalize()).symbol
    except ValueError:
        raise ValueError(f"working ion {working_ion!r} is not an element symbol") from None


def check_hop_length(max_hop_length_angstrom: float, cap_angstrom: float) -> float:
    """Return the hop cut-off when it is a finite number in (0, ``cap_angstrom``] Å.

    Raises
    ------
    ValueError
        With a one-line message otherwise (0, negative, NaN, infinite, above the cap).

    """
    value = float(max_hop_length_angstrom)
    if not (math.isfinite(value) and 0 < value <= cap_angstrom):
        raise ValueError(
            f"hop length cut-off {value:g} Å is not a finite number in (0, {cap_angstrom:g}] Å"
        )
    return value


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


def atom_count_problem(n_atoms: int, max_atoms: int) -> StructureProblem | None:
    """The ``absurd_cell`` problem of a cell of ``n_atoms`` sites above ``max_atoms``, or None."""
    if n_atoms <= max_atoms:
        return None
    return StructureProblem(
        "absurd_cell",
        f"{n_atoms} atoms in the cell, more than the cap of {max_atoms} (InputLimits.max_atoms)",
    )


def _cell_problem(structure: Structure, limits: InputLimits) -> StructureProblem | None:
    """The first ``absurd_cell`` rule ``structure`` breaks (size first: it costs nothing)."""
    if len(structure) == 0:
        return StructureProblem("absurd_cell", "the structure has no sites")
    problem = atom_count_problem(len(structure), limits.max_atoms)
    if problem is not None:
        return problem
    matrix = np.asarray(structure.lattice.matrix, dtype=float)
    if not np.all(np.isfinite(matrix)) or not np.all(np.isfinite(structure.frac_coords)):
        return StructureProblem("absurd_cell", "lattice or coordinates are not finite (NaN/inf)")
    abc = np.linalg.norm(matrix, axis=1)
    volume = abs(float(np.linalg.det(matrix)))
    if np.any(abc < 1e-6) or volume < 1e-2 * float(np.prod(abc)):
        return StructureProblem(
            "absurd_cell",
            f"degenerate (flat) cell: volume {volume:.3g} Å³ for a·b·c "
            f"{float(np.prod(abc)):.3g} Å³",
        )
    low = limits.min_lattice_angle_degrees
    angles = structure.lattice.angles
    if any(a < low or a > 180.0 - low for a in angles):
        return StructureProblem(
            "absurd_cell",
            "degenerate lattice angles " + ", ".join(f"{a:.1f}°" for a in angles),
        )
    per_atom = volume / len(structure)
    if not limits.min_volume_per_atom <= per_atom <= limits.max_volume_per_atom:
        return StructureProblem(
            "absurd_cell",
            f"volume per atom {per_atom:.3g} Å³ outside "
            f"[{limits.min_volume_per_atom:g}, {limits.max_volume_per_atom:g}] Å³",
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


def _ion_problem(structure: Structure, ion: str, limits: InputLimits) -> StructureProblem | None:
    """Working-ion rules: present, a host besides it, a hop when it has one site."""
    ion_sites = [i for i, site in enumerate(structure) if site.specie.symbol == ion]
    if not ion_sites:
        return StructureProblem(
            "no_working_ion",
            f"no {ion} in {structure.composition.reduced_formula}",
        )
    if len(ion_sites) == len(structure):
        return StructureProblem(
            "absurd_cell",
            f"only {ion} in the cell ({structure.composition.formula.replace(' ', '')}): "
            f"no host framework for {ion} to migrate through",
        )
    problem = _overlap_problem(structure, limits.min_distance_angstrom)
    if problem is not None:
        return problem
    if len(ion_sites) == 1:
        image = shortest_lattice_vector_angstrom(structure.lattice.matrix)
        if image > limits.max_hop_angstrom:
            return StructureProblem(
                "single_ion_site",
                f"one {ion} site whose nearest periodic image is {image:.2f} Å away "
                f"(> {limits.max_hop_angstrom:g} Å): no hop to enumerate",
            )
    return None


def find_problem(
    structure: Structure, working_ion: str, limits: InputLimits | None = None
) -> StructureProblem | None:
    """The first rule of the gate that ``structure`` breaks, or None (see the module docstring).

    Parameters
    ----------
    structure : pymatgen.core.Structure
        The structure to check (not modified); oxidation states are allowed.
    working_ion : str
        Element symbol of the migrating ion (any case).
    limits : InputLimits, optional
        Caps and tolerances (defaults when None).

    Returns
    -------
    StructureProblem or None
        ``(code, reason)`` of the first rule broken, or None.

    Raises
    ------
    ValueError
        When ``working_ion`` is not an element symbol.

    """
    ion = check_working_ion(working_ion)
    limits = limits or InputLimits()
    problem = _cell_problem(structure, limits)
    if problem is not None:
        return problem
    if not structure.is_ordered:
        n_disordered = sum(1 for site in structure if not site.is_ordered)
        return StructureProblem(
            "partial_occupancy",
            f"{n_disordered} of {len(structure)} sites are partially occupied or mixed; "
            "order the structure first",
        )
    return _ion_problem(structure, ion, limits)


def validate_structure(
    structure: Structure,
    working_ion: str,
    *,
    limits: InputLimits | None = None,
    min_distance_angstrom: float | None = None,
    min_volume_per_atom: float | None = None,
    max_volume_per_atom: float | None = None,
    max_hop_angstrom: float | None = None,
) -> StructureProblem | None:
    """Check that a structure can be screened for the hops of ``working_ion`` (never raises).

    Parameters
    ----------
    structure : pymatgen.core.Structure
        The structure to check (not modified).
    working_ion : str
        Element symbol of the migrating ion.
    limits : InputLimits, optional
        Caps and tolerances; the keyword arguments below override single fields of it.
    min_distance_angstrom : float, optional
        Smallest allowed interatomic distance, Å.
    min_volume_per_atom, max_volume_per_atom : float, optional
        Allowed range of the cell volume per site, Å³.
    max_hop_angstrom : float, optional
        Longest hop to a periodic image that still counts when the cell has one ion site, Å.

    Returns
    -------
    StructureProblem or None
        ``(code, reason)`` of the first rule broken (see the module docstring), or None.

    Raises
    ------
    ValueError
        When ``working_ion`` is not an element symbol.

    """
    overrides = {
        "min_distance_angstrom": min_distance_angstrom,
        "min_volume_per_atom": min_volume_per_atom,
        "max_volume_per_atom": max_volume_per_atom,
        "max_hop_angstrom": max_hop_angstrom,
    }
    base = limits or InputLimits()
    fields = {k: v for k, v in overrides.items() if v is not None}
    if fields:
        base = InputLimits(**{**base.model_dump(), **fields})
    return find_problem(structure, working_ion, base)


def gate_structure(
    structure: Structure, working_ion: str, *, limits: InputLimits | None = None
) -> Structure:
    """The input gate: refuse a structure that cannot be screened, else return it plain.

    Parameters
    ----------
    structure : pymatgen.core.Structure
        The structure to check (not modified); sites may carry oxidation states.
    working_ion : str
        Element symbol of the migrating ion (any case: ``"li"`` is ``"Li"``).
    limits : InputLimits, optional
        Caps and tolerances (defaults when None; see the module docstring).

    Returns
    -------
    pymatgen.core.Structure
        A copy of ``structure`` with the oxidation states removed (``Li+`` → ``Li``).

    Raises
    ------
    InvalidInputError
        With the failure code and a one-line reason, when a rule is broken.
    ValueError
        When ``working_ion`` is not an element symbol.

    """
    problem = find_problem(structure, working_ion, limits)
    if problem is not None:
        raise InvalidInputError(problem.code, problem.reason)
    plain = structure.copy()
    plain.remove_oxidation_states()
    return plain
