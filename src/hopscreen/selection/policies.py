"""Which predicted hops to verify: borderline and promising hops, a budget, and diversity.

Definitions
-----------
For a prediction with ensemble mean E (``barrier_ev``), a threshold T (``threshold_ev``) and a
margin m (``promising_margin_ev``), the uncertainty interval is [E − w, E + w]. Its half-width
w is the prediction's calibrated interval at the configured coverage level (``coverage``:
``interval_68_ev`` or ``interval_90_ev``, see :mod:`hopscreen.models.calibration`); for a
model without calibration (or ``coverage: null``) it is ``k_sigma`` times the ensemble
standard deviation σ (``sigma_ev``). Below, kσ stands for w. Then

* a hop is **borderline** when the interval straddles the threshold,
  ``E − kσ ≤ T ≤ E + kσ``: the model cannot tell on which side of T the hop lies.
  Its score is ``kσ − |E − T|`` (eV, ≥ 0): the shorter of the two distances from T to the ends
  of the interval, largest for wide intervals centred on T;
* a hop is **promising** when even the pessimistic end of the interval lies at least m below
  the threshold, ``E + kσ < T − m``: a likely good conductor worth confirming. Its score is
  ``(T − m) − (E + kσ)`` (eV, > 0), largest for the most confidently low barriers;
* every other hop is **skipped**: confidently above the threshold (``E − kσ > T``), or
  confidently below it but within the margin (``T − m ≤ E + kσ < T``), or with a non-finite
  E or σ. The two classes cannot overlap, since a borderline hop has ``E + kσ ≥ T``.

:func:`select_hops` fills a per-round budget from the two classes: ``round(mix · budget)``
places for borderline hops and the rest for promising ones, a class with too few hops leaving
its places to the other. Within a class hops go by decreasing score. Diversity: with
``max_per_candidate = N``, no candidate gets its (N+1)-th hop before every candidate with
eligible hops has had N (then 2N, and so on), counted across both classes. Ties in score are
broken by a random order drawn from ``seed`` over the sorted hop ids, so the result depends on
the seed and on the predictions, not on their order.

The ``policy_*`` functions share one signature, ``(predictions, budget, rng) -> hop ids``, for
the offline active-learning replay (:data:`POLICIES`); each returns ``min(budget, n)`` distinct
hop ids in priority order.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from hopscreen.schemas.base import Config
from hopscreen.schemas.prediction import PredictionDoc
from hopscreen.schemas.selection import SelectedHop, SelectionDoc, compute_selection_id
from hopscreen.schemas.verdict import HostVerdictDoc
from hopscreen.selection.predictive import probability_below

if TYPE_CHECKING:
    import numpy as np

Category = Literal["borderline", "promising", "skipped"]

Policy = Callable[[Sequence[PredictionDoc], int, "np.random.Generator"], list[str]]
"""A replay policy: ``(predictions, budget, rng) -> selected hop ids``."""


class SelectionConfig(Config):
    """Settings of one round's selection (see the module docstring for the rules)."""

    threshold_ev: float = Field(0.65, description="Good/bad barrier threshold, eV.")
    coverage: Literal[0.68, 0.9] | None = Field(
        0.68,
        description="Coverage level of the uncertainty interval: the prediction's calibrated "
        "interval at this level (interval_68_ev or interval_90_ev). None, or a prediction of "
        "an uncalibrated model, falls back to ± k_sigma·σ.",
    )
    k_sigma: float = Field(
        1.0, ge=0, description="Half-width of the interval in σ, for uncalibrated predictions."
    )
    promising_margin_ev: float = Field(
        0.1, ge=0, description="Promising: E + kσ < threshold − margin, eV."
    )
    budget: int = Field(20, ge=0, description="Most hops selected in one round.")
    max_per_candidate: int | None = Field(
        None, ge=1, description="Hops of one candidate before the others get a turn (None: any)."
    )
    mix: float = Field(
        0.5, ge=0, le=1, description="Fraction of the budget meant for borderline hops."
    )
    seed: int = Field(0, description="Seed of the tie-breaking random order.")
    strategy: Literal["hops", "verdicts"] = Field(
        "hops",
        description="'hops': borderline and promising hops by their own intervals. 'verdicts': "
        "the bottleneck hops of the hosts whose verdict is most uncertain (borderline: p_good "
        "within [verdict_band, 1 − verdict_band], by p_good·(1 − p_good)) and of the most "
        "promising hosts (p_good above 1 − verdict_band), one hop per host.",
    )
    verdict_band: float = Field(
        0.1, ge=0, lt=0.5, description="p_good margin of the 'verdicts' strategy (see there)."
    )
    max_host_sites: int | None = Field(
        None,
        ge=1,
        description="Only hops of hosts with at most this many sites (in the candidate cell) "
        "may be verified; None for all. Applied by the round before selection (it needs the "
        "hosts); keeps uMLIP NEB affordable on a small machine.",
    )


def half_width(prediction: PredictionDoc, config: SelectionConfig) -> float:
    """Half-width w (eV) of a prediction's uncertainty interval under ``config``.

    The calibrated interval at ``config.coverage`` when the prediction carries one, else
    ``config.k_sigma · σ``.
    """
    if config.coverage is not None:
        key = "interval_68_ev" if config.coverage == 0.68 else "interval_90_ev"
        calibrated = getattr(prediction, key)
        if calibrated is not None:
            return float(calibrated)
    return config.k_sigma * prediction.sigma_ev


def _width(sigma_ev: float, config: SelectionConfig, half_width_ev: float | None) -> float:
    """``half_width_ev``, or ``k_sigma · σ`` when it is None."""
    return config.k_sigma * sigma_ev if half_width_ev is None else half_width_ev


def classify(
    barrier_ev: float,
    sigma_ev: float,
    config: SelectionConfig,
    *,
    half_width_ev: float | None = None,
) -> Category:
    """Class of one prediction.

    Parameters
    ----------
    barrier_ev : float
        Predicted barrier E (ensemble mean), eV.
    sigma_ev : float
        Ensemble standard deviation σ, eV (used as ``k_sigma · σ`` when no half-width is given).
    config : SelectionConfig
        Threshold, k and margin.
    half_width_ev : float, optional
        Half-width of the interval, eV (see :func:`half_width`); overrides ``k_sigma · σ``.

    Returns
    -------
    str
        ``"borderline"``, ``"promising"`` or ``"skipped"``.

    """
    w = _width(sigma_ev, config, half_width_ev)
    if not (math.isfinite(barrier_ev) and math.isfinite(w)):
        return "skipped"
    low = barrier_ev - w
    high = barrier_ev + w
    if low <= config.threshold_ev <= high:
        return "borderline"
    if high < config.threshold_ev - config.promising_margin_ev:
        return "promising"
    return "skipped"


def borderline_score(
    barrier_ev: float,
    sigma_ev: float,
    config: SelectionConfig,
    *,
    half_width_ev: float | None = None,
) -> float:
    """``w − |E − T|`` in eV: ≥ 0 exactly for borderline hops, higher is more ambiguous.

    ``w`` is ``half_width_ev``, or ``k_sigma · sigma_ev`` when it is None.
    """
    w = _width(sigma_ev, config, half_width_ev)
    return w - abs(barrier_ev - config.threshold_ev)


def promising_score(
    barrier_ev: float,
    sigma_ev: float,
    config: SelectionConfig,
    *,
    half_width_ev: float | None = None,
) -> float:
    """``(T − m) − (E + w)`` in eV: > 0 exactly for promising hops, higher is more certain.

    ``w`` is ``half_width_ev``, or ``k_sigma · sigma_ev`` when it is None.
    """
    w = _width(sigma_ev, config, half_width_ev)
    return (config.threshold_ev - config.promising_margin_ev) - (barrier_ev + w)


@dataclass(frozen=True)
class _Ranked:
    prediction: PredictionDoc
    reason: Literal["borderline", "promising"]
    score: float
    tie: float
    half_width_ev: float

    @property
    def group(self) -> str:
        return self.prediction.candidate_id or self.prediction.candidate_name


def _unique(predictions: Sequence[PredictionDoc]) -> list[PredictionDoc]:
    seen: set[str] = set()
    for pred in predictions:
        if pred.hop_id in seen:
            raise ValueError(f"hop {pred.hop_id} is predicted more than once")
        seen.add(pred.hop_id)
    return list(predictions)


def _tie_keys(hop_ids: Sequence[str], rng: random.Random) -> dict[str, float]:
    """A random number per hop id, drawn in sorted id order (independent of input order)."""
    return {hop_id: rng.random() for hop_id in sorted(set(hop_ids))}


def _quotas(n_borderline: int, n_promising: int, budget: int, mix: float) -> tuple[int, int]:
    target = math.floor(budget * mix + 0.5)
    n_b = min(n_borderline, target)
    n_p = min(n_promising, budget - n_b)
    n_b = min(n_borderline, budget - n_p)
    return n_b, n_p


def _pick(
    queues: dict[str, list[_Ranked]],
    quotas: dict[str, int],
    max_per_candidate: int | None,
) -> list[_Ranked]:
    """Draw the quotas, interleaving the classes and taking turns between candidates."""
    counts: Counter[str] = Counter()
    taken = dict.fromkeys(quotas, 0)
    picked: list[_Ranked] = []
    order = list(quotas)  # borderline first on ties
    while True:
        open_classes = [c for c in order if taken[c] < quotas[c]]
        if not open_classes:
            return picked
        cls = min(open_classes, key=lambda c: (taken[c] / quotas[c], order.index(c)))
        queue = queues[cls]
        best = 0
        if max_per_candidate is not None:
            best_tier = math.inf
            for i, item in enumerate(queue):
                tier = counts[item.group] // max_per_candidate
                if tier < best_tier:
                    best, best_tier = i, tier
                    if tier == 0:
                        break
        item = queue.pop(best)
        counts[item.group] += 1
        taken[cls] += 1
        picked.append(item)


def _verdict_queues(
    preds: Sequence[PredictionDoc],
    verdicts: Sequence[HostVerdictDoc],
    config: SelectionConfig,
    ties: dict[str, float],
) -> dict[str, list[_Ranked]]:
    """Bottleneck hops of uncertain hosts (borderline) and of likely good ones (promising)."""
    by_id = {p.hop_id: p for p in preds}
    queues: dict[str, list[_Ranked]] = {"borderline": [], "promising": []}
    low, high = config.verdict_band, 1.0 - config.verdict_band
    for verdict in verdicts:
        pred = by_id.get(verdict.bottleneck_1d_hop_id or "")
        p = verdict.p_good
        if pred is None or p < low:
            continue
        reason: Literal["borderline", "promising"] = "borderline" if p <= high else "promising"
        score = p * (1.0 - p) if reason == "borderline" else p
        w = half_width(pred, config)
        queues[reason].append(_Ranked(pred, reason, score, ties[pred.hop_id], w))
    return queues


def _hop_queues(
    preds: Sequence[PredictionDoc], config: SelectionConfig, ties: dict[str, float]
) -> dict[str, list[_Ranked]]:
    """Borderline and promising hops by their own intervals."""
    queues: dict[str, list[_Ranked]] = {"borderline": [], "promising": []}
    for pred in preds:
        w = half_width(pred, config)
        category = classify(pred.barrier_ev, pred.sigma_ev, config, half_width_ev=w)
        if category == "skipped":
            continue
        score_fn = borderline_score if category == "borderline" else promising_score
        score = score_fn(pred.barrier_ev, pred.sigma_ev, config, half_width_ev=w)
        queues[category].append(_Ranked(pred, category, score, ties[pred.hop_id], w))
    return queues


def select_hops(
    predictions: Sequence[PredictionDoc],
    config: SelectionConfig | None = None,
    verdicts: Sequence[HostVerdictDoc] = (),
) -> SelectionDoc:
    """Choose the hops of one round to send on to verification.

    Parameters
    ----------
    predictions : sequence of PredictionDoc
        One prediction per hop, all by the same model version.
    config : SelectionConfig, optional
        Threshold, k, margin, budget, diversity, mix and seed (defaults if None).
    verdicts : sequence of HostVerdictDoc
        The hosts' verdicts, for ``config.strategy == "verdicts"`` (ignored otherwise).

    Returns
    -------
    SelectionDoc
        The selected hops in priority order, each with its reason and score, and the counts of
        borderline, promising and skipped predictions. The same predictions (in any order) and
        config give the same document.

    Raises
    ------
    ValueError
        If a hop is predicted twice or the predictions come from several model versions.

    """
    config = config or SelectionConfig()
    preds = _unique(predictions)
    versions = sorted({p.model_version for p in preds})
    if len(versions) > 1:
        raise ValueError(f"predictions of several model versions: {versions}; select per model")
    ties = _tie_keys([p.hop_id for p in preds], random.Random(config.seed))
    if config.strategy == "verdicts":
        queues = _verdict_queues(preds, verdicts, config, ties)
    else:
        queues = _hop_queues(preds, config, ties)
    n_skipped = len(preds) - len(queues["borderline"]) - len(queues["promising"])
    for queue in queues.values():
        queue.sort(key=lambda r: (-r.score, r.tie, r.prediction.hop_id))
    n_borderline, n_promising = len(queues["borderline"]), len(queues["promising"])
    n_b, n_p = _quotas(n_borderline, n_promising, config.budget, config.mix)
    picked = _pick(queues, {"borderline": n_b, "promising": n_p}, config.max_per_candidate)
    fields = {
        "model_version": versions[0] if versions else None,
        **config.model_dump(exclude={"max_host_sites"}),  # applied before selection
        "selected": [
            SelectedHop(
                hop_id=r.prediction.hop_id,
                candidate_id=r.prediction.candidate_id,
                candidate_name=r.prediction.candidate_name,
                reason=r.reason,
                barrier_ev=r.prediction.barrier_ev,
                sigma_ev=r.prediction.sigma_ev,
                half_width_ev=r.half_width_ev,
                score=r.score,
            )
            for r in picked
        ],
        "n_considered": len(preds),
        "n_borderline": n_borderline,
        "n_promising": n_promising,
        "n_skipped": n_skipped,
    }
    draft = SelectionDoc(selection_id="", **fields)
    draft.selection_id = compute_selection_id(draft.model_dump(mode="json"))
    return draft


def _ranked_ids(
    predictions: Sequence[PredictionDoc],
    budget: int,
    rng: np.random.Generator,
    key: Callable[[PredictionDoc], float],
) -> list[str]:
    """Hop ids by increasing ``key`` (non-finite keys last), ties in a random order."""
    if budget < 0:
        raise ValueError(f"budget must be >= 0, got {budget}")
    preds = sorted(_unique(predictions), key=lambda p: p.hop_id)
    ties = rng.random(len(preds))

    def order(i: int) -> tuple[bool, float, float]:
        value = key(preds[i])
        finite = math.isfinite(value)
        return (not finite, value if finite else 0.0, float(ties[i]))

    return [preds[i].hop_id for i in sorted(range(len(preds)), key=order)[:budget]]


def policy_random(
    predictions: Sequence[PredictionDoc],
    budget: int,
    rng: np.random.Generator,
    *,
    config: SelectionConfig | None = None,
) -> list[str]:
    """Baseline: ``budget`` hops drawn at random, without replacement (no use of ``config``)."""
    return _ranked_ids(predictions, budget, rng, key=lambda p: 0.0)


def policy_greedy_lowest(
    predictions: Sequence[PredictionDoc],
    budget: int,
    rng: np.random.Generator,
    *,
    config: SelectionConfig | None = None,
) -> list[str]:
    """Exploitation: the ``budget`` hops with the lowest predicted barrier."""
    return _ranked_ids(predictions, budget, rng, key=lambda p: p.barrier_ev)


def policy_borderline_sigma(
    predictions: Sequence[PredictionDoc],
    budget: int,
    rng: np.random.Generator,
    *,
    config: SelectionConfig | None = None,
) -> list[str]:
    """Uncertainty at the threshold: the ``budget`` hops with the highest ``w − |E − T|``.

    Borderline hops come first (score ≥ 0), then the hops nearest to becoming borderline; w is
    the calibrated half-width where the predictions carry one (:func:`half_width`).
    """
    config = config or SelectionConfig()

    def key(p: PredictionDoc) -> float:
        w = half_width(p, config)
        return -borderline_score(p.barrier_ev, p.sigma_ev, config, half_width_ev=w)

    return _ranked_ids(predictions, budget, rng, key=key)


def policy_mixed(
    predictions: Sequence[PredictionDoc],
    budget: int,
    rng: np.random.Generator,
    *,
    config: SelectionConfig | None = None,
) -> list[str]:
    """The default: :func:`select_hops` with this budget, topped up to the full budget.

    The tie-breaking seed is drawn from ``rng``. When fewer than ``budget`` hops are borderline
    or promising, the rest of the budget goes to the remaining hops in the order of
    :func:`policy_borderline_sigma`, so that the replay always spends its budget.
    """
    if budget < 0:
        raise ValueError(f"budget must be >= 0, got {budget}")
    config = config or SelectionConfig()
    seed = int(rng.integers(0, 2**31 - 1))
    round_config = config.model_copy(update={"budget": budget, "seed": seed})
    chosen = select_hops(predictions, round_config).hop_ids
    if len(chosen) < budget:
        taken = set(chosen)
        rest = [p for p in predictions if p.hop_id not in taken]
        chosen += policy_borderline_sigma(rest, budget - len(chosen), rng, config=config)
    return chosen


def policy_probability_good(
    predictions: Sequence[PredictionDoc],
    budget: int,
    rng: np.random.Generator,
    *,
    config: SelectionConfig | None = None,
) -> list[str]:
    """Exploitation with the uncertainty: the hops most likely below the threshold.

    Ranks by P(E_true < T) under each hop's calibrated predictive distribution
    (:func:`hopscreen.selection.predictive.probability_below`), so that, of two hops predicted
    just above T, the one with the wider interval goes first.
    """
    config = config or SelectionConfig()
    return _ranked_ids(
        predictions,
        budget,
        rng,
        key=lambda p: -probability_below(p, config.threshold_ev),
    )


POLICIES: dict[str, Policy] = {
    "random": policy_random,
    "greedy_lowest": policy_greedy_lowest,
    "probability_good": policy_probability_good,
    "borderline_sigma": policy_borderline_sigma,
    "mixed": policy_mixed,
}
"""Replay policies by name; ``"mixed"`` is the default."""
