"""Report of the paper's comparison (:mod:`hopscreen.benchmarks.reproduce`): table and plots.

Works on the JSON-ready result of :func:`hopscreen.benchmarks.reproduce.run_reproduce`: the
markdown tables (main comparison and generalization scenarios), the parity plots of every row,
and the ``reproduce`` section of ``BENCHMARKS.md``.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hopscreen.benchmarks.sections import machine_line, update_section
from hopscreen.evaluation.paper_test import published_test_baselines
from hopscreen.evaluation.results import ROW_PAPER

ENDPOINTS_NOTE = (
    "Models 1 and 2 read initial and final structures cut from the band (host + ion copy 0, "
    "host + ion copy 4), i.e. the band's endpoints, where the paper used its relaxed endpoint "
    "structures; for the published bands the two coincide except for the 10 test hops whose "
    "endpoints the authors relaxed separately (see `hopscreen.data.em_dataset.endpoint_atoms`)."
)


def write_parity_plot(
    result: dict[str, Any], y_test: np.ndarray, test_ids: Sequence[str], path: Path
) -> Path:
    """One parity panel per row (test hops), with the paper's Model-3 as the first panel."""
    import matplotlib  # optional heavy dependency (plots): matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # optional heavy dependency (plots): matplotlib

    panels = [("paper Model-3 (published)", None)] + [(r["name"], r) for r in result["rows"]]
    ncol = 4
    nrow = -(-len(panels) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 3.2 * nrow), squeeze=False)
    top = float(max(y_test.max(), 1.0)) * 1.05
    paper = result["paper_model3_test"]
    for ax, (title, row) in zip(axes.flat, panels, strict=False):
        if row is None:
            pub = published_test_baselines()[ROW_PAPER]
            pred = np.array([pub[i] for i in test_ids])
            mae = paper["regression"]["mae_ev"]["value"]
        else:
            pred = np.array([row["test_predictions_ev"][i] for i in test_ids])
            mae = row["test"]["regression"]["mae_ev"]["value"]
        ax.scatter(y_test, pred, s=10)
        ax.plot([0, top], [0, top], "k--", lw=0.8)
        ax.axhline(0.65, color="grey", lw=0.5)
        ax.axvline(0.65, color="grey", lw=0.5)
        ax.set(xlim=(0, top), ylim=(0, top), title=f"{title}\nMAE {mae:.3f} eV")
        ax.set_xlabel("DFT E_m (eV)")
        ax.set_ylabel("predicted (eV)")
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _ci(m: dict[str, Any], digits: int = 3) -> str:
    if m["value"] is None:
        return "n/a"
    return f"{m['value']:.{digits}f} ({m['ci_low']:.{digits}f}–{m['ci_high']:.{digits}f})"


def _describe(row: dict[str, Any]) -> str:
    if row["family"] == "descriptors":
        return "descriptors"
    tail = f"{row['epochs_run']} ep"
    return ("transfer, " if row["transfer"] else "scratch, ") + tail


def _paper_delta(row: dict[str, Any]) -> str:
    notes = []
    paper = row.get("paper") or {}
    if "test_mae_ev" in paper:
        mae = row["test"]["regression"]["mae_ev"]["value"]
        notes.append(f"test MAE {mae - paper['test_mae_ev']:+.3f} vs paper {paper['test_mae_ev']}")
    if "train_fit_mae_ev" in paper:
        notes.append(
            f"train fit {row['train_fit_mae_ev'] - paper['train_fit_mae_ev']:+.3f} "
            f"vs paper {paper['train_fit_mae_ev']}"
        )
    return "; ".join(notes) or "no published figure"


def _pretrain_text(summary: dict[str, Any] | None) -> str:
    if not summary:
        return ""
    return (
        f" (pre-trained {summary['epochs_run']} epoch(s) on {summary['n_structures']:,} "
        f"structures in {summary['seconds'] / 60:.0f} min)"
    )


def render_markdown(result: dict[str, Any]) -> str:
    """The comparison table, the generalization table and the notes, as markdown."""
    cfg = result["config"]
    paper = result["paper_model3_test"]
    out = [
        "| model (60 test hops) | training | MAE eV (95 % CI) | R² (95 % CI) "
        "| accuracy @0.65 (95 % CI) | train-fit MAE eV | ΔMAE vs paper Model-3 (paired 95 % CI) "
        "| differs from the paper by |",
        "|---|---|---|---|---|---|---|---|",
        f"| paper Model-3 (published predictions) | — | {_ci(paper['regression']['mae_ev'])} "
        f"| {_ci(paper['regression']['r2'], 2)} "
        f"| {_ci(paper['classification'][0]['accuracy'], 3)} | 0.085 (paper) | — | — |",
    ]
    for row in result["rows"]:
        reg, cls = row["test"]["regression"], row["test"]["classification"][0]
        d = row["vs_paper_model3"]["difference"]
        out.append(
            f"| {row['name']} | {_describe(row)} | {_ci(reg['mae_ev'])} | {_ci(reg['r2'], 2)} "
            f"| {_ci(cls['accuracy'])} | {row['train_fit_mae_ev']:.3f} "
            f"| {d['value']:+.3f} ({d['ci_low']:+.3f}…{d['ci_high']:+.3f}) | {_paper_delta(row)} |"
        )
    out += [
        "",
        f"Preset `{cfg['preset']}`, time budget {cfg['max_minutes_per_model']} min per network, "
        f"seed {cfg['seed']}, one network per row (no ensemble), ion-copy marker "
        f"{'on' if cfg['mark_ion_copies'] else 'off'}; backbone `{result['backbone']}`"
        f"{_pretrain_text(result.get('backbone_pretraining'))}; "
        f"bootstrap {cfg['n_boot']} resamples. Training time of all rows and scenarios: "
        f"{result['seconds_total'] / 60:.1f} min on {result['device']}.",
        "",
        ENDPOINTS_NOTE,
        "",
    ]
    if result["scenarios"]:
        out += [
            "| scenario | train / test hops | model | MAE eV (95 % CI) | R² (95 % CI) "
            "| accuracy @0.65 (95 % CI) |",
            "|---|---|---|---|---|---|",
        ]
        built: dict[str, str] = {}
        for s in result["scenarios"]:
            reg, cls = s["test"]["regression"], s["test"]["classification"][0]
            built.setdefault(s["scenario"], s["description"])
            out.append(
                f"| {s['scenario']} | {s['n_train']} / {s['n_test']} | {s['name']} "
                f"| {_ci(reg['mae_ev'])} | {_ci(reg['r2'], 2)} | {_ci(cls['accuracy'])} |"
            )
        out += ["", "How each split was built:", ""]
        out += [f"- **{name}**: {how}" for name, how in built.items()]
        out.append("")
    return "\n".join(out) + "\n"


def write_reproduce_section(
    benchmarks: Path, out: Path, result: dict[str, Any], *, note: str | None = None
) -> Path:
    """Write ``result`` as the ``reproduce`` section of ``benchmarks``, with its parity plot.

    Parameters
    ----------
    benchmarks
        The ``BENCHMARKS.md`` to update (the section is replaced if present, else appended).
    out
        Output folder of the run (its ``parity.png`` is copied to ``docs/`` beside
        ``benchmarks``).
    result
        What :func:`hopscreen.benchmarks.reproduce.run_reproduce` returned.
    note
        Notes of the person who ran it, printed under the table; None: no notes.

    Returns
    -------
    Path
        The copy of the parity plot.
    """
    cfg = result["config"]
    image = benchmarks.parent / "docs" / "reproduce_parity.png"
    image.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(out / "parity.png", image)
    update_section(
        benchmarks,
        "reproduce",
        "## The paper's comparison (`hopscreen reproduce`)\n\n"
        f"{machine_line()}\n\n"
        f"Command: `hopscreen reproduce --out {out} --preset {cfg['preset']} "
        f"--backbone {result['backbone']} --max-minutes {cfg['max_minutes_per_model']}`.\n\n"
        + render_markdown(result)
        + (f"\nNotes by the person who ran it: {note}\n" if note else "")
        + "\n![parity plots of every row on the 60 test hops](docs/reproduce_parity.png)\n",
    )
    return image
