"""Documents of the verification stage: one NEB barrier per hop and level of theory."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hopscreen.schemas.base import Document


class LevelOfTheory(Document):
    """How a barrier was computed; fine-tuning must know which data are comparable.

    The published dataset mixes GGA, GGA+U, SCAN and LDA barriers, so every verified barrier
    records its method, code, potential or functional and Hubbard U values.
    """

    method: Literal["NEB", "ApproxNEB", "CI-NEB"] = Field(
        description="Band method: plain NEB, climbing-image NEB or ApproxNEB."
    )
    code: Literal["CHGNet", "VASP"] = Field(description="Program that computed the energies.")
    code_version: str | None = Field(None, description="Version of that program, if known.")
    potential: str | None = Field(
        None,
        description="Interatomic potential for uMLIP tiers, e.g. 'CHGNet-0.3.0 weights'.",
    )
    functional: str | None = Field(
        None, description="Exchange-correlation functional for DFT tiers: 'PBE', 'r2SCAN'."
    )
    hubbard_u: dict[str, float] | None = Field(
        None, description="Hubbard U (eV) per element symbol; None when no +U was used."
    )


class VerificationDoc(Document):
    """A migration barrier verified by an NEB calculation (uMLIP or DFT)."""

    verification_id: str = Field(
        description="Content id: hash of hop_id and the level of theory (see "
        "hopscreen.verification.result.verification_id)."
    )
    hop_id: str = Field(description="Id of the verified hop (hopscreen.hops.hop_id).")
    candidate_id: str | None = Field(None, description="Id of the host candidate, if known.")
    tier: Literal["umlip", "vasp"] = Field(description="Verification tier.")
    status: Literal["ok", "failed", "not_converged"] = Field(
        description="'ok': converged band; 'not_converged': the step cap was hit (the barrier "
        "is reported but is approximate); 'failed': no usable barrier (see reason)."
    )
    reason: str | None = Field(None, description="Why the status is not 'ok', in words.")
    barrier_ev: float | None = Field(
        None, description="Migration barrier E_m = max image energy − initial energy, in eV."
    )
    forward_barrier_ev: float | None = Field(
        None, description="max image energy − initial-endpoint energy, in eV."
    )
    backward_barrier_ev: float | None = Field(
        None, description="max image energy − final-endpoint energy, in eV."
    )
    energies_ev: list[float] | None = Field(
        None,
        description="Energies of the band, endpoints included (n_images + 2 values), relative "
        "to the initial endpoint, in eV.",
    )
    n_images: int | None = Field(
        None, ge=0, description="Number of intermediate images (endpoints not counted)."
    )
    n_atoms: int | None = Field(None, ge=1, description="Atoms in each endpoint cell.")
    converged: bool = Field(False, description="Whether the band met its force criterion.")
    max_force_ev_per_angstrom: float | None = Field(
        None, ge=0, description="Largest NEB force on any intermediate image at the end, eV/Å."
    )
    steps: int | None = Field(None, ge=0, description="Optimizer steps taken by the band.")
    endpoints_relaxed: bool = Field(
        False, description="Whether the endpoints were relaxed with the same energy model first."
    )
    endpoint_relax_steps: list[int] | None = Field(
        None, description="Optimizer steps of the (initial, final) endpoint relaxations."
    )
    neb_tangent: str | None = Field(
        None, description="NEB tangent method (ASE 'method' or VASP equivalent)."
    )
    climbing_image: bool | None = Field(None, description="Whether a climbing image was used.")
    capped: str | None = Field(
        None,
        description="What was capped to keep the calculation affordable, in words "
        "(e.g. 'neb fmax 0.3 eV/Å, max 50 steps'); None when nothing was capped.",
    )
    level_of_theory: LevelOfTheory = Field(description="How the energies were computed.")
    wall_seconds: float | None = Field(None, ge=0, description="Wall-clock time, in s.")
