"""Which model recipe holds on hosts it has never seen: the ``recipes`` section of BENCHMARKS.md.

Every recipe is a hop vector (:class:`~hopscreen.models.chgnet_backbone.ChgnetFeatureConfig`:
frozen-CHGNet columns, the physics columns of :mod:`hopscreen.features.physics`, or both) and
a head (:class:`~hopscreen.models.head_config.ChgnetHeadConfig`: which column blocks, which
regressor, which target transform), scored three ways on the authors' data by the same code:

* host-grouped 5-fold CV on the 559 training hops (no host on both sides; the figure the
  shipped default is chosen on),
* chemistry-held-out 5-fold CV (whole chemical systems out,
  :func:`hopscreen.data.splits.chemsys_groups`),
* the authors' 60-hop test split (fit on all 559, for comparison with the paper only).

Each CV figure carries a bootstrap CI; the spread ratio std(predicted)/std(DFT) says whether
a recipe squeezes barriers toward the mean; the ≥ 1 eV and > 4.5 Å slices are where
screening decisions flip. The ablation rows drop one physical block at a time from the best
physics recipe, so the table says which physics carries the gain. CPU cost per hop is timed
here, on fresh (uncached) bands: the hop vector plus the trees.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hopscreen.data.em_dataset import load_em_dataset
from hopscreen.data.splits import chemsys_groups, host_groups
from hopscreen.evaluation.metrics import evaluate_predictions, paired_bootstrap_difference
from hopscreen.evaluation.slices import SLICE_HIGH, SLICE_LONG, hop_lengths, slice_masks
from hopscreen.models.chgnet_backbone import ChgnetFeatureConfig, load_chgnet
from hopscreen.models.head_config import ChgnetHeadConfig
from hopscreen.models.hop_features import extract_hop_features, hop_features
from hopscreen.training.chgnet_head import (
    GBR_RECIPE,
    HEAD_RECIPES,
    cross_validate_head,
    fit_head,
)

SECTION = "recipes"

CHGNET_AND_PHYSICS = ChgnetFeatureConfig(physics=True)
PHYSICS_ONLY = ChgnetFeatureConfig(chgnet=False, physics=True)

#: Physical blocks of the physics vector, by column-name prefix (for recipes and ablation).
PHYSICS_BLOCKS: dict[str, tuple[str, ...]] = {
    "bvse": ("bvse_",),
    "electrostatics": ("phys_es_",),
    "geometry": ("phys_hop_length", "phys_dmin", "phys_dmean3", "phys_bottleneck", "phys_cn_"),
    "ion": ("phys_ion_charge", "phys_ion_radius", "phys_ion_electronegativity", "phys_ion_mass"),
    "composition": (
        "phys_host_",
        "phys_frac_",
        "phys_tm_",
        "phys_ion_content",
        "phys_volume",
        "phys_density",
        "phys_oxi_",
    ),
}
_MONOTONE_UP = ("bvse_barrier_ev", "bvse_barrier_fwd_ev", "bvse_line_barrier_ev")
_ALL_PHYSICS = tuple(p for block in PHYSICS_BLOCKS.values() for p in block)


@dataclass(frozen=True)
class Recipe:
    """One row of the table: a hop vector, a head and what the row is for."""

    name: str
    features: ChgnetFeatureConfig
    head: ChgnetHeadConfig
    note: str
    ablation: bool = False
    ablation_of: str | None = None


def _gbr(blocks: Sequence[str], **changes: Any) -> ChgnetHeadConfig:
    return GBR_RECIPE.model_copy(update={"blocks": tuple(blocks), **changes})


def _without(block: str) -> tuple[str, ...]:
    return tuple(p for name, b in PHYSICS_BLOCKS.items() if name != block for p in b)


_NAMED_NOTES = {
    "chgnet-gbr": "frozen CHGNet ion/energy/magmom columns (5-seed gbr on log(1 + E_m))",
    "physics-bvse-gbr": "descriptors + BVSE profile, no CHGNet (5-seed gbr on log(1 + E_m))",
    "physics-bvse-chgnet-gbr": "physics + every CHGNet column of chgnet-gbr",
}


def default_recipes() -> list[Recipe]:
    """The recipes compared in BENCHMARKS.md, then the ablation of the physics recipe."""
    phys = _ALL_PHYSICS
    named = {name: Recipe(name, *HEAD_RECIPES[name], note) for name, note in _NAMED_NOTES.items()}
    recipes = [
        named["chgnet-gbr"],
        Recipe(
            "physics-gbr",
            PHYSICS_ONLY,
            _gbr(_without("bvse")),
            "descriptors (electrostatics, geometry, ion, composition), no BVSE",
        ),
        named["physics-bvse-gbr"],
        Recipe(
            "physics-bvse-gbr-raw",
            PHYSICS_ONLY,
            _gbr(phys, target_transform="none"),
            "as physics-bvse-gbr, trees on E_m itself instead of log(1 + E_m)",
        ),
        Recipe(
            "physics-bvse-resid-gbr",
            PHYSICS_ONLY,
            _gbr(phys, baseline="bvse_ion"),
            "trees on the residual of a per-ion-charge line asinh(BVSE barrier) → "
            "log(1 + E_m) (hopscreen.training.baseline)",
        ),
        Recipe(
            "physics-bvse-hgb-monotone",
            PHYSICS_ONLY,
            ChgnetHeadConfig(
                kind="hgb",
                blocks=phys,
                target_transform="log1p",
                n_estimators=400,
                max_depth=4,
                min_samples_leaf=8,
                max_features=0.5,
                monotone=dict.fromkeys(_MONOTONE_UP, 1),
            ),
            "5-seed histogram boosting, E_m forced to rise with the BVSE barriers",
        ),
        Recipe(
            "physics-bvse-mlp",
            PHYSICS_ONLY,
            ChgnetHeadConfig(kind="mlp", blocks=phys, target_transform="log1p"),
            "5-seed MLP (128-64, L1 loss) on the standardised physics columns",
        ),
        Recipe(
            "physics-bvse-chgnet-e-gbr",
            CHGNET_AND_PHYSICS,
            _gbr((*phys, "e_", "mag_")),
            "physics + the CHGNet energy and magmom columns",
        ),
        named["physics-bvse-chgnet-gbr"],
    ]
    for block in PHYSICS_BLOCKS:
        recipes.append(
            Recipe(
                f"physics-bvse-gbr − {block}",
                PHYSICS_ONLY,
                _gbr(_without(block)),
                f"ablation: the physics-bvse-gbr columns without {block}",
                ablation=True,
                ablation_of="physics-bvse-gbr",
            )
        )
    return recipes


def _score(y: np.ndarray, p: np.ndarray, lengths: np.ndarray, n_boot: int) -> dict[str, Any]:
    """MAE, R², spread ratio (bootstrap CIs) and the two slices' MAE."""
    reg = evaluate_predictions(y, p, n_boot=n_boot)["regression"]
    out: dict[str, Any] = {k: reg[k] for k in ("mae_ev", "r2", "spread_ratio")}
    masks = slice_masks(y, lengths)
    for key, mask in (("mae_high_ev", masks[SLICE_HIGH]), ("mae_long_ev", masks[SLICE_LONG])):
        out[key] = evaluate_predictions(y[mask], p[mask], n_boot=n_boot)["regression"]["mae_ev"]
        out[key.replace("mae_", "n_").replace("_ev", "")] = int(mask.sum())
    return out


def _time_features(
    bands: Sequence[Any], config: ChgnetFeatureConfig, model: Any
) -> dict[str, float]:
    """CPU seconds per hop of the CHGNet and the physics parts of the vector, uncached."""
    out = {}
    for part in ("chgnet", "physics"):
        if not getattr(config, part):
            continue
        cfg = config.model_copy(update={"chgnet": part == "chgnet", "physics": part == "physics"})
        t0 = time.perf_counter()
        for band in bands:
            hop_features(band, model=model if part == "chgnet" else None, config=cfg)
        out[part] = (time.perf_counter() - t0) / len(bands)
    return out


def _parts_used(recipe: Recipe) -> list[str]:
    """Which parts of the hop vector the recipe's head reads: "chgnet", "physics" or both."""
    if recipe.head.blocks is None:
        return [p for p in ("chgnet", "physics") if getattr(recipe.features, p)]
    physical = [b.startswith(("phys_", "bvse_")) for b in recipe.head.blocks]
    return [p for p, used in (("chgnet", not all(physical)), ("physics", any(physical))) if used]


@dataclass(frozen=True)
class _Data:
    """The hop vectors of train then test, their labels, hop lengths and CV groups."""

    table: Any
    y_tr: np.ndarray
    y_te: np.ndarray
    len_tr: np.ndarray
    len_te: np.ndarray
    groups: dict[str, list[str]]


def _score_recipe(
    recipe: Recipe, d: _Data, parts: dict[str, float], k: int, seed: int, n_boot: int
) -> dict[str, Any]:
    """One row of the table: both CVs, the test split and the CPU cost per hop."""
    n_tr = len(d.y_tr)
    X_tr, X_te, names = d.table.X[:n_tr], d.table.X[n_tr:], d.table.names
    oof = {
        kind: cross_validate_head(X_tr, d.y_tr, names, groups, recipe.head, k=k, seed=seed)[0]
        for kind, groups in d.groups.items()
    }
    head = fit_head(X_tr, d.y_tr, names, recipe.head)
    t0 = time.perf_counter()
    pred_te, _ = head.predict(X_te)
    head_s = (time.perf_counter() - t0) / max(len(X_te), 1)
    used = sum(parts.get(part, float("nan")) for part in _parts_used(recipe))
    return {
        "name": recipe.name,
        "note": recipe.note,
        "ablation": recipe.ablation,
        "ablation_of": recipe.ablation_of,
        "blocks": list(recipe.head.blocks or ()),
        "head": recipe.head.model_dump(),
        "seconds_per_hop": used + head_s if parts else None,
        "host_cv": _score(d.y_tr, oof["host"], d.len_tr, n_boot),
        "chemsys_cv": _score(d.y_tr, oof["chem"], d.len_tr, n_boot),
        "test": _score(d.y_te, pred_te, d.len_te, n_boot),
        "predictions": {
            "host_cv": oof["host"].tolist(),
            "chemsys_cv": oof["chem"].tolist(),
            "test": pred_te.tolist(),
        },
    }


def _add_paired_differences(
    rows: list[dict[str, Any]], labels: dict[str, np.ndarray], n_boot: int
) -> None:
    """Paired-bootstrap MAE differences to the first row and, for ablations, to the full recipe.

    ``vs_first`` compares with the first row (the current default); an ablation row also gets
    ``vs_full``, the difference to the recipe it ablates.
    """
    by_name = {row["name"]: row for row in rows}
    for row in rows:
        for key, base in (("vs_first", rows[0]), ("vs_full", by_name.get(row["ablation_of"]))):
            if base is None:
                continue
            row[key] = {
                split: paired_bootstrap_difference(
                    y, row["predictions"][split], base["predictions"][split], n_boot=n_boot
                )["difference"]
                for split, y in labels.items()
            }


def _hop_vectors(
    recipes: Sequence[Recipe],
    records: Sequence[Any],
    cache_dir: Path | str | None,
    timing_hops: int,
    progress: Callable[[str], None],
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """Hop vectors of every record per distinct feature config, and the timing of each part.

    Timing uses the last ``timing_hops`` records (test hops), computed afresh.
    """
    tables: dict[str, Any] = {}
    timing: dict[str, dict[str, float]] = {}
    bands = [r.band for r in records]
    for cfg in {r.features.model_dump_json(): r.features for r in recipes}.values():
        progress(f"hop vectors of {len(records)} bands ({cfg.model_dump()})")
        # one CHGNet for the cached extraction and the timing (None: loaded only if needed)
        model = load_chgnet(cfg.model_name) if cfg.chgnet and timing_hops else None
        tables[cfg.model_dump_json()] = extract_hop_features(
            bands, config=cfg, cache_dir=cache_dir, model=model
        )
        if timing_hops:
            timing[cfg.model_dump_json()] = _time_features(bands[-timing_hops:], cfg, model)
    return tables, timing


def run_recipes(
    recipes: Sequence[Recipe] | None = None,
    *,
    data_dir: Path | str | None = None,
    cache_dir: Path | str | None = None,
    k: int = 5,
    seed: int = 0,
    n_boot: int = 1000,
    timing_hops: int = 10,
    limit: int | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """Score every recipe by host-grouped CV, chemistry-held-out CV and on the test split.

    Parameters
    ----------
    recipes : sequence of Recipe, optional
        Default: :func:`default_recipes`.
    data_dir : path or str, optional
        Data folder of the Em dataset.
    cache_dir : path or str, optional
        Hop-vector cache root (see :func:`~hopscreen.models.hop_features.extract_hop_features`).
    k, seed
        Folds and fold seed of both CVs.
    n_boot : int
        Bootstrap resamples of every CI.
    timing_hops : int
        Test bands whose hop vectors are computed afresh to time each part (0: no timing).
    limit : int, optional
        Only the first ``limit`` hops of each split (quick checks and tests).
    progress : callable
        Called with a short message before each step.

    Returns
    -------
    dict
        ``{"n_train", "n_test", "k", "n_hosts", "n_chemsys", "feature_seconds_per_hop",
        "recipes": [{"name", "note", "ablation", "blocks", "head", "seconds_per_hop",
        "host_cv", "chemsys_cv", "test", "predictions", "vs_first"}], "seconds"}``;
        ``vs_first`` is the paired-bootstrap MAE difference to the first recipe per split
        (negative: more accurate), ``predictions`` the out-of-fold and test predictions.
    """
    t_start = time.perf_counter()
    recipes = list(recipes or default_recipes())
    progress("loading the 559 training and 60 test hops")
    train = load_em_dataset(data_dir, splits=("train",))[:limit]
    test = load_em_dataset(data_dir, splits=("test",))[:limit]
    host, chem = host_groups(train), chemsys_groups(train)
    y_tr = np.array([r.barrier_ev for r in train])
    y_te = np.array([r.barrier_ev for r in test])
    len_tr, len_te = hop_lengths(train), hop_lengths(test)
    tables, timing = _hop_vectors(recipes, train + test, cache_dir, timing_hops, progress)
    rows = []
    for recipe in recipes:
        progress(f"{recipe.name}: host CV, chemistry CV, test split")
        key = recipe.features.model_dump_json()
        data = _Data(tables[key], y_tr, y_te, len_tr, len_te, {"host": host, "chem": chem})
        rows.append(_score_recipe(recipe, data, timing.get(key, {}), k, seed, n_boot))
    _add_paired_differences(rows, {"host_cv": y_tr, "chemsys_cv": y_tr, "test": y_te}, n_boot)
    return {
        "n_train": len(train),
        "n_test": len(test),
        "k": k,
        "n_hosts": len(set(host)),
        "n_chemsys": len(set(chem)),
        "feature_seconds_per_hop": timing,
        "recipes": rows,
        "seconds": time.perf_counter() - t_start,
    }


def format_ci(m: dict[str, Any] | None, digits: int = 3) -> str:
    """``value (low–high)`` of a metric with its CI (– when missing)."""
    if m is None or m.get("value") is None:
        return "–"
    return f"{m['value']:.{digits}f} ({m['ci_low']:.{digits}f}–{m['ci_high']:.{digits}f})"


def format_delta(d: dict[str, Any] | None) -> str:
    """``+value (+low…+high)`` of a paired difference with its CI (– when missing)."""
    if d is None or d.get("value") is None:
        return "–"
    return f"{d['value']:+.3f} ({d['ci_low']:+.3f}…{d['ci_high']:+.3f})"


def _ms(seconds: float | None) -> str:
    return "–" if seconds is None or not np.isfinite(seconds) else f"{seconds * 1000:.0f}"


def render_recipes(results: dict[str, Any], machine: str, note: str | None = None) -> str:
    """Markdown of the ``recipes`` section for :func:`run_recipes` output.

    ``note`` (conditions of the run) is printed under the header when given.
    """
    out = [
        "## Model recipes on hosts never seen in training",
        "",
        f"{machine} Measured by `hopscreen bench --only-recipes` in "
        f"{results['seconds'] / 60:.1f} min. {results['n_train']} training hops: host-grouped "
        f"{results['k']}-fold CV ({results['n_hosts']} host groups) and chemistry-held-out "
        f"{results['k']}-fold CV ({results['n_chemsys']} chemical-system groups, whole systems "
        f"out); test = fit on all {results['n_train']}, scored on the authors' "
        f"{results['n_test']} test hops (for comparison with the paper only; recipes are "
        "chosen on host-grouped CV). Bootstrap 95 % CIs; Δ vs first: paired-bootstrap "
        "difference of host-CV MAE to the first row (negative: better; an interval that "
        "excludes 0 is significant); spread = std(predicted) / std(DFT). "
        "ms/hop: CPU time of the hop vector on fresh bands plus the trees, one process.",
        *(["", f"Conditions: {note}"] if note else []),
        "",
        "| recipe | host CV MAE eV | Δ vs first | host CV R² | spread | MAE E_m ≥ 1 eV "
        "| MAE hop > 4.5 Å | chemistry CV MAE eV | chemistry CV R² | test MAE eV | test R² "
        "| ms/hop |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["recipes"]:
        h, c, t = row["host_cv"], row["chemsys_cv"], row["test"]
        delta = row.get("vs_first", {}).get("host_cv")
        cells = [
            f"`{row['name']}`",
            format_ci(h["mae_ev"]),
            format_delta(delta),
            format_ci(h["r2"], 2),
            format_ci(h["spread_ratio"], 2),
            format_ci(h["mae_high_ev"]),
            format_ci(h["mae_long_ev"]),
            format_ci(c["mae_ev"]),
            format_ci(c["r2"], 2),
            format_ci(t["mae_ev"]),
            format_ci(t["r2"], 2),
            _ms(row["seconds_per_hop"]),
        ]
        out.append("| " + " | ".join(cells) + " |")
    ablations = [r for r in results["recipes"] if r.get("vs_full")]
    if ablations:
        out += [
            "",
            "Ablation: host-CV MAE of the physics recipe without one block, minus that of the "
            "whole recipe (paired bootstrap; positive: the block helps):",
            "",
        ]
        out += [
            f"- `{r['name']}`: {format_delta(r['vs_full']['host_cv'])} eV (chemistry CV "
            f"{format_delta(r['vs_full']['chemsys_cv'])})."
            for r in ablations
        ]
    first = results["recipes"][0]["host_cv"]
    out += [
        "",
        f"Slices of the host CV: {first['n_high']} hops with DFT E_m ≥ 1 eV, "
        f"{first['n_long']} hops longer than 4.5 Å.",
        "",
        "What each recipe is:",
        "",
    ]
    out += [f"- `{r['name']}`: {r['note']}." for r in results["recipes"]]
    return "\n".join(out) + "\n"
