"""Library chatter (warnings, libraries' prints) goes to a log file, not the terminal.

A screening round loads CHGNet, torch, jobflow and pymatgen, which print banners ("CHGNet will
run on cpu") and warnings (jobflow's FutureWarning, torch's UserWarning) many times over. The
terminal should show progress and the summary; the chatter is kept, once per distinct message
and place, in a log file of the results folder for whoever needs it.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

LOG_NAME = "hopscreen.log"
"""File name of the log in a results folder."""


@contextlib.contextmanager
def chatter_to_log(log_path: Path) -> Iterator[Path]:
    """Send Python warnings and everything printed on stdout to ``log_path`` meanwhile.

    Parameters
    ----------
    log_path : Path
        Log file, appended to (its folder is created).

    Yields
    ------
    Path
        ``log_path``. Write what the user must see to stderr, or through a console whose file
        was taken before entering (stdout is the log inside the block).

    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a", encoding="utf-8") as stream:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        warn_logger = logging.getLogger("py.warnings")
        old_propagate = warn_logger.propagate
        warn_logger.addHandler(handler)
        warn_logger.propagate = False
        logging.captureWarnings(True)
        try:
            with contextlib.redirect_stdout(stream), warnings.catch_warnings():
                warnings.simplefilter("default")
                yield log_path
        finally:
            logging.captureWarnings(False)
            warn_logger.removeHandler(handler)
            warn_logger.propagate = old_propagate
