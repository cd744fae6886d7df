"""Selection stage: which predicted hops a round sends on to verification (pure functions)."""

from hopscreen.selection.policies import (
    POLICIES,
    Policy,
    SelectionConfig,
    borderline_score,
    classify,
    policy_borderline_sigma,
    policy_greedy_lowest,
    policy_mixed,
    policy_probability_good,
    policy_random,
    promising_score,
    select_hops,
)

__all__ = [
    "POLICIES",
    "Policy",
    "SelectionConfig",
    "borderline_score",
    "classify",
    "policy_borderline_sigma",
    "policy_greedy_lowest",
    "policy_mixed",
    "policy_probability_good",
    "policy_random",
    "promising_score",
    "select_hops",
]
