"""Offline replay of active learning on the published dataset, with its labels as the oracle.

Pool = the authors' training hops (labels hidden until "verified"), test = their test hops.
For each seed, a small random labelled seed set trains a first ensemble (shared by every policy
of that seed); then, per policy (:data:`hopscreen.selection.policies.POLICIES`) and round, the
policy picks ``batch`` unlabelled pool hops from the current ensemble's predictions (E ± σ),
their labels are revealed (one *verification* each), and the ensemble is fine-tuned on all
labels so far, warm-started from the previous round's weights (each member from its own).

Recorded per seed, policy and round: verifications so far (seed set included), the fraction
of the pool's good conductors (E_m < threshold) among the verified hops, and the MAE of the
ensemble mean on the test hops. Within a round the verifications are counted in the policy's
priority order, so "verifications needed to find 90 % of the good conductors" is resolved to
one verification. Confidence intervals are percentile bootstraps over the seeds (with three
seeds they are wide and only indicative).
"""

from __future__ import annotations

import copy
import math
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import Field

from hopscreen.benchmarks.replay_report import summarise_replay
from hopscreen.data.em_dataset import load_em_dataset
from hopscreen.graphs.batch import collate
from hopscreen.graphs.cache import GraphCache
from hopscreen.models.alignn import ALIGNN
from hopscreen.models.scaling import TargetScaler
from hopscreen.schemas.base import Config
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.schemas.structure import Crystal
from hopscreen.selection.policies import POLICIES, SelectionConfig
from hopscreen.training.config import TrainConfig, get_preset
from hopscreen.training.loop import fit
from hopscreen.training.pretrain import load_backbone_into

PROGRESS = Callable[[str], None]


class ReplayConfig(Config):
    """Settings of a replay benchmark (defaults sized for ~20 min on two CPU cores)."""

    policies: list[str] = Field(
        default_factory=lambda: ["random", "greedy_lowest", "borderline_sigma", "mixed"],
        description="Policy names of hopscreen.selection.policies.POLICIES.",
    )
    seeds: int = Field(3, ge=1, description="Independent repetitions (seed sets, inits).")
    rounds: int = Field(3, ge=1, description="Selection rounds after the seed set.")
    batch: int = Field(80, ge=1, description="Verifications per round.")
    n_seed: int = Field(24, ge=1, description="Random labelled hops to start from.")
    epochs: int = Field(1, ge=1, description="Fine-tuning epochs per round (warm start).")
    seed_epochs: int = Field(10, ge=1, description="Epochs of the seed-set ensemble.")
    ensemble: int = Field(2, ge=2, description="Members (σ is their spread).")
    train_batch_size: int = Field(16, ge=1, description="Training batch size.")
    max_lr: float = Field(1e-3, gt=0, description="One-cycle peak learning rate per fit.")
    threshold_ev: float = Field(0.65, description="Good conductor: E_m below this, eV.")
    selection: SelectionConfig = Field(
        default_factory=lambda: SelectionConfig(promising_margin_ev=0.2, max_per_candidate=2),
        description="Rules of the borderline-σ and mixed policies (the replay in "
        "BENCHMARKS.md was measured with these).",
    )
    target_fraction: float = Field(0.9, gt=0, le=1, description="Share of good ones to find.")
    preset: str = Field("fast", description="Architecture preset.")
    architecture: dict[str, Any] = Field(
        default_factory=dict, description="ALIGNNConfig fields overriding the preset's."
    )
    backbone: str | None = Field(None, description="Pre-trained backbone.safetensors, if any.")
    device: str = "cpu"
    predict_batch_size: int = Field(32, ge=1)


# ---------------------------------------------------------------------------------------------
# Small pure helpers (tested directly)
# ---------------------------------------------------------------------------------------------
def verifications_to_reach(
    cumulative_good: Sequence[int], n_good_pool: int, target_fraction: float
) -> int | None:
    """Verifications after which ``target_fraction`` of the pool's good hops are found.

    Parameters
    ----------
    cumulative_good
        Good hops found after 1, 2, … verifications (index i = after i + 1 verifications).
    n_good_pool
        Good hops in the pool.
    target_fraction
        Share of them to find.

    Returns
    -------
    int or None
        The first count of verifications that reaches ``ceil(target · n_good_pool)`` good
        hops, None if never.
    """
    need = math.ceil(target_fraction * n_good_pool - 1e-9)
    for i, found in enumerate(cumulative_good):
        if found >= need:
            return i + 1
    return None


# ---------------------------------------------------------------------------------------------
# The replay
# ---------------------------------------------------------------------------------------------
class _Ensemble:
    """Members in memory, warm-started fit after fit, with one target scaler."""

    def __init__(self, members: list[Any], scaler: Any, mark: bool, config: ReplayConfig) -> None:
        self.members = members
        self.scaler = scaler
        self.mark = mark
        self.config = config

    def fit(self, graphs: Sequence[Any], y: np.ndarray, epochs: int, seed: int) -> None:
        targets = self.scaler.transform(np.asarray(y)).astype(np.float32)[:, None]
        for m, member in enumerate(self.members):
            train = TrainConfig(
                epochs=epochs,
                batch_size=self.config.train_batch_size,
                max_lr=self.config.max_lr,
                val_fraction=0.0,
                patience=None,
                seed=seed * 100 + m,
            )
            with tempfile.TemporaryDirectory(prefix="hopscreen-replay-") as tmp:
                fit(
                    member,
                    graphs,
                    targets,
                    train,
                    Path(tmp),
                    mark_ion_copies=self.mark,
                    device=self.config.device,
                )
            member.eval()

    def predict(self, graphs: Sequence[Any]) -> np.ndarray:
        """(n_members, n) barriers in eV."""
        out = np.zeros((len(self.members), len(graphs)))
        size = self.config.predict_batch_size
        with torch.no_grad():
            for start in range(0, len(graphs), size):
                batch = collate(
                    graphs[start : start + size],
                    mark_ion_copies=self.mark,
                    with_line_graph=True,
                    device=self.config.device,
                )
                for m, member in enumerate(self.members):
                    member.eval()
                    scaled = member(batch)[:, 0].double().cpu().numpy()
                    out[m, start : start + len(scaled)] = self.scaler.inverse(scaled)
        return out


def new_ensemble(config: ReplayConfig, y_seed: np.ndarray, seed: int) -> _Ensemble:
    """A fresh ensemble of ``config.ensemble`` members (seeded), scaled to ``y_seed``."""
    preset = get_preset(config.preset)
    arch = preset.model.model_copy(update={**config.architecture, "n_heads": 1})
    members = []
    for m in range(config.ensemble):
        torch.manual_seed(10_000 * seed + m)
        model = ALIGNN(arch)
        if config.backbone:
            load_backbone_into(model, Path(config.backbone))
        members.append(model)
    return _Ensemble(members, TargetScaler.fit(y_seed), arch.mark_ion_copies, config)


def _prediction_docs(
    ids: Sequence[str], hosts: Sequence[str], values: np.ndarray, version: str
) -> list[Any]:
    mean = values.mean(axis=0)
    sigma = values.std(axis=0, ddof=1)
    return [
        PredictionDoc(
            hop_id=i,
            candidate_name=h,
            working_ion="?",
            model_version=version,
            barrier_ev=float(e),
            sigma_ev=float(s),
            member_barriers_ev=[float(x) for x in values[:, j]],
        )
        for j, (i, h, e, s) in enumerate(zip(ids, hosts, mean, sigma, strict=True))
    ]


@dataclass
class _Pool:
    """Graphs and oracle labels of the pool and the test hops of one replay."""

    graphs: list[Any]
    y: np.ndarray
    ids: list[str]
    hosts: list[str]
    good: np.ndarray
    test_graphs: list[Any]
    test_y: np.ndarray

    @property
    def n_good(self) -> int:
        return int(self.good.sum())

    def test_mae(self, ens: _Ensemble) -> float:
        """MAE (eV) of the ensemble mean on the test hops."""
        return float(np.abs(ens.predict(self.test_graphs).mean(axis=0) - self.test_y).mean())


def _check_inputs(config: ReplayConfig, n_pool: int, lengths: Sequence[int]) -> None:
    """Raise ValueError on unknown policies, mismatched pool lists or a seed set too large."""
    unknown = sorted(set(config.policies) - set(POLICIES))
    if unknown:
        raise ValueError(f"unknown policies {unknown}; choose from {sorted(POLICIES)}")
    if any(n != n_pool for n in lengths):
        raise ValueError("pool bands, labels, ids and hosts must have the same length")
    if config.n_seed >= n_pool:
        raise ValueError(f"the seed set ({config.n_seed}) must be smaller than the pool ({n_pool})")


def run_replay(
    pool_bands: Sequence[Crystal],
    pool_y: Sequence[float],
    pool_ids: Sequence[str],
    pool_hosts: Sequence[str],
    test_bands: Sequence[Crystal],
    test_y: Sequence[float],
    config: ReplayConfig | None = None,
    *,
    cache_dir: Path | str | None = None,
    progress: PROGRESS | None = None,
) -> dict[str, Any]:
    """Replay pool-based active learning for every policy and seed.

    Parameters
    ----------
    pool_bands, pool_y, pool_ids, pool_hosts
        The pool: bands, oracle barriers (eV), record ids and host names (diversity groups).
    test_bands, test_y
        Held-out test hops and barriers (eV).
    config
        Replay settings.
    cache_dir
        Graph cache folder (None: memory only).
    progress
        Called with a one-line message before every fit.

    Returns
    -------
    dict
        JSON-ready: ``config``, ``pool`` (sizes, good count), ``runs`` (per seed and policy:
        ``rounds`` rows ``{round, n_verified, n_good_found, found_fraction, test_mae_ev}``,
        ``cumulative_good``, ``verifications_to_target``), ``summary`` (see
        :func:`~hopscreen.benchmarks.replay_report.summarise_replay`) and ``seconds``.
    """
    config = config or ReplayConfig()
    _check_inputs(config, len(pool_y), (len(pool_bands), len(pool_ids), len(pool_hosts)))
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    y = np.asarray(pool_y, dtype=float)
    yt = np.asarray(test_y, dtype=float)
    cache = GraphCache(cache_dir, get_preset(config.preset).graph)
    say(f"graphs of {len(y)} pool and {len(yt)} test hops")
    pool = _Pool(
        graphs=cache.get_many(list(pool_bands)),
        y=y,
        ids=list(pool_ids),
        hosts=list(pool_hosts),
        good=y < config.threshold_ev,
        test_graphs=cache.get_many(list(test_bands)),
        test_y=yt,
    )
    runs: list[dict[str, Any]] = []
    for s in range(config.seeds):
        rng = np.random.default_rng(s)
        seed_idx = [int(i) for i in rng.choice(len(y), size=config.n_seed, replace=False)]
        say(f"seed {s + 1}/{config.seeds}: seed-set ensemble on {config.n_seed} hops")
        first = new_ensemble(config, y[seed_idx], s)
        first.fit([pool.graphs[i] for i in seed_idx], y[seed_idx], config.seed_epochs, seed=s)
        mae0 = pool.test_mae(first)
        for p_index, policy_name in enumerate(config.policies):
            runs.append(
                _replay_policy(pool, first, seed_idx, mae0, s, p_index, policy_name, config, say)
            )
    result = {
        "config": config.model_dump(mode="json"),
        "pool": {"n": len(y), "n_good": pool.n_good, "n_test": len(yt)},
        "runs": runs,
        "seconds": time.perf_counter() - t0,
    }
    result["summary"] = summarise_replay(result)
    return result


def _replay_policy(
    pool: _Pool,
    first: _Ensemble,
    seed_idx: list[int],
    mae0: float,
    s: int,
    p_index: int,
    policy_name: str,
    config: ReplayConfig,
    say: PROGRESS,
) -> dict[str, Any]:
    """Rounds of one policy from seed ``s``'s seed-set ensemble ``first`` (left untouched)."""
    prng = np.random.default_rng([s, p_index])
    ens = copy.deepcopy(first)
    labelled = list(seed_idx)
    n_found = int(pool.good[seed_idx].sum())
    cumulative = [n_found] * len(seed_idx)  # the seed set counts as verified at once
    rows = [_row(0, labelled, n_found, pool.n_good, mae0)]
    for r in range(1, config.rounds + 1):
        taken = set(labelled)
        unl = [i for i in range(len(pool.y)) if i not in taken]
        if not unl:
            break
        version = f"replay-s{s}-{policy_name}-r{r - 1}"
        picked = _pick(pool, ens, unl, policy_name, config, prng, version)
        for i in picked:
            n_found += int(pool.good[i])
            cumulative.append(n_found)
        labelled += picked
        say(
            f"seed {s + 1}/{config.seeds} {policy_name} round {r}/{config.rounds}: "
            f"fine-tune on {len(labelled)} hops"
        )
        graphs = [pool.graphs[i] for i in labelled]
        ens.fit(graphs, pool.y[labelled], config.epochs, seed=s * 97 + r)
        rows.append(_row(r, labelled, n_found, pool.n_good, pool.test_mae(ens)))
    return {
        "seed": s,
        "policy": policy_name,
        "seed_good": int(pool.good[seed_idx].sum()),
        "rounds": rows,
        "cumulative_good": cumulative,
        "verifications_to_target": verifications_to_reach(
            cumulative, pool.n_good, config.target_fraction
        ),
    }


def _pick(
    pool: _Pool,
    ens: _Ensemble,
    unl: list[int],
    policy_name: str,
    config: ReplayConfig,
    prng: np.random.Generator,
    version: str,
) -> list[int]:
    """Pool indices the policy verifies next, in its priority order."""
    if policy_name == "random":  # needs no prediction
        values = np.zeros((config.ensemble, len(unl)))
    else:
        values = ens.predict([pool.graphs[i] for i in unl])
    docs = _prediction_docs(
        [pool.ids[i] for i in unl], [pool.hosts[i] for i in unl], values, version
    )
    index = {pool.ids[i]: i for i in unl}
    policy = POLICIES[policy_name]
    picked = policy(docs, min(config.batch, len(unl)), prng, config=config.selection)
    return [index[h] for h in picked]


def _row(r: int, labelled: Sequence[int], n_found: int, n_good: int, mae: float) -> dict[str, Any]:
    return {
        "round": r,
        "n_verified": len(labelled),
        "n_good_found": n_found,
        "found_fraction": n_found / n_good if n_good else math.nan,
        "test_mae_ev": mae,
    }


# ---------------------------------------------------------------------------------------------
# Published data, cost probe
# ---------------------------------------------------------------------------------------------
def load_replay_data(
    data_dir: Path | str | None = None,
    *,
    pool_limit: int | None = None,
    test_limit: int | None = None,
) -> dict[str, list[Any]]:
    """Pool (authors' train split) and test split of the published dataset.

    Returns
    -------
    dict
        ``pool_bands, pool_y, pool_ids, pool_hosts, test_bands, test_y`` (hosts are the
        records' ``sys_name``, the diversity groups of the mixed policy).
    """
    pool = load_em_dataset(data_dir, splits=("train",))[:pool_limit]
    test = load_em_dataset(data_dir, splits=("test",))[:test_limit]
    return {
        "pool_bands": [r.band for r in pool],
        "pool_y": [r.barrier_ev for r in pool],
        "pool_ids": [r.record_id for r in pool],
        "pool_hosts": [r.sys_name or r.record_id for r in pool],
        "test_bands": [r.band for r in test],
        "test_y": [r.barrier_ev for r in test],
    }
