"""Builders of hand-made documents for the store tests (imported by conftest and tests)."""

from __future__ import annotations

from hopscreen.schemas.candidate import CandidateDoc
from hopscreen.schemas.hop import HopDoc
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.schemas.verification import LevelOfTheory, VerificationDoc


def candidate(cid: str, name: str, ion: str, formula: str) -> CandidateDoc:
    return CandidateDoc(
        candidate_id=cid,
        name=name,
        source="demo",
        source_ref="test",
        working_ion=ion,
        formula=formula,
        n_sites=4,
        structure={"@class": "Structure", "sites": []},
        space_group="P1",
        space_group_number=1,
    )


def hop(hop_id: str, cand: CandidateDoc, length: float) -> HopDoc:
    return HopDoc(
        hop_id=hop_id,
        candidate_id=cand.candidate_id,
        candidate_name=cand.name,
        working_ion=cand.working_ion,
        length_angstrom=length,
        isite_frac=[0.0, 0.0, 0.0],
        esite_frac=[0.5, 0.0, 0.0],
        host_formula=cand.formula,
    )


def prediction(h: HopDoc, barrier: float, sigma: float, version: str) -> PredictionDoc:
    return PredictionDoc(
        hop_id=h.hop_id,
        candidate_id=h.candidate_id,
        candidate_name=h.candidate_name,
        working_ion=h.working_ion,
        model_version=version,
        barrier_ev=barrier,
        sigma_ev=sigma,
        member_barriers_ev=[barrier - sigma, barrier + sigma],
        length_angstrom=h.length_angstrom,
    )


def verification(
    hop_id: str, barrier: float | None, status: str = "ok", code: str = "CHGNet"
) -> VerificationDoc:
    return VerificationDoc(
        verification_id=f"{hop_id}:{code}",
        hop_id=hop_id,
        tier="umlip" if code == "CHGNet" else "vasp",
        status=status,
        reason=None if status == "ok" else "test",
        barrier_ev=barrier,
        converged=status == "ok",
        level_of_theory=LevelOfTheory(
            method="CI-NEB", code=code, functional="PBE" if code == "VASP" else None
        ),
    )
