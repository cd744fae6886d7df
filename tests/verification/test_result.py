import math

import pytest
from pydantic import ValidationError

from hopscreen.schemas.verification import LevelOfTheory, VerificationDoc
from hopscreen.verification.result import barrier_from_energies, verification_id


def test_barrier_from_energies():
    profile = barrier_from_energies([-10.0, -9.6, -9.2, -9.5, -9.9])
    assert profile.energies_ev == pytest.approx([0.0, 0.4, 0.8, 0.5, 0.1])
    assert profile.forward_ev == pytest.approx(0.8)
    assert profile.backward_ev == pytest.approx(0.7)
    assert profile.ts_index == 2


def test_barrier_rejects_bad_profiles():
    with pytest.raises(ValueError, match="two endpoints"):
        barrier_from_energies([1.0])
    with pytest.raises(ValueError, match="non-finite"):
        barrier_from_energies([0.0, math.nan, 0.0])


def test_verification_id_depends_on_hop_and_level_of_theory():
    pbe = LevelOfTheory(method="CI-NEB", code="VASP", functional="PBE")
    pbe_u = LevelOfTheory(method="CI-NEB", code="VASP", functional="PBE", hubbard_u={"Fe": 5.3})
    assert verification_id("h1", pbe) == verification_id("h1", pbe.model_copy())
    assert (
        len({verification_id("h1", pbe), verification_id("h2", pbe), verification_id("h1", pbe_u)})
        == 3
    )


def test_schema_forbids_unknown_fields():
    level = LevelOfTheory(method="NEB", code="CHGNet")
    with pytest.raises(ValidationError):
        VerificationDoc(
            verification_id="v",
            hop_id="h",
            tier="umlip",
            status="ok",
            level_of_theory=level,
            barrier=0.3,
        )
    with pytest.raises(ValidationError):
        VerificationDoc(
            verification_id="v", hop_id="h", tier="dft", status="ok", level_of_theory=level
        )
