"""Screening benchmarks at toy scale: structure and sanity of the returned figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.model_fixtures import TINY, save_tiny_bundle

from hopscreen.benchmarks.screening import bench_round_throughput, bench_surrogate_vs_neb
from hopscreen.benchmarks.streaming import bench_memory_scaling, synthetic_bands


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-init two-member model folder with the tiny architecture."""
    return save_tiny_bundle(tmp_path_factory.mktemp("tiny-bench-model"))


def test_synthetic_bands_have_ion_copies_first():
    bands = synthetic_bands(3)
    assert len(bands) == 3
    for band in bands:
        assert len(band) == 67
        assert list(band.numbers[:5]) == [3] * 5
        assert ((band.frac_coords >= 0) & (band.frac_coords < 1)).all()


def test_surrogate_vs_neb_one_capped_hop(tiny_model_dir):
    from hopscreen.verification.umlip import UmlipNebConfig

    neb = UmlipNebConfig(n_images=1, endpoint_max_steps=1, neb_max_steps=1)
    out = bench_surrogate_vs_neb(1, neb_config=neb, model_dir=tiny_model_dir, repeats=1)
    json.dumps(out)  # JSON-ready
    assert out["n_hops"] == 1
    (row,) = out["hops"]
    assert row["host"] == "LiTiS2-O1"  # smallest NEB cell of the demo set
    assert row["neb_atoms"] <= neb.max_atoms
    assert row["band_atoms"] > row["neb_atoms"]  # the band uses the default, larger supercell
    assert row["surrogate_seconds"] > 0 and row["neb_seconds"] > 0
    assert row["predicted_sigma_ev"] >= 0
    assert row["neb_status"] in ("ok", "not_converged")
    assert row["neb_barrier_ev"] is not None
    assert row["neb_steps"] <= 1
    assert out["surrogate_median_s"] > 0 and out["neb_median_s"] > 0
    assert out["ratio_neb_over_surrogate"] > 0
    assert "max 1 steps" in out["neb_caps"]


def test_round_throughput_with_tiny_model(tiny_model_dir, tmp_path):
    out = bench_round_throughput(model_dir=tiny_model_dir, results_dir=tmp_path / "r")
    json.dumps(out)
    assert out["verifier"] == "none"
    assert out["hops"] > 0 and out["predictions"] == out["hops"]
    assert out["seconds"] > 0 and out["hops_per_s"] > 0
    assert out["written"]["verifications"] == 0
    assert out["written"]["predictions"] == out["predictions"]


def test_round_throughput_cleans_its_temporary_folder(tiny_model_dir, monkeypatch, tmp_path):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    bench_round_throughput(model_dir=tiny_model_dir)
    assert not any(tmp_path.iterdir())


def test_memory_scaling_fresh_processes_and_skip():
    arch = TINY.model_dump(mode="json")
    out = bench_memory_scaling(
        (10, 5, 10**7),
        architecture=arch,
        ensemble_size=2,
        source="synthetic",
        batch_size=2,
        chunk_size=4,
        time_budget_s=120.0,
    )
    json.dumps(out)
    assert "random" in out["weights"]
    small, large, huge = out["sizes"]
    assert [small["n_hops"], large["n_hops"]] == [5, 10]  # run in increasing order
    for row in (small, large):
        assert row["skipped"] is False
        assert row["band_source"] == "synthetic"
        assert row["peak_rss_mib"] >= row["peak_rss_before_stream_mib"] > 0
        assert row["seconds"] > 0 and row["hops_per_s"] > 0
    assert huge["skipped"] is True and huge["estimated_seconds"] > 120.0
    assert isinstance(out["bounded"], bool)
