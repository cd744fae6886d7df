"""Helpers shared by the verification tiers: barriers from energy profiles, content ids."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from hopscreen.schemas.verification import LevelOfTheory


@dataclass(frozen=True)
class BarrierProfile:
    """Barriers of one band.

    Attributes
    ----------
    energies_ev : list of float
        Band energies (endpoints included) relative to the initial endpoint, in eV.
    forward_ev : float
        max energy − initial energy, in eV (the migration barrier E_m).
    backward_ev : float
        max energy − final energy, in eV.
    ts_index : int
        Index of the highest-energy image in the band.

    """

    energies_ev: list[float]
    forward_ev: float
    backward_ev: float
    ts_index: int


def barrier_from_energies(energies_ev: Sequence[float]) -> BarrierProfile:
    """Barriers of a band from its absolute image energies.

    Parameters
    ----------
    energies_ev : sequence of float
        Total energies (eV) of the band in order, both endpoints included (length ≥ 2).

    Returns
    -------
    BarrierProfile
        Energies relative to the initial endpoint and forward / backward barriers. The
        barrier is taken on the computed images (no spline), so it is never below zero.

    Raises
    ------
    ValueError
        If fewer than two energies are given or any energy is not finite.

    """
    energies = [float(e) for e in energies_ev]
    if len(energies) < 2:
        raise ValueError(f"a band needs at least its two endpoints, got {len(energies)} energies")
    if not all(math.isfinite(e) for e in energies):
        raise ValueError(f"non-finite energy in band: {energies}")
    ts_index = max(range(len(energies)), key=energies.__getitem__)
    top = energies[ts_index]
    return BarrierProfile(
        energies_ev=[e - energies[0] for e in energies],
        forward_ev=top - energies[0],
        backward_ev=top - energies[-1],
        ts_index=ts_index,
    )


def verification_id(hop_id: str, level_of_theory: LevelOfTheory) -> str:
    """Content id of a verification: a hash of the hop id and the level of theory.

    Parameters
    ----------
    hop_id : str
        Id of the hop.
    level_of_theory : LevelOfTheory
        How the barrier is computed.

    Returns
    -------
    str
        ``"ver-"`` followed by 24 hex digits of a SHA-256; independent of dict ordering.

    """
    payload = json.dumps(
        {"hop_id": hop_id, "level_of_theory": level_of_theory.model_dump(mode="json")},
        sort_keys=True,
        separators=(",", ":"),
    )
    return "ver-" + hashlib.sha256(payload.encode()).hexdigest()[:24]
