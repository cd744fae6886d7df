"""What an active-learning replay will cost on this machine, measured before it runs."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from hopscreen.benchmarks.replay import ReplayConfig, new_ensemble
from hopscreen.graphs.build import build_graph
from hopscreen.schemas.structure import Crystal
from hopscreen.training.config import get_preset

# Seconds on the reference 2-core CPU (see BENCHMARKS.md): one fast-preset member trained on one
# band for one epoch (21 s per epoch over 559 bands), one band predicted by one member, and one
# graph built. Used by :func:`estimate_seconds`; the CLI measures its own on a probe.
FAST_TRAIN_S_PER_BAND = 21.0 / 559
FAST_PREDICT_S_PER_BAND = FAST_TRAIN_S_PER_BAND / 2
GRAPH_S_PER_BAND = 1 / 25.7


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
    ens = new_ensemble(probe, np.linspace(0.1, 2.0, len(graphs)), 0)
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


def probe_estimate(
    config: ReplayConfig, data: dict[str, list[Any]]
) -> tuple[dict[str, float], float]:
    """Per-band costs measured on 16 pool bands, and the replay's expected wall time.

    Parameters
    ----------
    config
        Replay settings.
    data
        What :func:`load_replay_data` returned.

    Returns
    -------
    tuple
        The costs of :func:`measure_costs` and the seconds of :func:`estimate_seconds` with
        them (graphs not cached).
    """
    costs = measure_costs(data["pool_bands"][:16], config)
    estimate = estimate_seconds(
        config,
        len(data["pool_y"]),
        len(data["test_y"]),
        train_s_per_band=costs["train_s"],
        predict_s_per_band=costs["predict_s"],
        graph_s_per_band=costs["graph_s"],
    )
    return costs, estimate
