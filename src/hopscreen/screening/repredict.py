"""Re-prediction of the hops of a results store that are not verified yet, with a new model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hopscreen.hops import HopOptions
from hopscreen.inference.hops import predict_hops
from hopscreen.inference.load import load_model
from hopscreen.schemas.hop import HopDoc, HopFailure
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.screening.round import RebuildBands, rebuild_bands, stored_hosts
from hopscreen.store import open_results_store


def unverified_hops(
    hops: Sequence[HopDoc], verifications: Sequence[dict[str, Any]]
) -> list[HopDoc]:
    """The hops without a converged ``status="ok"`` verification (any level of theory)."""
    done = {
        v["hop_id"]
        for v in verifications
        if v.get("status") == "ok" and v.get("converged") and v.get("barrier_ev") is not None
    }
    return [h for h in hops if h.hop_id not in done]


def repredict_unverified(
    results_dir: Path | str,
    model_dir: Path | str,
    *,
    hop_options: HopOptions | None = None,
    batch_size: int = 32,
    device: str | None = None,
    rebuild_band: RebuildBands | None = None,
) -> tuple[list[PredictionDoc], list[HopFailure]]:
    """Predict every not-yet-verified hop of a results store with a model, and store it.

    Parameters
    ----------
    results_dir
        Results folder (hops, candidates, verifications are read; predictions written).
    model_dir
        Model folder (e.g. the new version); its ``model_version`` is on every document.
    hop_options
        The options the hops were enumerated with (None: the defaults).
    batch_size, device
        Inference settings.
    rebuild_band
        Band rebuilder; default :func:`hopscreen.screening.round.rebuild_bands` with
        ``hop_options``.

    Returns
    -------
    tuple
        (the new prediction documents, a failure for each hop without a band).
    """
    with open_results_store(results_dir) as store:
        hops = store.read_docs("hops", HopDoc)
        todo = unverified_hops(hops, store.read("verifications"))
        hosts = stored_hosts(store, todo)
    if not todo:
        return [], []
    if rebuild_band is None:
        kept, bands, failed = rebuild_bands(todo, hosts, hop_options)
    else:
        kept, bands, failed = rebuild_band(todo, hosts)
    if not kept:
        return [], failed
    model = load_model(Path(model_dir), device=device)
    docs = predict_hops(kept, bands, model=model, batch_size=batch_size)
    with open_results_store(results_dir) as store:
        store.write("predictions", docs)
    return docs, failed
