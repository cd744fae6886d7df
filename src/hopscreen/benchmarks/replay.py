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
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from hopscreen.data.em_dataset import load_em_dataset
from hopscreen.graphs.batch import collate
from hopscreen.graphs.build import build_graph
from hopscreen.graphs.cache import GraphCache
from hopscreen.models.alignn import ALIGNN
from hopscreen.models.scaling import TargetScaler
from hopscreen.schemas.base import Config
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.schemas.structure import Crystal
from hopscreen.selection.policies import POLICIES
from hopscreen.training.config import TrainConfig, get_preset
from hopscreen.training.loop import fit
from hopscreen.training.pretrain import load_backbone_into

PROGRESS = Callable[[str], None]

# Seconds on the reference 2-core CPU (see BENCHMARKS.md): one fast-preset member trained on one
# band for one epoch (21 s per epoch over 559 bands), one band predicted by one member, and one
# graph built. Used by :func:`estimate_seconds`; the CLI measures its own on a probe.
FAST_TRAIN_S_PER_BAND = 21.0 / 559
FAST_PREDICT_S_PER_BAND = FAST_TRAIN_S_PER_BAND / 2
GRAPH_S_PER_BAND = 1 / 25.7


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


def bootstrap_mean_ci(
    values: Sequence[float], *, n_boot: int = 2000, ci: float = 0.95, seed: int = 0
) -> dict[str, float | None]:
    """Mean of ``values`` and its percentile-bootstrap interval (over the values, e.g. seeds)."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    if v.size == 0:
        return {"value": None, "ci_low": None, "ci_high": None, "n": 0}
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    lo, hi = np.percentile(means, [50 * (1 - ci), 50 * (1 + ci)])
    return {"value": float(v.mean()), "ci_low": float(lo), "ci_high": float(hi), "n": int(v.size)}


def estimate_seconds(
    config: ReplayConfig,
    n_pool: int,
    n_test: int,
    *,
    train_s_per_band: float = FAST_TRAIN_S_PER_BAND,
    predict_s_per_band: float = FAST_PREDICT_S_PER_BAND,
    graph_s_per_band: float = GRAPH_S_PER_BAND,
    graphs_cached: bool = False,
) -> float:
    """Expected wall time of :func:`run_replay` from per-band costs (one member, one epoch).

    Training ∝ members × epochs × labelled hops; prediction ∝ members × predicted hops (the
    unlabelled pool, every policy but random, and the test hops after every fit).
    """
    k = config.ensemble
    total = 0.0 if graphs_cached else (n_pool + n_test) * graph_s_per_band
    n_seed = min(config.n_seed, n_pool)
    total += config.seeds * k * (config.seed_epochs * n_seed * train_s_per_band)
    total += config.seeds * k * n_test * predict_s_per_band
    for policy in config.policies:
        labelled = n_seed
        for _ in range(config.rounds):
            unlabelled = n_pool - labelled
            if unlabelled <= 0:
                break
            if policy != "random":
                total += config.seeds * k * unlabelled * predict_s_per_band
            labelled += min(config.batch, unlabelled)
            total += config.seeds * k * config.epochs * labelled * train_s_per_band
            total += config.seeds * k * n_test * predict_s_per_band
    return total


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
        import torch

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


def _new_ensemble(config: ReplayConfig, y_seed: np.ndarray, seed: int) -> _Ensemble:
    import torch

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
        :func:`summarise_replay`) and ``seconds``.
    """
    config = config or ReplayConfig()
    unknown = sorted(set(config.policies) - set(POLICIES))
    if unknown:
        raise ValueError(f"unknown policies {unknown}; choose from {sorted(POLICIES)}")
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    y = np.asarray(pool_y, dtype=float)
    yt = np.asarray(test_y, dtype=float)
    n_pool = len(y)
    if not (len(pool_bands) == len(pool_ids) == len(pool_hosts) == n_pool):
        raise ValueError("pool bands, labels, ids and hosts must have the same length")
    if config.n_seed >= n_pool:
        raise ValueError(f"the seed set ({config.n_seed}) must be smaller than the pool ({n_pool})")
    good = y < config.threshold_ev
    n_good = int(good.sum())
    cache = GraphCache(cache_dir, get_preset(config.preset).graph)
    say(f"graphs of {n_pool} pool and {len(yt)} test hops")
    graphs = cache.get_many(list(pool_bands))
    test_graphs = cache.get_many(list(test_bands))

    runs: list[dict[str, Any]] = []
    for s in range(config.seeds):
        rng = np.random.default_rng(s)
        seed_idx = [int(i) for i in rng.choice(n_pool, size=config.n_seed, replace=False)]
        say(f"seed {s + 1}/{config.seeds}: seed-set ensemble on {config.n_seed} hops")
        first = _new_ensemble(config, y[seed_idx], s)
        first.fit([graphs[i] for i in seed_idx], y[seed_idx], config.seed_epochs, seed=s)
        mae0 = float(np.abs(first.predict(test_graphs).mean(axis=0) - yt).mean())
        for p_index, policy_name in enumerate(config.policies):
            policy = POLICIES[policy_name]
            prng = np.random.default_rng([s, p_index])
            ens = copy.deepcopy(first)
            labelled = list(seed_idx)
            n_found = int(good[seed_idx].sum())
            cumulative = [n_found] * len(seed_idx)  # the seed set counts as verified at once
            rows = [_row(0, labelled, n_found, n_good, mae0)]
            for r in range(1, config.rounds + 1):
                taken = set(labelled)
                unl = [i for i in range(n_pool) if i not in taken]
                if not unl:
                    break
                if policy_name == "random":  # needs no prediction
                    values = np.zeros((config.ensemble, len(unl)))
                else:
                    values = ens.predict([graphs[i] for i in unl])
                docs = _prediction_docs(
                    [pool_ids[i] for i in unl],
                    [pool_hosts[i] for i in unl],
                    values,
                    f"replay-s{s}-{policy_name}-r{r - 1}",
                )
                index = {pool_ids[i]: i for i in unl}
                picked = [index[h] for h in policy(docs, min(config.batch, len(unl)), prng)]
                for i in picked:
                    n_found += int(good[i])
                    cumulative.append(n_found)
                labelled += picked
                say(
                    f"seed {s + 1}/{config.seeds} {policy_name} round {r}/{config.rounds}: "
                    f"fine-tune on {len(labelled)} hops"
                )
                ens.fit([graphs[i] for i in labelled], y[labelled], config.epochs, seed=s * 97 + r)
                mae = float(np.abs(ens.predict(test_graphs).mean(axis=0) - yt).mean())
                rows.append(_row(r, labelled, n_found, n_good, mae))
            runs.append(
                {
                    "seed": s,
                    "policy": policy_name,
                    "seed_good": int(good[seed_idx].sum()),
                    "rounds": rows,
                    "cumulative_good": cumulative,
                    "verifications_to_target": verifications_to_reach(
                        cumulative, n_good, config.target_fraction
                    ),
                }
            )
    result = {
        "config": config.model_dump(mode="json"),
        "pool": {"n": n_pool, "n_good": n_good, "n_test": len(yt)},
        "runs": runs,
        "seconds": time.perf_counter() - t0,
    }
    result["summary"] = summarise_replay(result)
    return result


def _row(r: int, labelled: Sequence[int], n_found: int, n_good: int, mae: float) -> dict[str, Any]:
    return {
        "round": r,
        "n_verified": len(labelled),
        "n_good_found": n_found,
        "found_fraction": n_found / n_good if n_good else math.nan,
        "test_mae_ev": mae,
    }


def summarise_replay(result: dict[str, Any]) -> dict[str, Any]:
    """Per-policy figures of a replay result.

    Verifications to the target (mean and seed-bootstrap CI, when every seed reached it), the
    fraction of good hops found and the test MAE after the last round, and the mean curves.

    Also two references: a perfect oracle (verifies only good hops after the seed set) and
    the expectation of uniform random choice (``target · pool`` verifications).
    """
    cfg = result["config"]
    target = cfg["target_fraction"]
    pool = result["pool"]
    need = math.ceil(target * pool["n_good"] - 1e-9)
    out: dict[str, Any] = {"target_good": need, "policies": {}}
    for policy in cfg["policies"]:
        runs = [r for r in result["runs"] if r["policy"] == policy]
        if not runs:
            continue
        reached = [r["verifications_to_target"] for r in runs]
        last = [r["rounds"][-1] for r in runs]
        n_rounds = min(len(r["rounds"]) for r in runs)
        curve = []
        for i in range(n_rounds):
            rows = [r["rounds"][i] for r in runs]
            curve.append(
                {
                    "round": i,
                    "n_verified": rows[0]["n_verified"],
                    "found_fraction": bootstrap_mean_ci([x["found_fraction"] for x in rows]),
                    "test_mae_ev": bootstrap_mean_ci([x["test_mae_ev"] for x in rows]),
                }
            )
        out["policies"][policy] = {
            "n_seeds": len(runs),
            "n_reached": sum(v is not None for v in reached),
            "verifications_to_target": reached,
            "verifications_to_target_mean": (
                bootstrap_mean_ci(reached) if all(v is not None for v in reached) else None
            ),
            "final_n_verified": last[0]["n_verified"],
            "final_found_fraction": bootstrap_mean_ci([x["found_fraction"] for x in last]),
            "final_test_mae_ev": bootstrap_mean_ci([x["test_mae_ev"] for x in last]),
            "curve": curve,
        }
    seeds_good = {r["seed"]: r["seed_good"] for r in result["runs"]}
    out["oracle_verifications"] = bootstrap_mean_ci(
        [cfg["n_seed"] + max(0, need - g) for g in seeds_good.values()]
    )
    out["random_expected_verifications"] = target * pool["n"]
    return out


# ---------------------------------------------------------------------------------------------
# Published data, report, plot
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


def _fmt(m: dict[str, Any] | None, digits: int = 2, scale: float = 1.0) -> str:
    if not m or m.get("value") is None:
        return "n/a"
    v, lo, hi = (scale * m[k] for k in ("value", "ci_low", "ci_high"))
    return f"{v:.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})"


def render_markdown(result: dict[str, Any], *, image: str | None = None) -> str:
    """The BENCHMARKS.md section of a replay result (table, verdict, settings, plot link)."""
    cfg, pool, summary = result["config"], result["pool"], result["summary"]
    pct = round(100 * cfg["target_fraction"])
    lines = [
        "## Active learning replay on the published data",
        "",
        f"Pool: the authors' {pool['n']} training hops ({pool['n_good']} good conductors, "
        f"E_m < {cfg['threshold_ev']:g} eV), labels revealed one verification at a time; test: "
        f"their {pool['n_test']} test hops. Seed set {cfg['n_seed']} random hops, then "
        f"{cfg['rounds']} rounds of {cfg['batch']} verifications; `{cfg['preset']}` preset, "
        f"{cfg['ensemble']}-member ensemble (σ = spread), {cfg['seed_epochs']} epoch(s) on the "
        f"seed set, then {cfg['epochs']} epoch(s) per round warm-started from the previous "
        f"round; backbone: {'pre-trained' if cfg['backbone'] else 'none (from scratch)'}. "
        f"{cfg['seeds']} seeds; intervals are 95 % percentile bootstraps over the seeds. "
        f"Measured by `hopscreen al replay` in {result['seconds'] / 60:.1f} min.",
        "",
        f"| policy | verifications to find {pct} % of the good ones ({summary['target_good']}) "
        f"| good ones found after {summary_final_n(summary)} verifications "
        "| test MAE eV after the last round |",
        "|---|---|---|---|",
    ]
    for name, pol in summary["policies"].items():
        if pol["verifications_to_target_mean"] is not None:
            reach = _fmt(pol["verifications_to_target_mean"], 0)
        elif pol["n_reached"]:
            values = ", ".join(str(v) for v in pol["verifications_to_target"] if v is not None)
            reach = f"not reached in {pol['n_seeds'] - pol['n_reached']}/{pol['n_seeds']} seeds "
            reach += f"(reached: {values})"
        else:
            reach = "not reached"
        lines.append(
            f"| {name} | {reach} | {_fmt(pol['final_found_fraction'], 0, 100)} % "
            f"| {_fmt(pol['final_test_mae_ev'], 3)} |"
        )
    lines += [
        f"| *oracle (only good hops after the seed)* | {_fmt(summary['oracle_verifications'], 0)}"
        " | | |",
        f"| *uniform random, expected* | {summary['random_expected_verifications']:.0f} | | |",
        "",
        verdict(result),
        "",
    ]
    if image:
        lines += [f"![active-learning replay]({image})", ""]
    return "\n".join(lines)


def summary_final_n(summary: dict[str, Any]) -> int:
    """Verifications after the last round (the same for every policy)."""
    return max((p["final_n_verified"] for p in summary["policies"].values()), default=0)


def verdict(result: dict[str, Any]) -> str:
    """One paragraph: whether each model-based policy beats random at finding good hops."""
    pols = result["summary"]["policies"]
    if "random" not in pols:
        return ""
    base = pols["random"]["final_found_fraction"]
    parts = []
    for name in ("borderline_sigma", "mixed", "greedy_lowest"):
        if name not in pols or base["value"] is None:
            continue
        ff = pols[name]["final_found_fraction"]
        better = ff["ci_low"] is not None and base["ci_high"] is not None
        better = better and ff["ci_low"] > base["ci_high"]
        worse = ff["ci_high"] is not None and base["ci_low"] is not None
        worse = worse and ff["ci_high"] < base["ci_low"]
        word = "beats" if better else "is worse than" if worse else "does not clearly beat"
        parts.append(
            f"{name} {word} random ({100 * ff['value']:.0f} % vs {100 * base['value']:.0f} % "
            "of the good conductors found)"
        )
    text = "Verdict at the last round: " + "; ".join(parts) + "."
    if "borderline_sigma" in pols:
        text += (
            " The borderline-σ policy spends its budget on hops predicted near the threshold, "
            "half of which are bad conductors by construction: it is built to sharpen the "
            "good/bad boundary (and the MAE), not to collect good conductors fastest, and a "
            "two-member ensemble trained on a few dozen hops gives a noisy σ."
        )
    return text


def plot_replay(result: dict[str, Any], path: Path | str) -> Path:
    """Two panels: fraction of good conductors found and test MAE vs verifications (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = result["summary"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for name, pol in summary["policies"].items():
        x = [c["n_verified"] for c in pol["curve"]]
        for ax, key in ((ax1, "found_fraction"), (ax2, "test_mae_ev")):
            mean = [c[key]["value"] for c in pol["curve"]]
            lo = [c[key]["ci_low"] for c in pol["curve"]]
            hi = [c[key]["ci_high"] for c in pol["curve"]]
            (line,) = ax.plot(x, mean, marker="o", label=name)
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.15)
    target = result["config"]["target_fraction"]
    ax1.axhline(target, color="grey", ls="--", lw=1)
    ax1.set_xlabel("verifications")
    ax1.set_ylabel("fraction of the pool's good conductors found")
    ax2.set_xlabel("verifications")
    ax2.set_ylabel("test MAE (eV)")
    ax1.legend()
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def measure_costs(bands: Sequence[Crystal], config: ReplayConfig) -> dict[str, float]:
    """Per-band seconds of graph building, one training epoch and one prediction (one member).

    Times a short probe on ``bands`` (16 are enough) on this machine, for
    :func:`estimate_seconds`.
    """
    graph_config = get_preset(config.preset).graph
    t = time.perf_counter()
    graphs = [build_graph(b, graph_config) for b in bands]
    graph_s = (time.perf_counter() - t) / len(graphs)
    probe = config.model_copy(update={"ensemble": 2})
    ens = _new_ensemble(probe, np.linspace(0.1, 2.0, len(graphs)), 0)
    ens.members = ens.members[:1]
    y = np.linspace(0.1, 2.0, len(graphs))
    ens.fit(graphs, y, 1, seed=0)  # warm-up (allocation, first kernels)
    t = time.perf_counter()
    ens.fit(graphs, y, 1, seed=0)
    train_s = (time.perf_counter() - t) / len(graphs)
    t = time.perf_counter()
    ens.predict(graphs)
    predict_s = (time.perf_counter() - t) / len(graphs)
    return {"graph_s": graph_s, "train_s": train_s, "predict_s": predict_s}
