"""The ``campaign`` section of BENCHMARKS.md, from the figures of :func:`bench_campaign`."""

from __future__ import annotations

from typing import Any

from hopscreen.benchmarks.campaign import NO_REASON, STAGES

TARGET_HOPS_PER_S = 20.0
STRETCH_HOPS_PER_S = 50.0
TARGET_RSS_MIB = 4096.0
TARGET_RERUN_FRACTION = 0.05
EXTRAPOLATE_TO_HOSTS = 2000


def _tier2_line(summary: dict[str, Any]) -> str:
    """The tier-2 share from the summary's cascade record, or that there is no cascade."""
    cascade = summary.get("cascade")
    if isinstance(cascade, dict) and cascade.get("share_tier2") is not None:
        return (
            f"Tier-2 share: {100 * cascade['share_tier2']:.1f} % of hops "
            f"({cascade.get('n_tier2', '?')} of {cascade.get('n_hops', '?')}; rule "
            f"`{cascade.get('rule', '?')}`)."
        )
    return (
        f"Tier-2 share: no cascade: every hop by `{summary.get('model_version')}` "
        "(the round summary has no cascade record)."
    )


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _peak_rss(run: dict[str, Any]) -> float:
    """Upper bound of the round's memory: its process plus every worker at the largest's peak."""
    workers = run.get("workers") or 1
    return run["peak_rss_mib"] + workers * (run.get("children_peak_rss_mib") or 0.0)


def _rss_cell(run: dict[str, Any]) -> str:
    child = run.get("children_peak_rss_mib") or 0.0
    return (
        f"{_peak_rss(run):.0f} ({run['peak_rss_mib']:.0f} + {run.get('workers') or 1} × "
        f"{child:.0f})"
    )


def _hops_per_s(run: dict[str, Any]) -> float:
    hops = run["summary"]["n_hops"]
    return hops / run["seconds"] if run["seconds"] > 0 else 0.0


def _run_table(figures: dict[str, Any]) -> list[str]:
    """First run beside the immediate re-run and, when it ran, the forced re-run."""
    first, writes = figures["first"], figures["rerun_predictions"]
    runs = [first, figures["rerun"]]
    head = "| | first run | immediate re-run |"
    if figures.get("forced"):
        runs.append(figures["forced"])
        head += " re-run with force (every job runs) |"
    wrote = [f"{w['new']} new, {w['restamped']} stored ones re-stamped" for w in
             (writes, figures.get("forced_predictions") or writes)]  # fmt: skip

    def row(label: str, *cells: str) -> str:
        return f"| {label} | " + " | ".join(cells[: len(runs)]) + " |"

    def share(run: dict[str, Any]) -> str:
        return f"{run['seconds']:.1f} ({100 * run['seconds'] / first['seconds']:.1f} %)"

    return [
        head,
        "|---" * (len(runs) + 1) + "|",
        row("round seconds (flow built → summary)", f"{first['seconds']:.1f}",
            *(share(r) for r in runs[1:])),
        row("process seconds (Python start and imports included)",
            *(f"{r.get('process_seconds', r['seconds']):.1f}" for r in runs)),
        row("hops/s end to end", *("– (no job ran)" if r.get("reused_from") else
                                   f"{_hops_per_s(r):.2f}" for r in runs)),
        row("peak RSS, MiB: round process + its workers (each at the largest's peak)",
            *(_rss_cell(r) for r in runs)),
        row("jobs run", *(str(r["jobs"]) for r in runs)),
        row("answered from the round record", *("yes" if r.get("reused_from") else "no"
                                                 for r in runs)),
        row("predictions in the store", str(writes["before"]), str(writes["after"]),
            str((figures.get("forced_predictions") or writes)["after"])),
        row("predictions written by this run", str(first["summary"]["n_predictions"]), *wrote),
    ]  # fmt: skip


def _stage_table(figures: dict[str, Any]) -> list[str]:
    """Seconds per stage of each run, in round order."""
    first = figures["first"]
    runs = [first, figures["rerun"], *([figures["forced"]] if figures.get("forced") else [])]
    order = [*dict.fromkeys(stage for _, stage in STAGES), "other jobs", "outside jobs"]
    seconds = [r["stage_seconds"] for r in runs]
    head = "| stage | first run s | share | re-run s |" + (
        " forced re-run s |" if len(runs) > 2 else ""
    )
    lines = [head, "|---" * (len(runs) + 2) + "|"]
    for stage in order:
        if any(stage in sec for sec in seconds):
            a = seconds[0].get(stage, 0.0)
            rest = " | ".join(f"{sec.get(stage, 0.0):.1f}" for sec in seconds[1:])
            lines.append(f"| {stage} | {a:.1f} | {100 * a / first['seconds']:.0f} % | {rest} |")
    return lines


def _rerun_line(figures: dict[str, Any]) -> str:
    """How the immediate re-run was answered, and what the forced one shows."""
    rerun = figures["rerun"]
    if rerun.get("reused_from"):
        text = (
            "The immediate re-run found the first run's round record "
            "(`<results>/round-records/<key>.json`: same inputs, settings and model, results store "
            "unchanged since; `hopscreen.screening.round_record`) and ran no job; its seconds "
            "are the inputs' hashing, the store's digest and the flow's building."
        )
    else:
        text = "The immediate re-run ran the round's jobs (no round record matched)."
    if figures.get("forced"):
        text += (
            " The forced re-run (`hopscreen screen --force`) runs every job again on the "
            "full store, each finding its work stored: what a re-run costs when the record "
            "does not match (for example after another round wrote to the store)."
        )
    return text


def _hosts_lines(figures: dict[str, Any]) -> list[str]:
    """What became of the hosts and their hops, and the failures by reason."""
    s, p = figures["first"]["summary"], figures["progress"]
    accepted = s["n_candidates"]
    with_hops = accepted - p["hosts_failed_hops"]
    lines = [
        f"Hosts: {figures['n_hosts']} files → {accepted} accepted, "
        f"{s['n_candidate_failures']} rejected by the input gate; {with_hops} with hops, "
        f"{p['hosts_failed_hops']} whose hop enumeration failed. Hops: {s['n_hops']} "
        f"({s['n_hops'] / max(with_hops, 1):.1f} per host with hops); predictions "
        f"{s['n_predictions']}, prediction failures {p['prediction_failures']}.",
        "",
    ]
    failures = figures["failures_by_reason"]
    if failures:
        lines += ["| failure (stage: reason) | count |", "|---|---|"]
        lines += [f"| {reason} | {n} |" for reason, n in failures.items()]
    else:
        lines.append("No failures.")
    return [*lines, ""]


def _checks(figures: dict[str, Any]) -> list[str]:
    """The issue's done-when conditions, each with its measured value."""
    first, rerun, writes = figures["first"], figures["rerun"], figures["rerun_predictions"]
    s = first["summary"]
    rate, peak = _hops_per_s(first), max(_peak_rss(first), _peak_rss(rerun))
    fraction = rerun["seconds"] / first["seconds"]
    unexplained = sum(
        n for reason, n in figures["failures_by_reason"].items() if reason.endswith(NO_REASON)
    )
    crashed = [*s.get("failed_stages", []), *(e["job_name"] for e in s.get("job_errors", []))]
    return [
        f"- ≥ {TARGET_HOPS_PER_S:.0f} hops/s end to end (stretch {STRETCH_HOPS_PER_S:.0f}): "
        f"{_yes(rate >= TARGET_HOPS_PER_S)} ({rate:.2f}).",
        f"- peak RSS < {TARGET_RSS_MIB / 1024:.0f} GiB: {_yes(peak < TARGET_RSS_MIB)} "
        f"({peak:.0f} MiB).",
        f"- every failing host has a reason: {_yes(unexplained == 0)}; none crashes the round: "
        f"{_yes(not crashed)}{' (' + ', '.join(crashed) + ')' if crashed else ''}.",
        f"- immediate re-run ≤ {100 * TARGET_RERUN_FRACTION:.0f} % of the first run: "
        f"{_yes(fraction <= TARGET_RERUN_FRACTION)} ({100 * fraction:.1f} %); writes no new "
        f"prediction: {_yes(writes['new'] == 0)} ({writes['new']} new, {writes['restamped']} "
        "re-stamped).",
        "",
    ]


def _orphans(kill: dict[str, Any]) -> str:
    """The killed round's worker processes: how many, and how many outlived it."""
    if not kill["killed"] or "child_processes_at_kill" not in kill:
        return ""
    return (
        f"; its {kill['child_processes_at_kill']} child processes (worker processes and "
        f"multiprocessing's resource tracker): {kill['child_processes_left']} still running "
        "10 s after the kill"
    )


def _kill_lines(figures: dict[str, Any]) -> tuple[list[str], str]:
    """What the kill test did and found, and its done-when line."""
    test = figures.get("kill_resume")
    if not test:
        return ["Kill test: not run.", ""], "- killed mid-way and re-run: not measured here."
    kill, table = test["kill"], test["comparison"]
    bad = {
        name: {k: v for k, v in row.items() if k in ("lost", "extra", "duplicated", "differing")}
        for name, row in table.items()
    }
    clean = kill["killed"] and all(v == 0 for row in bad.values() for v in row.values())
    lines = [
        "Kill test: a fresh run of the same campaign on another folder, killed with SIGKILL "
        + (
            f"{kill['seconds_before_kill']:.0f} s after its start, when its store held "
            f"{kill['predictions_when_killed']} predictions "
            f"({kill['predictions_stored_after_kill']} after the kill)"
            if kill["killed"]
            else "— not killed: the round ended before the trigger"
        )
        + _orphans(kill)
        + f", then the same command run again to the end ({test['resumed']['seconds']:.1f} s). "
        "Its store against the uninterrupted first run's, per collection (records; keys lost, "
        "extra, duplicated, with other content):",
        "",
        "| collection | uninterrupted | killed + resumed | lost | extra | duplicated | differing |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {row['reference']} | {row['resumed']} | {row['lost']} | {row['extra']} | "
        f"{row['duplicated']} | {row['differing']} |"
        for name, row in table.items()
    ]
    verdict = f"- killed mid-way and re-run: same store as an uninterrupted run: {_yes(clean)}."
    return [*lines, ""], verdict


def _extrapolation(figures: dict[str, Any]) -> list[str]:
    """Seconds per host and per hop, and a linear estimate for the issue's campaign size."""
    first = figures["first"]
    n, hops = figures["n_hosts"], first["summary"]["n_hops"]
    per_host = first["seconds"] / max(n, 1)
    per_hop = first["seconds"] / max(hops, 1)
    return [
        f"Rates of the first run: {per_host:.2f} s per host, {per_hop:.2f} s per hop; a linear "
        f"extrapolation to {EXTRAPOLATE_TO_HOSTS:,} hosts gives "
        f"{per_host * EXTRAPOLATE_TO_HOSTS / 3600:.1f} h (an estimate, not a measurement: "
        "larger campaigns draw other cells and amortise model loading).",
        "",
    ]


def campaign_markdown(
    figures: dict[str, Any], machine_line: str, note: str | None = None, command: str = ""
) -> str:
    """The ``campaign`` section of BENCHMARKS.md.

    Parameters
    ----------
    figures
        What :func:`hopscreen.benchmarks.campaign.bench_campaign` returned.
    machine_line
        :func:`hopscreen.benchmarks.sections.machine_line` of this machine.
    note
        Conditions of the run noted by the person who ran it.
    command
        The command that produced the figures (shown as written).

    Returns
    -------
    str
        Markdown, ending in a newline.
    """
    first = figures["first"]
    m = figures["machine"]
    after = figures.get("load_average_after")
    out = [
        f"## Campaign: {figures['n_hosts']} Li hosts of the pre-training corpus, one round "
        "without verification",
        "",
        f"{machine_line} Load average (1 min) {m['load_average_at_start']:.2f} at the start, "
        f"{'n/a' if after is None else f'{after:.2f}'} at the end.",
    ]
    if note:
        out += ["", f"Conditions noted by the person who ran it: {note}"]
    counts = figures.get("corpus_counts")
    order = f"Hosts: the first {figures['n_hosts']} of {figures['order']}."
    if counts:
        order += (
            f" Of {counts['corpus_entries']:,} corpus entries, {counts['with_ion']:,} hold Li "
            f"and ≥ 3 elements; {counts['near_duplicates_dropped']} near-duplicates and "
            f"{counts['leakage_excluded']} E_m-host formulas are left out: "
            f"{counts['hosts']:,} hosts in the order."
        )
    out += [
        "",
        f"Written by `{command or 'hopscreen bench --campaign N'}`. {order}",
        "",
        f"Model `{first['summary'].get('model_version')}` (asked for `{figures['model']}`), "
        f"verifier none, torch {first['torch_threads']} threads in the round process; the "
        f"hops and prediction jobs spread over {first.get('workers') or 1} worker processes "
        "(one torch thread each; `prediction.workers` left at its default, one per core). "
        "Each round runs in a fresh "
        "Python process (`hopscreen.benchmarks.campaign.run_round_isolated`) on the same "
        "fresh results folder; round seconds run from building the flow to the summary; "
        "seconds per stage are the spans between jobflow's `Starting job` and `Finished job` "
        "log records of each job (jobs run one after the other), summed per stage.",
        "",
        *_run_table(figures),
        "",
        _rerun_line(figures),
        "",
        *_hosts_lines(figures),
        *_stage_table(figures),
        "",
        _tier2_line(first["summary"]),
        "",
        *_extrapolation(figures),
        *_kill_lines(figures)[0],
        "Done-when of the campaign benchmark on this run:",
        "",
        *_checks(figures)[:-1],
        _kill_lines(figures)[1],
        "",
    ]
    return "\n".join(out).rstrip() + "\n"
