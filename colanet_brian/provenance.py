"""Reproducibility records and atomic file output.

Every run writes its parameters, seed, package versions and git revision next
to its results; every file is written to a temporary name and renamed, so an
interrupted job never leaves a half-written output.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

__all__ = ["atomic_write_text", "atomic_write_bytes", "atomic_save_npz", "current_umask", "package_versions", "git_revision",
           "provenance", "write_json"]

_PACKAGES = ("colanet-brian", "brian2", "brian2cuda", "numpy", "scipy", "scikit-learn", "Cython", "pygad", "torch",
             "torchvision", "timm", "dask", "distributed", "matplotlib")


def _atomic(path: str | Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp makes 0600: colleagues must read results like any file
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def current_umask() -> int:
    """The process's umask (read from ``/proc``; elsewhere set and restored at once)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file + rename)."""
    return _atomic(path, lambda h: h.write(data))


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_save_npz(path: str | Path, **arrays) -> Path:
    """``numpy.savez_compressed`` to ``path`` atomically."""
    import numpy as np

    return _atomic(path, lambda h: np.savez_compressed(h, **arrays))


def write_json(path: str | Path, data: dict) -> Path:
    """Write ``data`` as indented JSON, atomically (numpy scalars allowed)."""
    return atomic_write_text(path, json.dumps(data, indent=2, default=_json_default) + "\n")


def _json_default(obj):
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj)}")


def package_versions() -> dict:
    """Installed versions of the packages that shape results (``None`` if absent)."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_revision(path: str | Path | None = None) -> str | None:
    """Git revision of the source tree (``-dirty`` if it has changes), or ``None``."""
    where = Path(path) if path else Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=where,
                               capture_output=True, text=True, timeout=10)
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def provenance() -> dict:
    """Versions, git revision, command line and host of the current process."""
    return dict(versions=package_versions(), git_revision=git_revision(), command=sys.argv,
                platform=platform.platform(), cpu_count=os.cpu_count())
