"""What long jobs need to be trusted: output checks, atomic run directories, signals and scratch.

* `check_output_dir` / `check_output_file` refuse an output before any work
  starts (one rule for every command: an existing non-empty directory or file
  is refused unless ``--force``; the parent must be writable).
* `atomic_run_dir` writes a run into a hidden temporary sibling and renames it
  into place at the end, so a kill never leaves old and new files side by side.
* `handle_signals` turns SIGTERM/SIGHUP into `Interrupted` (like Ctrl-C), after
  killing the child processes (standalone binaries, GA workers), so that
  ``finally`` blocks and exit handlers remove scratch directories.
* `sweep_stale_scratch` removes the scratch of processes that no longer run;
  `die_with_parent` makes a worker process end when its parent does.

Linux only (``/proc``, ``prctl``), like the rest of the standalone machinery.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import tempfile
import time
import uuid
from pathlib import Path

__all__ = ["Interrupted", "OutputError", "check_output_dir", "check_output_file", "atomic_run_dir",
           "handle_signals", "kill_descendants", "scratch_root", "sweep_stale_scratch", "die_with_parent"]

#: Prefix of the per-process scratch directories of standalone runs (``colanet-run-<pid>-<random>``).
SCRATCH_PREFIX = "colanet-run-"
_SCRATCH_RE = re.compile(r"^colanet-run-(\d+)-")
_TMP_SIBLING_RE = re.compile(r"^\.(.+)\.tmp-(\d+)-[0-9a-f]+$")
#: Scratch without a process id (written before ids were recorded) is swept once this old (seconds).
OLD_SCRATCH_AGE = 24 * 3600


class OutputError(ValueError):
    """An output path that cannot be used (a user error, reported before any work)."""


class Interrupted(KeyboardInterrupt):
    """The job was stopped by a signal (SIGINT, SIGTERM, SIGHUP).

    Attributes
    ----------
    signum : int
        The signal; the conventional exit status is ``128 + signum``.
    """

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)

    @property
    def exit_code(self) -> int:
        """``128 + signum`` (130 for Ctrl-C, 143 for SIGTERM)."""
        return 128 + self.signum


# ---------------------------------------------------------------------------
# Output paths
# ---------------------------------------------------------------------------
def _check_parent_writable(path: Path, option: str) -> None:
    parent = path.parent
    while not parent.exists():  # the directories we would create: the first existing one decides
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{option} {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {path}: cannot write in {parent} (permission denied)")


def check_output_dir(path, force: bool = False, option: str = "--out") -> Path:
    """Check an output directory before any work starts.

    Parameters
    ----------
    path : path
        The directory the command will write.
    force : bool
        Allow replacing an existing non-empty directory (it is replaced whole at the end).
    option : str
        The option's name, for the message.

    Returns
    -------
    Path

    Raises
    ------
    OutputError
        If ``path`` is a file, a non-empty directory (without ``force``) or in
        a place this process cannot write.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{option} {path} exists and is not a directory")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise OutputError(f"{option} {path} exists and is not empty; choose another directory or add --force "
                          "(replaces it when the run has finished)")
    _check_parent_writable(path, option)
    return path


def check_output_file(path, force: bool = False, option: str = "-o", suffix: str | None = None) -> Path:
    """Check an output file before any work starts (same rule as `check_output_dir`).

    Raises
    ------
    OutputError
        If ``path`` is a directory, an existing file (without ``force``), has
        the wrong ``suffix`` or lies where this process cannot write.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{option} {path} is a directory, not a file name")
    if suffix is not None and path.suffix != suffix:
        raise OutputError(f"{option} {path}: the file name must end in {suffix}")
    if path.exists() and not force:
        raise OutputError(f"{option} {path} exists; choose another name or add --force")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"{option} {path}: not writable")
    _check_parent_writable(path, option)
    return path


@contextlib.contextmanager
def atomic_run_dir(path, force: bool = False):
    """Write a run directory whole: yield a temporary sibling, rename it to ``path`` on success.

    The temporary directory ``.<name>.tmp-<pid>-<random>`` is removed if the
    block raises (an interrupt included).  An existing ``path`` is replaced only
    with ``force`` (checked again at the end, in case it appeared meanwhile).

    Yields
    ------
    Path
        The directory to write into.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_siblings(final)
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
        _move_into_place(tmp, final, force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _move_into_place(tmp: Path, final: Path, force: bool) -> None:
    if final.is_dir() and not any(final.iterdir()):
        final.rmdir()
    if not final.exists():
        os.rename(tmp, final)
        return
    if not force or not final.is_dir():
        raise OutputError(f"{final} appeared while the run was going on; the results are in {tmp}")
    old = final.parent / f".{final.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    os.rename(final, old)  # the old run leaves whole, then the new one arrives whole
    os.rename(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def sweep_stale_siblings(final: Path) -> list[Path]:
    """Remove ``.<name>.tmp-<pid>-*`` siblings of ``final`` left by processes that no longer run."""
    removed = []
    with contextlib.suppress(OSError):
        for entry in final.parent.iterdir():
            m = _TMP_SIBLING_RE.match(entry.name)
            if m and m.group(1) == final.name and not pid_alive(int(m.group(2))):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    return removed


# ---------------------------------------------------------------------------
# Processes and signals
# ---------------------------------------------------------------------------
def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def descendants(pid: int | None = None) -> list[int]:
    """Process ids of every descendant of ``pid`` (default: this process), children first."""
    children = _children_map()
    out, todo = [], [os.getpid() if pid is None else pid]
    while todo:
        kids = children.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def kill_descendants(sig: int = signal.SIGKILL) -> list[int]:
    """Send ``sig`` to every descendant process (standalone binaries, GA workers and theirs)."""
    pids = descendants()
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, sig)
    return pids


def _on_signal(signum, frame):  # noqa: ARG001 - signal handler signature
    kill_descendants()  # a block in a child would otherwise run to its end (minutes) before we can stop
    raise Interrupted(signum)


@contextlib.contextmanager
def handle_signals(signals=(signal.SIGINT, signal.SIGTERM, signal.SIGHUP)):
    """Within the block, these signals kill the child processes and raise `Interrupted`.

    Only the main thread may install handlers; elsewhere this does nothing.
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.signal(sig, _on_signal) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent dies (Linux ``prctl``).

    With ``SIGTERM`` a handler is installed that kills this process's own
    children and exits at once, so a killed GA leaves no orphans behind.
    """
    import ctypes

    parent = os.getppid()
    if sig == signal.SIGTERM:
        signal.signal(signal.SIGTERM, _exit_now)
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, int(sig), 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), sig)


def _exit_now(signum, frame):  # noqa: ARG001 - signal handler signature
    kill_descendants()
    sweep_stale_scratch()
    os._exit(128 + signum)


# ---------------------------------------------------------------------------
# Scratch directories
# ---------------------------------------------------------------------------
def scratch_root() -> Path:
    """Where standalone runs keep their scratch (the temp dir; ``/tmp`` if its path has capitals).

    brian2cuda lowercases the paths it is given, so a temp dir with capitals cannot be used.
    """
    tmp = tempfile.gettempdir()
    return Path(tmp if tmp == tmp.lower() else "/tmp")


def make_scratch_dir() -> Path:
    """A new private scratch directory named after this process (`sweep_stale_scratch` knows it)."""
    return Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", dir=scratch_root()))


def sweep_stale_scratch(root=None, now: float | None = None) -> list[Path]:
    """Remove scratch directories whose process no longer runs.

    ``colanet-run-<pid>-*`` is removed when ``pid`` is dead; an older
    ``colanet-run-*`` without a process id when it is older than `OLD_SCRATCH_AGE`.

    Returns
    -------
    list of Path
        The directories removed.
    """
    root = Path(root) if root is not None else scratch_root()
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(SCRATCH_PREFIX) or not entry.is_dir() or entry.is_symlink():
            continue
        m = _SCRATCH_RE.match(entry.name)
        try:
            stale = (not pid_alive(int(m.group(1)))) if m else now - entry.stat().st_mtime > OLD_SCRATCH_AGE
            if stale and entry.stat().st_uid == os.getuid():
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
        except OSError:
            continue
    return removed
