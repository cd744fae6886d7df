"""Per-host verdicts of a round: each host's network and its hops' predictions, combined."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from hopscreen.hops.network import network_from_doc
from hopscreen.schemas.hop import HostNetworkDoc
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.schemas.verdict import HostVerdictDoc
from hopscreen.selection.verdict import VerdictConfig, host_verdict


def _host_key(candidate_id: str | None, name: str) -> str:
    return candidate_id or name


def round_verdicts(
    networks: Sequence[HostNetworkDoc],
    predictions: Sequence[PredictionDoc],
    config: VerdictConfig | None = None,
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

    Returns
    -------
    tuple
        (verdicts, ordered by decreasing ``p_good`` then name; one line per host without a
        verdict, saying why).
    """
    by_host: dict[str, list[PredictionDoc]] = defaultdict(list)
    for pred in predictions:
        by_host[_host_key(pred.candidate_id, pred.candidate_name)].append(pred)
    verdicts, skipped = [], []
    for net in networks:
        preds = by_host.get(_host_key(net.candidate_id, net.candidate_name), [])
        if not preds:
            skipped.append(f"{net.candidate_name}: no predicted hop, no verdict")
            continue
        try:
            verdicts.append(
                host_verdict(
                    network_from_doc(net),
                    preds,
                    candidate_name=net.candidate_name,
                    working_ion=net.working_ion,
                    candidate_id=net.candidate_id,
                    config=config,
                )
            )
        except ValueError as exc:
            skipped.append(f"{net.candidate_name}: {exc}")
    verdicts.sort(key=lambda v: (-v.p_good, v.candidate_name))
    return verdicts, skipped
