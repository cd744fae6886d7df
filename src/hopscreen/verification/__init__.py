"""Verification stage: NEB barriers of selected hops, in two tiers behind one document.

* ``umlip`` (embedded default): :func:`run_umlip_neb` / :func:`verify_hop` — CHGNet CI-NEB
  (improved tangent) after relaxing the endpoints, small capped cells by default.
* ``vasp`` (HPC): :func:`make_vasp_neb_flow` builds atomate2's VASP NEB / ApproxNEB flow;
  :func:`parse_vasp_neb_output` reads its output (level of theory from the INCAR, failed
  images from the image folders: :mod:`hopscreen.verification.vasp_outputs`).

Both return :class:`~hopscreen.schemas.verification.VerificationDoc`, which records the
level of theory and what was capped.
"""

from hopscreen.schemas.verification import LevelOfTheory, VerificationDoc
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
    parse_vasp_neb_output,
    vasp_incar_settings,
    vasp_level_of_theory,
    vasp_neb_makers,
)

__all__ = [
    "BarrierProfile",
    "LevelOfTheory",
    "UmlipNebConfig",
    "VaspNebConfig",
    "VerificationDoc",
    "barrier_from_energies",
    "chgnet_level_of_theory",
    "hop_endpoints",
    "make_vasp_neb_flow",
    "parse_vasp_neb_output",
    "run_umlip_neb",
    "vasp_incar_settings",
    "vasp_level_of_theory",
    "vasp_neb_makers",
    "verification_id",
    "verify_hop",
]
