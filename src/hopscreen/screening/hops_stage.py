"""The hops stage of a round: every host's hops, networks and bands, built once per results folder.

The bands are built here to check them and kept in the results folder's hop cache
(:mod:`hopscreen.screening.hop_cache`), where the prediction stage (:func:`rebuild_bands`) and
later runs read them back.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hopscreen.hops import HopOptions, HopsResult
from hopscreen.inference.workers import chunk_bounds, map_in_pool, worker_count, worker_pool
from hopscreen.schemas.candidate import CandidateDoc
from hopscreen.schemas.hop import HopDoc, HopFailure
from hopscreen.schemas.round import HopsOutput
from hopscreen.schemas.structure import Crystal
from hopscreen.screening.hop_cache import (
    cache_folder,
    cache_path,
    cached_host_hops,
    light_host_hops,
    read_cached,
)

WORKER_MIN_HOSTS = 16
"""Fewer hosts than this are enumerated in the calling process (workers cost seconds to start)."""


def host_hops(
    candidate: CandidateDoc, options: HopOptions, cache: Path | None = None
) -> HopsResult:
    """The hops of one candidate host, with their bands (never raises; see hops_for_structure).

    With a ``cache`` folder (:func:`~hopscreen.screening.hop_cache.cache_folder`), a host
    already done with the same options is read from it instead of being built again.
    """
    return cached_host_hops(candidate, options, cache)[0]


def _cache(results_dir: str | Path | None) -> Path | None:
    return None if results_dir is None else cache_folder(results_dir)


def rebuild_bands(
    hops: Sequence[HopDoc],
    candidates: Sequence[CandidateDoc],
    hop_options: HopOptions | None = None,
    results_dir: str | Path | None = None,
) -> tuple[list[HopDoc], list[Crystal], list[HopFailure]]:
    """Rebuild the Model-3 band of each hop from its host candidate.

    Parameters
    ----------
    hops
        Hop documents; their ``candidate_id`` must be one of ``candidates``.
    candidates
        The host documents.
    hop_options
        The options the hops were enumerated with (None: the defaults).
    results_dir
        Results folder whose hop cache holds the bands the hops stage built (read instead
        of building them again; None: always built).

    Returns
    -------
    tuple
        (hops kept, their bands in the same order, failures for hops whose band was not
        rebuilt).

    """
    options = hop_options or HopOptions()
    by_candidate: dict[str | None, list[HopDoc]] = {}
    for hop in hops:
        by_candidate.setdefault(hop.candidate_id, []).append(hop)
    hosts = {c.candidate_id: c for c in candidates}
    kept: list[HopDoc] = []
    bands: list[Crystal] = []
    failures: list[HopFailure] = []
    for cid, wanted in by_candidate.items():
        host = hosts.get(cid) if cid is not None else None
        if host is None:
            failures += [
                HopFailure(
                    candidate_name=h.candidate_name, reason="host not found", hop_id=h.hop_id
                )
                for h in wanted
            ]
            continue
        result = host_hops(host, options, _cache(results_dir))
        found = {d.hop_id: b for d, b in zip(result.docs, result.bands, strict=True)}
        for hop in wanted:
            band = found.get(hop.hop_id)
            if band is None:
                failures.append(
                    HopFailure(
                        candidate_name=hop.candidate_name,
                        reason="band could not be rebuilt (hop not found again)",
                        hop_id=hop.hop_id,
                    )
                )
                continue
            kept.append(hop)
            bands.append(band)
    return kept, bands, failures


def enumerate_round_hops(
    candidates: Sequence[CandidateDoc],
    hop_options: HopOptions | None = None,
    results_dir: str | Path | None = None,
    workers: int | None = 1,
) -> HopsOutput:
    """Enumerate and check the hops of every candidate (bands built to check them).

    Parameters
    ----------
    candidates
        The round's hosts.
    hop_options
        Hop enumeration options (None: the defaults).
    results_dir
        Results folder: each host's hops and bands go to its hop cache
        (:mod:`hopscreen.screening.hop_cache`) for the prediction stage, and a host already
        there with the same options is read instead of enumerated again. None: the bands
        are dropped.
    workers
        Worker processes over the hosts (:mod:`hopscreen.inference.workers`; None: one per
        core), used with a ``results_dir`` and at least ``WORKER_MIN_HOSTS`` hosts; the
        output is the same in any case.

    Returns
    -------
    HopsOutput
        Hop documents of every host, each host's migration network, and the failures (per
        host or per hop).
    """
    options = hop_options or HopOptions()
    out = HopsOutput()
    cache = _cache(results_dir)
    results: list[HopsResult | None] = [None] * len(candidates)
    if cache is not None:  # hosts already in the cache are read here, the others built
        for i, cand in enumerate(candidates):
            results[i] = read_cached(cache_path(cache, cand, options))
    todo = [i for i, r in enumerate(results) if r is None]
    n_workers = worker_count(workers, len(todo), WORKER_MIN_HOSTS) if cache else 1
    if n_workers > 1:
        parts = [
            ([candidates[i] for i in todo[a:b]], options, cache)
            for a, b in chunk_bounds(len(todo), n_workers)
        ]
        built = map_in_pool(worker_pool(n_workers), light_host_hops, parts)
        for i, result in zip(todo, (r for chunk in built for r in chunk), strict=True):
            results[i] = result
    else:
        for i in todo:
            results[i] = host_hops(candidates[i], options, cache)
    for result in results:
        assert result is not None
        out.hops.extend(result.docs)
        out.failures.extend(result.failures)
        if result.network is not None and result.docs:
            out.networks.append(result.network)
    return out
