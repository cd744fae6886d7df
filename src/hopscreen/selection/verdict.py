"""Per-material verdicts: percolation barriers of a host's migration network and ``p_good``.

A host conducts when its low-barrier hops connect into a network that spans the crystal. From
the predicted barrier of every hop class of the host's periodic migration network
(:mod:`hopscreen.hops.network`), :func:`host_verdict` gives the 1D, 2D and 3D percolation
barriers (:mod:`hopscreen.hops.percolation`), the hop that sets each (the bottleneck), and
``p_good``: the probability that the 1D percolation barrier lies below the threshold.

``p_good`` propagates the per-hop predictive distributions by joint sampling: each hop class
gets ``n_draws`` independent draws from its predictive distribution
(:mod:`hopscreen.selection.predictive`: symmetric about the prediction, its spread from the
calibrated intervals), and each joint draw gives one percolation barrier. Draws of different
hops are independent, which overstates the spread of hosts whose errors are shared by all
hops; the verdict is a ranking aid, not a probability calibrated on hosts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import Field

from hopscreen.hops.network import MigrationNetwork
from hopscreen.hops.percolation import (
    network_dimension,
    percolation_barrier_samples,
    percolation_barriers,
)
from hopscreen.schemas.base import Config
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.schemas.verdict import HostVerdictDoc, compute_verdict_id
from hopscreen.selection.predictive import predictive_draws

_DIMENSIONS = (1, 2, 3)


class VerdictConfig(Config):
    """Settings of the per-host verdict."""

    threshold_ev: float = Field(
        0.65, description="Good conductor: 1D percolation barrier below this, eV."
    )
    n_draws: int = Field(2000, ge=100, le=1_000_000, description="Joint draws for p_good.")
    seed: int = Field(0, description="Seed of the draws.")


def _predicted_subnetwork(network: MigrationNetwork, predicted: set[str]) -> MigrationNetwork:
    """The network with the edges of unpredicted classes removed (they count as closed)."""
    edges = tuple(e for e in network.edges if e.hop_id in predicted)
    hop_ids = tuple(h for h in network.hop_ids if h in predicted)
    return MigrationNetwork(n_sites=network.n_sites, edges=edges, hop_ids=hop_ids)


def _quantile(values: np.ndarray, q: float) -> float | None:
    """The q-quantile of draws with NaN (never percolates) counted as +inf; None if infinite."""
    value = float(np.quantile(np.where(np.isnan(values), np.inf, values), q, method="nearest"))
    return value if np.isfinite(value) else None


def _predictions_by_hop(
    network: MigrationNetwork, predictions: Sequence[PredictionDoc], candidate_name: str
) -> dict[str, PredictionDoc]:
    """The predictions of the network's classes by hop id (ValueError: none, or twice)."""
    by_id: dict[str, PredictionDoc] = {}
    for pred in predictions:
        if pred.hop_id in network.hop_ids:
            if pred.hop_id in by_id:
                raise ValueError(f"hop {pred.hop_id} is predicted more than once")
            by_id[pred.hop_id] = pred
    if not by_id:
        raise ValueError(f"{candidate_name}: none of its {len(network.hop_ids)} hops is predicted")
    return by_id


def host_verdict(
    network: MigrationNetwork,
    predictions: Sequence[PredictionDoc],
    *,
    candidate_name: str,
    working_ion: str,
    candidate_id: str | None = None,
    config: VerdictConfig | None = None,
) -> HostVerdictDoc:
    """The verdict of one host from its migration network and its hops' predictions.

    Parameters
    ----------
    network : MigrationNetwork
        The host's periodic migration network (every edge tagged with its ``hop_id``).
    predictions : sequence of PredictionDoc
        Predictions of the host's hops, one model version; predictions of hops not in the
        network are ignored.
    candidate_name, working_ion : str
        Copied into the document.
    candidate_id : str, optional
        Copied into the document.
    config : VerdictConfig, optional
        Threshold, draws and seed (defaults if None).

    Returns
    -------
    HostVerdictDoc
        Network classes without a prediction are listed and treated as closed.

    Raises
    ------
    ValueError
        If no network class is predicted, a class is predicted twice, or the predictions come
        from several model versions.
    """
    config = config or VerdictConfig()
    by_id = _predictions_by_hop(network, predictions, candidate_name)
    versions = sorted({p.model_version for p in by_id.values()})
    if len(versions) > 1:
        raise ValueError(f"{candidate_name}: predictions of several model versions {versions}")
    sub = _predicted_subnetwork(network, set(by_id))
    point = percolation_barriers(sub, {h: p.barrier_ev for h, p in by_id.items()})
    rng = np.random.default_rng(config.seed)
    draws = {h: predictive_draws(by_id[h], config.n_draws, rng) for h in sorted(by_id)}
    sampled = percolation_barrier_samples(sub, draws)
    p_good = {
        d: float(np.mean(np.nan_to_num(sampled[d], nan=np.inf) < config.threshold_ev))
        for d in _DIMENSIONS
    }
    fields = {
        "candidate_id": candidate_id,
        "candidate_name": candidate_name,
        "working_ion": working_ion,
        "model_version": versions[0],
        "threshold_ev": config.threshold_ev,
        "n_ion_sites": network.n_sites,
        "hop_ids": sorted(network.hop_ids),
        "unpredicted_hop_ids": sorted(set(network.hop_ids) - set(by_id)),
        "max_dimension": network_dimension(sub.n_sites, sub.edges),
        "percolation_1d_q05_ev": _quantile(sampled[1], 0.05),
        "percolation_1d_q95_ev": _quantile(sampled[1], 0.95),
        "p_good": p_good[1],
        "p_good_2d": p_good[2],
        "p_good_3d": p_good[3],
        "n_draws": config.n_draws,
        "seed": config.seed,
    }
    for d in _DIMENSIONS:
        fields[f"percolation_{d}d_ev"] = point[d].barrier_ev
        fields[f"bottleneck_{d}d_hop_id"] = point[d].bottleneck_hop_id
    draft = HostVerdictDoc(verdict_id="", **fields)
    draft.verdict_id = compute_verdict_id(draft.model_dump(mode="json"))
    return draft
