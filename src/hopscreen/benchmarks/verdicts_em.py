"""Our per-host verdict beside bvlain's on the hosts of the E_m dataset: ``verdicts-em``.

The E_m dataset (Devi, Butler & Sai Gautam) stores NEB bands, not hosts. Each host (records
grouped by the spreadsheet's host label, else the hop label without its ``_k`` suffix) is
rebuilt from the band of its first record: the band's host atoms plus ion copies 0 and 4 (the
hop's two endpoint sites) give the NEB supercell with both sites occupied, reduced to its
primitive cell. For a *vacancy* band (the host holds other ions of the working ion) that is
the fully occupied host; for a *dilute* band (one ion in an ion-free framework, the charged
limit) it is a supercell with two ions, whose hop network only links those two sites. The
mode is in every row and the summary is split by it.

Both sides then run as in :mod:`hopscreen.benchmarks.verdicts`. Beside them stands the
dataset's own evidence: the lowest and highest DFT barrier of the host's hops in the dataset
(about 1.5 hops per host, so not a percolation barrier). Our model is the shipped default,
which was trained on these very hops: its agreement with the DFT barriers here is in-sample
and says nothing about new hosts (host-grouped CV does, see the recipes section).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hopscreen.benchmarks.verdicts import compare_verdicts, ev_cell, spearman
from hopscreen.data.em_dataset import N_ION_COPIES, load_em_dataset
from hopscreen.schemas.structure import Crystal

if TYPE_CHECKING:
    from pathlib import Path

    from pymatgen.core import Structure

    from hopscreen.inference.base import BarrierModel
    from hopscreen.schemas.data import EmRecord

SECTION = "verdicts-em"

PRIMITIVE_TOLERANCE_ANGSTROM = 0.25
"""Site tolerance of pymatgen's primitive-cell search on the rebuilt supercells."""


@dataclass(frozen=True)
class EmHost:
    """One host of the E_m dataset, rebuilt from a band, with its hops' DFT barriers."""

    name: str
    working_ion: str
    structure: Structure
    mode: str  # "vacancy" or "dilute"
    barriers_ev: tuple[float, ...]
    splits: tuple[str, ...]


def host_label(record: EmRecord) -> str:
    """The host a record belongs to: the spreadsheet label, else the hop label's stem."""
    if record.composition:
        return record.composition
    stem, _, suffix = record.sys_name.rpartition("_")
    return stem if stem and suffix.isdigit() else record.sys_name


def host_from_band(band: Crystal) -> tuple[Structure, str]:
    """The band's host with both endpoint sites occupied (primitive cell), and its mode."""
    ion = int(band.numbers[0])
    keep = np.r_[0, N_ION_COPIES - 1, np.arange(N_ION_COPIES, len(band))]
    supercell = Crystal(band.lattice, band.frac_coords[keep], band.numbers[keep]).to_structure()
    mode = "vacancy" if int((band.numbers[N_ION_COPIES:] == ion).sum()) > 0 else "dilute"
    primitive = supercell.get_primitive_structure(tolerance=PRIMITIVE_TOLERANCE_ANGSTROM)
    return primitive, mode


def em_hosts(data_dir: Path | str | None = None) -> list[EmHost]:
    """The hosts of the E_m dataset (train and test), in the order of their first record."""
    groups: dict[str, list[EmRecord]] = {}
    for record in load_em_dataset(data_dir):
        groups.setdefault(host_label(record), []).append(record)
    hosts = []
    for name, records in groups.items():
        first = records[0]
        assert first.band is not None  # loaded with structures
        structure, mode = host_from_band(first.band)
        hosts.append(
            EmHost(
                name=name,
                working_ion=first.working_ion,
                structure=structure,
                mode=mode,
                barriers_ev=tuple(r.barrier_ev for r in records),
                splits=tuple(sorted({r.split for r in records})),
            )
        )
    return hosts


def run_em_verdicts(
    data_dir: Path | str | None = None,
    model: BarrierModel | None = None,
    *,
    limit: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """:func:`~hopscreen.benchmarks.verdicts.compare_verdicts` on the E_m dataset's hosts.

    Parameters
    ----------
    data_dir
        Data folder (default: resolved).
    model
        Our model (default: the shipped default).
    limit
        Only the first ``limit`` hosts (tests).
    progress
        Called with one line per host.

    Returns
    -------
    dict
        ``rows``: the rows of ``compare_verdicts`` plus ``mode``, ``splits``,
        ``n_dataset_hops``, ``dft_min_ev`` and ``dft_max_ev``; ``seconds``: the whole run.
    """
    t0 = time.perf_counter()
    hosts = em_hosts(data_dir)[:limit]
    entries = [(h.name, h.structure, h.working_ion) for h in hosts]
    rows = compare_verdicts(entries, model, progress=progress)
    for row, host in zip(rows, hosts, strict=True):
        row.update(
            mode=host.mode,
            splits=list(host.splits),
            n_dataset_hops=len(host.barriers_ev),
            dft_min_ev=min(host.barriers_ev),
            dft_max_ev=max(host.barriers_ev),
        )
    return {"rows": rows, "seconds": time.perf_counter() - t0}


def _rho(value: tuple[float | None, int]) -> str:
    rho, n = value
    return f"{'–' if rho is None else f'{rho:.2f}'} ({n} hosts)"


def _mode_line(rows: Sequence[dict[str, Any]], mode: str, threshold: float) -> str:
    """Agreement, rank correlations and the DFT comparison of one mode's hosts."""
    chosen = [r for r in rows if r["mode"] == mode]
    both = [r for r in chosen if r["agree_1d"] is not None]
    agree = sum(r["agree_1d"] for r in both)
    share = f" ({100 * agree / len(both):.0f} %)" if both else ""
    return (
        f"- {mode}: {len(chosen)} hosts; ours gave a verdict on "
        f"{sum(not r['ours_reason'] for r in chosen)}, bvlain on "
        f"{sum(not r['bvlain_reason'] for r in chosen)}; both on {len(both)}, agreeing on "
        f"good-in-1D (E_1D < {threshold:g} eV) for {agree}{share}. Spearman of E_1D ours vs "
        f"bvlain {_rho(spearman(chosen, 'ours_e_1d_ev', 'bvlain_e_1d_ev'))}; against the "
        f"host's lowest DFT hop: bvlain {_rho(spearman(chosen, 'bvlain_e_1d_ev', 'dft_min_ev'))}"
        f", ours {_rho(spearman(chosen, 'ours_e_1d_ev', 'dft_min_ev'))} (in-sample)."
    )


def _disagreement_row(r: dict[str, Any]) -> str:
    good = ("yes" if r["ours_good_1d"] else "no", "yes" if r["bvlain_good_1d"] else "no")
    return (
        f"| {r['name']} | {r['working_ion']} | {r['mode']} | {ev_cell(r['ours_e_1d_ev'])} "
        f"| {ev_cell(r['bvlain_e_1d_ev'])} | {r['bvlain_charges'] or '–'} | {good[0]} / {good[1]} "
        f"| {r['dft_min_ev']:.2f}–{r['dft_max_ev']:.2f} ({r['n_dataset_hops']}) |"
    )


def _reason_counts(rows: Sequence[dict[str, Any]], side: str) -> list[str]:
    counts: dict[str, int] = {}
    for r in rows:
        reason = r[f"{side}_reason"]
        if reason:
            head = reason.splitlines()[0][:90]
            counts[head] = counts.get(head, 0) + 1
    return [f"  - {n} × {reason}" for reason, n in sorted(counts.items(), key=lambda x: -x[1])]


def verdicts_em_markdown(
    rows: Sequence[dict[str, Any]],
    machine: str = "",
    *,
    seconds: float | None = None,
    note: str | None = None,
) -> str:
    """Markdown of the ``verdicts-em`` section: per-mode summary, disagreements, failures."""
    threshold = rows[0]["threshold_ev"] if rows else 0.65
    models = sorted({r["ours_model"] for r in rows if r.get("ours_model")})
    took = f" in {seconds / 60:.1f} min" if seconds is not None else ""
    disagree = [r for r in rows if r["agree_1d"] is False]
    out = [
        "## Per-host verdict beside bvlain's on the hosts of the E_m dataset",
        "",
        f"{machine} Measured by `hopscreen bench --only-verdicts-em`{took} "
        "(`hopscreen.benchmarks.verdicts_em.run_em_verdicts`). Hosts: the E_m dataset's "
        "records (train and test) grouped by host label, each rebuilt from its first band "
        "with both endpoint sites occupied and reduced to a primitive cell; *vacancy*: the "
        "fully occupied host; *dilute*: one ion in an ion-free framework, so our network only "
        "links the two endpoint sites. Ours: the 1D percolation barrier of the predicted hop "
        f"network (model {', '.join(models) or '–'}, trained on these hops: in-sample); "
        "bvlain 0.25.1: BVSE percolation level on its default grid (as in the verdicts "
        "section). DFT: the lowest–highest barrier of the host's hops in the dataset (hop "
        "count in brackets), not a percolation barrier.",
        *(["", f"Conditions: {note}"] if note else []),
        "",
        *(_mode_line(rows, mode, threshold) for mode in ("vacancy", "dilute")),
        "",
        f"Hosts where the two verdicts disagree ({len(disagree)}):",
        "",
        "| host | ion | mode | ours E_1D | bvlain E_1D | charges | good ours / bvlain "
        "| DFT hops, eV |",
        "|---|---|---|---|---|---|---|---|",
        *(_disagreement_row(r) for r in disagree),
        "",
        "Hosts without a verdict, by reason:",
        f"- ours ({sum(bool(r['ours_reason']) for r in rows)}):",
        *_reason_counts(rows, "ours"),
        f"- bvlain ({sum(bool(r['bvlain_reason']) for r in rows)}):",
        *_reason_counts(rows, "bvlain"),
    ]
    return "\n".join(out) + "\n"
