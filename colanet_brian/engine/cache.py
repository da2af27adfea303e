"""Where compiled standalone builds are cached, and the file lock that guards one build."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path


def default_cache_dir() -> Path:
    """Directory of cached standalone builds (``$COLANET_CACHE`` or ``~/.cache/colanet-brian``)."""
    return Path(os.environ.get("COLANET_CACHE", Path.home() / ".cache" / "colanet-brian"))


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(str(path) + ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
