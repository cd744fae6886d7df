"""Slices of the evaluated hops where screening decisions flip, scored like the whole set.

A model that is accurate on average can still get the hops that decide a screen wrong:
high barriers squeezed toward the mean turn slow conductors into "good" ones, and long hops
are rare in the training data. Every evaluation result therefore carries a ``"slices"`` list,
each entry ``{"key", "label", "row", "n", "metrics"}``:

``em_ge_1ev``
    Hops whose DFT barrier is at least :data:`HIGH_BARRIER_EV` (1 eV).
``hop_gt_4p5a``
    Hops longer than :data:`LONG_HOP_ANGSTROM` (4.5 Å), the path length of
    :func:`hop_length_angstrom`.
``all``
    Every hop (the same numbers as the row itself).

``row`` is the key of the predictor (``"model"``, or on ``paper-test`` also the published
``"paper_model3"`` and ``"mace_neb_relaxed"``, each on the hops it predicts) and ``metrics``
the output of :func:`hopscreen.evaluation.metrics.evaluate_predictions` (same thresholds and
bootstrap as the rows), or None for a slice of fewer than :data:`MIN_SLICE_HOPS` hops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hopscreen.evaluation.results import ROW_MODEL, Scoring
from hopscreen.schemas.structure import N_ION_COPIES, Crystal

HIGH_BARRIER_EV = 1.0
LONG_HOP_ANGSTROM = 4.5
MIN_SLICE_HOPS = 2

SLICE_HIGH = "em_ge_1ev"
SLICE_LONG = "hop_gt_4p5a"
SLICE_ALL = "all"
SLICE_LABELS = {
    SLICE_HIGH: f"DFT E_m ≥ {HIGH_BARRIER_EV:g} eV",
    SLICE_LONG: f"hop > {LONG_HOP_ANGSTROM:g} Å",
    SLICE_ALL: "all hops",
}


def hop_length_angstrom(band: Crystal) -> float:
    """Path length of a band's five ion copies (atoms 0–4), Å.

    The sum of the four segments between consecutive copies, each taken as the minimum image
    of its fractional difference (the ``hop_length_angstrom`` descriptor of
    :mod:`hopscreen.features.descriptors` is the same number).

    Parameters
    ----------
    band : Crystal
        A Model-3 band: five ion copies, then the host supercell.

    Returns
    -------
    float
        Path length in Å.
    """
    seg = np.diff(band.frac_coords[:N_ION_COPIES], axis=0)
    seg -= np.round(seg)
    return float(np.linalg.norm(seg @ band.lattice, axis=1).sum())


def hop_lengths(records: Sequence[Any]) -> np.ndarray:
    """:func:`hop_length_angstrom` of each record's ``band``, Å (NaN without a band)."""
    return np.array(
        [np.nan if r.band is None else hop_length_angstrom(r.band) for r in records], dtype=float
    )


def slice_masks(y_true: np.ndarray, lengths: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean mask of each slice over the hops, in the order of the module docstring.

    Parameters
    ----------
    y_true : numpy.ndarray, shape (n,)
        DFT barriers, eV.
    lengths : numpy.ndarray, shape (n,)
        Hop lengths, Å (a NaN length is in no length slice).

    Returns
    -------
    dict
        ``{slice key: mask}``.
    """
    y_true = np.asarray(y_true, dtype=float)
    lengths = np.asarray(lengths, dtype=float)
    with np.errstate(invalid="ignore"):
        long_hops = np.isfinite(lengths) & (lengths > LONG_HOP_ANGSTROM)
    return {
        SLICE_HIGH: y_true >= HIGH_BARRIER_EV,
        SLICE_LONG: long_hops,
        SLICE_ALL: np.ones(y_true.shape, dtype=bool),
    }


def scored_slices(
    scoring: Scoring,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    lengths: np.ndarray,
    row: str = ROW_MODEL,
) -> list[dict[str, Any]]:
    """The slices of one predictor, each scored by ``scoring`` (see the module docstring).

    Parameters
    ----------
    scoring : Scoring
        Thresholds and bootstrap settings, the same as the rows'.
    y_true, y_pred : numpy.ndarray, shape (n,)
        DFT and predicted barriers, eV; a hop with a NaN prediction is left out of every
        slice (a published baseline without a value for it).
    lengths : numpy.ndarray, shape (n,)
        Hop lengths, Å.
    row : str
        Key of the predictor (a row key of :mod:`hopscreen.evaluation.results`).

    Returns
    -------
    list of dict
        ``{"key", "label", "row", "n", "metrics"}`` per slice; ``metrics`` is None when the
        slice holds fewer than :data:`MIN_SLICE_HOPS` hops.
    """
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    predicted = np.isfinite(y_pred)
    out = []
    for key, mask in slice_masks(y_true, lengths).items():
        m = mask & predicted
        entry: dict[str, Any] = {"key": key, "label": SLICE_LABELS[key], "row": row}
        if m.sum() < MIN_SLICE_HOPS:
            entry.update(n=int(m.sum()), metrics=None)
        else:
            scored = scoring.row(key, y_true[m], y_pred[m], label=SLICE_LABELS[key])
            entry.update(n=scored["n"], metrics=scored["metrics"])
        out.append(entry)
    return out
