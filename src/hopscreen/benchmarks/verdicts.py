"""Our per-host verdict beside bvlain's BVSE percolation barriers: the ``verdicts`` section.

For each host (a pymatgen ``Structure`` and its working ion) two answers to "does the ion
percolate through this crystal, and over what barrier?":

* **ours**: the host's periodic migration network (:func:`hopscreen.hops.hops_for_structure`),
  the predicted E_m of each hop (:func:`hopscreen.inference.hops.predict_hops`) and the
  per-host verdict (:func:`hopscreen.screening.verdicts.round_verdicts`): 1D/2D/3D
  percolation barriers, the 1D bottleneck hop and ``p_good``;
* **bvlain** (A. Dembitskiy, MIT licence): the bond-valence site energy (BVSE) of the ion on
  a grid over the whole cell (``Lain.bvse_distribution``) and the lowest energy level at
  which the accessible region spans the cell in 1, 2 and 3 dimensions
  (``Lain.percolation_barriers``, keys ``E_1D``, ``E_2D``, ``E_3D``; ``inf`` when none
  below ``encut``). bvlain's default settings are used (:data:`BVLAIN_SETTINGS`).

Oxidation states come first from bvlain's own reader (``Lain.read_structure`` with
``oxi_check=True``, i.e. pymatgen's ``BVAnalyzer``); where it cannot assign valences (mixed
valence, e.g. LiMn2O4) the nominal charges of :func:`hopscreen.features.charges.nominal_charges`
(the rules of our own BVSE descriptors) are given to bvlain instead, and the row says so. A
host bvlain cannot treat (no parameters for the ion/counter-ion pair, a negative Morse alpha
as in :mod:`hopscreen.features.bvse`, no counter-ion, any error) gets a row with the reason.

The two are not on one energy scale: BVSE levels are not DFT barriers. "Good conductor in
1D" uses the same threshold for both (nothing is tuned), and the rank correlation of the 1D
barriers says whether they order hosts alike.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.stats import spearmanr

from hopscreen.candidates import load_demo_candidates
from hopscreen.features.charges import ion_charge, nominal_charges
from hopscreen.hops import hops_for_structure
from hopscreen.inference.hops import predict_hops
from hopscreen.inference.load import load_model
from hopscreen.screening.verdicts import round_verdicts
from hopscreen.selection.verdict import VerdictConfig

if TYPE_CHECKING:
    from pymatgen.core import Structure

    from hopscreen.inference.base import BarrierModel

SECTION = "verdicts"

#: bvlain 0.25.1's defaults of ``bvse_distribution`` and ``percolation_barriers``.
BVLAIN_SETTINGS: dict[str, float] = {
    "resolution": 0.2,
    "r_cut": 10.0,
    "k": 100,
    "f": 0.74,
    "encut": 10.0,
}

Entry = tuple[str, "Structure", str]

_OURS_FIELDS = (
    "ours_e_1d_ev",
    "ours_e_2d_ev",
    "ours_e_3d_ev",
    "ours_bottleneck",
    "ours_bottleneck_angstrom",
    "ours_p_good",
    "ours_n_hops",
    "ours_model",
)
_BVLAIN_FIELDS = ("bvlain_e_1d_ev", "bvlain_e_2d_ev", "bvlain_e_3d_ev", "bvlain_charges")


class BvlainError(ValueError):
    """bvlain cannot give percolation barriers for this host."""


def _read_into(lain: Any, structure: Structure, ion: str) -> str:
    """Give ``structure`` with oxidation states to ``lain``; returns where the states came from."""
    try:
        lain.read_structure(structure, oxi_check=True)
        return "BVAnalyzer"
    except ValueError:  # "Valences cannot be assigned!"
        pass
    decorated = structure.copy()
    decorated.remove_oxidation_states()
    charges = nominal_charges(decorated.atomic_numbers, ion, extra_ion=False).charges
    decorated.add_oxidation_state_by_site([float(q) for q in charges])
    lain.read_structure(decorated, oxi_check=False)
    return "nominal"


def _check_counter_ions(lain: Any, ion: str, q: int) -> None:
    """Refuse a framework without counter-ions or with a negative Morse alpha for one."""
    fw = lain.atoms
    counter = fw.get_array("oxi_states") * q < 0
    if not counter.any():
        raise BvlainError(f"no counter-ion of {ion}{q:+d} in the framework")
    bad = counter & ~(fw.get_array("alpha") > 0)
    if bad.any():
        el = sorted({str(e) for e in np.asarray(fw.get_chemical_symbols())[bad]})
        raise BvlainError(f"bvlain's BVSE parameters for {ion}{q:+d} with {el} are unphysical")


def bvlain_barriers(structure: Structure, ion: str) -> dict[str, Any]:
    """The BVSE percolation barriers of one host, by bvlain.

    Parameters
    ----------
    structure : pymatgen.core.Structure
        The host with every working-ion site occupied.
    ion : str
        Element of the working ion.

    Returns
    -------
    dict
        ``bvlain_e_1d_ev``, ``bvlain_e_2d_ev``, ``bvlain_e_3d_ev`` (BVSE levels above the
        lowest site, eV; None where the ion does not percolate below ``encut``) and
        ``bvlain_charges`` (``"BVAnalyzer"`` or ``"nominal"``).

    Raises
    ------
    BvlainError
        bvlain cannot treat the host (the message says why).
    """
    from bvlain import Lain  # imported on first use (pulls in ase, pandas)

    q = ion_charge(ion)
    s = BVLAIN_SETTINGS
    lain = Lain(verbose=False)
    try:
        # bvlain prints an "Oops" line before some errors; the row carries the reason instead
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            source = _read_into(lain, structure, ion)
            mobile = f"{ion}{abs(q)}{'+' if q > 0 else '-'}"
            lain.bvse_distribution(
                mobile_ion=mobile,
                r_cut=s["r_cut"],
                resolution=s["resolution"],
                k=int(s["k"]),
                f=s["f"],
            )
            _check_counter_ions(lain, ion, q)
            energies = lain.percolation_barriers(encut=s["encut"])
    except BvlainError:
        raise
    except KeyError as exc:
        raise BvlainError(f"no BVSE parameters for {ion}{q:+d} with this framework") from exc
    except Exception as exc:
        raise BvlainError(f"{type(exc).__name__}: {exc}") from exc
    out: dict[str, Any] = {"bvlain_charges": source}
    for dim in ("1d", "2d", "3d"):
        e = float(energies[f"E_{dim.upper()}"])
        out[f"bvlain_e_{dim}_ev"] = e if math.isfinite(e) else None
    return out


def our_verdict(
    name: str, structure: Structure, ion: str, model: BarrierModel, threshold_ev: float
) -> dict[str, Any]:
    """Our verdict on one host: hops, predicted E_m and percolation through the network.

    Parameters
    ----------
    name : str
        Name of the host.
    structure : pymatgen.core.Structure
        The host with every working-ion site occupied.
    ion : str
        Element of the working ion.
    model : BarrierModel
        A loaded model.
    threshold_ev : float
        Good conductor: 1D percolation barrier below this, eV.

    Returns
    -------
    dict
        ``ours_e_1d_ev``, ``ours_e_2d_ev``, ``ours_e_3d_ev`` (eV; None without percolation),
        ``ours_bottleneck`` (1D bottleneck hop id), ``ours_bottleneck_angstrom`` (its length),
        ``ours_p_good``, ``ours_n_hops``, ``ours_model``.

    Raises
    ------
    ValueError
        No network, no predicted hop, or no verdict (the message says why).
    """
    result = hops_for_structure(structure, ion, name)
    if result.network is None:
        reasons = "; ".join(f.reason for f in result.failures) or "no migration network"
        raise ValueError(reasons)
    kept = [(d, b) for d, b in zip(result.docs, result.bands, strict=True) if b is not None]
    preds = predict_hops([d for d, _ in kept], [b for _, b in kept], model=model, batch_size=16)
    verdicts, skipped = round_verdicts(
        [result.network], preds, VerdictConfig(threshold_ev=threshold_ev)
    )
    if not verdicts:
        raise ValueError("; ".join(skipped) or "no verdict")
    v = verdicts[0]
    lengths = {d.hop_id: d.length_angstrom for d in result.docs}
    return {
        "ours_e_1d_ev": v.percolation_1d_ev,
        "ours_e_2d_ev": v.percolation_2d_ev,
        "ours_e_3d_ev": v.percolation_3d_ev,
        "ours_bottleneck": v.bottleneck_1d_hop_id,
        "ours_bottleneck_angstrom": lengths.get(v.bottleneck_1d_hop_id or ""),
        "ours_p_good": v.p_good,
        "ours_n_hops": len(preds),
        "ours_model": v.model_version,
    }


def _good(e_1d: float | None, threshold_ev: float) -> bool:
    return e_1d is not None and e_1d < threshold_ev


def _timed(fn: Callable[..., dict[str, Any]], *args: Any) -> tuple[dict[str, Any], str, float]:
    """(fn's fields or {}, the reason it failed or "", seconds)."""
    t0 = time.perf_counter()
    try:
        fields, reason = fn(*args), ""
    except ValueError as exc:  # BvlainError included: the message is the reason
        fields, reason = {}, str(exc)
    except Exception as exc:  # one host must not stop the comparison; the row says why
        fields, reason = {}, f"{type(exc).__name__}: {exc}"
    return fields, reason, time.perf_counter() - t0


def compare_verdicts(
    entries: Sequence[Entry],
    model: BarrierModel | None = None,
    *,
    threshold_ev: float = 0.65,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Our verdict and bvlain's percolation barriers, host by host.

    Parameters
    ----------
    entries : sequence of (str, pymatgen.core.Structure, str)
        Name, host structure and working ion of each host.
    model : BarrierModel, optional
        The model of our verdict (the shipped default when omitted).
    threshold_ev : float
        Good conductor: 1D percolation barrier below this, eV (for both).
    progress : callable, optional
        Called with one line per host.

    Returns
    -------
    list of dict
        One row per host, in input order: ``name``, ``working_ion``, ``n_atoms``, the fields of
        :func:`our_verdict` and :func:`bvlain_barriers` (None where that side failed),
        ``ours_reason`` / ``bvlain_reason`` ("" unless it failed), ``ours_s`` / ``bvlain_s``
        (wall seconds), ``ours_good_1d`` / ``bvlain_good_1d`` (E_1D < threshold; None when
        that side failed), ``agree_1d`` (None unless both gave one) and ``threshold_ev``.
    """
    model = model if model is not None else load_model(None)
    rows = []
    for name, structure, ion in entries:
        ours, ours_reason, ours_s = _timed(our_verdict, name, structure, ion, model, threshold_ev)
        bv, bv_reason, bv_s = _timed(bvlain_barriers, structure, ion)
        ours_good = None if ours_reason else _good(ours.get("ours_e_1d_ev"), threshold_ev)
        bv_good = None if bv_reason else _good(bv.get("bvlain_e_1d_ev"), threshold_ev)
        rows.append(
            {
                "name": name,
                "working_ion": ion,
                "n_atoms": len(structure),
                **dict.fromkeys(_OURS_FIELDS),
                **ours,
                "ours_reason": ours_reason,
                "ours_s": ours_s,
                **dict.fromkeys(_BVLAIN_FIELDS),
                **bv,
                "bvlain_reason": bv_reason,
                "bvlain_s": bv_s,
                "ours_good_1d": ours_good,
                "bvlain_good_1d": bv_good,
                "agree_1d": None if None in (ours_good, bv_good) else ours_good == bv_good,
                "threshold_ev": threshold_ev,
            }
        )
        if progress is not None:
            progress(f"{name}: ours {ours_s:.1f} s, bvlain {bv_s:.1f} s")
    return rows


def run_demo_verdicts(
    model: BarrierModel | None = None, *, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """:func:`compare_verdicts` on the bundled demo hosts, timed.

    Returns
    -------
    dict
        ``rows`` (see :func:`compare_verdicts`) and ``seconds`` (the whole run, model load
        included).
    """
    t0 = time.perf_counter()
    entries = [
        (c.name, c.get_structure(), c.working_ion) for c in load_demo_candidates(None).candidates
    ]
    rows = compare_verdicts(entries, model, progress=progress)
    return {"rows": rows, "seconds": time.perf_counter() - t0}


def spearman(rows: Sequence[dict[str, Any]], a: str, b: str) -> tuple[float | None, int]:
    """Spearman rank correlation of fields ``a`` and ``b`` over the rows where both are set.

    Returns
    -------
    tuple
        (rho, or None with fewer than 3 pairs or no spread; number of pairs)
    """
    pairs = [(r[a], r[b]) for r in rows if r.get(a) is not None and r.get(b) is not None]
    if len(pairs) < 3:
        return None, len(pairs)
    rho = float(spearmanr(*zip(*pairs, strict=True)).statistic)
    return (rho if math.isfinite(rho) else None), len(pairs)


def spearman_1d(rows: Sequence[dict[str, Any]]) -> tuple[float | None, int]:
    """Spearman rank correlation of ours vs bvlain's E_1D over hosts where both are finite."""
    return spearman(rows, "ours_e_1d_ev", "bvlain_e_1d_ev")


def ev_cell(value: float | None) -> str:
    """A barrier in a table cell: two decimals, ``–`` for none."""
    return "–" if value is None else f"{value:.2f}"


def _yes(value: bool | None) -> str:
    return "–" if value is None else ("yes" if value else "no")


def _table_row(r: dict[str, Any]) -> str:
    ours = "–" if r["ours_reason"] else f"{ev_cell(r['ours_e_1d_ev'])}"
    neck = "–"
    if r.get("ours_bottleneck"):
        neck = f"`{r['ours_bottleneck'][:12]}` ({r['ours_bottleneck_angstrom']:.2f} Å)"
    p_good = "–" if r.get("ours_p_good") is None else f"{r['ours_p_good']:.2f}"
    bv_1d = "–" if r["bvlain_reason"] else ev_cell(r["bvlain_e_1d_ev"])
    return (
        f"| {r['name']} | {r['working_ion']} | {ours} | {ev_cell(r['ours_e_2d_ev'])} "
        f"| {ev_cell(r['ours_e_3d_ev'])} | {neck} | {p_good} | {r['ours_s']:.1f} "
        f"| {bv_1d} | {ev_cell(r['bvlain_e_2d_ev'])} | {ev_cell(r['bvlain_e_3d_ev'])} "
        f"| {r['bvlain_charges'] or '–'} | {r['bvlain_s']:.1f} "
        f"| {_yes(r['ours_good_1d'])} / {_yes(r['bvlain_good_1d'])} | {_yes(r['agree_1d'])} |"
    )


def verdicts_markdown(
    rows: Sequence[dict[str, Any]],
    machine: str = "",
    *,
    seconds: float | None = None,
    note: str | None = None,
) -> str:
    """Markdown of the ``verdicts`` section: the table, the reasons and a summary.

    Parameters
    ----------
    rows : sequence of dict
        Output of :func:`compare_verdicts`.
    machine : str
        The machine line (:func:`hopscreen.benchmarks.sections.machine_line`).
    seconds : float, optional
        Wall time of the whole run, for the header.
    note : str, optional
        Conditions of the run, printed under the header.

    Returns
    -------
    str
        The section's markdown.
    """
    threshold = rows[0]["threshold_ev"] if rows else 0.65
    models = sorted({r["ours_model"] for r in rows if r.get("ours_model")})
    settings = ", ".join(f"{k} = {v:g}" for k, v in BVLAIN_SETTINGS.items())
    took = f" in {seconds / 60:.1f} min" if seconds is not None else ""
    out = [
        "## Per-host verdict beside bvlain's BVSE percolation barriers",
        "",
        f"{machine} Measured by `hopscreen bench --only-verdicts`{took} "
        f"(`hopscreen.benchmarks.verdicts.compare_verdicts`). Ours: percolation barriers of "
        f"the predicted hop network (model {', '.join(models) or '–'}), eV, the 1D bottleneck "
        f"hop and p_good = P(E_1D < {threshold:g} eV). bvlain 0.25.1: BVSE percolation "
        f"levels on its default grid ({settings}), eV above the lowest site; charges from "
        "its BVAnalyzer reader, or our nominal rules where that fails. BVSE levels are not "
        f"DFT barriers: good = E_1D < {threshold:g} eV for both, untuned. s: wall seconds "
        "per host (ours: hops, bands, CHGNet features and trees; the first host also loads "
        "CHGNet). –: none (no percolation, or the side failed; reasons below).",
        *(["", f"Conditions: {note}"] if note else []),
        "",
        "| host | ion | ours E_1D | 2D | 3D | bottleneck | p_good | s | bvlain E_1D | 2D | 3D "
        "| charges | s | good ours / bvlain | agree |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *(_table_row(r) for r in rows),
        "",
    ]
    for r in rows:
        for side in ("ours", "bvlain"):
            if r[f"{side}_reason"]:
                out.append(f"- {r['name']}, {side}: {r[f'{side}_reason']}")
    rho, n_pairs = spearman_1d(rows)
    both = [r for r in rows if r["agree_1d"] is not None]
    out += [
        "",
        f"Summary: {len(rows)} hosts, {len(both)} with both verdicts, "
        f"{sum(r['agree_1d'] for r in both)} agree on good-in-1D; Spearman of E_1D ours vs "
        f"bvlain {'–' if rho is None else f'{rho:.2f}'} over {n_pairs} hosts where both are "
        f"finite. Median s/host: ours {_median([r['ours_s'] for r in rows])}, bvlain "
        f"{_median([r['bvlain_s'] for r in rows])}.",
    ]
    return "\n".join(out) + "\n"


def _median(values: Sequence[float]) -> str:
    return f"{float(np.median(values)):.1f}" if values else "–"
