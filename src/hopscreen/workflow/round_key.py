"""The key of a campaign's round, for the up-to-date check of a local run.

See :mod:`hopscreen.screening.round_record`: a round whose key has a record, on a store
unchanged since, is not run again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hopscreen.candidates.demo import demo_files
from hopscreen.candidates.local import expand_structure_paths
from hopscreen.models.shipped import resolve_model_dir
from hopscreen.screening.round_record import round_key

ROUND_KEY_METADATA = "hopscreen_round_key"
"""Key of the round's key in the Flow's ``metadata`` (set by ``build_round``)."""

SETTINGS_NOT_IN_KEY: dict[str, Any] = {
    "results_dir": True,  # where the results go, not what they are
    "routing": True,  # which FireWorks worker runs a job
    "registry": True,  # enters through the resolved model folder's content
    "prediction": {"workers"},  # worker processes give identical results (tested)
}
"""Campaign settings left out of the key (``model_dump(exclude=...)`` form)."""


def campaign_round_key(
    settings: dict[str, Any],
    *,
    model: str | None,
    demo: bool,
    files: list[str],
    candidates_files: list[str],
    mp_chemsys: list[str],
) -> str | None:
    """The key of the round ``build_round`` makes, or None when it has none.

    Parameters
    ----------
    settings
        The campaign's settings, without :data:`SETTINGS_NOT_IN_KEY`.
    model
        The round's model (``round_model``: a folder, a shipped name or None).
    demo, files, candidates_files
        The round's sources: the demo hosts, structure files or globs, saved candidates files.
    mp_chemsys
        Chemical systems the candidates job queries itself; a round that queries the
        Materials Project on its worker has no key (what it screens is known only when it
        runs). So has a round whose model cannot be found (it fails when it runs).

    """
    if mp_chemsys:
        return None
    try:
        model_dir = resolve_model_dir(model)
    except FileNotFoundError:
        return None
    inputs: list[tuple[str, Path | None]] = list(demo_files()) if demo else []
    inputs += expand_structure_paths(files)
    inputs += [(path, Path(path)) for path in candidates_files]
    return round_key(settings, inputs=inputs, model_dir=model_dir)
