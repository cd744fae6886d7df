"""A hop's VASP NEB folder, written for a user to inspect or run by hand (nothing is run).

:func:`write_neb_inputs` builds the hop's endpoints with
:func:`~hopscreen.verification.endpoints.ordered_endpoints` (the same ones the VASP tier sends
to atomate2), an initial band in which only the migrating ion moves
(:func:`ion_path_images`), and writes the NEB folder with the VASP tier's own input
generation (:func:`~hopscreen.verification.vasp.write_vasp_neb_folder`) plus a summary,
``neb_inputs.json``.

The initial band: pymatgen's IDPP (image-dependent pair potential) on the migrating ion only.
Run on every atom, IDPP also shifts the host atoms and the other working ions of the
intermediate images a little; here they stay where both endpoints have them, so that a
VASP NEB starts from images that differ from the endpoints in the ion's position alone.
The ion's path bends away from the straight line where the host crowds it (e.g. the curved
b-axis path of olivine LiFePO4). The CHGNet NEB path of the hop cannot seed the band: the
results store keeps the barrier and energies of a verification, not its images.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field
from pymatgen.analysis.diffusion.neb.pathfinder import IDPPSolver
from pymatgen.core import DummySpecies, Structure

from hopscreen.schemas.base import Document
from hopscreen.verification.endpoints import (
    check_single_mover,
    displacements_angstrom,
    ordered_endpoints,
)
from hopscreen.verification.vasp import VaspNebConfig, vasp_level_of_theory, write_vasp_neb_folder

if TYPE_CHECKING:
    from hopscreen.hops.hop import Hop
    from hopscreen.hops.supercell import SupercellOptions

#: Name of the summary written next to the image folders.
SUMMARY_FILE = "neb_inputs.json"

ImagesFrom = Literal["idpp", "linear"]

# Stands in for the migrating ion while IDPP runs, so that only that atom moves.
_MARKER = DummySpecies("X")


class NebInputsSummary(Document):
    """What :func:`write_neb_inputs` wrote for one hop (also ``neb_inputs.json``)."""

    hop_id: str = Field(description="Id of the hop.")
    candidate_name: str = Field(description="Name of the host.")
    working_ion: str = Field(description="The migrating ion.")
    length_angstrom: float = Field(description="Straight-line hop length, Å.")
    folder: str = Field(description="The NEB folder (INCAR, KPOINTS, POTCAR.spec, 00 … 0N).")
    n_images: int = Field(description="Intermediate images (INCAR IMAGES); N + 2 folders.")
    n_atoms: int = Field(description="Atoms in each image.")
    images_from: ImagesFrom = Field(
        description="'idpp': IDPP path of the ion alone; 'linear': straight line."
    )
    idpp_converged: bool | None = Field(
        None, description="Whether IDPP met its tolerance (None for linear images)."
    )
    frame: str = Field(
        "supercell of the host's canonical cell (hopscreen.hops.canonical)",
        description="Cell in which the POSCAR coordinates are written.",
    )
    ion_initial_frac: list[float] = Field(description="Ion in image 00, supercell fractions.")
    ion_final_frac: list[float] = Field(description="Ion in the last image, supercell fractions.")
    hop_isite_frac: list[float] = Field(description="The hop's initial site, input-cell fractions.")
    hop_esite_frac: list[float] = Field(description="The hop's end site, input-cell fractions.")
    max_ion_step_angstrom: float = Field(description="Longest ion step between images, Å.")
    max_host_displacement_angstrom: float = Field(
        description="Largest move of any other atom between consecutive images, Å (0 by design)."
    )
    method: str = Field(description="'NEB' (VASP's own) or 'CI-NEB' (VTST climbing image).")
    vtst: bool = Field(description="Whether the INCAR uses the VTST tags (IOPT, LCLIMB).")
    hubbard_u: dict[str, float] | None = Field(description="Hubbard U applied (eV), if any.")
    potcar_symbols: list[str] = Field(description="POTCAR symbols (POTCAR.spec), in order.")


def _linear(initial: Structure, final: Structure, n_images: int) -> list[Structure]:
    images = initial.interpolate(final, nimages=n_images + 1, pbc=True, autosort_tol=0)
    if len(images) != n_images + 2:
        raise RuntimeError(f"interpolation gave {len(images)} structures, not {n_images + 2}")
    return images


def _idpp_ion_only(images: list[Structure], max_iter: int) -> tuple[list[np.ndarray], bool]:
    """IDPP with only atom 0 free; returns its Cartesian positions per image, converged."""
    marked = []
    for image in images:
        copy = image.copy()
        copy.replace(0, _MARKER)
        marked.append(copy)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = IDPPSolver(marked).run(maxiter=max_iter, species=[_MARKER])
    converged = not any("Maximum iteration" in str(w.message) for w in caught)
    return [image[0].coords for image in path], converged


def ion_path_images(
    initial: Structure,
    final: Structure,
    n_images: int,
    *,
    images_from: ImagesFrom = "idpp",
    idpp_max_iter: int = 1000,
) -> tuple[list[Structure], bool | None]:
    """A starting band in which only the migrating ion (atom 0) moves.

    Parameters
    ----------
    initial, final : pymatgen.core.Structure
        Endpoints from :func:`~hopscreen.verification.endpoints.ordered_endpoints`.
    n_images : int
        Intermediate images (at least 1).
    images_from : {"idpp", "linear"}
        IDPP path of the ion with every other atom held at its endpoint position, or the
        straight (minimum-image) line.
    idpp_max_iter : int
        Most IDPP iterations.

    Returns
    -------
    tuple
        ``(images, converged)``: ``n_images + 2`` structures (the endpoints first and last,
        unchanged); ``converged`` says whether IDPP met its tolerance (None for linear).

    """
    if n_images < 1:
        raise ValueError(f"n_images counts the intermediate images and must be ≥ 1: {n_images}")
    check_single_mover(initial, final)
    images = _linear(initial, final, n_images)
    if images_from == "linear":
        return images, None
    ion_coords, converged = _idpp_ion_only(images, idpp_max_iter)
    band = [initial.copy()]
    for coords in ion_coords[1:-1]:
        image = initial.copy()
        image.replace(0, initial[0].species, coords=coords, coords_are_cartesian=True)
        band.append(image)
    band.append(final.copy())
    return band, converged


def _folder_name(name: str) -> str:
    """A file-system-safe folder name for a host name (``K2FeFe(CN)6`` → ``K2FeFe_CN_6``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "host"


def _steps(images: list[Structure]) -> tuple[float, float]:
    """(longest ion step, largest host move) between consecutive images, Å."""
    moves = np.array([displacements_angstrom(a, b) for a, b in itertools.pairwise(images)])
    return float(moves[:, 0].max()), float(moves[:, 1:].max(initial=0.0))


def write_neb_inputs(
    hop: Hop,
    out_dir: str | Path,
    *,
    candidate_name: str,
    config: VaspNebConfig | None = None,
    supercell: SupercellOptions | None = None,
    images_from: ImagesFrom = "idpp",
    idpp_max_iter: int = 1000,
) -> NebInputsSummary:
    """Write the VASP NEB folder of one hop (nothing is run).

    Parameters
    ----------
    hop : Hop
        An enumerated hop (:func:`hopscreen.hops.hops_for_structure`).
    out_dir : str or Path
        Output root: the folder is ``out_dir/<host>/<hop_id[:12]>/`` (its image folders are
        rewritten).
    candidate_name : str
        Name of the host (the ``<host>`` folder, made file-system safe).
    config : VaspNebConfig, optional
        VASP settings (``n_images``, ``vtst``, ``hubbard_u`` …; defaults of the VASP tier).
    supercell : SupercellOptions, optional
        Supercell size (default: the hops stage's).
    images_from : {"idpp", "linear"}
        How the intermediate images start (see :func:`ion_path_images`).
    idpp_max_iter : int
        Most IDPP iterations.

    Returns
    -------
    NebInputsSummary
        Also written to ``neb_inputs.json`` in the folder.

    """
    config = config or VaspNebConfig()
    initial, final = ordered_endpoints(hop, supercell)
    config = config.for_structure(initial)
    images, converged = ion_path_images(
        initial, final, config.n_images, images_from=images_from, idpp_max_iter=idpp_max_iter
    )
    folder = Path(out_dir) / _folder_name(candidate_name) / hop.hop_id[:12]
    for stale in folder.glob("[0-9][0-9]"):
        shutil.rmtree(stale)
    write_vasp_neb_folder(images, folder, config)
    max_ion, max_host = _steps(images)
    summary = NebInputsSummary(
        hop_id=hop.hop_id,
        candidate_name=candidate_name,
        working_ion=hop.working_ion,
        length_angstrom=hop.length_angstrom,
        folder=str(folder),
        n_images=config.n_images,
        n_atoms=len(initial),
        images_from=images_from,
        idpp_converged=converged,
        ion_initial_frac=[float(x) for x in initial[0].frac_coords],
        ion_final_frac=[float(x) for x in final[0].frac_coords],
        hop_isite_frac=[float(x) for x in hop.isite_frac],
        hop_esite_frac=[float(x) for x in hop.esite_frac],
        max_ion_step_angstrom=max_ion,
        max_host_displacement_angstrom=max_host,
        method=vasp_level_of_theory(config).method,
        vtst=config.vtst,
        hubbard_u=config.hubbard_u if isinstance(config.hubbard_u, dict) else None,
        potcar_symbols=(folder / "POTCAR.spec").read_text().split(),
    )
    (folder / SUMMARY_FILE).write_text(json.dumps(summary.model_dump(mode="json"), indent=2))
    return summary
