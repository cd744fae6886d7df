"""Fixtures of the evaluation tests: a tiny random model folder and tiny synthetic records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.model_fixtures import TINY_ARCH, save_tiny_bundle

from hopscreen.schemas.data import EmRecord
from hopscreen.schemas.structure import SYMBOL_TO_Z, Crystal


def make_band(
    host: list[tuple[str, tuple[float, float, float]]], ion: str, a: float = 4.0
) -> Crystal:
    """A cubic band: 5 ion copies on a straight line along x, then ``host`` atoms."""
    start, end = np.array([0.25, 0.25, 0.25]), np.array([0.75, 0.25, 0.25])
    copies = [start + t * (end - start) for t in np.linspace(0.0, 1.0, 5)]
    frac = np.array(copies + [np.array(x) for _, x in host])
    numbers = np.array([SYMBOL_TO_Z[ion]] * 5 + [SYMBOL_TO_Z[el] for el, _ in host])
    return Crystal(np.eye(3) * a, frac, numbers)


def make_record(
    i: int,
    sys_name: str,
    host: list[tuple[str, tuple[float, float, float]]],
    ion: str,
    barrier: float,
) -> EmRecord:
    """A synthetic training record with a tiny band."""
    band = make_band(host, ion, a=4.0 + 0.05 * i)
    return EmRecord(
        record_id=f"train-{i:04d}",
        split="train",
        index=i,
        sys_name=sys_name,
        structure_class="SYNTHETIC",
        formula="x",
        working_ion=ion,
        barrier_ev=barrier,
        band_hash=band.fingerprint(),
        band=band,
        n_atoms_band=len(band),
        source="test",
    )


def spinel_like(metal: str, anion: str) -> list[tuple[str, tuple[float, float, float]]]:
    """A two-atom MX host (framework formula ``metal anion``)."""
    return [(metal, (0.0, 0.0, 0.0)), (anion, (0.5, 0.5, 0.5))]


@pytest.fixture(scope="session")
def synthetic_records() -> list[EmRecord]:
    """15 records in 5 frameworks (3 ions each), with barriers in 0.2–1.5 eV."""
    rng = np.random.default_rng(7)
    out = []
    hosts = [("Mn", "O"), ("Co", "O"), ("Ni", "S"), ("Ti", "S"), ("Fe", "F")]
    for metal, anion in hosts:
        for ion in ("Li", "Mg", "Na"):
            i = len(out)
            out.append(
                make_record(
                    i,
                    f"{metal}{anion}_{ion}_1",
                    spinel_like(metal, anion),
                    ion,
                    float(rng.uniform(0.2, 1.5)),
                )
            )
    return out


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-init one-member model folder with a tiny architecture."""

    from hopscreen.models.alignn import ALIGNNConfig

    return save_tiny_bundle(
        tmp_path_factory.mktemp("tiny-model"), members=1, config=ALIGNNConfig(**TINY_ARCH)
    )
