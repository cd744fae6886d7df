"""One distinct hop of the working ion, as found by :mod:`hopscreen.hops.enumerate`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pymatgen.analysis.diffusion.neb.pathfinder import MigrationHop
    from pymatgen.core import Structure

#: Default symmetry precision (Å) for spglib, as in pymatgen-analysis-diffusion.
DEFAULT_SYMPREC = 0.1


@dataclass(frozen=True)
class Hop:
    """One distinct hop of the working ion: the representative of a hop class.

    Attributes
    ----------
    structure : pymatgen.core.Structure
        The host structure the hop was found in (the cell as given, gated), with every
        working-ion site occupied.
    working_ion : str
        Element symbol of the migrating ion.
    isite_frac, esite_frac : numpy.ndarray
        (3,) fractional coordinates (in ``structure``'s cell) of the initial and end sites; the
        end site may lie outside [0, 1) when the hop crosses the cell boundary.
    length_angstrom : float
        Straight-line length of the hop, in Å.
    multiplicity : int or None
        Number of hops of this class (this ``hop_id``) per primitive cell of the host, each
        undirected hop once.
    hop_id : str
        Content id (see :mod:`hopscreen.hops.hop_id`).
    migration_hop : pymatgen.analysis.diffusion.neb.pathfinder.MigrationHop
        The pymatgen object on the host's canonical cell (:mod:`hopscreen.hops.canonical`),
        used to build the supercell endpoints, which therefore do not depend on the cell the
        host was given in; never use its hash as an id.
    symprec : float
        Symmetry precision (Å) used to find the hop.

    """

    structure: Structure = field(repr=False)
    working_ion: str
    isite_frac: np.ndarray
    esite_frac: np.ndarray
    length_angstrom: float
    multiplicity: int | None
    hop_id: str
    migration_hop: MigrationHop = field(repr=False, compare=False)
    symprec: float = DEFAULT_SYMPREC
