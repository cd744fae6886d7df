"""Campaign benchmark: a real screening round on the first N Li hosts of the pre-training corpus.

``hopscreen bench --campaign N`` writes the first N hosts of a fixed, documented order
(:func:`~hopscreen.benchmarks.campaign_corpus.campaign_corpus`) as pymatgen JSON files into
a temporary folder and screens them with the library's own round (:func:`build_round` +
:func:`run_round_locally`, ``verifier: none``) on a fresh results folder; then it runs the
identical round again at once (the immediate re-run, which the round record answers:
:mod:`hopscreen.screening.round_record`) and checks that it wrote no new prediction; a third
run with ``force`` runs every job again on the full store (what a round whose record does not
match costs: each job finds its work stored). Each round runs in a fresh Python process, as a
user's ``hopscreen screen`` would: its peak resident memory is its own (the corpus loaded by
the benchmark is not in it) and a re-run cannot profit from anything an earlier run left in
memory.

Seconds per stage come from jobflow's own ``Starting job`` / ``Finished job`` log records of
the local manager (one process runs the jobs one after the other, so a job's span is its
wall time, reference resolution and output storage included). What is not inside a job
(building the flow, opening the job store) is the ``outside jobs`` line.
"""

from __future__ import annotations

import json
import logging
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Self

import torch

from hopscreen.benchmarks.campaign_corpus import (
    ORDER_RULE,
    CorpusHost,
    campaign_corpus,
    write_structures,
)
from hopscreen.benchmarks.campaign_resume import kill_and_resume
from hopscreen.benchmarks.machine import load_average, machine_description, peak_rss_mib
from hopscreen.inference.workers import MAX_DEFAULT_WORKERS, available_cores, shutdown_workers
from hopscreen.models.shipped import DEFAULT_MODEL
from hopscreen.store import open_results_store
from hopscreen.store.progress import read_progress
from hopscreen.workflow.campaign import CampaignConfig, build_round, run_round_locally
from hopscreen.workflow.log_tap import LoggerTap

SECTION = "campaign"
"""Name of the BENCHMARKS.md section this benchmark owns."""

STAGES: tuple[tuple[str, str], ...] = (
    ("candidates", "candidates"),
    ("hops", "hops"),
    ("merge hops", "hops"),
    ("merge predictions", "predict"),
    ("predict", "predict"),
    ("select", "select"),
    ("gather verifications", "verify"),
    ("verify", "verify"),
    ("collect", "collect"),
)
"""(job-name prefix, stage) pairs, first match wins; other jobs count as ``other jobs``."""

NO_REASON = "no reason given"
"""Code of a stored failure whose reason is empty."""

Progress = Callable[[str], None]


def stage_of(job_name: str) -> str:
    """The round stage a job belongs to, by its name (see :data:`STAGES`)."""
    for prefix, stage in STAGES:
        if job_name.startswith(prefix):
            return stage
    return "other jobs"


_JOB_LINE = re.compile(r"^(?P<what>Starting|Finished) job - (?P<name>.*) \([0-9a-f-]+(, \d+)?\)$")


class JobClock(LoggerTap):
    """Times the jobs of a local round from jobflow's ``Starting``/``Finished job`` records.

    Parameters
    ----------
    progress
        Called with one line per finished job (name, seconds, time since the clock started).
    """

    logger_name = "jobflow.core.job"

    def __init__(self, progress: Progress | None = None) -> None:
        super().__init__()
        self.events: list[tuple[float, str, str]] = []
        self.progress = progress
        self.started = time.time()

    def __enter__(self) -> Self:
        self.started = time.time()
        return super().__enter__()

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the time, kind and job name of a ``Starting``/``Finished job`` record."""
        match = _JOB_LINE.match(record.getMessage())
        if not match:
            return
        self.events.append((record.created, match["what"], match["name"]))
        if self.progress is not None and match["what"] == "Finished":
            start = next(
                (t for t, what, name in reversed(self.events) if what == "Starting"),
                record.created,
            )
            self.progress(
                f"  {match['name']}: {record.created - start:.1f} s "
                f"(round at {record.created - self.started:.0f} s)"
            )

    def stage_seconds(self, ended: float) -> dict[str, float]:
        """Seconds per stage; a job without ``Finished`` (it raised) lasts until the next start.

        Parameters
        ----------
        ended
            ``time.time()`` when the round returned.
        """
        out: Counter[str] = Counter()
        starts = [(t, name) for t, what, name in self.events if what == "Starting"]
        finishes = [(t, name) for t, what, name in self.events if what == "Finished"]
        for k, (t0, name) in enumerate(starts):
            t_next = starts[k + 1][0] if k + 1 < len(starts) else ended
            t1 = next((t for t, n in finishes if n == name and t0 <= t <= t_next), t_next)
            out[stage_of(name)] += t1 - t0
        out["outside jobs"] = max(0.0, ended - self.started - sum(out.values()))
        return dict(out)


def timed_round(
    config: dict[str, Any], progress: Progress | None = None, *, force: bool = False
) -> dict[str, Any]:
    """Run one round of a campaign configuration in this process and time it.

    Parameters
    ----------
    config
        A :class:`~hopscreen.workflow.campaign.CampaignConfig` mapping.
    progress
        Called with one line per finished job.
    force
        Run the jobs even if the round is up to date (``run_round_locally(force=True)``).

    Returns
    -------
    dict
        ``seconds`` (flow building to summary), ``stage_seconds``, ``jobs`` (jobs run),
        ``summary`` (the round summary as JSON), ``peak_rss_mib`` (this process's high-water
        mark), ``children_peak_rss_mib`` (largest finished child process, 0 if none) and
        ``torch_threads``.
    """
    cfg = CampaignConfig.from_dict(config)
    with JobClock(progress) as clock:
        summary = run_round_locally(build_round(cfg), cfg.results_dir, force=force)
        ended = time.time()
    shutdown_workers()  # joined, so that the workers' peak memory is in RUSAGE_CHILDREN
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return {
        "seconds": ended - clock.started,
        "stage_seconds": clock.stage_seconds(ended),
        "jobs": sum(1 for _, what, _ in clock.events if what == "Starting"),
        "summary": summary.model_dump(mode="json"),
        "reused_from": summary.reused_from,
        "peak_rss_mib": peak_rss_mib(),
        "children_peak_rss_mib": children,
        "torch_threads": torch.get_num_threads(),
        "workers": min(available_cores(), MAX_DEFAULT_WORKERS),
    }


def _child_main(argv: Sequence[str]) -> int:
    """Entry of the round process: ``CONFIG.json RESULT.json [--force]``; progress on stdout."""
    config_path, result_path, *flags = argv
    config = json.loads(Path(config_path).read_text())
    try:
        timed = timed_round(config, progress=_print_line, force="--force" in flags)
        result: dict[str, Any] = {"result": timed}
    except Exception as exc:  # any failure is reported to the parent, which raises it
        result = {"error": f"{type(exc).__name__}: {exc}"}
    Path(result_path).write_text(json.dumps(result, default=str))
    return 0 if "result" in result else 1


def _print_line(line: str) -> None:
    print(line, flush=True)


def run_round_isolated(
    config: dict[str, Any], progress: Progress | None = None, *, force: bool = False
) -> dict[str, Any]:
    """:func:`timed_round` in a fresh Python process; its stdout lines are relayed to progress.

    The returned dict also has ``process_seconds``: the child's whole life, Python start
    and imports included.

    Raises
    ------
    RuntimeError
        If the round raised (its message) or the process died without a result.
    """
    with tempfile.TemporaryDirectory(prefix="hopscreen-round-") as tmp:
        config_path, result_path = Path(tmp) / "config.json", Path(tmp) / "result.json"
        config_path.write_text(json.dumps(config))
        command = [sys.executable, "-m", __name__, str(config_path), str(result_path)]
        command += ["--force"] if force else []
        start = time.perf_counter()
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
            assert proc.stdout is not None
            try:
                for line in proc.stdout:
                    if progress is not None:
                        progress(line.rstrip("\n"))
            except BaseException:  # interrupted: do not leave the round running alone
                proc.kill()
                raise
        seconds = time.perf_counter() - start
        if not result_path.is_file():
            raise RuntimeError(
                f"the campaign round process ended (exit code {proc.returncode}) without a result"
            )
        answer = json.loads(result_path.read_text())
    if "error" in answer:
        raise RuntimeError(f"the campaign round failed: {answer['error']}")
    return {**answer["result"], "process_seconds": seconds}


def prediction_stamps(results_dir: Path | str) -> dict[str, datetime]:
    """``prediction_id`` → ``last_updated`` of every stored prediction (read-only)."""
    with open_results_store(results_dir, read_only=True) as store:
        return {str(r["prediction_id"]): r["last_updated"] for r in store.read("predictions")}


def _reason_head(reason: str) -> str:
    """A failure reason as a group: its first line, numbers as ``N``, at most 80 characters.

    ``ValueError: no two Li sites within 5.0 Å`` becomes
    ``ValueError: no two Li sites within N Å``, so hosts failing the same way group together.
    """
    lines = reason.strip().splitlines()
    head = re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "N", lines[0]) if lines else ""
    return head.strip()[:80] or NO_REASON


def failures_by_reason(results_dir: Path | str) -> dict[str, int]:
    """Stored failures of a results folder grouped as ``<stage>: <code>``, most frequent first.

    Candidate failures keep their gate code; hop and prediction failures are grouped by their
    reason with the numbers blanked (:func:`_reason_head`: exception type and message).
    """
    counts: Counter[str] = Counter()
    with open_results_store(results_dir, read_only=True) as store:
        records = store.read("failures")
    for r in records:
        if r.get("doc_type") == "HopFailure":
            stage = "prediction" if r.get("hop_id") else "hops"
            counts[f"{stage}: {_reason_head(str(r.get('reason') or ''))}"] += 1
        else:
            counts[f"candidate: {r.get('code') or _reason_head(str(r.get('reason') or ''))}"] += 1
    return dict(counts.most_common())


def _round_config(structures: Path, results: Path, model: str | None, ion: str) -> dict[str, Any]:
    """The campaign mapping of one round: the structure folder, no verification."""
    return {
        "sources": {"files": [str(structures)]},
        "ion": ion,
        "results_dir": str(results),
        "model": model,
        "verifier": "none",
    }


def _check_fresh(results: Path) -> None:
    if results.exists() and (not results.is_dir() or any(results.iterdir())):
        raise ValueError(f"{results} is not an empty folder: the campaign needs a fresh store")


def _rerun_writes(before: dict[str, datetime], after: dict[str, datetime]) -> dict[str, int]:
    """Predictions the re-run added, and stored ones it wrote again (``last_updated`` moved)."""
    return {
        "before": len(before),
        "after": len(after),
        "new": len(set(after) - set(before)),
        "restamped": sum(1 for k, t in before.items() if k in after and after[k] != t),
    }


def _screen_twice(
    config: dict[str, Any], run: Callable[..., dict[str, Any]], say: Progress
) -> dict[str, Any]:
    """First round, store readings, immediate re-run, forced re-run; the figures of each."""
    results = Path(config["results_dir"])
    say("first run")
    first = run(config, say)
    say(f"first run: {first['seconds']:.1f} s; reading the store")
    progress = read_progress(results).model_dump(mode="json")
    failures = failures_by_reason(results)
    before = prediction_stamps(results)
    say("immediate re-run of the same campaign")
    rerun = run(config, say)
    writes = _rerun_writes(before, prediction_stamps(results))
    say(f"re-run: {rerun['seconds']:.1f} s, {writes['new']} new predictions")
    say("re-run with force: every job runs again, resuming from the store")
    forced = run(config, say, force=True)
    forced_writes = _rerun_writes(before, prediction_stamps(results))
    say(f"forced re-run: {forced['seconds']:.1f} s, {forced_writes['new']} new predictions")
    return {
        "first": first,
        "rerun": rerun,
        "forced": forced,
        "progress": progress,
        "failures_by_reason": failures,
        "rerun_predictions": writes,
        "forced_predictions": forced_writes,
    }


def bench_campaign(
    n_hosts: int,
    *,
    model: str | None = DEFAULT_MODEL,
    results_dir: Path | str | None = None,
    data_dir: Path | str | None = None,
    hosts: Sequence[CorpusHost] | None = None,
    isolate: bool = True,
    kill_test: bool = True,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Screen the first ``n_hosts`` campaign hosts: first run, immediate re-run, forced re-run.

    With ``kill_test``, a third run on a fresh folder is killed (SIGKILL) once half of the
    first run's predictions are stored, run again to the end, and its store compared with
    the first run's (:mod:`hopscreen.benchmarks.campaign_resume`).

    Parameters
    ----------
    n_hosts
        Hosts to screen, from the start of the order
        (:func:`~hopscreen.benchmarks.campaign_corpus.campaign_corpus`).
    model
        Model folder or shipped name of the round (default: the shipped default).
    results_dir
        Results folder to keep for inspection (must be new or empty); None: a temporary one.
    data_dir
        Data directory of the corpus.
    hosts
        Hosts to use instead of the corpus order (tests); their first ``n_hosts`` are taken.
    isolate
        Run each round in a fresh Python process (:func:`run_round_isolated`); False runs
        them in this process (its peak memory then includes the caller's).
    kill_test
        Also kill a fresh run mid-way and resume it (always in child processes).
    progress
        Called with progress lines (one per stage and per job).

    Returns
    -------
    dict
        Machine (with the load average before and after), the order and its counts, the
        model, the timed ``first`` and ``rerun`` rounds, the store's stage counts, failures
        by reason and what the re-run wrote; rendered by
        :func:`hopscreen.benchmarks.campaign_report.campaign_markdown`.
    """
    say = progress or (lambda _line: None)
    machine = machine_description()
    if results_dir is not None:
        _check_fresh(Path(results_dir))
    say(f"campaign of {n_hosts} hosts: selecting the hosts")
    counts: dict[str, int] | None = None
    if hosts is None:
        corpus = campaign_corpus(data_dir)
        hosts, counts = corpus.hosts, corpus.counts
    chosen = list(hosts)[:n_hosts]
    run = run_round_isolated if isolate else timed_round
    with tempfile.TemporaryDirectory(prefix="hopscreen-campaign-") as tmp:
        results = Path(results_dir) if results_dir is not None else Path(tmp) / "results"
        structures = Path(tmp) / "structures"
        write_structures(chosen, structures)
        say(f"wrote {len(chosen)} structure files to {structures}")
        config = _round_config(structures, results, model, "Li")
        figures = _screen_twice(config, run, say)
        if kill_test:
            figures["kill_resume"] = _kill_test(structures, results, model, figures, say)
    return {
        "machine": machine,
        "load_average_after": load_average(),
        "n_requested": n_hosts,
        "n_hosts": len(chosen),
        "order": ORDER_RULE if counts is not None else "hosts given by the caller",
        "corpus_counts": counts,
        "model": model,
        "isolated": isolate,
        "results_dir": str(results) if results_dir is not None else None,
        **figures,
    }


def _kill_test(
    structures: Path, reference: Path, model: str | None, figures: dict[str, Any], say: Progress
) -> dict[str, Any]:
    """Kill a fresh run once half the first run's predictions are stored; resume; compare."""
    killed = reference.parent / f"{reference.name}-killed"
    config = _round_config(structures, killed, model, "Li")
    half = max(1, figures["first"]["summary"]["n_predictions"] // 2)
    say(f"kill test: a fresh run, killed once {half} predictions are stored, then resumed")
    out = kill_and_resume(
        config, reference, lambda cfg: run_round_isolated(cfg, say), kill_after=half
    )
    say(f"kill test: resumed in {out['resumed']['seconds']:.1f} s; store compared")
    return out


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
