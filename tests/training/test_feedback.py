"""Verified hops and published records as training records under a level policy."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from tests.model_fixtures import tiny_band
from tests.store.store_docs import candidate, hop, prediction, verification

from hopscreen.hops import HopOptions
from hopscreen.schemas.candidate import CandidateDoc
from hopscreen.schemas.hop import HopDoc, HopFailure
from hopscreen.schemas.structure import Crystal
from hopscreen.schemas.training import LevelPolicy, TrainingRecord
from hopscreen.schemas.verification import LevelOfTheory
from hopscreen.screening.feedback import records_from_verifications
from hopscreen.store import open_results_store
from hopscreen.training.feedback import (
    LevelPolicyError,
    apply_policy,
    dataset_level_key,
    dataset_records,
    learn_level_offset,
    level_key,
)

CHGNET = "CHGNet/CI-NEB"  # level key of the store_docs CHGNet verifications (no version)


def fake_rebuild(
    hops: Sequence[HopDoc], hosts: Sequence[CandidateDoc]
) -> tuple[list[HopDoc], list[Crystal], list[HopFailure]]:
    """Bands for every hop except 'h2' (stands in for hopscreen.screening.round.rebuild_bands)."""
    known = {c.candidate_id for c in hosts}
    kept, bands, failures = [], [], []
    for i, h in enumerate(hops):
        if h.hop_id == "h2" or h.candidate_id not in known:
            failures.append(
                HopFailure(candidate_name=h.candidate_name, reason="nope", hop_id=h.hop_id)
            )
            continue
        kept.append(h)
        bands.append(tiny_band(i))
    return kept, bands, failures


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    """h1: CHGNet + DFT-GGA+U; h2: CHGNet (band fails); h3: failed; h4: CHGNet, not converged;
    h5: DFT-GGA only."""
    lfp = candidate("c-lfp", "LiFePO4", "Li", "LiFePO4")
    hops = [hop(f"h{i}", lfp, 3.0 + 0.1 * i) for i in range(1, 6)]
    dft_u = verification("h1", 0.50, code="VASP")
    dft_u.level_of_theory = LevelOfTheory(
        method="CI-NEB", code="VASP", functional="PBE", hubbard_u={"Fe": 5.3}
    )
    dft_u.verification_id = "h1:VASP+U"
    unconverged = verification("h4", 0.9)
    unconverged.converged = False
    path = tmp_path / "results"
    with open_results_store(path) as store:
        store.write("candidates", [lfp])
        store.write("hops", hops)
        store.write("predictions", [prediction(hops[0], 0.3, 0.1, "m3-old")])
        time.sleep(0.01)
        store.write("predictions", [prediction(hops[0], 0.3, 0.1, "m3-new")])
        store.write(
            "verifications",
            [
                verification("h1", 0.40),
                dft_u,
                verification("h2", 0.70),
                verification("h3", None, status="failed"),
                unconverged,
                verification("h5", 0.60, code="VASP"),
            ],
        )
    return path


def test_level_keys() -> None:
    chgnet = LevelOfTheory(method="NEB", code="CHGNet", code_version="0.3.0")
    assert level_key(chgnet) == "CHGNet-0.3.0/NEB"
    assert level_key({"method": "CI-NEB", "code": "VASP", "functional": "PBE"}) == "DFT-GGA"
    assert level_key({"method": "NEB", "code": "VASP", "functional": "r2SCAN"}) == "DFT-R2SCAN"
    assert level_key("DFT-SCAN") == "DFT-SCAN"
    assert dataset_level_key("GGA+U") == "DFT-GGA+U"
    assert dataset_level_key(None) == "DFT-unknown"


def test_default_policy_excludes_umlip_labels(results_dir: Path) -> None:
    records, report = records_from_verifications(results_dir, rebuild_band=fake_rebuild)
    assert {r.record_id: r.level_of_theory for r in records} == {
        "h1": "DFT-GGA+U",
        "h5": "DFT-GGA",
    }
    assert report.n_verifications == 6
    assert report.n_not_usable == 2  # failed + not converged
    assert report.excluded_by_level == {CHGNET: 2}
    assert report.accepted_by_level == {"DFT-GGA+U": 1, "DFT-GGA": 1}
    assert report.n_records == 2
    h1 = next(r for r in records if r.record_id == "h1")
    assert h1.source == "verification" and h1.barrier_ev == 0.50 and h1.offset_ev == 0.0
    assert h1.verification_id == "h1:VASP+U"
    assert h1.model_version == "m3-new"  # latest prediction
    assert h1.working_ion == "Li" and h1.candidate_id == "c-lfp"
    assert len(h1.atoms()) == len(tiny_band(0))


def test_offset_corrects_and_preference_supersedes(results_dir: Path) -> None:
    policy = LevelPolicy(accept=["DFT-GGA+U", "DFT-GGA"], offsets_ev={CHGNET: 0.1})
    records, report = records_from_verifications(results_dir, policy, rebuild_band=fake_rebuild)
    by_id = {r.record_id: r for r in records}
    assert by_id["h1"].level_of_theory == "DFT-GGA+U"  # DFT preferred over corrected CHGNet
    assert report.n_superseded == 1
    assert report.corrected_by_level == {CHGNET: 2}
    assert report.n_band_failures == 1 and report.band_failures[0].hop_id == "h2"
    assert sorted(by_id) == ["h1", "h5"]


def test_corrected_label_keeps_raw_value() -> None:
    rec = TrainingRecord(
        record_id="x", source="verification", band_ref="hop:x", barrier_ev=0.4,
        raw_barrier_ev=0.4, level_of_theory=CHGNET,
    )  # fmt: skip
    kept, counts = apply_policy([rec], LevelPolicy(accept=["DFT-GGA"], offsets_ev={CHGNET: 0.15}))
    assert kept[0].barrier_ev == pytest.approx(0.55)
    assert kept[0].raw_barrier_ev == 0.4 and kept[0].offset_ev == 0.15
    assert counts["corrected"] == {CHGNET: 1}


def test_unknown_level_error(results_dir: Path) -> None:
    policy = LevelPolicy(accept=["DFT-GGA"], unknown="error")
    with pytest.raises(LevelPolicyError, match="CHGNet/CI-NEB"):
        records_from_verifications(results_dir, policy, rebuild_band=fake_rebuild)


def test_default_rebuild_is_the_jobs_one(
    results_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hopscreen.screening.feedback

    seen = {}

    def spy(hops, hosts, hop_options=None):
        seen["options"] = hop_options
        return fake_rebuild(hops, hosts)

    monkeypatch.setattr(hopscreen.screening.feedback, "rebuild_bands", spy)
    records, _ = records_from_verifications(results_dir, hop_options=HopOptions(symprec=0.1))
    assert seen["options"] == HopOptions(symprec=0.1)
    assert len(records) == 2


def test_empty_store(tmp_path: Path) -> None:
    with open_results_store(tmp_path / "r"):
        pass
    records, report = records_from_verifications(tmp_path / "r", rebuild_band=fake_rebuild)
    assert records == [] and report.n_verifications == 0


def test_learn_level_offset() -> None:
    pairs = [(0.5 + 0.01 * i, 0.3 + 0.01 * i + (0.02 if i % 2 else -0.02)) for i in range(21)]
    offset, n, (low, high) = learn_level_offset(pairs)
    assert n == 21
    assert offset == pytest.approx(0.2, abs=0.021)
    assert low <= offset <= high and high - low < 0.1
    assert learn_level_offset(pairs) == (offset, n, (low, high))  # seeded
    assert learn_level_offset([(1.0, 0.5), (float("nan"), 0.1)])[:2] == (0.5, 1)
    with pytest.raises(ValueError, match="no finite"):
        learn_level_offset([])


def test_dataset_records(data_dir: Path) -> None:
    records = dataset_records(data_dir, "test", with_structures=False)
    assert len(records) == 60
    assert all(r.source == "dataset" and r.level_of_theory.startswith("DFT-") for r in records)
    assert records[0].band is None and records[0].band_ref == "em_dataset:test-0000"
    kept, counts = apply_policy(records, LevelPolicy(accept=["DFT-GGA"]))
    assert sum(counts["accepted"].values()) + sum(counts["excluded"].values()) == 60
    assert all(r.level_of_theory == "DFT-GGA" for r in kept)
