"""Does the two-tier cascade pay? The ``cascade`` section of BENCHMARKS.md.

Tier 1 is the fast recipe (``physics-bvse-gbr``: physics descriptors + BVSE, no CHGNet), tier
2 the accurate one (``physics-bvse-chgnet-gbr``, the shipped default); the routing rules are
those of :mod:`hopscreen.inference.cascade`, applied by its own :func:`route_hops`.

Host-grouped 5-fold CV on the authors' 559 training hops, both tiers on the same folds
(:func:`~hopscreen.data.splits.grouped_kfold` of the host groups; the folds of the recipes
section). Tier 1's intervals are honest out-of-fold intervals: each fold's tier-1 head is
calibrated by host-grouped CV inside its own training fold only (never on its held-out hops),
as a shipped model is calibrated on its training hops. The decisive figure is MAE(tier 2) −
MAE(tier 1) on the hops a rule routes, with a paired bootstrap over hops and one over hosts
(hops of a host share their errors, so the host bootstrap is the honest one). The authors' 60
test hops are scored too (both recipes fit on all 559 hops, tier 1 calibrated on them), for
comparison only.

The dataset has no periodic migration networks (a host is a handful of labelled hops), so the
bottleneck rule runs on a stand-in: every labelled hop of a host is its own 1D channel, so the
host's 1D percolation barrier is its lowest hop barrier. Cost per hop is timed in one process
with one torch thread on fresh (uncached) test bands: the hop vector plus the trees of each
tier; a cascade costs tier 1 on every hop plus tier 2 on the routed share.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hopscreen.benchmarks.machine import torch_threads
from hopscreen.data.em_dataset import load_em_dataset
from hopscreen.data.splits import grouped_kfold, host_groups
from hopscreen.evaluation.metrics import evaluate_predictions, paired_bootstrap_difference
from hopscreen.inference.cascade import CascadeConfig, route_hops
from hopscreen.models.chgnet_backbone import ChgnetFeatureConfig, load_chgnet
from hopscreen.models.head_config import ChgnetHeadConfig
from hopscreen.models.hop_features import extract_hop_features, hop_features
from hopscreen.schemas.hop import HostNetworkDoc
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.training.chgnet_head import HEAD_RECIPES, calibrate_head, fit_head

SECTION = "cascade"
TIER1 = "physics-bvse-gbr"
TIER2 = "physics-bvse-chgnet-gbr"

Recipe = tuple[ChgnetFeatureConfig, ChgnetHeadConfig]

#: Rows of the table: label, routing rule, coverage of the tier-1 interval.
RULES: tuple[tuple[str, str, float], ...] = (
    ("tier 1 alone", "none", 0.9),
    ("straddle, 68 %", "straddle", 0.68),
    ("straddle, 90 %", "straddle", 0.9),
    ("straddle or bottleneck, 68 %", "straddle_or_bottleneck", 0.68),
    ("straddle or bottleneck, 90 % (default)", "straddle_or_bottleneck", 0.9),
    ("tier 2 alone", "all", 0.9),
)
DEFAULT_RULE = "straddle or bottleneck, 90 % (default)"


@dataclass(frozen=True)
class TierPredictions:
    """Predictions of one tier on a set of hops, eV (widths NaN when not calibrated)."""

    pred: np.ndarray
    sigma: np.ndarray
    w68: np.ndarray
    w90: np.ndarray


def _empty(n: int) -> TierPredictions:
    return TierPredictions(*(np.full(n, np.nan) for _ in range(4)))


def _fill(
    out: TierPredictions,
    idx: np.ndarray,
    head: Any,
    X: np.ndarray,
    calibration: Any | None,
) -> None:
    """Predict rows ``idx`` of ``X`` with ``head`` into ``out`` (widths with a calibration)."""
    out.pred[idx], out.sigma[idx] = head.predict(X[idx])
    if calibration is not None:
        out.w68[idx] = calibration.half_width(out.sigma[idx], 0.68)
        out.w90[idx] = calibration.half_width(out.sigma[idx], 0.9)


def out_of_fold(
    X: np.ndarray,
    y: np.ndarray,
    names: Sequence[str],
    hosts: Sequence[str],
    head: ChgnetHeadConfig,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    calibrate: bool,
    k: int = 5,
    seed: int = 0,
) -> TierPredictions:
    """Out-of-fold predictions of a head recipe on given folds.

    With ``calibrate`` each fold's head gets a conformal calibration from host-grouped
    ``k``-fold CV inside its own training fold (nested), and its held-out hops get the
    68 % and 90 % half-widths of that calibration.
    """
    out = _empty(len(y))
    for train_idx, val_idx in folds:
        fitted = fit_head(X[train_idx], y[train_idx], names, head)
        calibration = None
        if calibrate:
            inner = [hosts[i] for i in train_idx]
            calibration = calibrate_head(
                X[train_idx], y[train_idx], names, inner, head, k=k, seed=seed
            )
        _fill(out, val_idx, fitted, X, calibration)
    return out


def chain_networks(hosts: Sequence[str], hop_ids: Sequence[str], ion: str) -> list[HostNetworkDoc]:
    """A stand-in network per host: each of its hops is a 1D channel of its own.

    Site ``i`` of a host holds its ``i``-th hop, a self-loop to the next cell along a, so the
    1D percolation barrier of the host is its lowest hop barrier.
    """
    by_host: dict[str, list[str]] = {}
    for host, hop_id in zip(hosts, hop_ids, strict=True):
        by_host.setdefault(host, []).append(hop_id)
    docs = []
    for host, ids in by_host.items():
        ordered = sorted(ids)
        docs.append(
            HostNetworkDoc(
                candidate_id=host,
                candidate_name=host,
                working_ion=ion,
                n_sites=len(ordered),
                hop_ids=ordered,
                edges=[[i, i, 1, 0, 0, i] for i in range(len(ordered))],
            )
        )
    return docs


def _docs(
    tier1: TierPredictions, hosts: Sequence[str], hop_ids: Sequence[str]
) -> list[PredictionDoc]:
    """Tier-1 predictions as documents (what :func:`route_hops` reads)."""
    return [
        PredictionDoc(
            hop_id=hop_id,
            candidate_id=host,
            candidate_name=host,
            working_ion="X",
            model_version="tier1",
            barrier_ev=float(tier1.pred[i]),
            sigma_ev=float(tier1.sigma[i]),
            interval_68_ev=float(tier1.w68[i]),
            interval_90_ev=float(tier1.w90[i]),
            member_barriers_ev=[float(tier1.pred[i])],
        )
        for i, (host, hop_id) in enumerate(zip(hosts, hop_ids, strict=True))
    ]


def host_bootstrap_difference(
    err_a: np.ndarray, err_b: np.ndarray, hosts: Sequence[str], n_boot: int, seed: int = 0
) -> dict[str, float | None]:
    """MAE(a) − MAE(b) with a 95 % interval from resampling whole hosts (paired).

    Parameters
    ----------
    err_a, err_b : numpy.ndarray
        (n,) absolute errors of two predictors on the same hops, eV.
    hosts : sequence of str
        Host key of each hop.
    n_boot, seed
        Resamples of the hosts (with replacement) and their seed.

    Returns
    -------
    dict
        ``{"value", "ci_low", "ci_high"}``, eV (None without hops).
    """
    if len(err_a) == 0:
        return {"value": None, "ci_low": None, "ci_high": None}
    keys, inverse = np.unique(np.asarray(hosts), return_inverse=True)
    diff_sum = np.bincount(inverse, weights=err_a - err_b, minlength=len(keys))
    count = np.bincount(inverse, minlength=len(keys)).astype(float)
    draws = np.random.default_rng(seed).integers(0, len(keys), size=(n_boot, len(keys)))
    samples = diff_sum[draws].sum(axis=1) / count[draws].sum(axis=1)
    low, high = np.percentile(samples, [2.5, 97.5])
    value = float(np.mean(err_a - err_b))
    return {"value": value, "ci_low": float(low), "ci_high": float(high)}


def score_rule(
    y: np.ndarray,
    tiers: tuple[TierPredictions, TierPredictions],
    hosts: Sequence[str],
    routed: np.ndarray,
    n_boot: int,
) -> dict[str, Any]:
    """One row: the routed share, both tiers on the routed hops, the cascade overall.

    ``routed`` is the boolean mask of the hops sent to tier 2.
    """
    p1, p2 = tiers[0].pred, tiers[1].pred
    cascade = np.where(routed, p2, p1)
    ev = evaluate_predictions(y, cascade, thresholds=(0.65,), n_boot=n_boot)
    reg = ev["regression"]
    sub = np.flatnonzero(routed)
    row: dict[str, Any] = {
        "n": len(y),
        "n_routed": len(sub),
        "share_routed": len(sub) / len(y) if len(y) else 0.0,
        "mae_ev": reg["mae_ev"],
        "r2": reg["r2"],
        "spread_ratio": reg["spread_ratio"],
        "accuracy_0.65": ev["classification"][0]["accuracy"],
        "vs_tier1": paired_bootstrap_difference(y, cascade, p1, n_boot=n_boot)["difference"],
        "vs_tier2": paired_bootstrap_difference(y, cascade, p2, n_boot=n_boot)["difference"],
    }
    if len(sub):
        on_routed = paired_bootstrap_difference(y[sub], p2[sub], p1[sub], n_boot=n_boot)
        row["routed_mae_tier1_ev"] = on_routed["metric_b"]
        row["routed_mae_tier2_ev"] = on_routed["metric_a"]
        row["routed_tier2_minus_tier1"] = on_routed["difference"]
        err1, err2 = np.abs(p1[sub] - y[sub]), np.abs(p2[sub] - y[sub])
        row["routed_tier2_minus_tier1_hosts"] = host_bootstrap_difference(
            err2, err1, [hosts[i] for i in sub], n_boot
        )
    return row


def score_rules(
    y: np.ndarray,
    tiers: tuple[TierPredictions, TierPredictions],
    hosts: Sequence[str],
    hop_ids: Sequence[str],
    n_boot: int,
) -> list[dict[str, Any]]:
    """Every rule of :data:`RULES` on one set of hops (routing by the library's rule)."""
    docs = _docs(tiers[0], hosts, hop_ids)
    networks = chain_networks(hosts, hop_ids, "X")
    rows = []
    for label, route, coverage in RULES:
        config = CascadeConfig(route=route, coverage=coverage)  # type: ignore[arg-type]
        routed_ids = set(route_hops(docs, networks, config))
        mask = np.array([h in routed_ids for h in hop_ids], dtype=bool)
        row = score_rule(y, tiers, hosts, mask, n_boot)
        rows.append({"rule": label, "route": route, "coverage": coverage, **row})
    return rows


def _coverage(y: np.ndarray, tier: TierPredictions) -> dict[str, float]:
    """Share of hops inside the tier's 68 % and 90 % intervals."""
    err = np.abs(y - tier.pred)
    return {"68": float(np.mean(err <= tier.w68)), "90": float(np.mean(err <= tier.w90))}


def time_tiers(
    bands: Sequence[Any], recipes: tuple[Recipe, Recipe], heads: tuple[Any, Any]
) -> dict[str, float]:
    """Seconds per hop of each tier on fresh bands: hop vector + trees, one torch thread.

    ``heads`` are the fitted heads of the two recipes (their trees are timed on the vectors
    just computed). CHGNet is loaded and run once on the first band before the clock starts.
    """
    out: dict[str, float] = {}
    with torch_threads(1):
        for key, (features, _), head in zip(("tier1", "tier2"), recipes, heads, strict=True):
            model = load_chgnet(features.model_name) if features.chgnet else None
            hop_features(bands[0], model=model, config=features)  # warm-up, not timed
            t0 = time.perf_counter()
            X = np.vstack([hop_features(b, model=model, config=features) for b in bands[1:]])
            head.predict(X)
            out[key] = (time.perf_counter() - t0) / max(len(bands) - 1, 1)
    return out


@dataclass(frozen=True)
class _Split:
    """Hop vectors of both tiers, labels, hosts and ids of one split."""

    X: tuple[np.ndarray, np.ndarray]
    names: tuple[list[str], list[str]]
    y: np.ndarray
    hosts: list[str]
    ids: list[str]


def _splits(
    recipes: tuple[Recipe, Recipe],
    data_dir: Path | str | None,
    cache_dir: Path | str | None,
    limit: int | None,
) -> tuple[_Split, _Split, list[Any]]:
    """Train and test splits with both tiers' hop vectors (cached); the test records."""
    train = load_em_dataset(data_dir, splits=("train",))[:limit]
    test = load_em_dataset(data_dir, splits=("test",))[:limit]
    bands = [r.band for r in train + test]
    tables = [extract_hop_features(bands, config=f, cache_dir=cache_dir) for f, _ in recipes]
    n = len(train)
    out = []
    for records, rows in ((train, slice(0, n)), (test, slice(n, None))):
        out.append(
            _Split(
                X=(tables[0].X[rows], tables[1].X[rows]),
                names=(tables[0].names, tables[1].names),
                y=np.array([r.barrier_ev for r in records]),
                hosts=host_groups(records),
                ids=[r.record_id for r in records],
            )
        )
    return out[0], out[1], test


def _cv_tiers(
    tr: _Split, recipes: tuple[Recipe, Recipe], k: int, seed: int
) -> tuple[TierPredictions, TierPredictions]:
    """Out-of-fold predictions of both tiers on the same host-grouped folds."""
    folds = grouped_kfold(tr.hosts, k=k, seed=seed)
    return tuple(  # type: ignore[return-value]
        out_of_fold(
            tr.X[i],
            tr.y,
            tr.names[i],
            tr.hosts,
            recipes[i][1],
            folds,
            calibrate=i == 0,
            k=k,
            seed=seed,
        )
        for i in (0, 1)
    )


def _test_tiers(
    tr: _Split, te: _Split, recipes: tuple[Recipe, Recipe], k: int, seed: int
) -> tuple[tuple[TierPredictions, TierPredictions], tuple[Any, Any]]:
    """Both recipes fit on all training hops (tier 1 calibrated on them), on the test hops."""
    tiers, heads = [], []
    everything = np.arange(len(te.y))
    for i in (0, 1):
        head = fit_head(tr.X[i], tr.y, tr.names[i], recipes[i][1])
        calibration = None
        if i == 0:
            calibration = calibrate_head(
                tr.X[0], tr.y, tr.names[0], tr.hosts, recipes[0][1], k=k, seed=seed
            )
        out = _empty(len(te.y))
        _fill(out, everything, head, te.X[i], calibration)
        tiers.append(out)
        heads.append(head)
    return (tiers[0], tiers[1]), (heads[0], heads[1])


def run_cascade(
    recipes: tuple[Recipe, Recipe] | None = None,
    *,
    data_dir: Path | str | None = None,
    cache_dir: Path | str | None = None,
    k: int = 5,
    seed: int = 0,
    n_boot: int = 2000,
    timing_hops: int = 10,
    limit: int | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """Score every routing rule on host-grouped CV and the test split, and time both tiers.

    Parameters
    ----------
    recipes : (tier-1 recipe, tier-2 recipe), optional
        ``(ChgnetFeatureConfig, ChgnetHeadConfig)`` pairs; default :data:`TIER1`, :data:`TIER2`
        of :data:`~hopscreen.training.chgnet_head.HEAD_RECIPES`.
    data_dir, cache_dir
        Data folder; hop-vector cache root.
    k, seed
        Folds and fold seed of the CV (and of the nested calibration).
    n_boot : int
        Bootstrap resamples of every interval.
    timing_hops : int
        Fresh test bands timed per tier (the first one more, as warm-up; 0: no timing).
    limit : int, optional
        Only the first ``limit`` hops of each split (tests).
    progress : callable
        Called with a short message before each step.

    Returns
    -------
    dict
        ``{"tiers", "n_train", "n_test", "n_hosts", "k", "seconds_per_hop", "coverage",
        "cv", "test", "seconds"}``: ``cv`` and ``test`` hold one row per rule of
        :data:`RULES` (:func:`score_rule`), ``coverage`` the tier-1 out-of-fold coverage.
    """
    t_start = time.perf_counter()
    names = (TIER1, TIER2) if recipes is None else ("tier-1 recipe", "tier-2 recipe")
    recipes = recipes or (HEAD_RECIPES[TIER1], HEAD_RECIPES[TIER2])
    progress("hop vectors of both tiers (cached per user)")
    tr, te, test_records = _splits(recipes, data_dir, cache_dir, limit)
    progress(f"host-grouped {k}-fold CV of both tiers (tier 1 calibrated inside each fold)")
    cv = _cv_tiers(tr, recipes, k, seed)
    progress("both tiers fit on every training hop, scored on the test hops")
    test, heads = _test_tiers(tr, te, recipes, k, seed)
    timing: dict[str, float] = {}
    bands: list[Any] = []
    if timing_hops:
        progress(f"timing both tiers on {timing_hops} fresh test bands, one torch thread")
        bands = [r.band for r in test_records[-(timing_hops + 1) :]]
        timing = time_tiers(bands, recipes, heads)
    return {
        "tiers": {"tier1": names[0], "tier2": names[1]},
        "n_train": len(tr.y),
        "n_test": len(te.y),
        "n_hosts": len(set(tr.hosts)),
        "k": k,
        "seconds_per_hop": timing,
        "n_timed": max(len(bands) - 1, 0),
        "timing_atoms": float(np.mean([len(b) for b in bands[1:]])) if timing else None,
        "coverage": _coverage(tr.y, cv[0]),
        "cv": score_rules(tr.y, cv, tr.hosts, tr.ids, n_boot),
        "test": score_rules(te.y, test, te.hosts, te.ids, n_boot),
        "seconds": time.perf_counter() - t_start,
    }
