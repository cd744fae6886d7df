"""Hop cache: each host's hops and bands built once per results folder, then read back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.hops.hops_structures import layered_licoo2, olivine_lifepo4, shuffled_and_shifted

import hopscreen.screening.hop_cache as hop_cache
from hopscreen.hops import HopOptions, HopsResult
from hopscreen.schemas.candidate import CandidateDoc
from hopscreen.screening.hop_cache import cache_folder, cached_host_hops, host_cache_key
from hopscreen.screening.hops_stage import enumerate_round_hops, rebuild_bands


def _candidate(structure, name: str) -> CandidateDoc:
    return CandidateDoc.from_structure(
        structure, name=name, source="file", source_ref=f"{name}.json", working_ion="Li"
    )


@pytest.fixture(scope="module")
def lco() -> CandidateDoc:
    return _candidate(layered_licoo2(), "LiCoO2")


def _same(a: HopsResult, b: HopsResult) -> None:
    assert a.docs == b.docs
    assert a.failures == b.failures
    assert a.network == b.network
    assert a.rejected == b.rejected
    assert len(a.bands) == len(b.bands) == len(a.docs)
    for x, y in zip(a.bands, b.bands, strict=True):
        assert x is not None and y is not None
        assert np.array_equal(x.lattice, y.lattice)
        assert np.array_equal(x.frac_coords, y.frac_coords)
        assert np.array_equal(x.numbers, y.numbers)
        assert x.fingerprint() == y.fingerprint()


def test_second_call_reads_what_the_first_built(lco: CandidateDoc, tmp_path: Path) -> None:
    options = HopOptions()
    built, from_cache = cached_host_hops(lco, options, tmp_path)
    assert not from_cache and built.docs
    assert len(list(tmp_path.glob("*.npz"))) == 1
    again, from_cache = cached_host_hops(lco, options, tmp_path)
    assert from_cache
    _same(built, again)
    assert again.hops == []  # Hop objects are not stored


def test_key_follows_options_structure_and_format(lco: CandidateDoc, monkeypatch) -> None:
    base = host_cache_key(lco, HopOptions())
    assert host_cache_key(lco, HopOptions(max_hop_length_angstrom=4.0)) != base
    moved = _candidate(shuffled_and_shifted(layered_licoo2()), "LiCoO2")
    assert moved.candidate_id == lco.candidate_id  # same crystal, another setting
    assert host_cache_key(moved, HopOptions()) != base
    assert host_cache_key(lco.model_copy(update={"name": "other"}), HopOptions()) != base
    monkeypatch.setattr(hop_cache, "CACHE_FORMAT", hop_cache.CACHE_FORMAT + 1)
    assert host_cache_key(lco, HopOptions()) != base


def test_damaged_file_is_built_again(lco: CandidateDoc, tmp_path: Path) -> None:
    built, _ = cached_host_hops(lco, HopOptions(), tmp_path)
    (path,) = tmp_path.glob("*.npz")
    path.write_bytes(path.read_bytes()[:100])
    again, from_cache = cached_host_hops(lco, HopOptions(), tmp_path)
    assert not from_cache
    _same(built, again)
    assert cached_host_hops(lco, HopOptions(), tmp_path)[1]  # rewritten whole


def test_a_failed_host_is_cached_with_its_reason(tmp_path: Path) -> None:
    lone = _candidate(layered_licoo2(), "far")
    options = HopOptions(max_hop_length_angstrom=1.0)
    first, _ = cached_host_hops(lone, options, tmp_path)
    assert not first.docs and first.rejected and "single_ion_site" in first.failures[0].reason
    second, from_cache = cached_host_hops(lone, options, tmp_path)
    assert from_cache and second.failures == first.failures and second.rejected
    assert second.network is None


def test_round_builds_each_host_once(tmp_path: Path, monkeypatch) -> None:
    hosts = [
        _candidate(layered_licoo2(), "LiCoO2"),
        _candidate(olivine_lifepo4(), "LiFePO4"),
    ]
    calls: list[str] = []
    real = hop_cache.hops_for_structure

    def counting(structure, ion, name, **kwargs):
        calls.append(name)
        return real(structure, ion, name, **kwargs)

    monkeypatch.setattr(hop_cache, "hops_for_structure", counting)
    out = enumerate_round_hops(hosts, HopOptions(), tmp_path)
    kept, bands, failures = rebuild_bands(out.hops, hosts, HopOptions(), tmp_path)
    again = enumerate_round_hops(hosts, HopOptions(), tmp_path)
    assert sorted(calls) == ["LiCoO2", "LiFePO4"]
    assert again == out
    assert [h.hop_id for h in kept] == [h.hop_id for h in out.hops] and not failures
    assert len(list(cache_folder(tmp_path).glob("*.npz"))) == 2
    # without a results folder nothing is cached: built again
    _, bands2, _ = rebuild_bands(out.hops, hosts, HopOptions())
    assert len(calls) == 4
    assert [b.fingerprint() for b in bands2] == [b.fingerprint() for b in bands]
