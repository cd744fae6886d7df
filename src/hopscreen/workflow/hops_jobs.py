"""The hops job of a round, split at run time into one job per chunk of hosts.

A campaign of thousands of hosts does not enumerate them in one job: with more than
``hosts_per_job`` candidates, :func:`enumerate_hops_job` replaces itself (jobflow
``Response(replace=...)``) by one job per chunk of hosts and a merger that takes the running
job's uuid, so the prediction, selection and collection jobs read the merged
:class:`~hopscreen.schemas.round.HopsOutput` as before. On FireWorks the chunks run on any
free worker, and a chunk whose job dies (killed, out of memory) costs its own hosts only: the
merger records one ``HopFailure`` per host of that chunk and the round goes on. A host's hops
are the same whichever chunk enumerates them (the hop cache is per host).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobflow import Response, job

from hopscreen.hops import HopOptions
from hopscreen.schemas.candidate import CandidateDoc
from hopscreen.schemas.hop import HopFailure
from hopscreen.schemas.round import HopsOutput
from hopscreen.screening.checkpoint import write_stage
from hopscreen.screening.hops_stage import enumerate_round_hops
from hopscreen.workflow.fanout import replace_running_job


@job(output_schema=HopsOutput, data=["hops", "networks", "failures"])
def enumerate_hops_job(
    candidates: list[CandidateDoc],
    hop_options: HopOptions | None = None,
    results_dir: str | None = None,
    workers: int | None = 1,
    hosts_per_job: int | None = None,
) -> Response | HopsOutput:
    """Job: enumerate and check the hops of every candidate (see :func:`enumerate_round_hops`).

    With ``results_dir`` the hops and failures are written to its store at once, and every
    host's hops and bands to its hop cache (read back by the prediction jobs and re-runs),
    the hosts spread over ``workers`` processes (see :func:`enumerate_round_hops`). With more
    than ``hosts_per_job`` candidates the job is replaced by one job per chunk of hosts and a
    merger (:func:`split_hops`).
    """
    if hosts_per_job is not None and len(candidates) > hosts_per_job:
        return split_hops(candidates, hop_options, results_dir, workers, hosts_per_job)
    out = enumerate_round_hops(candidates, hop_options, results_dir, workers)
    if results_dir is not None:
        write_stage(results_dir, "hops", out.hops)
        write_stage(results_dir, "failures", out.failures)
    return out


def split_hops(
    candidates: Sequence[CandidateDoc],
    hop_options: HopOptions | None,
    results_dir: str | None,
    workers: int | None,
    hosts_per_job: int,
) -> Response:
    """Replace the running hops job by one job per chunk of hosts and a merger (its uuid)."""
    if hosts_per_job < 1:
        raise ValueError(f"hosts_per_job must be at least 1, got {hosts_per_job}")
    chunks = [
        list(candidates[i : i + hosts_per_job]) for i in range(0, len(candidates), hosts_per_job)
    ]
    parts = []
    for i, chunk in enumerate(chunks):
        part = enumerate_hops_job(chunk, hop_options, results_dir, workers)  # does not split
        part.name = f"hops chunk {i + 1}/{len(chunks)}"
        parts.append(part)
    merge = merge_hops([p.output for p in parts], [[c.name for c in chunk] for chunk in chunks])
    merge.name = "merge hops"
    return replace_running_job(parts, merge, "hops chunks")


def merge_hops_parts(
    parts: Sequence[HopsOutput | dict[str, Any] | None], chunk_names: Sequence[Sequence[str]]
) -> HopsOutput:
    """Concatenate chunk outputs in order; a missing one (its job failed) fails its hosts."""
    merged = HopsOutput()
    for part, names in zip(parts, chunk_names, strict=True):
        if part is None:
            merged.failures.extend(
                HopFailure(candidate_name=name, reason="hops job failed") for name in names
            )
            continue
        out = part if isinstance(part, HopsOutput) else HopsOutput.from_dict(part)
        merged.hops.extend(out.hops)
        merged.failures.extend(out.failures)
        merged.networks.extend(out.networks)
    return merged


@job(output_schema=HopsOutput, data=["hops", "networks", "failures"])
def merge_hops(parts: list[Any], chunk_names: list[list[str]]) -> HopsOutput:
    """Job: the hops chunks' outputs as one (see :func:`merge_hops_parts`)."""
    return merge_hops_parts(parts, chunk_names)
