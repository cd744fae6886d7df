"""Run-time fan-out: a job replaced by many jobs and a collector that answers in its name."""

from __future__ import annotations

from collections.abc import Sequence

from jobflow import CURRENT_JOB, Flow, Job, OnMissing, Response


def replace_running_job(parts: Sequence[Job], collector: Job, name: str) -> Response:
    """Replace the running job by ``parts`` and ``collector``; the collector takes its uuid.

    References to the running job's output then resolve to the collector's output (its next
    index). The collector runs with ``on_missing_references="none"``, so a part whose job
    failed reaches it as None instead of stopping it. jobflow's own mapping for a replacing
    Flow with an output (a ``store_inputs`` job) would fail the output_schema check, hence
    ``output=None``.
    """
    collector.update_config({"on_missing_references": OnMissing.NONE})
    current = CURRENT_JOB.job
    if current is not None:
        collector.set_uuid(current.uuid)
        collector.index = current.index + 1
        collector.metadata.update(current.metadata)
    return Response(replace=Flow([*parts, collector], output=None, name=name))
