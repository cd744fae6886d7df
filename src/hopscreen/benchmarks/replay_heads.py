"""Offline active-learning replay with the shipped default recipe, refitted from scratch each round.

The same game as :mod:`hopscreen.benchmarks.replay` (pool = the authors' training hops, labels
hidden until "verified", one verification per revealed label), but the model is the shipped
default recipe (:data:`hopscreen.models.shipped.DEFAULT_MODEL`, a tree-ensemble head on a hop
vector, :data:`hopscreen.training.chgnet_head.HEAD_RECIPES`) instead of a small ALIGNN ensemble.
Every round, per seed and policy, the recipe is fitted anew on the labelled hops only
(:func:`~hopscreen.training.chgnet_head.fit_head`; trees are not warm-started) and calibrated
on the same labelled hops (:func:`refit_head`): normalised split conformal on the out-of-fold
residuals of host-grouped k-fold CV (:func:`~hopscreen.training.chgnet_head.cross_validate_head`),
``k = min(calibration_folds, hosts among the labelled hops)``, none below two hosts; with
``host_offsets`` the same residuals give each host's shrunken offset
(:mod:`hopscreen.training.host_offsets`), which moves the predictions of its unlabelled hops.
The unlabelled pool then gets :class:`~hopscreen.schemas.prediction.PredictionDoc` s with
``barrier_ev``, ``sigma_ev`` (spread of the head's members), ``interval_68_ev`` and
``interval_90_ev``, and the policy (:data:`hopscreen.selection.policies.POLICIES`) picks the
next batch.

The seed set (``n_seed`` random hops, the same draw as the ALIGNN replay for the same seed) and
the model fitted on it are shared by every policy of a seed. ``random`` needs no model: no
head is fitted for it and its ``test_mae_ev`` is None. A policy's rounds stop once it has found
``target_fraction`` of the pool's good hops (with ``stop_at_target``; later rounds cannot
change ``verifications_to_target``), when the pool is exhausted or after ``max_rounds``; the
round that reaches the target is not refitted. Within a round verifications are counted in the
policy's priority order (resolution: one verification).

Recorded per seed and policy as the ALIGNN replay (``rounds``, ``cumulative_good``,
``verifications_to_target``; :func:`~hopscreen.benchmarks.replay_report.summarise_replay`
works on the result) plus ``verified_ids`` (pool ids in verification order) and per-round refit
seconds. Two references: the oracle that verifies good hops first needs
``ceil(target · n_good)`` verifications (:func:`oracle_verifications`; from a random seed set,
``n_seed + need − good hops in it``, as in the summary), and uniform random choice needs
``need · (n + 1) / (n_good + 1)`` on average (:func:`random_expected_verifications`).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from hopscreen.benchmarks.replay import verifications_to_reach
from hopscreen.benchmarks.replay_report import summarise_replay
from hopscreen.data.em_dataset import load_em_dataset
from hopscreen.data.splits import host_groups
from hopscreen.models.calibration import (
    INTERVAL_LEVELS,
    ConformalCalibration,
    fit_conformal_calibration,
)
from hopscreen.models.head_config import ChgnetHeadConfig
from hopscreen.models.hop_features import default_feature_cache, extract_hop_features
from hopscreen.models.shipped import DEFAULT_MODEL
from hopscreen.schemas.base import Config
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.selection.policies import POLICIES, SelectionConfig
from hopscreen.training.chgnet_head import HEAD_RECIPES, ChgnetHead, cross_validate_head, fit_head
from hopscreen.training.host_offsets import apply_offsets, host_offsets, log_residuals

PROGRESS = Callable[[str], None]


class ShippedReplayConfig(Config):
    """Settings of a replay with the shipped default recipe (module docstring)."""

    policies: list[str] = Field(
        default_factory=lambda: [
            "random",
            "greedy_lowest",
            "probability_good",
            "borderline_sigma",
            "mixed",
        ],
        description="Policy names of hopscreen.selection.policies.POLICIES.",
    )
    seeds: int = Field(3, ge=1, description="Independent repetitions (seed sets, head seeds).")
    max_rounds: int = Field(
        50,
        ge=1,
        description="Cap on selection rounds after the seed set (a run stops earlier "
        "at the target or when the pool is exhausted).",
    )
    batch: int = Field(48, ge=1, description="Verifications per round.")
    n_seed: int = Field(24, ge=1, description="Random labelled hops to start from.")
    threshold_ev: float = Field(0.65, description="Good conductor: E_m below this, eV.")
    target_fraction: float = Field(0.9, gt=0, le=1, description="Share of good ones to find.")
    stop_at_target: bool = Field(
        True, description="End a policy's rounds once it has found the target fraction."
    )
    selection: SelectionConfig = Field(
        default_factory=lambda: SelectionConfig(promising_margin_ev=0.2, max_per_candidate=2),
        description="Rules of the borderline-σ and mixed policies (as the ALIGNN replay).",
    )
    recipe: str = Field(DEFAULT_MODEL, description="Name in HEAD_RECIPES (hop vector + head).")
    head: ChgnetHeadConfig | None = Field(
        None, description="Head replacing the recipe's (None: the recipe's head; tests)."
    )
    calibration_folds: int = Field(
        3,
        ge=2,
        description="Host-grouped folds of the per-round calibration CV (fewer when "
        "the labelled hops have fewer hosts).",
    )
    host_offsets: bool = Field(
        False,
        description="Move each unlabelled hop's prediction by its host's shrunken offset, "
        "estimated from the calibration CV's held-out residuals of the host's labelled hops "
        "(hopscreen.training.host_offsets).",
    )
    calibration_members: int | None = Field(
        None,
        ge=2,
        description="Members of the heads inside the calibration CV (None: as the "
        "head); fewer is cheaper.",
    )


# --- References and pure helpers ---
def oracle_verifications(n_good: int, target_fraction: float) -> int:
    """Verifications an oracle that verifies good hops first needs: ``ceil(target · n_good)``."""
    return math.ceil(target_fraction * n_good - 1e-9)


def random_expected_verifications(n: int, n_good: int, target_fraction: float) -> float:
    """Mean verifications of uniform random order to find ``ceil(target · n_good)`` good hops.

    The j-th of ``n_good`` good hops in a random permutation of ``n`` sits on average at
    position ``j · (n + 1) / (n_good + 1)``.
    """
    return oracle_verifications(n_good, target_fraction) * (n + 1) / (n_good + 1)


def calibration_folds(groups: Sequence[str], folds: int) -> int | None:
    """Folds of the calibration CV: ``min(folds, distinct groups)``, None below two groups."""
    k = min(folds, len(set(groups)))
    return k if k >= 2 else None


@dataclass
class HopTable:
    """Hop vectors and oracle labels of the pool and the test hops of one replay.

    ``X``: (n, F) pool hop vectors with column ``names``; ``y``: (n,) barriers, eV; ``ids``:
    record ids; ``hosts``: candidate names (diversity groups of the mixed policy); ``groups``:
    host keys of the calibration folds (:func:`hopscreen.data.splits.host_groups`); ``ions``:
    working ions; ``test_X``, ``test_y``: the test hops.
    """

    X: np.ndarray
    y: np.ndarray
    names: list[str]
    ids: list[str]
    hosts: list[str]
    groups: list[str]
    ions: list[str]
    test_X: np.ndarray
    test_y: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.y)
        sizes = (len(self.X), len(self.ids), len(self.hosts), len(self.groups), len(self.ions))
        if any(m != n for m in sizes):
            raise ValueError("pool vectors, labels, ids, hosts, groups and ions differ in length")
        if len(self.test_X) != len(self.test_y):
            raise ValueError("test vectors and labels differ in length")


@dataclass
class RefitHead:
    """A head fitted on the labelled hops of one round, with its calibration (or None)."""

    head: ChgnetHead
    calibration: ConformalCalibration | None
    fit_s: float
    calibration_s: float
    offsets: dict[str, float] = dataclasses.field(default_factory=dict)

    def member_barriers(self, X: np.ndarray, groups: Sequence[str] | None = None) -> np.ndarray:
        """(n_members, n) barriers of each member, eV (the head's mean is their mean).

        With ``groups`` (host keys of the rows), each row moves by its host's offset.
        """
        values = np.vstack(
            [dataclasses.replace(self.head, members=[m]).predict(X)[0] for m in self.head.members]
        )
        if groups is not None and self.offsets:
            values = apply_offsets(values, groups, self.offsets)
        return values

    def docs(
        self,
        X: np.ndarray,
        ids: Sequence[str],
        hosts: Sequence[str],
        ions: Sequence[str],
        version: str,
        groups: Sequence[str] | None = None,
    ) -> list[PredictionDoc]:
        """Predictions of hops ``X`` with ``sigma_ev`` and the calibrated interval half-widths."""
        values = self.member_barriers(X, groups)
        mean = values.mean(axis=0)
        sigma = values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros(len(mean))
        widths = {
            key: None if self.calibration is None else self.calibration.half_width(sigma, level)
            for key, level in INTERVAL_LEVELS.items()
        }
        return [
            PredictionDoc(
                hop_id=hop_id,
                candidate_name=host,
                working_ion=ion,
                model_version=version,
                barrier_ev=float(mean[j]),
                sigma_ev=float(sigma[j]),
                interval_68_ev=None if widths["68"] is None else float(widths["68"][j]),
                interval_90_ev=None if widths["90"] is None else float(widths["90"][j]),
                member_barriers_ev=[float(v) for v in values[:, j]],
            )
            for j, (hop_id, host, ion) in enumerate(zip(ids, hosts, ions, strict=True))
        ]

    def test_mae(self, X: np.ndarray, y: np.ndarray) -> float:
        """MAE (eV) of the head's mean on hops ``X`` with barriers ``y``."""
        return float(np.abs(self.head.predict(X)[0] - y).mean())


def head_config(config: ShippedReplayConfig, seed: int) -> ChgnetHeadConfig:
    """The head of ``config.recipe`` (or ``config.head``) with member seeds from ``seed``."""
    if config.recipe not in HEAD_RECIPES:
        raise ValueError(f"unknown recipe {config.recipe!r}; known: {', '.join(HEAD_RECIPES)}")
    head = config.head or HEAD_RECIPES[config.recipe][1]
    return head.model_copy(update={"seed": 1000 * seed})


def refit_head(
    X: np.ndarray,
    y: np.ndarray,
    groups: Sequence[str],
    names: Sequence[str],
    config: ShippedReplayConfig,
    seed: int,
) -> RefitHead:
    """Fit the recipe on labelled hops and calibrate it on the same hops (host-grouped CV).

    Parameters
    ----------
    X, y, groups
        (n, F) hop vectors, (n,) barriers (eV) and host keys of the labelled hops only.
    names
        The F column names.
    config
        Recipe, calibration folds and members.
    seed
        Replay seed (member seeds and the fold assignment).

    Returns
    -------
    RefitHead
        Head, calibration (None when the hops have fewer than two hosts) and seconds spent.
    """
    cfg = head_config(config, seed)
    t0 = time.perf_counter()
    head = fit_head(X, y, names, cfg)
    t1 = time.perf_counter()
    k = calibration_folds(groups, config.calibration_folds)
    calibration, offsets = None, {}
    if k is not None:
        members = config.calibration_members or cfg.ensemble_size
        cal_cfg = cfg.model_copy(update={"ensemble_size": min(members, cfg.ensemble_size)})
        oof, sigma = cross_validate_head(X, y, names, list(groups), cal_cfg, k=k, seed=seed)
        calibration = fit_conformal_calibration(y, oof, sigma, k_folds=k, fold_seed=seed)
        if config.host_offsets:
            offsets = host_offsets(list(groups), log_residuals(y, oof))
    return RefitHead(head, calibration, t1 - t0, time.perf_counter() - t1, offsets)


# --- The replay ---
def run_shipped_replay(
    table: HopTable,
    config: ShippedReplayConfig | None = None,
    *,
    progress: PROGRESS | None = None,
) -> dict[str, Any]:
    """Replay pool-based active learning with the shipped recipe for every policy and seed.

    Parameters
    ----------
    table
        Pool and test hop vectors with their oracle labels (:func:`load_shipped_replay_data`).
    config
        Replay settings.
    progress
        Called with a one-line message before every refit.

    Returns
    -------
    dict
        JSON-ready: ``config``, ``pool`` (sizes, good count), ``runs`` (per seed and policy:
        ``rounds`` rows ``{round, n_verified, n_good_found, found_fraction, test_mae_ev,
        refit_s}``, ``cumulative_good``, ``verifications_to_target``, ``verified_ids``),
        ``references`` (oracle and random counts), ``summary`` (see
        :func:`~hopscreen.benchmarks.replay_report.summarise_replay`) and ``seconds``.
    """
    config = config or ShippedReplayConfig()
    _check_config(config, len(table.y))
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    good = table.y < config.threshold_ev
    runs: list[dict[str, Any]] = []
    for s in range(config.seeds):
        rng = np.random.default_rng(s)  # the ALIGNN replay's seed-set draw
        seed_idx = [int(i) for i in rng.choice(len(table.y), size=config.n_seed, replace=False)]
        say(f"seed {s + 1}/{config.seeds}: refit on the {config.n_seed}-hop seed set")
        first = _refit(table, seed_idx, config, s)
        for p_index, name in enumerate(config.policies):
            runs.append(
                _replay_policy(table, good, first, seed_idx, (s, p_index, name), config, say)
            )
    n, n_good = len(table.y), int(good.sum())
    result: dict[str, Any] = {
        "config": {**config.model_dump(mode="json"), "mode": "shipped"},
        "pool": {"n": n, "n_good": n_good, "n_test": len(table.test_y)},
        "runs": runs,
        "references": {
            "oracle_verifications": oracle_verifications(n_good, config.target_fraction),
            "random_expected_verifications": random_expected_verifications(
                n, n_good, config.target_fraction
            ),
        },
        "seconds": time.perf_counter() - t0,
    }
    result["summary"] = summarise_replay(result)
    return result


def _check_config(config: ShippedReplayConfig, n_pool: int) -> None:
    """Raise ValueError on unknown policies or recipe, or a seed set as large as the pool."""
    unknown = sorted(set(config.policies) - set(POLICIES))
    if unknown:
        raise ValueError(f"unknown policies {unknown}; choose from {sorted(POLICIES)}")
    head_config(config, 0)
    if config.n_seed >= n_pool:
        raise ValueError(f"the seed set ({config.n_seed}) must be smaller than the pool ({n_pool})")


def _refit(
    table: HopTable, labelled: Sequence[int], config: ShippedReplayConfig, s: int
) -> RefitHead:
    """:func:`refit_head` on the labelled rows of ``table`` (and nothing else)."""
    idx = np.asarray(labelled, dtype=int)
    groups = [table.groups[i] for i in idx]
    return refit_head(table.X[idx], table.y[idx], groups, table.names, config, s)


def _replay_policy(
    table: HopTable,
    good: np.ndarray,
    first: RefitHead,
    seed_idx: list[int],
    run: tuple[int, int, str],
    config: ShippedReplayConfig,
    say: PROGRESS,
) -> dict[str, Any]:
    """Rounds of one policy from seed ``s``'s seed-set head ``first`` (``run = s, index, name``)."""
    s, p_index, name = run
    prng = np.random.default_rng([s, p_index])
    n_good = int(good.sum())
    need = oracle_verifications(n_good, config.target_fraction)
    model: RefitHead | None = None if name == "random" else first
    labelled = list(seed_idx)
    n_found = int(good[seed_idx].sum())
    cumulative = [n_found] * len(seed_idx)  # the seed set counts as verified at once
    mae0 = None if model is None else model.test_mae(table.test_X, table.test_y)
    rows = [_row(0, labelled, n_found, n_good, mae0, first.fit_s + first.calibration_s)]
    for r in range(1, config.max_rounds + 1):
        taken = set(labelled)
        unl = [i for i in range(len(table.y)) if i not in taken]
        if not unl or (config.stop_at_target and n_found >= need):
            break
        picked = _pick(table, model, unl, name, config, prng, f"replay-shipped-s{s}-{name}-r{r}")
        for i in picked:
            n_found += int(good[i])
            cumulative.append(n_found)
        labelled += picked
        mae, refit_s = None, 0.0
        if model is not None and not (config.stop_at_target and n_found >= need):
            say(f"seed {s + 1}/{config.seeds} {name} round {r}: refit on {len(labelled)} hops")
            model = _refit(table, labelled, config, s)
            mae = model.test_mae(table.test_X, table.test_y)
            refit_s = model.fit_s + model.calibration_s
        rows.append(_row(r, labelled, n_found, n_good, mae, refit_s))
    return {
        "seed": s,
        "policy": name,
        "seed_good": int(good[seed_idx].sum()),
        "rounds": rows,
        "cumulative_good": cumulative,
        "verifications_to_target": verifications_to_reach(
            cumulative, n_good, config.target_fraction
        ),
        "verified_ids": [table.ids[i] for i in labelled],
    }


def _pick(
    table: HopTable,
    model: RefitHead | None,
    unl: list[int],
    name: str,
    config: ShippedReplayConfig,
    prng: np.random.Generator,
    version: str,
) -> list[int]:
    """Pool indices the policy verifies next, in its priority order (unlabelled hops only)."""
    ids = [table.ids[i] for i in unl]
    hosts = [table.hosts[i] for i in unl]
    ions = [table.ions[i] for i in unl]
    if model is None:  # random: predictions are not looked at
        docs = [
            PredictionDoc(
                hop_id=h,
                candidate_name=c,
                working_ion=ion,
                model_version=version,
                barrier_ev=0.0,
                sigma_ev=0.0,
                member_barriers_ev=[],
            )
            for h, c, ion in zip(ids, hosts, ions, strict=True)
        ]
    else:
        groups = [table.groups[i] for i in unl]
        docs = model.docs(table.X[unl], ids, hosts, ions, version, groups)
    index = {table.ids[i]: i for i in unl}
    picked = POLICIES[name](docs, min(config.batch, len(unl)), prng, config=config.selection)
    return [index[h] for h in picked]


def _row(
    r: int, labelled: Sequence[int], n_found: int, n_good: int, mae: float | None, refit_s: float
) -> dict[str, Any]:
    return {  # one round of one policy
        "round": r,
        "n_verified": len(labelled),
        "n_good_found": n_found,
        "found_fraction": n_found / n_good if n_good else math.nan,
        "test_mae_ev": mae,
        "refit_s": refit_s,
    }


# --- Published data ---
def load_shipped_replay_data(
    data_dir: Path | str | None = None,
    *,
    recipe: str = DEFAULT_MODEL,
    pool_limit: int | None = None,
    test_limit: int | None = None,
    cache_dir: Path | str | None = None,
) -> HopTable:
    """Pool (authors' train split) and test hops of the published dataset as hop vectors.

    Parameters
    ----------
    data_dir
        Data folder (None: resolved).
    recipe
        Name in HEAD_RECIPES (its feature settings).
    pool_limit, test_limit
        Only the first N hops of each split.
    cache_dir
        Feature cache root (None: :func:`~hopscreen.models.hop_features.default_feature_cache`;
        vectors not cached are computed with CHGNet, slow).
    """
    if recipe not in HEAD_RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; known: {', '.join(HEAD_RECIPES)}")
    features = HEAD_RECIPES[recipe][0]
    cache = cache_dir or default_feature_cache()
    pool = load_em_dataset(data_dir, splits=("train",))[:pool_limit]
    test = load_em_dataset(data_dir, splits=("test",))[:test_limit]
    pool_x = extract_hop_features([r.band for r in pool], config=features, cache_dir=cache)
    test_x = extract_hop_features([r.band for r in test], config=features, cache_dir=cache)
    return HopTable(
        X=pool_x.X,
        y=np.asarray([r.barrier_ev for r in pool], dtype=float),
        names=pool_x.names,
        ids=[r.record_id for r in pool],
        hosts=[r.sys_name or r.record_id for r in pool],
        groups=host_groups(pool),
        ions=[r.working_ion for r in pool],
        test_X=test_x.X,
        test_y=np.asarray([r.barrier_ev for r in test], dtype=float),
    )
