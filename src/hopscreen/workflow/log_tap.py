"""A logging handler that listens to one logger at INFO for the length of a ``with`` block.

jobflow reports each job's start, end and failure as INFO records; the round runner, the
campaign benchmark and ``hopscreen screen`` each read them through a subclass of
:class:`LoggerTap`, which attaches itself on entry and restores the logger on exit.
"""

from __future__ import annotations

import logging
from typing import Self


class LoggerTap(logging.Handler):
    """Attach to :attr:`logger_name` at INFO on entry; detach and restore its level on exit."""

    logger_name = "jobflow"

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self._old_level = logging.NOTSET

    def __enter__(self) -> Self:
        logger = logging.getLogger(self.logger_name)
        self._old_level = logger.level
        if not logger.isEnabledFor(logging.INFO):
            logger.setLevel(logging.INFO)
        logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logger = logging.getLogger(self.logger_name)
        logger.removeHandler(self)
        logger.setLevel(self._old_level)
