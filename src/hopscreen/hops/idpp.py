"""IDPP images between two endpoints (a better NEB starting path than the straight band line).

Used for verification only: the model's band is always the straight line of
:mod:`hopscreen.hops.band`.
"""

from __future__ import annotations

from typing import Any

from pymatgen.analysis.diffusion.neb.pathfinder import IDPPSolver
from pymatgen.core import Structure

from hopscreen.hops.band import build_band, endpoints_from_band
from hopscreen.schemas.structure import Crystal


def _as_structure(structure: Crystal | Structure) -> Structure:
    return structure.to_structure() if isinstance(structure, Crystal) else structure


def idpp_images(
    initial: Crystal | Structure,
    final: Crystal | Structure,
    n_images: int = 5,
    *,
    working_ion: str | None = None,
    **run_kwargs: Any,
) -> list[Structure]:
    """Interpolate between two endpoints with the image-dependent pair potential (IDPP).

    Parameters
    ----------
    initial, final : Crystal or pymatgen.core.Structure
        The two endpoints on the same lattice.
    n_images : int
        Total number of structures returned, endpoints included (at least 2). The default, 5,
        matches the band (t = 0, ¼, ½, ¾, 1). Note that pymatgen's ``nimages`` counts only the
        intermediate images; this function's ``n_images`` does not.
    working_ion : str, optional
        When given, the endpoints are first put in a common atom order (migrating ion first,
        then the host atoms of ``initial``) as in :func:`~hopscreen.hops.band.build_band`;
        needed for vacancy-mode endpoints from
        :func:`~hopscreen.hops.supercell.supercell_endpoints`, whose atom orders differ. Without
        it, both endpoints must list the same atoms in the same order.
    **run_kwargs
        Passed to ``IDPPSolver.run`` (``maxiter``, ``tol``, ``gtol``, ``step_size`` ...).

    Returns
    -------
    list of pymatgen.core.Structure
        ``n_images`` structures; the first and last are the endpoints, unchanged.

    """
    if n_images < 2:
        raise ValueError(f"n_images counts the endpoints and must be at least 2, not {n_images}")
    if working_ion is not None:
        initial, final = endpoints_from_band(build_band(initial, final, working_ion))
    start, end = _as_structure(initial), _as_structure(final)
    if len(start) != len(end) or [s.specie for s in start] != [s.specie for s in end]:
        raise ValueError("endpoints must list the same species in the same order")
    if n_images == 2:
        return [start.copy(), end.copy()]
    # Endpoints are in a common order already: no automatic re-sorting.
    images = start.interpolate(end, nimages=n_images - 1, autosort_tol=0)
    solver = IDPPSolver(images)
    return solver.run(**run_kwargs)
