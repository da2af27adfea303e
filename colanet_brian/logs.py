"""Logging of the ``colanet`` command: one handler on stderr, verbosity from ``-v``/``-q``.

Results (tables, accuracies) go to stdout with ``print``; everything about
the work itself (what compiles and why, checkpoints, warnings) is logged
through the ``colanet_brian`` logger, so ``-q`` silences it and ``-v`` adds
detail.  Brian2's own console handler (where brian2cuda's INFO lines go)
shows warnings only unless ``-vv`` is given.
"""

from __future__ import annotations

import logging
import sys

__all__ = ["configure", "quiet_brian_console", "verbosity"]

_state = {"verbosity": 0}


class _Format(logging.Formatter):
    """``colanet: message``, with the level named for warnings and errors."""

    def format(self, record):
        text = record.getMessage()
        if record.levelno >= logging.WARNING:
            text = f"{record.levelname.lower()}: {text}"
        return f"colanet: {text}"


def configure(level: int = 0, stream=None) -> logging.Logger:
    """Set up the ``colanet_brian`` logger for a verbosity level.

    Parameters
    ----------
    level : int
        ``-1`` (``-q``): warnings only; ``0``: progress messages (default);
        ``1`` (``-v``): debug detail; ``2`` (``-vv``): Brian2's INFO lines as well.
    stream : file, optional
        Where messages go (default ``sys.stderr``).
    """
    _state["verbosity"] = int(level)
    logger = logging.getLogger("colanet_brian")
    for handler in list(logger.handlers):
        if getattr(handler, "_colanet", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._colanet = True
    handler.setFormatter(_Format())
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if level < 0 else logging.INFO if level == 0 else logging.DEBUG)
    logger.propagate = False
    quiet_brian_console()
    return logger


def verbosity() -> int:
    """The level given to `configure` (0 if it was not called)."""
    return _state["verbosity"]


def quiet_brian_console() -> None:
    """Brian2's console handler: warnings only unless the verbosity is 2 or more.

    Brian2 sets its handler's level when it is imported, so this runs again
    whenever a simulation is set up (`engine.base._quiet_brian`).
    """
    if "brian2" not in sys.modules:
        return
    from brian2.utils.logger import BrianLogger

    handler = BrianLogger.console_handler
    if handler is not None:
        handler.setLevel(logging.INFO if verbosity() >= 2 else logging.WARNING)
