"""A two-tier prediction cascade: a fast model predicts every hop, an accurate one only some.

Tier 1 (``fast_model``, by default the physics-descriptor head ``physics-bvse-gbr``) predicts
every hop with its calibrated interval ``[E − w, E + w]`` (w: the conformal half-width at
``coverage``, :mod:`hopscreen.models.calibration`). Tier 2 (``accurate_model``, by default the
shipped default) predicts only the hops tier 1 cannot settle, and its prediction replaces tier
1's. Which hops go to tier 2 is the routing rule (:func:`route_hops`):

* ``"straddle"``: the tier-1 interval contains the threshold (the hop's good/bad class is
  open);
* ``"straddle_or_bottleneck"``: that, or the hop could set its host's 1D percolation barrier:
  the host's 1D percolation barrier (:mod:`hopscreen.hops.percolation`) is computed with every
  hop at its lower bound and with every hop at its upper bound, and a hop whose interval meets
  that range ``[P_lo, P_hi]`` is routed;
* ``"all"`` / ``"none"``: every hop / no hop (tier 2 alone / tier 1 alone).

Every merged :class:`~hopscreen.schemas.prediction.PredictionDoc` records the tier that served
it and keeps its own model's version (so a store never mistakes one tier's prediction for the
other's); :class:`~hopscreen.schemas.prediction.CascadeSummary` records the rule, the share of
hops sent to tier 2 and the time of each tier. Which model is more accurate on the routed hops,
and at what cost, is measured in BENCHMARKS.md (section cascade).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from pydantic import Field

from hopscreen.hops.network import MigrationNetwork, network_from_doc
from hopscreen.hops.percolation import percolation_barriers
from hopscreen.inference.base import BarrierModel
from hopscreen.inference.hops import predict_hops
from hopscreen.models.shipped import ACCURATE_MODEL
from hopscreen.schemas.base import Config
from hopscreen.schemas.hop import HopDoc, HostNetworkDoc
from hopscreen.schemas.prediction import CascadeRoute, CascadeSummary, PredictionDoc
from hopscreen.schemas.structure import Crystal

FAST_MODEL = "physics-bvse-gbr"
"""The shipped tier-1 model: physics descriptors + BVSE profile, no CHGNet (milliseconds)."""


class CascadeConfig(Config):
    """Which model serves which tier, and which hops tier 2 gets (module docstring)."""

    fast_model: str = Field(
        FAST_MODEL, description="Tier 1: model folder or shipped name; predicts every hop."
    )
    accurate_model: str = Field(
        ACCURATE_MODEL, description="Tier 2: model folder or shipped name; routed hops only."
    )
    threshold_ev: float = Field(0.65, ge=0, description="Good/bad barrier threshold, eV.")
    coverage: Literal[0.68, 0.9] = Field(
        0.9, description="Coverage level of the tier-1 calibrated interval used to route."
    )
    route: CascadeRoute = Field(
        "straddle_or_bottleneck", description="Routing rule (module docstring)."
    )


def interval_of(prediction: PredictionDoc, coverage: float) -> tuple[float, float]:
    """The calibrated interval ``(E − w, E + w)`` of a prediction at ``coverage``, eV.

    Raises
    ------
    ValueError
        The prediction carries no calibrated interval at that level (an uncalibrated model
        cannot route: its ensemble spread is not an error estimate).
    """
    key = "interval_68_ev" if coverage == 0.68 else "interval_90_ev"
    width = getattr(prediction, key)
    if width is None:
        raise ValueError(
            f"hop {prediction.hop_id}: model {prediction.model_version} gives no calibrated "
            f"{coverage:g} interval; a cascade's fast model must be calibrated"
        )
    return prediction.barrier_ev - width, prediction.barrier_ev + width


def _host_key(candidate_id: str | None, name: str) -> str:
    return candidate_id or name


def _predicted_network(network: MigrationNetwork, predicted: set[str]) -> MigrationNetwork:
    """The network without the edges of unpredicted classes (they count as closed)."""
    return MigrationNetwork(
        n_sites=network.n_sites,
        edges=tuple(e for e in network.edges if e.hop_id in predicted),
        hop_ids=tuple(h for h in network.hop_ids if h in predicted),
    )


def bottleneck_range(
    network: MigrationNetwork, intervals: Mapping[str, tuple[float, float]]
) -> tuple[float, float] | None:
    """Range ``(P_lo, P_hi)`` of a host's 1D percolation barrier over its hops' intervals, eV.

    Parameters
    ----------
    network : MigrationNetwork
        The host's periodic migration network.
    intervals : Mapping of str to (float, float)
        ``(lower, upper)`` bound of each predicted hop class, eV; classes without one are
        closed.

    Returns
    -------
    tuple of float or None
        The 1D percolation barrier with every hop at its lower bound and at its upper bound;
        None when the predicted hops never percolate in 1D.
    """
    sub = _predicted_network(network, set(intervals) & set(network.hop_ids))
    if not sub.hop_ids:
        return None
    low = percolation_barriers(sub, {h: intervals[h][0] for h in sub.hop_ids})[1].barrier_ev
    high = percolation_barriers(sub, {h: intervals[h][1] for h in sub.hop_ids})[1].barrier_ev
    if low is None or high is None:
        return None
    return low, high


def _bottleneck_hops(
    predictions: Sequence[PredictionDoc],
    networks: Iterable[HostNetworkDoc],
    intervals: Mapping[str, tuple[float, float]],
) -> set[str]:
    """Hop ids whose interval meets their host's range of 1D percolation barriers."""
    by_host: dict[str, set[str]] = defaultdict(set)
    for pred in predictions:
        by_host[_host_key(pred.candidate_id, pred.candidate_name)].add(pred.hop_id)
    routed: set[str] = set()
    for doc in networks:
        hop_ids = by_host.get(_host_key(doc.candidate_id, doc.candidate_name), set())
        own = {h: intervals[h] for h in hop_ids if h in intervals}
        span = bottleneck_range(network_from_doc(doc), own) if own else None
        if span is None:
            continue
        routed |= {h for h, (lo, hi) in own.items() if lo <= span[1] and hi >= span[0]}
    return routed


def route_hops(
    predictions: Sequence[PredictionDoc],
    networks: Iterable[HostNetworkDoc],
    config: CascadeConfig | None = None,
) -> list[str]:
    """The hop ids a cascade sends to tier 2, in the order of ``predictions``.

    Parameters
    ----------
    predictions : sequence of PredictionDoc
        Tier-1 predictions (calibrated at ``config.coverage`` unless the rule is ``"all"``
        or ``"none"``).
    networks : iterable of HostNetworkDoc
        The hosts' migration networks (for the bottleneck rule), matched to predictions by
        ``candidate_id`` (by name for hosts without one); hops of a host without a network
        are routed by the straddle rule only.
    config : CascadeConfig, optional
        Threshold, coverage and rule (defaults if None).

    Returns
    -------
    list of str
        Distinct hop ids, each once.

    Raises
    ------
    ValueError
        A prediction has no calibrated interval at ``config.coverage`` (straddle rules).
    """
    config = config or CascadeConfig()
    ids = list(dict.fromkeys(p.hop_id for p in predictions))
    if config.route in ("all", "none"):
        return ids if config.route == "all" else []
    intervals = {p.hop_id: interval_of(p, config.coverage) for p in predictions}
    routed = {h for h, (lo, hi) in intervals.items() if lo <= config.threshold_ev <= hi}
    if config.route == "straddle_or_bottleneck":
        routed |= _bottleneck_hops(predictions, networks, intervals)
    return [h for h in ids if h in routed]


def cascade_predictions(
    tier1: Sequence[PredictionDoc], tier2_by_id: Mapping[str, PredictionDoc]
) -> list[PredictionDoc]:
    """Tier-1 predictions with the routed hops' tier-2 predictions put in their place.

    Parameters
    ----------
    tier1 : sequence of PredictionDoc
        The fast model's prediction of every hop.
    tier2_by_id : Mapping of str to PredictionDoc
        The accurate model's predictions of the routed hops, by hop id.

    Returns
    -------
    list of PredictionDoc
        One per tier-1 prediction, same order: copies with ``tier=2`` (the tier-2 document)
        for routed hops and ``tier=1`` for the others.

    Raises
    ------
    ValueError
        A tier-2 prediction is of a hop tier 1 did not predict.
    """
    unknown = set(tier2_by_id) - {p.hop_id for p in tier1}
    if unknown:
        raise ValueError(f"tier-2 predictions of hops tier 1 never saw: {sorted(unknown)}")
    merged = []
    for pred in tier1:
        accurate = tier2_by_id.get(pred.hop_id)
        if accurate is None:
            merged.append(pred.model_copy(update={"tier": 1}))
        else:
            merged.append(accurate.model_copy(update={"tier": 2}))
    return merged


def predict_cascade(
    hops: Sequence[HopDoc],
    bands: Sequence[Crystal],
    networks: Iterable[HostNetworkDoc],
    *,
    fast: BarrierModel,
    accurate: BarrierModel,
    config: CascadeConfig | None = None,
    batch_size: int = 32,
) -> tuple[list[PredictionDoc], CascadeSummary]:
    """Predict every hop with the fast model, the routed ones again with the accurate one.

    Parameters
    ----------
    hops, bands : sequence
        Hop documents and their Model-3 bands, same order
        (:func:`~hopscreen.inference.hops.predict_hops`).
    networks : iterable of HostNetworkDoc
        The hosts' migration networks (bottleneck rule).
    fast, accurate : BarrierModel
        The loaded tier-1 and tier-2 models (``config.fast_model`` and
        ``config.accurate_model``, loaded by the caller).
    config : CascadeConfig, optional
        Routing (defaults if None).
    batch_size : int
        Bands per forward pass of either model.

    Returns
    -------
    tuple of (list of PredictionDoc, CascadeSummary)
        One prediction per hop, in order, each with its ``tier``; the run's summary.
    """
    config = config or CascadeConfig()
    t0 = time.perf_counter()
    tier1 = predict_hops(hops, bands, model=fast, batch_size=batch_size)
    t1 = time.perf_counter() - t0
    routed = set(route_hops(tier1, networks, config))
    picked = [i for i, hop in enumerate(hops) if hop.hop_id in routed]
    t0 = time.perf_counter()
    tier2 = predict_hops(
        [hops[i] for i in picked], [bands[i] for i in picked], model=accurate, batch_size=batch_size
    )
    t2 = time.perf_counter() - t0
    merged = cascade_predictions(tier1, {p.hop_id: p for p in tier2})
    summary = cascade_summary(
        merged,
        config,
        fast_model_version=fast.model_version,
        accurate_model_version=accurate.model_version,
        seconds=(t1, t2),
    )
    return merged, summary


def cascade_summary(
    merged: Sequence[PredictionDoc],
    config: CascadeConfig,
    *,
    fast_model_version: str,
    accurate_model_version: str,
    seconds: tuple[float, float],
) -> CascadeSummary:
    """The :class:`CascadeSummary` of merged predictions (each with its ``tier``).

    ``seconds`` is the wall time of tier 1 and of tier 2.
    """
    n_tier2 = sum(1 for p in merged if p.tier == 2)
    return CascadeSummary(
        route=config.route,
        threshold_ev=config.threshold_ev,
        coverage=config.coverage,
        fast_model_version=fast_model_version,
        accurate_model_version=accurate_model_version,
        n_hops=len(merged),
        n_tier2=n_tier2,
        share_tier2=n_tier2 / len(merged) if merged else 0.0,
        tier1_seconds=seconds[0],
        tier2_seconds=seconds[1],
    )


def combine_summaries(summaries: Sequence[CascadeSummary]) -> CascadeSummary:
    """One summary of several runs of the same cascade (e.g. host by host): counts and times add.

    Raises
    ------
    ValueError
        No summary, or the runs differ in rule, threshold, coverage or model versions.
    """
    if not summaries:
        raise ValueError("no cascade summary to combine")
    same = ("route", "threshold_ev", "coverage", "fast_model_version", "accurate_model_version")
    first = summaries[0]
    for other in summaries[1:]:
        if any(getattr(other, f) != getattr(first, f) for f in same):
            raise ValueError("cascade summaries of different rules or models cannot be combined")
    n_hops = sum(s.n_hops for s in summaries)
    n_tier2 = sum(s.n_tier2 for s in summaries)
    return first.model_copy(
        update={
            "n_hops": n_hops,
            "n_tier2": n_tier2,
            "share_tier2": n_tier2 / n_hops if n_hops else 0.0,
            "tier1_seconds": sum(s.tier1_seconds for s in summaries),
            "tier2_seconds": sum(s.tier2_seconds for s in summaries),
        }
    )
