"""Build one screening round from a campaign file and run it locally or submit it to FireWorks.

Composition only: the jobs and Makers live in ``hopscreen.workflow.jobs`` /
``hopscreen.workflow.makers`` (FireWorks workers import them by module path from the installed
package).

Usage::

    python -m flows.screen_round campaign.yaml             # run locally
    python -m flows.screen_round campaign.yaml --fireworks # add to the LaunchPad
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from jobflow import Flow

from hopscreen.workflow.campaign import CampaignConfig, run_round_locally, submit_to_launchpad
from hopscreen.workflow.campaign import build_round as _build_round


def build_round(config: CampaignConfig) -> Flow:
    """The Flow of one screening round."""
    return _build_round(config)


def submit_round(
    flow: Flow,
    *,
    results_dir: str | Path,
    fireworks: bool = False,
    launchpad: Any = None,
) -> Any:
    """Run ``flow`` locally (returns the RoundSummary) or add it to a LaunchPad (Firework ids)."""
    if fireworks:
        return submit_to_launchpad(flow, results_dir, launchpad=launchpad)
    return run_round_locally(flow, results_dir)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    use_fireworks = "--fireworks" in args
    paths = [a for a in args if a != "--fireworks"]
    if len(paths) != 1:
        raise SystemExit("usage: python -m flows.screen_round CAMPAIGN.yaml [--fireworks]")
    config = CampaignConfig.from_yaml(paths[0])
    result = submit_round(
        build_round(config), results_dir=config.results_dir, fireworks=use_fireworks
    )
    print(result)


if __name__ == "__main__":
    main()
