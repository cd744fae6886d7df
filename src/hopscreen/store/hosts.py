"""Tables of per-host verdicts: which materials conduct, ranked by ``p_good``.

One row per host and working ion: the verdict of the requested model version (by default the
latest written verdict of the host), with the host's formula from the candidates collection.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from hopscreen.schemas.verdict import HostVerdictDoc
from hopscreen.store.errors import CorruptStoreError
from hopscreen.store.query import latest_stamp
from hopscreen.store.results import ResultsStore
from hopscreen.store.stores import open_results_store

HOST_COLUMNS = [
    "candidate_name",
    "formula",
    "working_ion",
    "p_good",
    "percolation_1d_ev",
    "percolation_1d_q05_ev",
    "percolation_1d_q95_ev",
    "bottleneck_1d_hop_id",
    "percolation_2d_ev",
    "percolation_3d_ev",
    "max_dimension",
    "n_hops",
    "n_unpredicted",
    "threshold_ev",
    "model_version",
]
"""Columns of the per-host table, in order."""

_FLOAT_COLUMNS = [c for c in HOST_COLUMNS if c.endswith("_ev") or c == "p_good"]


def _checked(records: list[dict[str, Any]], location: str) -> list[HostVerdictDoc]:
    fields = set(HostVerdictDoc.model_fields)
    docs = []
    for record in records:
        try:
            docs.append(HostVerdictDoc.model_validate({k: record[k] for k in fields & set(record)}))
        except ValidationError as exc:
            key = record.get("verdict_key", "?")
            first = exc.errors()[0]
            raise CorruptStoreError(
                f"{location}: verdict {key} is not valid ({first['loc']}: {first['msg']}); "
                "the verdicts collection is damaged"
            ) from None
    return docs


def host_frame(
    store: ResultsStore, *, ion: str | None = None, model_version: str | None = None
) -> pd.DataFrame:
    """The per-host table of a connected results store (see :func:`query_hosts`)."""
    criteria: dict[str, Any] = {}
    if ion is not None:
        criteria["working_ion"] = ion
    if model_version is not None:
        criteria["model_version"] = model_version
    records = sorted(store.read("verdicts", criteria), key=latest_stamp)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        host = record.get("candidate_id") or record.get("candidate_name") or ""
        latest[(host, str(record.get("working_ion")))] = record
    docs = _checked(list(latest.values()), store.location)
    ids = sorted({d.candidate_id for d in docs if d.candidate_id})
    formulas = (
        {
            r["candidate_id"]: r.get("formula")
            for r in store.read("candidates", {"candidate_id": {"$in": ids}})
        }
        if ids
        else {}
    )
    rows = [
        {
            **{c: getattr(doc, c) for c in HOST_COLUMNS if c in HostVerdictDoc.model_fields},
            "formula": formulas.get(doc.candidate_id or ""),
            "n_hops": len(doc.hop_ids),
            "n_unpredicted": len(doc.unpredicted_hop_ids),
        }
        for doc in docs
    ]
    frame = pd.DataFrame(rows, columns=HOST_COLUMNS).astype(
        dict.fromkeys(_FLOAT_COLUMNS, "float64")
    )
    frame = frame.sort_values(
        ["p_good", "percolation_1d_ev", "candidate_name"],
        ascending=[False, True, True],
        kind="stable",
        na_position="last",
    )
    return frame.reset_index(drop=True)


def query_hosts(
    results_dir: str | Path, *, ion: str | None = None, model_version: str | None = None
) -> pd.DataFrame:
    """Per-host verdicts of a results folder, most likely good conductor first.

    Parameters
    ----------
    results_dir : str or Path
        Results folder of the embedded store, written by a screening round.
    ion : str, optional
        Only hosts of this working ion.
    model_version : str, optional
        Only verdicts from this model version (default: each host's latest verdict).

    Returns
    -------
    pandas.DataFrame
        One row per host and ion with the columns of :data:`HOST_COLUMNS`, sorted by
        decreasing ``p_good``, then increasing 1D percolation barrier, then name. Empty when
        the store holds no verdicts (rounds written before verdicts existed).

    Raises
    ------
    NoResultsStoreError, CorruptStoreError, StorePermissionError
        As :func:`hopscreen.store.query_results` (the store is opened read-only).
    """
    with open_results_store(results_dir, read_only=True) as store:
        return host_frame(store, ion=ion, model_version=model_version)
