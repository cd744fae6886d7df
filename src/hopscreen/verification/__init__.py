"""Verification stage: NEB barriers of selected hops, in two tiers behind one document.

* ``umlip`` (embedded default): :func:`run_umlip_neb` / :func:`verify_hop` — CHGNet CI-NEB
  (improved tangent) after relaxing the endpoints, small capped cells by default.
* ``vasp`` (HPC): :func:`make_vasp_neb_flow` builds atomate2's VASP NEB / ApproxNEB flow;
  :func:`parse_vasp_neb_output` reads its output (level of theory from the INCAR, failed
  images from the image folders: :mod:`hopscreen.verification.vasp_outputs`);
  :func:`write_neb_inputs` writes a hop's VASP NEB folder for a run by hand.

Both tiers take their endpoints from :func:`ordered_endpoints` (only the migrating ion,
atom 0, differs between them).

Both return :class:`~hopscreen.schemas.verification.VerificationDoc`, which records the
level of theory and what was capped.
"""

from hopscreen.schemas.verification import LevelOfTheory, VerificationDoc
from hopscreen.verification.endpoints import (
    EndpointError,
    check_single_mover,
    displacements_angstrom,
    ordered_endpoints,
)
from hopscreen.verification.neb_inputs import NebInputsSummary, ion_path_images, write_neb_inputs
from hopscreen.verification.result import BarrierProfile, barrier_from_energies, verification_id
from hopscreen.verification.umlip import (
    UmlipNebConfig,
    chgnet_level_of_theory,
    hop_endpoints,
    run_umlip_neb,
    verify_hop,
)
from hopscreen.verification.vasp import (
    VaspNebConfig,
    make_vasp_neb_flow,
    neb_optimiser_settings,
    vasp_incar_settings,
    vasp_level_of_theory,
    vasp_neb_makers,
    write_vasp_neb_folder,
)
from hopscreen.verification.vasp_parse import parse_vasp_neb_output
from hopscreen.verification.vasp_settings import (
    applied_hubbard_u,
    check_images_against_tasks,
    mp_hubbard_u,
)

__all__ = [
    "BarrierProfile",
    "EndpointError",
    "LevelOfTheory",
    "NebInputsSummary",
    "UmlipNebConfig",
    "VaspNebConfig",
    "VerificationDoc",
    "applied_hubbard_u",
    "barrier_from_energies",
    "check_images_against_tasks",
    "check_single_mover",
    "chgnet_level_of_theory",
    "displacements_angstrom",
    "hop_endpoints",
    "ion_path_images",
    "make_vasp_neb_flow",
    "mp_hubbard_u",
    "neb_optimiser_settings",
    "ordered_endpoints",
    "parse_vasp_neb_output",
    "run_umlip_neb",
    "vasp_incar_settings",
    "vasp_level_of_theory",
    "vasp_neb_makers",
    "verification_id",
    "verify_hop",
    "write_neb_inputs",
    "write_vasp_neb_folder",
]
