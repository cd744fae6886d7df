"""Fixtures of the flow tests: a tiny random model and a fast fake uMLIP verifier."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.model_fixtures import TINY_ARCH

from hopscreen.schemas.verification import LevelOfTheory, VerificationDoc
from hopscreen.verification.result import verification_id


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A random-init two-member model folder (σ > 0) with a tiny architecture."""
    import torch

    from hopscreen.graphs.build import GraphConfig
    from hopscreen.models.alignn import ALIGNN, ALIGNNConfig
    from hopscreen.models.bundle import save_bundle
    from hopscreen.models.scaling import TargetScaler

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("tiny-model")
    members = [ALIGNN(ALIGNNConfig(**TINY_ARCH)).eval() for _ in range(2)]
    save_bundle(
        members,
        out,
        name="tiny",
        preset="test",
        graph=GraphConfig(),
        scaler=TargetScaler(minimum=0.0, maximum=3.0),
    )
    return str(out)


FAKE_LEVEL = LevelOfTheory(method="CI-NEB", code="CHGNet", potential="fake")


def fake_verify_hop(hop, *, candidate_id=None, config=None) -> VerificationDoc:
    """A 0.4 eV 'NEB' in no time (the expensive program faked at its run function)."""
    level = FAKE_LEVEL
    return VerificationDoc(
        verification_id=verification_id(hop.hop_id, level),
        hop_id=hop.hop_id,
        candidate_id=candidate_id,
        tier="umlip",
        status="ok",
        barrier_ev=0.4,
        energies_ev=[0.0, 0.2, 0.4, 0.2, 0.0],
        n_images=3,
        converged=True,
        level_of_theory=level,
    )


@pytest.fixture
def fake_verifier(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace CHGNet NEB by :func:`fake_verify_hop` where the round looks it up."""
    import hopscreen.screening.round as screening_round

    monkeypatch.setattr(screening_round, "verify_hop", fake_verify_hop)
    monkeypatch.setattr(screening_round, "chgnet_level_of_theory", lambda config: FAKE_LEVEL)


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    return tmp_path / "results"
