"""Tier ``umlip``: climbing-image NEB with a universal ML potential (CHGNet), run locally.

Implementation choice
---------------------
DESIGN prefers atomate2's ``ForceFieldNebFromEndpointsMaker``. In the installed atomate2
(0.1.5) that class overrides ``make`` with the *images* signature of
``ForceFieldNebFromImagesMaker``: ``make(endpoints, num_images=...)`` raises
``TypeError: unexpected keyword argument 'num_images'``, and calling it with endpoints only
would run NEB on the two endpoints without relaxing or interpolating them. Its ``NebResult``
also drops the NEB method (it passes ``method=`` where the schema field is ``neb_method``) and
reports neither step counts nor final forces. This module therefore drives ASE's NEB directly
with CHGNet's ASE calculator (``chgnet.model.dynamics.CHGNetCalculator``), the same
computation atomate2's ``AseNebInterface.run_neb`` performs, with every setting explicit:

1. relax both endpoints (fixed cell, FIRE) with the same potential — unrelaxed endpoints bias
   barriers by about +1.6 eV;
2. interpolate ``n_images`` intermediate images linearly (minimum image) between them;
3. optimise the band (FIRE) with ``method="improvedtangent"`` and a climbing image;
4. report energies relative to the initial endpoint, the barrier, convergence and what was
   capped. A failing run becomes a document with status ``"failed"``; nothing is raised.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field
from pymatgen.core import Structure

from hopscreen.hops.hop import Hop
from hopscreen.hops.supercell import SupercellOptions
from hopscreen.schemas.base import Config
from hopscreen.schemas.verification import LevelOfTheory, VerificationDoc
from hopscreen.verification.endpoints import ordered_endpoints
from hopscreen.verification.result import barrier_from_energies, verification_id

if TYPE_CHECKING:
    from ase import Atoms


class UmlipNebConfig(Config):
    """Settings of a uMLIP NEB.

    The defaults are sized for this project's CPU-only demo: small supercells and capped
    optimiser steps (a 167-atom CHGNet NEB of olivine ran for more than an hour here). What is
    capped is written to :attr:`VerificationDoc.capped`; use :meth:`production` for uncapped,
    converged settings.
    """

    potential: Literal["CHGNet"] = Field("CHGNet", description="Universal ML potential.")
    n_images: int = Field(
        3,
        ge=1,
        description="Number of INTERMEDIATE images (endpoints not counted): the band has "
        "n_images + 2 structures. Same meaning as atomate2's current `num_images`.",
    )
    relax_endpoints: bool = Field(
        True, description="Relax both endpoints (fixed cell) with the same potential first."
    )
    endpoint_fmax: float = Field(0.1, gt=0, description="Endpoint force criterion, eV/Å.")
    endpoint_max_steps: int = Field(100, ge=1, description="Most endpoint relaxation steps.")
    neb_fmax: float = Field(0.1, gt=0, description="NEB force criterion, eV/Å.")
    neb_max_steps: int = Field(50, ge=1, description="Most NEB optimiser steps.")
    spring_constant: float = Field(5.0, gt=0, description="NEB spring constant k, eV/Å².")
    climbing_image: bool = Field(True, description="Use a climbing image (CI-NEB).")
    method: Literal["improvedtangent"] = Field(
        "improvedtangent",
        description="ASE NEB tangent method; ASE's default ('aseneb') is wrong for solids.",
    )
    supercell: SupercellOptions = Field(
        default_factory=lambda: SupercellOptions(
            min_atoms=1, max_atoms=120, min_length_angstrom=6.0
        ),
        description="Supercell used by verify_hop; small by default (demo), see `capped`.",
    )
    max_atoms: int = Field(
        120,
        ge=2,
        description="Refuse (status 'failed') endpoints with more atoms than this, rather than "
        "start a run that cannot finish on a CPU.",
    )
    device: str = Field("cpu", description="Torch device for CHGNet.")

    @classmethod
    def production(cls, **overrides: Any) -> UmlipNebConfig:
        """Uncapped settings: pymatgen-size supercells, 5 images, fmax 0.05 eV/Å, 500 steps."""
        settings: dict[str, Any] = {
            "n_images": 5,
            "endpoint_fmax": 0.05,
            "endpoint_max_steps": 500,
            "neb_fmax": 0.05,
            "neb_max_steps": 500,
            "supercell": SupercellOptions(),
            "max_atoms": 400,
        }
        settings.update(overrides)
        return cls(**settings)

    def capped_description(self) -> str | None:
        """What these settings cap compared with :meth:`production`, in words (or None)."""
        ref = UmlipNebConfig.production()
        caps = []
        if self.supercell.min_length_angstrom < ref.supercell.min_length_angstrom:
            caps.append(
                f"small supercell (min length {self.supercell.min_length_angstrom:g} Å, "
                f"≤ {self.supercell.max_atoms} atoms)"
            )
        if self.n_images < ref.n_images:
            caps.append(f"{self.n_images} images")
        if self.neb_fmax > ref.neb_fmax or self.neb_max_steps < ref.neb_max_steps:
            caps.append(f"neb fmax {self.neb_fmax:g} eV/Å, max {self.neb_max_steps} steps")
        if self.relax_endpoints and (
            self.endpoint_fmax > ref.endpoint_fmax
            or self.endpoint_max_steps < ref.endpoint_max_steps
        ):
            caps.append(
                f"endpoint fmax {self.endpoint_fmax:g} eV/Å, max {self.endpoint_max_steps} steps"
            )
        if not self.relax_endpoints:
            caps.append("endpoints not relaxed")
        return "; ".join(caps) or None


@lru_cache(maxsize=2)
def _load_chgnet(device: str) -> Any:
    from chgnet.model import CHGNet  # optional heavy dependency (engine extra): chgnet

    return CHGNet.load(verbose=False, use_device=device)


def chgnet_level_of_theory(config: UmlipNebConfig) -> LevelOfTheory:
    """Level of theory of a CHGNet NEB (weights version read from the loaded model).

    Parameters
    ----------
    config : UmlipNebConfig
        The NEB settings (climbing image decides 'CI-NEB' or 'NEB').

    Returns
    -------
    LevelOfTheory

    """
    import chgnet  # optional heavy dependency (engine extra): chgnet

    model = _load_chgnet(config.device)
    weights = getattr(model, "version", None) or "unknown"
    return LevelOfTheory(
        method="CI-NEB" if config.climbing_image else "NEB",
        code="CHGNet",
        code_version=chgnet.__version__,
        potential=f"CHGNet-{weights} weights",
        hubbard_u=None,
    )


def _calculator(config: UmlipNebConfig) -> Any:
    # optional heavy dependency (engine extra): chgnet
    from chgnet.model.dynamics import CHGNetCalculator

    return CHGNetCalculator(model=_load_chgnet(config.device), use_device=config.device)


def _check_endpoints(initial: Structure, final: Structure, config: UmlipNebConfig) -> None:
    if len(initial) != len(final):
        raise ValueError(f"endpoints have {len(initial)} and {len(final)} atoms")
    if [s.specie for s in initial] != [s.specie for s in final]:
        raise ValueError("endpoints must list the same species in the same order")
    if not np.allclose(initial.lattice.matrix, final.lattice.matrix, atol=1e-3):
        raise ValueError("endpoints must share one lattice")
    if len(initial) > config.max_atoms:
        raise ValueError(
            f"{len(initial)} atoms exceeds max_atoms={config.max_atoms} (a CHGNet NEB of this "
            "size would not finish on a CPU; raise max_atoms to run it anyway)"
        )
    for name, s in (("initial", initial), ("final", final)):
        if not np.all(np.isfinite(s.cart_coords)):
            raise ValueError(f"{name} endpoint has non-finite coordinates")


def _relax(atoms: Atoms, config: UmlipNebConfig) -> int:
    from ase.optimize import FIRE  # optional heavy dependency (engine extra): ase

    atoms.calc = _calculator(config)
    optimizer = FIRE(atoms, logfile=None)
    optimizer.run(fmax=config.endpoint_fmax, steps=config.endpoint_max_steps)
    return int(optimizer.nsteps)


def _interpolate(initial: Structure, final: Structure, n_images: int) -> list[Structure]:
    images = initial.interpolate(final, nimages=n_images + 1, pbc=True, autosort_tol=0)
    if len(images) != n_images + 2:
        raise RuntimeError(f"interpolation gave {len(images)} structures, not {n_images + 2}")
    return images


def _run_band(
    initial: Structure, final: Structure, config: UmlipNebConfig, doc: dict[str, Any]
) -> None:
    """Relax endpoints, run the NEB and fill ``doc`` in place."""
    # optional heavy dependency (engine extra): ase; pymatgen.io.ase imports ase when loaded
    from ase.mep import NEB
    from ase.optimize import FIRE
    from pymatgen.io.ase import AseAtomsAdaptor

    adaptor = AseAtomsAdaptor()
    if config.relax_endpoints:
        end_atoms = [adaptor.get_atoms(s) for s in (initial, final)]
        doc["endpoint_relax_steps"] = [_relax(a, config) for a in end_atoms]
        doc["endpoints_relaxed"] = True
        initial, final = (adaptor.get_structure(a) for a in end_atoms)

    images = [adaptor.get_atoms(s) for s in _interpolate(initial, final, config.n_images)]
    for image in images:
        image.calc = _calculator(config)
    neb = NEB(images, k=config.spring_constant, climb=config.climbing_image, method=config.method)
    if neb.nimages != config.n_images + 2:
        raise RuntimeError(f"NEB holds {neb.nimages} images, expected {config.n_images + 2}")
    optimizer = FIRE(neb, logfile=None)
    optimizer.run(fmax=config.neb_fmax, steps=config.neb_max_steps)

    forces = neb.get_forces().reshape(-1, 3)
    max_force = float(np.max(np.linalg.norm(forces, axis=1))) if len(forces) else 0.0
    profile = barrier_from_energies([image.get_potential_energy() for image in images])
    converged = max_force <= config.neb_fmax
    doc.update(
        steps=int(optimizer.nsteps),
        max_force_ev_per_angstrom=max_force,
        converged=converged,
        energies_ev=profile.energies_ev,
        barrier_ev=profile.forward_ev,
        forward_barrier_ev=profile.forward_ev,
        backward_barrier_ev=profile.backward_ev,
        status="ok" if converged else "not_converged",
        reason=None
        if converged
        else f"NEB max force {max_force:.3f} eV/Å > fmax {config.neb_fmax:g} eV/Å after "
        f"{optimizer.nsteps} steps (step cap)",
    )
    if not np.isfinite(max_force):
        doc.update(status="failed", reason="non-finite NEB forces", converged=False)


def run_umlip_neb(
    initial: Structure,
    final: Structure,
    *,
    hop_id: str,
    candidate_id: str | None = None,
    config: UmlipNebConfig | None = None,
) -> VerificationDoc:
    """Climbing-image NEB between two endpoints with CHGNet; never raises for a bad run.

    Parameters
    ----------
    initial, final : pymatgen.core.Structure
        Endpoints on the same lattice, listing the same atoms in the same order (for an
        enumerated hop use :func:`verify_hop`, which builds them with
        :func:`hopscreen.verification.endpoints.ordered_endpoints`).
    hop_id : str
        Id of the hop.
    candidate_id : str, optional
        Id of the host candidate.
    config : UmlipNebConfig, optional
        Settings (defaults: the capped demo settings of :class:`UmlipNebConfig`).

    Returns
    -------
    VerificationDoc
        Tier ``"umlip"``; status ``"ok"``, ``"not_converged"`` (step cap hit, barrier
        approximate) or ``"failed"`` (with ``reason``; no barrier). ``energies_ev`` has
        ``n_images + 2`` values relative to the initial endpoint.

    """
    config = config or UmlipNebConfig()
    start = time.perf_counter()
    doc: dict[str, Any] = {
        "hop_id": hop_id,
        "candidate_id": candidate_id,
        "tier": "umlip",
        "status": "failed",
        "n_images": config.n_images,
        "neb_tangent": config.method,
        "climbing_image": config.climbing_image,
        "capped": config.capped_description(),
    }
    try:
        level = chgnet_level_of_theory(config)
    except Exception as exc:  # the potential itself cannot be loaded
        level = LevelOfTheory(
            method="CI-NEB" if config.climbing_image else "NEB", code="CHGNet", potential=None
        )
        doc["reason"] = f"could not load CHGNet: {type(exc).__name__}: {exc}"
    else:
        try:
            doc["n_atoms"] = len(initial)
            _check_endpoints(initial, final, config)
            _run_band(initial, final, config, doc)
        except Exception as exc:  # a failing NEB is a result, not a crash
            doc.update(
                status="failed",
                reason=f"{type(exc).__name__}: {exc}",
                converged=False,
                barrier_ev=None,
                forward_barrier_ev=None,
                backward_barrier_ev=None,
            )
    doc["level_of_theory"] = level
    doc["verification_id"] = verification_id(hop_id, level)
    doc["wall_seconds"] = time.perf_counter() - start
    return VerificationDoc(**doc)


def hop_endpoints(hop: Hop, options: SupercellOptions) -> tuple[Structure, Structure]:
    """Vacancy-mode supercell endpoints of ``hop`` in a common atom order.

    The same as :func:`hopscreen.verification.endpoints.ordered_endpoints` (kept under this
    name for existing callers).
    """
    return ordered_endpoints(hop, options)


def verify_hop(
    hop: Hop, *, candidate_id: str | None = None, config: UmlipNebConfig | None = None
) -> VerificationDoc:
    """CHGNet NEB of one hop in a (small, by default) vacancy-mode supercell.

    Parameters
    ----------
    hop : Hop
        A hop from :func:`hopscreen.hops.enumerate_hops`.
    candidate_id : str, optional
        Id of the host candidate.
    config : UmlipNebConfig, optional
        Settings; ``config.supercell`` sizes the supercell.

    Returns
    -------
    VerificationDoc
        As :func:`run_umlip_neb`; status ``"failed"`` if the supercell cannot be built.

    """
    config = config or UmlipNebConfig()
    try:
        initial, final = ordered_endpoints(hop, config.supercell)
    except Exception as exc:
        level = LevelOfTheory(method="CI-NEB" if config.climbing_image else "NEB", code="CHGNet")
        try:
            level = chgnet_level_of_theory(config)
        except Exception:  # the supercell failure is the reason to report
            pass
        return VerificationDoc(
            verification_id=verification_id(hop.hop_id, level),
            hop_id=hop.hop_id,
            candidate_id=candidate_id,
            tier="umlip",
            status="failed",
            reason=f"supercell endpoints: {type(exc).__name__}: {exc}",
            n_images=config.n_images,
            capped=config.capped_description(),
            level_of_theory=level,
        )
    return run_umlip_neb(
        initial, final, hop_id=hop.hop_id, candidate_id=candidate_id, config=config
    )
