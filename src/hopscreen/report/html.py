"""A self-contained HTML report of a results store (figures embedded as base64 PNG).

Sections: the materials ranked by ``p_good`` (per-host verdicts: percolation barriers and the
bottleneck hop), the ranked table of predicted barriers (with the verification of each hop, if
any), the distribution of predicted barriers per candidate, prediction-vs-verification parity with
σ error bars, and the NEB energy profiles of the verified hops.
"""

from __future__ import annotations

import base64
import html
import io
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.schemas.verification import VerificationDoc
from hopscreen.store import host_frame, open_results_store


class ReportWriteError(OSError):
    """The report file cannot be written (the message names the path and the reason)."""


@dataclass
class ReportData:
    """What a report shows, read from a results store.

    Attributes
    ----------
    predictions : list of PredictionDoc
        Every stored prediction.
    verifications : list of VerificationDoc
        Every stored verification.
    selected : set of str
        Hop ids selected for verification in any stored round.
    threshold_ev : float
        Good/bad threshold (of the latest selection; 0.65 eV if none).
    n_candidates, n_hops, n_failures : int
        Counts of the other collections.
    hosts : list of dict
        Per-host verdicts, most likely good conductor first (rows of
        :func:`hopscreen.store.host_frame`).

    """

    predictions: list[PredictionDoc] = field(default_factory=list)
    verifications: list[VerificationDoc] = field(default_factory=list)
    selected: set[str] = field(default_factory=set)
    threshold_ev: float = 0.65
    n_candidates: int = 0
    n_hops: int = 0
    n_failures: int = 0
    hosts: list[dict[str, Any]] = field(default_factory=list)


def load_report_data(results_dir: str | Path) -> ReportData:
    """Read the documents of a results folder into a :class:`ReportData`.

    The store is opened read-only: nothing is written into the folder, and a store without
    write permission can be reported.

    Raises
    ------
    NoResultsStoreError
        If the results folder does not exist, is a file, or holds no results store.
    CorruptStoreError
        If the store's files or documents are damaged.
    StorePermissionError
        If a file of the store cannot be read.

    """
    data = ReportData()
    with open_results_store(results_dir, read_only=True) as store:
        data.predictions = store.read_docs("predictions", PredictionDoc)
        data.verifications = store.read_docs("verifications", VerificationDoc)
        selections = store.read("selections", sort={"last_updated": 1})
        for sel in selections:
            data.selected.update(h["hop_id"] for h in sel.get("selected", []))
        if selections:
            data.threshold_ev = float(selections[-1]["threshold_ev"])
        data.n_candidates = store.count("candidates")
        data.n_hops = store.count("hops")
        data.n_failures = store.count("failures")
        frame = host_frame(store)
        data.hosts = [
            {k: (None if v != v else v) for k, v in row.items()}  # NaN -> None
            for row in frame.astype(object).to_dict(orient="records")
        ]
    return data


def _figure_png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    # optional heavy dependency (engine extra): matplotlib
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _img(png_b64: str, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{png_b64}">'


def distribution_figure(data: ReportData) -> str | None:
    """Predicted barriers (± σ) per candidate, as a base64 PNG (None without predictions)."""
    if not data.predictions:
        return None
    # optional heavy dependency (engine extra): matplotlib
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({p.candidate_name for p in data.predictions})
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(names) + 1.5))
    for i, name in enumerate(names):
        preds = [p for p in data.predictions if p.candidate_name == name]
        ax.errorbar(
            [p.barrier_ev for p in preds],
            [i] * len(preds),
            xerr=[p.sigma_ev for p in preds],
            fmt="o",
            color="tab:blue",
            alpha=0.8,
            capsize=3,
        )
    ax.axvline(data.threshold_ev, color="tab:red", ls="--", label=f"{data.threshold_ev:g} eV")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted E_m (eV), ± σ")
    ax.legend(loc="best")
    return _figure_png(fig)


def _verified_pairs(data: ReportData) -> list[tuple[PredictionDoc, VerificationDoc]]:
    latest: dict[str, PredictionDoc] = {}
    for p in data.predictions:
        latest[p.hop_id] = p
    return [
        (latest[v.hop_id], v)
        for v in data.verifications
        if v.hop_id in latest and v.barrier_ev is not None
    ]


def parity_figure(data: ReportData) -> str | None:
    """Predicted (± σ) vs verified barriers, as a base64 PNG (None without verifications)."""
    pairs = _verified_pairs(data)
    if not pairs:
        return None
    # optional heavy dependency (engine extra): matplotlib
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    x = [v.barrier_ev for _, v in pairs]
    y = [p.barrier_ev for p, _ in pairs]
    colors = ["tab:green" if v.status == "ok" else "tab:orange" for _, v in pairs]
    ax.errorbar(x, y, yerr=[p.sigma_ev for p, _ in pairs], fmt="none", ecolor="grey", capsize=3)
    ax.scatter(x, y, c=colors, zorder=3)
    lo = min([0.0, *x, *y])
    hi = max([*x, *y, data.threshold_ev]) * 1.1 + 0.1
    ax.plot([lo, hi], [lo, hi], color="black", lw=1)
    ax.axhline(data.threshold_ev, color="tab:red", ls="--", lw=1)
    ax.axvline(data.threshold_ev, color="tab:red", ls="--", lw=1)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("verified E_m (eV)  [green: converged, orange: step cap]")
    ax.set_ylabel("predicted E_m (eV), ± σ")
    return _figure_png(fig)


def profiles_figure(data: ReportData) -> str | None:
    """NEB energy profiles of the verifications with energies, as a base64 PNG (or None)."""
    bands = [v for v in data.verifications if v.energies_ev]
    if not bands:
        return None
    # optional heavy dependency (engine extra): matplotlib
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = {p.hop_id: p.candidate_name for p in data.predictions}
    fig, ax = plt.subplots(figsize=(6, 4))
    for v in bands:
        energies = v.energies_ev or []
        coord = [i / (len(energies) - 1) for i in range(len(energies))]
        label = f"{names.get(v.hop_id, '?')} {v.hop_id[:8]} ({v.status})"
        ax.plot(coord, energies, marker="o", label=label)
    ax.set_xlabel("reaction coordinate (image / n)")
    ax.set_ylabel("E − E(initial) (eV)")
    ax.legend(fontsize="small")
    return _figure_png(fig)


def ranked_rows(data: ReportData) -> list[dict[str, Any]]:
    """One row per predicted hop, lowest barrier first, with its verification (if any)."""
    verified: dict[str, VerificationDoc] = {}
    for v in data.verifications:
        verified[v.hop_id] = v
    latest: dict[str, PredictionDoc] = {}
    for p in data.predictions:
        latest[p.hop_id] = p
    rows = []
    for p in sorted(latest.values(), key=lambda p: p.barrier_ev):
        v = verified.get(p.hop_id)
        rows.append(
            {
                "candidate": p.candidate_name,
                "ion": p.working_ion,
                "hop_id": p.hop_id[:12],
                "length_angstrom": p.length_angstrom,
                "barrier_ev": p.barrier_ev,
                "sigma_ev": p.sigma_ev,
                "class": "good" if p.barrier_ev < data.threshold_ev else "bad",
                "selected": p.hop_id in data.selected,
                "verified_ev": None if v is None else v.barrier_ev,
                "status": "" if v is None else v.status,
            }
        )
    return rows


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return html.escape(str(value))


_STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 1100px; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #eee; } td.l { text-align: left; }
tr.good td { background: #eefaee; }
img { max-width: 100%; }
"""


def hosts_table(data: ReportData) -> str:
    """The materials ranked by ``p_good``, as an HTML table (a sentence when there are none)."""
    if not data.hosts:
        return "<p>No per-host verdict stored (rounds written before verdicts existed).</p>"
    head = (
        "<tr><th>#</th><th>host</th><th>formula</th><th>ion</th><th>p_good</th>"
        "<th>E_perc 1D (eV)</th><th>5–95 % (eV)</th><th>bottleneck hop</th>"
        "<th>E_perc 2D (eV)</th><th>E_perc 3D (eV)</th><th>hops</th></tr>"
    )
    body = []
    for i, h in enumerate(data.hosts, 1):
        good = h["percolation_1d_ev"] is not None and h["percolation_1d_ev"] < h["threshold_ev"]
        spread = f"{_fmt(h['percolation_1d_q05_ev'], 2)}–{_fmt(h['percolation_1d_q95_ev'], 2)}"
        body.append(
            f'<tr class="{"good" if good else "bad"}"><td>{i}</td>'
            f'<td class="l">{_fmt(h["candidate_name"])}</td><td class="l">{_fmt(h["formula"])}'
            f"</td><td>{_fmt(h['working_ion'])}</td><td>{_fmt(h['p_good'], 2)}</td>"
            f"<td>{_fmt(h['percolation_1d_ev'])}</td><td>{spread}</td>"
            f"<td class='l'><code>{_fmt(h['bottleneck_1d_hop_id'])[:12]}</code></td>"
            f"<td>{_fmt(h['percolation_2d_ev'])}</td><td>{_fmt(h['percolation_3d_ev'])}</td>"
            f"<td>{_fmt(h['n_hops'])}</td></tr>"
        )
    note = (
        "<p>E_perc: the lowest predicted barrier at which the host's hops connect across the "
        "crystal in 1, 2 or 3 dimensions (— where they never do); p_good: the probability "
        "that E_perc 1D is below the threshold, from the calibrated uncertainty of each hop.</p>"
    )
    return f"{note}<table>{head}{''.join(body)}</table>"


def render_report(data: ReportData, *, title: str = "hopscreen results") -> str:
    """The report as one HTML string (no external resources)."""
    rows = ranked_rows(data)
    head = (
        "<tr><th>#</th><th>candidate</th><th>ion</th><th>hop</th><th>length (Å)</th>"
        "<th>E_m (eV)</th><th>σ (eV)</th><th>class</th><th>selected</th>"
        "<th>verified E_m (eV)</th><th>status</th></tr>"
    )
    body = []
    for i, r in enumerate(rows, 1):
        body.append(
            f'<tr class="{r["class"]}"><td>{i}</td><td class="l">{_fmt(r["candidate"])}</td>'
            f"<td>{_fmt(r['ion'])}</td><td class='l'><code>{_fmt(r['hop_id'])}</code></td>"
            f"<td>{_fmt(r['length_angstrom'], 2)}</td><td>{_fmt(r['barrier_ev'])}</td>"
            f"<td>{_fmt(r['sigma_ev'])}</td><td>{r['class']}</td>"
            f"<td>{_fmt(r['selected'])}</td><td>{_fmt(r['verified_ev'])}</td>"
            f"<td>{_fmt(r['status'])}</td></tr>"
        )
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{data.n_candidates} candidates, {data.n_hops} hops, {len(rows)} predicted, "
        f"{len(data.verifications)} verifications, {data.n_failures} failures recorded. "
        f"Threshold {data.threshold_ev:g} eV. Generated "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.</p>",
        "<h2>Materials, most likely good conductor first</h2>",
        hosts_table(data),
        "<h2>Ranked hops</h2>",
        f"<table>{head}{''.join(body)}</table>" if rows else "<p>No predictions stored.</p>",
    ]
    for heading, png, alt, empty in (
        ("Predicted barriers per candidate", distribution_figure(data), "distribution", None),
        (
            "Prediction vs verification",
            parity_figure(data),
            "parity",
            "No verified barrier yet.",
        ),
        ("NEB energy profiles", profiles_figure(data), "profiles", "No NEB profile yet."),
    ):
        if png is None and empty is None:
            continue
        sections.append(f"<h2>{heading}</h2>")
        sections.append(_img(png, alt) if png else f"<p>{empty}</p>")
    failed = [v for v in data.verifications if v.status == "failed"]
    if failed:
        items = "".join(
            f"<li><code>{v.hop_id[:12]}</code>: {html.escape(v.reason or '')}</li>" for v in failed
        )
        sections.append(f"<h2>Failed verifications</h2><ul>{items}</ul>")
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>"
    )


def check_writable(out: str | Path) -> Path:
    """Check that a report file can be written, before any work is done.

    Parameters
    ----------
    out : str or Path
        File to write (missing parent folders would be created).

    Returns
    -------
    Path
        The file.

    Raises
    ------
    ReportWriteError
        If the path is a folder, a parent is a file, or the file (or the folder that would hold
        it) is not writable.

    """
    path = Path(out)
    if path.is_dir():
        raise ReportWriteError(f"cannot write the report to {path}: it is a folder")
    target = path if path.exists() else path.parent
    while not target.exists() and target != target.parent:
        target = target.parent
    if target != path and not target.is_dir():
        raise ReportWriteError(f"cannot write the report to {path}: {target} is a file")
    if not os.access(target, os.W_OK):
        raise ReportWriteError(
            f"cannot write the report to {path}: permission denied ({target} is read-only)"
        )
    return path


def write_report(results_dir: str | Path, out: str | Path) -> Path:
    """Read a results folder and write its HTML report to ``out``.

    Parameters
    ----------
    results_dir : str or Path
        Results folder of a screening round (read only).
    out : str or Path
        HTML file to write (parent folders are created).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ReportWriteError
        If ``out`` cannot be written (checked before the store is read).
    ResultsStoreError
        If the results folder holds no readable store (see :func:`load_report_data`).

    """
    path = check_writable(out)
    data = load_report_data(results_dir)
    page = render_report(data, title=f"hopscreen results: {results_dir}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ReportWriteError(f"cannot write the report to {path}: {reason}") from exc
    return path
