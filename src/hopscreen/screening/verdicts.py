"""Per-host verdicts of a round: each host's network and its hops' predictions, combined."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence

from hopscreen.hops.network import network_from_doc
from hopscreen.schemas.hop import HostNetworkDoc
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.schemas.verdict import HostVerdictDoc, compute_verdict_id
from hopscreen.selection.verdict import VerdictConfig, host_verdict


def _host_key(candidate_id: str | None, name: str) -> str:
    return candidate_id or name


def verdict_inputs_sha256(
    network: HostNetworkDoc, predictions: Sequence[PredictionDoc], config: VerdictConfig
) -> str:
    """sha256 of everything a host's verdict is computed from (order of predictions ignored)."""
    payload = {
        "network": network.model_dump(mode="json"),
        "predictions": sorted(
            (p.model_dump(mode="json") for p in predictions),
            key=lambda d: (d["hop_id"], d["model_version"]),
        ),
        "config": config.model_dump(mode="json"),
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def round_verdicts(
    networks: Sequence[HostNetworkDoc],
    predictions: Sequence[PredictionDoc],
    config: VerdictConfig | None = None,
    stored: Mapping[str, HostVerdictDoc] | None = None,
) -> tuple[list[HostVerdictDoc], list[str]]:
    """The verdict of every host whose network has at least one predicted hop.

    Parameters
    ----------
    networks : sequence of HostNetworkDoc
        One network per host (from the hops stage).
    predictions : sequence of PredictionDoc
        The round's predictions (one model version), matched to hosts by ``candidate_id``
        (by name for hosts without one).
    config : VerdictConfig, optional
        Threshold, draws and seed.
    stored : Mapping of str to HostVerdictDoc, optional
        Verdicts already in the results store, by host (``candidate_id``, else name): one
        whose ``inputs_sha256`` matches this host's network, predictions and settings is
        returned as it is instead of being sampled again.

    Returns
    -------
    tuple
        (verdicts, ordered by decreasing ``p_good`` then name; one line per host without a
        verdict, saying why).
    """
    config = config or VerdictConfig()
    by_host: dict[str, list[PredictionDoc]] = defaultdict(list)
    for pred in predictions:
        by_host[_host_key(pred.candidate_id, pred.candidate_name)].append(pred)
    verdicts, skipped = [], []
    for net in networks:
        key = _host_key(net.candidate_id, net.candidate_name)
        preds = by_host.get(key, [])
        if not preds:
            skipped.append(f"{net.candidate_name}: no predicted hop, no verdict")
            continue
        inputs = verdict_inputs_sha256(net, preds, config)
        previous = (stored or {}).get(key)
        if previous is not None and previous.inputs_sha256 == inputs:
            verdicts.append(previous)
            continue
        try:
            verdict = host_verdict(
                network_from_doc(net),
                preds,
                candidate_name=net.candidate_name,
                working_ion=net.working_ion,
                candidate_id=net.candidate_id,
                config=config,
            )
        except ValueError as exc:
            skipped.append(f"{net.candidate_name}: {exc}")
            continue
        verdict.inputs_sha256 = inputs
        verdict.verdict_id = compute_verdict_id(verdict.model_dump(mode="json"))
        verdicts.append(verdict)
    verdicts.sort(key=lambda v: (-v.p_good, v.candidate_name))
    return verdicts, skipped
