"""A small screening round's documents, and a results folder holding them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from store_docs import candidate, hop, prediction, verification

from hopscreen.schemas.candidate import CandidateFailure
from hopscreen.schemas.hop import HopFailure
from hopscreen.selection import SelectionConfig, select_hops
from hopscreen.store import open_results_store


@pytest.fixture
def round_docs() -> dict[str, list]:
    """One round: two Li hosts and one Na host, three hops each of the first two, one Na hop."""
    lfp = candidate("c-lfp", "LiFePO4", "Li", "LiFePO4")
    lco = candidate("c-lco", "LiCoO2", "Li", "LiCoO2")
    nfo = candidate("c-nfo", "NaFeO2", "Na", "NaFeO2")
    hops = [hop("h1", lfp, 3.0), hop("h2", lfp, 3.5), hop("h3", lco, 2.9), hop("h4", nfo, 3.1)]
    preds = [
        prediction(hops[0], 0.30, 0.05, "v1"),
        prediction(hops[1], 0.90, 0.10, "v1"),
        prediction(hops[2], 0.62, 0.08, "v1"),
        prediction(hops[3], 0.45, 0.05, "v1"),
    ]
    selection = select_hops(preds, SelectionConfig(budget=3))
    return {
        "candidates": [lfp, lco, nfo],
        "hops": hops,
        "predictions": preds,
        "selections": [selection],
        "verifications": [verification("h1", 0.35), verification("h3", None, status="failed")],
        "failures": [
            CandidateFailure(name="bad", source_ref="x.cif", code="unparsable", reason="broken"),
            HopFailure(candidate_name="LiCoO2", reason="ValueError: nope", hop_id="h9"),
        ],
    }


@pytest.fixture
def results_dir(tmp_path: Path, round_docs: dict[str, list]) -> Path:
    """A results folder holding ``round_docs``, then a v2 model's predictions written later."""
    path = tmp_path / "results"
    with open_results_store(path) as store:
        for collection, docs in round_docs.items():
            store.write(collection, docs)
        time.sleep(0.01)  # BSON keeps milliseconds: make "later" unambiguous
        hops = round_docs["hops"]
        store.write(
            "predictions",
            [
                prediction(hops[0], 0.28, 0.04, "v0-later"),
                prediction(hops[2], 0.70, 0.05, "v0-later"),
            ],
        )
    return path
