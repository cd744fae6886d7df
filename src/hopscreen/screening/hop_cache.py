"""Each host's hops, network and bands computed once per results folder, then read back.

The hops stage builds every hop's band (the supercell endpoints and the Model-3 band) to check
it; the prediction stage needs the same bands, and a re-run of the campaign needs the same
hops again. Instead of building them two or three times, the hops stage writes, per host, one
file ``<results>/hop-cache/<key>.npz`` holding the host's :class:`~hopscreen.hops.HopsResult`
(hop documents, failures, network) and its bands as arrays; every later stage or run that asks
for the same host with the same options reads it.

The key is the sha256 of everything the result depends on: the candidate's id, name, ion and
exact structure (``structure`` dict, so another setting of the same crystal is another key),
the :class:`~hopscreen.hops.HopOptions`, and :data:`CACHE_FORMAT`, which is raised whenever hop
enumeration or band building changes what it produces. A file that cannot be read is built
again and overwritten (writes are atomic: a temporary file renamed into place). The
``hops`` field of a result read back is empty (the :class:`~hopscreen.hops.hop.Hop` objects
are not stored); the stages that need them (verification) enumerate the host again.

Size: a band is 32 bytes per atom, about 4 kB for the usual 120–170-atom band, so 2,000 hosts
with 14 hops each take about 110 MB; deleting the folder only costs the time to rebuild.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from hopscreen.hops import HopOptions, HopsResult, hops_for_structure
from hopscreen.schemas.candidate import CandidateDoc
from hopscreen.schemas.hop import HopDoc, HopFailure, HostNetworkDoc
from hopscreen.schemas.structure import Crystal

CACHE_FOLDER = "hop-cache"
"""Folder of the cache inside a results folder."""

CACHE_FORMAT = 1
"""Raise when hop enumeration or band building changes its output (old files are ignored)."""


def cache_folder(results_dir: str | Path) -> Path:
    """The hop cache of a results folder (not created here)."""
    return Path(results_dir) / CACHE_FOLDER


def host_cache_key(candidate: CandidateDoc, options: HopOptions) -> str:
    """sha256 (hex) of what a host's hops depend on (see the module docstring)."""
    payload = {
        "format": CACHE_FORMAT,
        "candidate_id": candidate.candidate_id,
        "name": candidate.name,
        "working_ion": candidate.working_ion,
        "structure": candidate.structure,
        "options": options.model_dump(mode="json"),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def cache_path(folder: Path, candidate: CandidateDoc, options: HopOptions) -> Path:
    """The cache file of ``candidate``'s hops under ``options`` in the cache ``folder``."""
    return folder / f"{host_cache_key(candidate, options)}.npz"


def _pack(result: HopsResult) -> dict[str, np.ndarray]:
    """Arrays of one result: its documents as JSON, its bands concatenated with offsets."""
    meta = {
        "docs": [d.model_dump(mode="json") for d in result.docs],
        "failures": [f.model_dump(mode="json") for f in result.failures],
        "rejected": result.rejected,
        "network": None if result.network is None else result.network.model_dump(mode="json"),
    }
    bands = [b for b in result.bands if b is not None]
    if len(bands) != len(result.bands):
        raise ValueError("only results with every band built are cached")
    sizes = np.array([len(b) for b in bands], dtype=np.int64)
    return {
        "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
        "sizes": sizes,
        "lattices": np.array([b.lattice for b in bands], dtype=np.float64).reshape(-1, 3, 3),
        "frac": np.concatenate([b.frac_coords for b in bands]) if bands else np.zeros((0, 3)),
        "numbers": np.concatenate([b.numbers for b in bands]) if bands else np.zeros(0, np.int64),
    }


def _unpack(arrays: dict[str, np.ndarray]) -> HopsResult:
    meta = json.loads(arrays["meta"].tobytes().decode())
    ends = np.cumsum(arrays["sizes"])
    starts = ends - arrays["sizes"]
    bands: list[Crystal | None] = [
        Crystal(arrays["lattices"][i], arrays["frac"][a:b], arrays["numbers"][a:b])
        for i, (a, b) in enumerate(zip(starts, ends, strict=True))
    ]
    network = meta["network"]
    return HopsResult(
        docs=[HopDoc.model_validate(d) for d in meta["docs"]],
        bands=bands,
        failures=[HopFailure.model_validate(f) for f in meta["failures"]],
        rejected=bool(meta["rejected"]),
        network=None if network is None else HostNetworkDoc.model_validate(network),
    )


def read_cached(path: Path) -> HopsResult | None:
    """The result stored in ``path``; None when it is missing or cannot be read."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            result = _unpack({k: data[k] for k in data.files})
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError):
        return None
    if len(result.bands) != len(result.docs):
        return None
    return result


def write_cached(path: Path, result: HopsResult) -> None:
    """Write ``result`` to ``path`` atomically (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez(buffer, **_pack(result))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(buffer.getvalue())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def cached_host_hops(
    candidate: CandidateDoc, options: HopOptions, folder: Path | None
) -> tuple[HopsResult, bool]:
    """A host's hops with their bands, from the cache ``folder`` when it holds them.

    Parameters
    ----------
    candidate
        The host.
    options
        Hop options.
    folder
        Cache folder (:func:`cache_folder`); None: no cache, always computed.

    Returns
    -------
    tuple
        (the result, with every band; whether it was read from the cache). A computed result
        is written to the cache unless writing fails (the result is returned anyway).
    """
    path = None if folder is None else cache_path(folder, candidate, options)
    if path is not None:
        found = read_cached(path)
        if found is not None:
            return found, True
    result = hops_for_structure(
        candidate.get_structure(),
        candidate.working_ion,
        candidate.name,
        candidate_id=candidate.candidate_id,
        options=options,
    )
    if path is not None:
        with contextlib.suppress(OSError):  # a read-only or full disk only costs a rebuild
            write_cached(path, result)
    return result, False


def light_host_hops(
    part: tuple[list[CandidateDoc], HopOptions, Path | None],
) -> list[HopsResult]:
    """:func:`cached_host_hops` for several hosts, results without their bands.

    The work item of the hops stage's worker processes: the bands stay in the cache, only the
    documents travel back.
    """
    candidates, options, folder = part
    out = []
    for candidate in candidates:
        result, _ = cached_host_hops(candidate, options, folder)
        out.append(dataclasses.replace(result, hops=[], bands=[]))
    return out
