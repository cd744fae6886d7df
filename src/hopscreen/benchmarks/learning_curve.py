"""How host-grouped accuracy grows with the number of labelled hops: ``learning-curve``.

The folds are the host-grouped 5-fold CV of the recipes section. For each training fraction
``f``, every fold's training side keeps a random ``f`` of its *hosts* (all hops of a kept host,
none of a dropped one), the recipe is fitted on those hops and predicts the fold's held-out
hosts; the held-out hops are the same at every fraction, so the points differ only in how much
the model learnt from. Each fraction below 1 is repeated with other host draws and its figures
are the mean over the repeats.

A power law ``MAE(n) = b · n^(−c)`` is fitted by least squares on log MAE against log n (mean
training hops per fold) and solved for the number of training hops that would reach a target
MAE, once through every point and once through the upper half of the curve
(:data:`UPPER_FRACTION` up), which says more about what further labels bring. The law has no
floor, so it is the optimistic reading: label noise and hops that no training host resembles
would bend the curve flat sooner. Its CI resamples the held-out hops
(the same resample for every point), refits the law and solves again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hopscreen.benchmarks.recipes import Recipe, default_recipes, format_ci
from hopscreen.data.em_dataset import load_em_dataset
from hopscreen.data.splits import grouped_kfold, host_groups
from hopscreen.evaluation.metrics import bootstrap_indices, regression_metrics
from hopscreen.models.head_config import ChgnetHeadConfig
from hopscreen.models.hop_features import extract_hop_features
from hopscreen.models.shipped import DEFAULT_MODEL
from hopscreen.training.chgnet_head import fit_head

SECTION = "learning-curve"

DEFAULT_FRACTIONS = (0.2, 0.35, 0.5, 0.65, 0.8, 1.0)
"""Fractions of each fold's training hosts."""

TARGET_MAE_EV = 0.25
"""Host-grouped CV MAE the extrapolation is solved for (issue #12's target)."""


UPPER_FRACTION = 0.5
"""The second law is fitted on the points from this training fraction up."""


def keep_hosts(
    train_idx: np.ndarray, groups: np.ndarray, fraction: float, rng: np.random.Generator
) -> np.ndarray:
    """The rows of ``train_idx`` whose host is in a random ``fraction`` of its hosts.

    At least two hosts are kept; ``fraction`` 1 keeps every row.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    hosts = np.unique(groups[train_idx])
    if fraction == 1:
        return np.asarray(train_idx)
    n_keep = min(len(hosts), max(2, round(fraction * len(hosts))))
    kept = rng.choice(hosts, size=n_keep, replace=False)
    return np.asarray(train_idx)[np.isin(groups[train_idx], kept)]


def curve_predictions(
    X: np.ndarray,
    y: np.ndarray,
    names: Sequence[str],
    groups: Sequence[str],
    head: ChgnetHeadConfig,
    *,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    repeats: int = 3,
    k: int = 5,
    seed: int = 0,
    progress: Callable[[str], None] = lambda _msg: None,
) -> list[dict[str, Any]]:
    """Out-of-fold predictions of host-grouped CV at every training fraction and repeat.

    ``fractions`` must lie in (0, 1] and include 1 (the full curve's reference point).

    Returns
    -------
    list of dict
        One per (fraction, repeat): ``{"fraction", "repeat", "n_train_mean",
        "predictions"}``; fraction 1 has a single repeat.
    """
    if not fractions or any(not 0 < f <= 1 for f in fractions) or 1 not in fractions:
        raise ValueError(f"fractions must lie in (0, 1] and include 1, got {list(fractions)}")
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    keys = np.asarray([str(g) for g in groups])
    folds = grouped_kfold(list(keys), k=k, seed=seed)
    runs = []
    for fraction in fractions:
        for repeat in range(1 if fraction == 1 else repeats):
            progress(f"fraction {fraction:g} of the training hosts, repeat {repeat + 1}")
            rng = np.random.default_rng([seed, repeat, round(fraction * 1000)])
            pred = np.full(len(y), np.nan)
            sizes = []
            for train_idx, val_idx in folds:
                rows = keep_hosts(train_idx, keys, fraction, rng)
                sizes.append(len(rows))
                pred[val_idx] = fit_head(X[rows], y[rows], names, head).predict(X[val_idx])[0]
            runs.append(
                {
                    "fraction": float(fraction),
                    "repeat": repeat,
                    "n_train_mean": float(np.mean(sizes)),
                    "predictions": pred,
                }
            )
    return runs


def fit_power_law(n: np.ndarray, mae: np.ndarray) -> tuple[float, float]:
    """``(b, c)`` of ``mae = b · n^(−c)``, least squares in log–log."""
    slope, intercept = np.polyfit(np.log(n), np.log(mae), 1)
    return float(np.exp(intercept)), float(-slope)


def hops_for(b: float, c: float, target_mae_ev: float) -> float:
    """Training hops at which the power law reaches ``target_mae_ev`` (inf if it never does)."""
    if c <= 0:
        return float("inf")
    return float((b / target_mae_ev) ** (1.0 / c))


def _by_fraction(runs: Sequence[dict[str, Any]]) -> dict[float, list[dict[str, Any]]]:
    """The runs grouped by training fraction, lowest fraction first."""
    groups: dict[float, list[dict[str, Any]]] = {}
    for run in sorted(runs, key=lambda r: r["fraction"]):
        groups.setdefault(run["fraction"], []).append(run)
    return groups


def _points(
    runs: Sequence[dict[str, Any]], y: np.ndarray, idx: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Mean training hops and mean MAE per fraction (over repeats), on the rows ``idx``."""
    rows = np.arange(len(y)) if idx is None else idx
    n, mae = [], []
    for group in _by_fraction(runs).values():
        n.append(np.mean([r["n_train_mean"] for r in group]))
        mae.append(np.mean([np.abs(r["predictions"][rows] - y[rows]).mean() for r in group]))
    return np.array(n), np.array(mae)


def extrapolate(
    runs: Sequence[dict[str, Any]],
    y: np.ndarray,
    target_mae_ev: float = TARGET_MAE_EV,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    min_fraction: float = 0.0,
) -> dict[str, Any]:
    """The power law through the curve and the training hops it needs for ``target_mae_ev``.

    Parameters
    ----------
    runs, y
        :func:`curve_predictions` output and the labels.
    target_mae_ev : float
        MAE to solve for.
    n_boot, seed
        Resamples of the held-out hops for the CIs, and their seed.
    min_fraction : float
        Fit only the points of at least this training fraction (the upper end of the curve
        says more about what more labels would bring than the steep start does).

    Returns
    -------
    dict
        ``{"b", "c", "target_mae_ev", "min_fraction", "n_points", "hops_needed",
        "hops_needed_ci", "c_ci"}``; the CIs are 95 % percentiles over ``n_boot`` resamples
        of the held-out hops.
    """
    runs = [r for r in runs if r["fraction"] >= min_fraction]
    n, mae = _points(runs, y)
    if len(n) < 2:
        raise ValueError(f"{len(n)} training fraction(s) from {min_fraction}: need two to fit")
    b, c = fit_power_law(n, mae)
    needed, exponents = [], []
    for idx in bootstrap_indices(len(y), n_boot, seed):
        bb, cc = fit_power_law(*_points(runs, y, idx))
        needed.append(hops_for(bb, cc, target_mae_ev))
        exponents.append(cc)
    return {
        "b": b,
        "c": c,
        "target_mae_ev": target_mae_ev,
        "min_fraction": min_fraction,
        "n_points": len(n),
        "hops_needed": hops_for(b, c, target_mae_ev),
        # nearest rank: a resample whose law never reaches the target gives inf, not nan
        "hops_needed_ci": [float(q) for q in np.percentile(needed, [2.5, 97.5], method="nearest")],
        "c_ci": [float(q) for q in np.percentile(exponents, [2.5, 97.5])],
    }


def summarise(
    runs: Sequence[dict[str, Any]], y: np.ndarray, *, n_boot: int = 1000
) -> list[dict[str, Any]]:
    """One row per fraction: training hops, MAE, R² and spread, each the mean over repeats.

    The fraction-1 row (a single repeat) also keeps its metrics with bootstrap CIs (``full``).
    """
    rows = []
    for fraction, group in _by_fraction(runs).items():
        metrics = [regression_metrics(y, r["predictions"], n_boot=n_boot) for r in group]
        rows.append(
            {
                "fraction": fraction,
                "repeats": len(group),
                "n_train_mean": float(np.mean([r["n_train_mean"] for r in group])),
                **{
                    key: float(np.mean([m[key]["value"] for m in metrics]))
                    for key in ("mae_ev", "r2", "spread_ratio")
                },
                "mae_per_repeat_ev": [m["mae_ev"]["value"] for m in metrics],
                "full": metrics[0] if fraction == 1 else None,
            }
        )
    return rows


def _named_recipe(name: str) -> Recipe:
    recipes = {r.name: r for r in default_recipes()}
    if name not in recipes:
        raise ValueError(f"unknown recipe {name!r}; known: {', '.join(recipes)}")
    return recipes[name]


def run_learning_curve(
    recipe: str | Recipe = DEFAULT_MODEL,
    *,
    data_dir: Any = None,
    cache_dir: Any = None,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    repeats: int = 3,
    k: int = 5,
    seed: int = 0,
    n_boot: int = 1000,
    target_mae_ev: float = TARGET_MAE_EV,
    limit: int | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """The learning curve of one recipe of the recipes section on the 559 training hops.

    Parameters
    ----------
    recipe : str or Recipe
        A recipe, or the name of one of :func:`hopscreen.benchmarks.recipes.default_recipes`
        (default: the shipped default's).
    data_dir, cache_dir
        Data folder of the E_m dataset; hop-vector cache root.
    fractions, repeats, k, seed
        Training-host fractions, host draws per fraction below 1, folds and fold seed.
    n_boot : int
        Bootstrap resamples of the CIs.
    target_mae_ev : float
        MAE the power law is solved for.
    limit : int, optional
        Only the first ``limit`` training hops (quick checks and tests).
    progress : callable
        Called with a short message before each step.

    Returns
    -------
    dict
        ``{"recipe", "n_train", "n_hosts", "k", "rows", "law", "law_upper", "seconds"}``:
        ``rows`` from :func:`summarise`; ``law`` from :func:`extrapolate` through every point,
        ``law_upper`` through the points from :data:`UPPER_FRACTION` up.
    """
    t_start = time.perf_counter()
    chosen = recipe if isinstance(recipe, Recipe) else _named_recipe(recipe)
    progress("loading the training hops and their hop vectors")
    train = load_em_dataset(data_dir, splits=("train",))[:limit]
    bands = [r.band for r in train]
    table = extract_hop_features(bands, config=chosen.features, cache_dir=cache_dir)
    y = np.array([r.barrier_ev for r in train])
    groups = host_groups(train)
    runs = curve_predictions(
        table.X,
        y,
        table.names,
        groups,
        chosen.head,
        fractions=fractions,
        repeats=repeats,
        k=k,
        seed=seed,
        progress=progress,
    )
    return {
        "recipe": chosen.name,
        "n_train": len(train),
        "n_hosts": len(set(groups)),
        "k": k,
        "rows": summarise(runs, y, n_boot=n_boot),
        "law": extrapolate(runs, y, target_mae_ev, n_boot=n_boot, seed=seed),
        "law_upper": extrapolate(
            runs, y, target_mae_ev, n_boot=n_boot, seed=seed, min_fraction=UPPER_FRACTION
        ),
        "seconds": time.perf_counter() - t_start,
    }


def _hops(n: float) -> str:
    return "never" if not np.isfinite(n) else f"{n:,.0f}"


def _law_line(law: dict[str, Any], n_full: float) -> str:
    """One bullet: the fitted law, its exponent CI and the hops it needs for the target."""
    lo, hi = law["hops_needed_ci"]
    which = (
        f"the {law['n_points']} points from {law['min_fraction']:.0%} of the hosts up"
        if law["min_fraction"] > 0
        else f"all {law['n_points']} points"
    )
    ratio = law["hops_needed"] / n_full
    return (
        f"- Through {which}: MAE ≈ {law['b']:.3f} · n^(−{law['c']:.3f}) (exponent 95 % CI "
        f"{law['c_ci'][0]:.3f}–{law['c_ci'][1]:.3f}). {law['target_mae_ev']:.2f} eV at about "
        f"{_hops(law['hops_needed'])} training hops per fold (CI {_hops(lo)}–{_hops(hi)}), "
        f"{'–' if not np.isfinite(ratio) else f'{ratio:,.1f}'}× the {n_full:.0f} each fold "
        "learns from now."
    )


def render_learning_curve(run: dict[str, Any], machine: str, note: str | None = None) -> str:
    """Markdown of the ``learning-curve`` section."""
    full = next(r for r in run["rows"] if r["fraction"] == 1)
    n_full = full["n_train_mean"]
    table = [
        "| training hosts kept | training hops per fold | host-CV MAE eV | R² | spread "
        "| MAE of each host draw, eV |",
        "|---|---|---|---|---|---|",
    ]
    for row in run["rows"]:
        mae = format_ci(row["full"]["mae_ev"]) if row["full"] else f"{row['mae_ev']:.3f}"
        draws = ", ".join(f"{m:.3f}" for m in row["mae_per_repeat_ev"])
        table.append(
            f"| {row['fraction']:.0%} | {row['n_train_mean']:.0f} | {mae} | {row['r2']:.2f} "
            f"| {row['spread_ratio']:.2f} | {draws} |"
        )
    lines = [
        "## How host-grouped accuracy grows with labels",
        "",
        f"{machine} Measured by `hopscreen bench --only-learning-curve` in "
        f"{run['seconds'] / 60:.1f} min (`hopscreen.benchmarks.learning_curve`). Recipe "
        f"`{run['recipe']}` on the authors' {run['n_train']} training hops, host-grouped "
        f"{run['k']}-fold CV ({run['n_hosts']} hosts, the folds of the recipes section). "
        "Each fold's training side keeps a random fraction of its hosts (whole hosts); the "
        "held-out hops are the same at every fraction. Fractions below 100 % are the mean of "
        "several host draws; the 100 % row carries bootstrap 95 % CIs.",
        *(["", f"Conditions: {note}"] if note else []),
        "",
        *table,
        "",
        "Power laws MAE = b · n^(−c) in the training hops per fold n, least squares in log–log; "
        "CIs resample the held-out hops:",
        "",
        _law_line(run["law"], n_full),
        *([_law_line(run["law_upper"], n_full)] if run.get("law_upper") else []),
        "",
        "Neither law has a floor, so both are the optimistic reading: label noise and hosts "
        "unlike any training host flatten a real curve sooner. The hops would have to come "
        "from hosts as varied as these.",
    ]
    return "\n".join(lines) + "\n"
