"""Long jobs a user can trust (issue 12): output checks, atomic run directories, scratch, signals, file modes."""

import os
import signal
import subprocess
import sys
import time

import pytest

from colanet_brian import runio
from colanet_brian.provenance import atomic_save_npz, atomic_write_text, write_json


# -- output paths -------------------------------------------------------------
def test_check_output_dir_refuses_files_non_empty_dirs_and_unwritable_places(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.json").write_text("{}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(runio.OutputError, match="not a directory"):
        runio.check_output_dir(tmp_path / "file")
    with pytest.raises(runio.OutputError, match="not empty.*--force"):
        runio.check_output_dir(tmp_path / "full")
    assert runio.check_output_dir(tmp_path / "full", force=True) == tmp_path / "full"
    assert runio.check_output_dir(tmp_path / "empty") == tmp_path / "empty"
    assert runio.check_output_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    with pytest.raises(runio.OutputError, match="not a directory"):
        runio.check_output_dir(tmp_path / "file" / "below")  # a file where a parent directory should be
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(runio.OutputError, match="permission denied"):
            runio.check_output_dir(locked / "out")


def test_check_output_file_refuses_directories_existing_files_and_wrong_suffix(tmp_path):
    (tmp_path / "model.npz").write_bytes(b"old")
    with pytest.raises(runio.OutputError, match="is a directory"):
        runio.check_output_file(tmp_path, suffix=None)
    with pytest.raises(runio.OutputError, match="exists.*--force"):
        runio.check_output_file(tmp_path / "model.npz")
    with pytest.raises(runio.OutputError, match="must end in .npz"):
        runio.check_output_file(tmp_path / "model.txt", suffix=".npz")
    assert runio.check_output_file(tmp_path / "model.npz", force=True).name == "model.npz"
    assert runio.check_output_file(tmp_path / "new.npz", suffix=".npz").name == "new.npz"


def test_atomic_run_dir_appears_whole_and_an_error_leaves_the_old_run_untouched(tmp_path):
    out = tmp_path / "run"
    with runio.atomic_run_dir(out) as tmp:
        assert tmp != out and tmp.parent == tmp_path
        (tmp / "results.json").write_text("new")
        assert not out.exists()  # nothing visible until the run is complete
    assert (out / "results.json").read_text() == "new"

    with pytest.raises(RuntimeError, match="killed"), runio.atomic_run_dir(out, force=True) as tmp:
        (tmp / "model.npz").write_text("half")
        raise RuntimeError("killed while saving")
    assert sorted(p.name for p in out.iterdir()) == ["results.json"]  # no mix of old and new files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # the temporary sibling is gone

    with runio.atomic_run_dir(out, force=True) as tmp:
        (tmp / "model.npz").write_text("second")
    assert sorted(p.name for p in out.iterdir()) == ["model.npz"]  # replaced whole, not merged
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_atomic_run_dir_without_force_refuses_a_directory_that_appeared_meanwhile(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(runio.OutputError, match="appeared"), runio.atomic_run_dir(out) as tmp:
        (tmp / "a").write_text("x")
        out.mkdir()
        (out / "someone_else").write_text("y")
    assert sorted(p.name for p in out.iterdir()) == ["someone_else"]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_scratch_and_run_siblings_of_dead_processes_are_swept(tmp_path):
    dead, alive = _dead_pid(), os.getpid()
    for name in (f"colanet-run-{dead}-abc", f"colanet-run-{alive}-def", "colanet-run-oldstyle", "other-dir"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "stim.values.dat").write_bytes(b"0" * 100)
    old = time.time() - runio.OLD_SCRATCH_AGE - 60
    os.utime(tmp_path / "colanet-run-oldstyle", (old, old))
    removed = runio.sweep_stale_scratch(tmp_path)
    assert sorted(p.name for p in removed) == sorted([f"colanet-run-{dead}-abc", "colanet-run-oldstyle"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"colanet-run-{alive}-def", "other-dir"])

    (tmp_path / f".run.tmp-{dead}-0123abcd").mkdir()
    (tmp_path / f".run.tmp-{alive}-0123abcd").mkdir()
    with runio.atomic_run_dir(tmp_path / "run"):
        pass
    assert not (tmp_path / f".run.tmp-{dead}-0123abcd").exists()
    assert (tmp_path / f".run.tmp-{alive}-0123abcd").exists()  # a run still going on is left alone


def test_scratch_dirs_carry_the_process_id():
    path = runio.make_scratch_dir()
    try:
        assert path.name.startswith(f"colanet-run-{os.getpid()}-")
        assert path not in runio.sweep_stale_scratch(path.parent)  # this process is alive
        assert path.is_dir()
    finally:
        path.rmdir()


# -- file modes -----------------------------------------------------------------
@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_atomic_writers_respect_the_umask(tmp_path, mask):
    saved = os.umask(mask)
    try:
        files = [atomic_write_text(tmp_path / "a.txt", "x"), write_json(tmp_path / "b.json", {"a": 1}),
                 atomic_save_npz(tmp_path / "c.npz", x=[1, 2])]
    finally:
        os.umask(saved)
    for path in files:
        assert (path.stat().st_mode & 0o777) == 0o666 & ~mask, path


# -- processes ----------------------------------------------------------------
_PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "from colanet_brian.runio import die_with_parent; "
                          "die_with_parent(); import time; time.sleep(60)"])
print(child.pid, flush=True)
time.sleep(60)
"""


def test_a_worker_dies_with_its_parent(tmp_path):
    """`die_with_parent`: a SIGKILLed parent leaves no orphan behind (GA workers use it)."""
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    time.sleep(1.0)  # let the child call prctl
    assert runio.pid_alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 10
    while runio.pid_alive(child) and time.time() < deadline:
        time.sleep(0.1)
    assert not runio.pid_alive(child)


def test_descendants_lists_children_and_grandchildren():
    code = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); " \
           "time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.time() + 10
        while len(runio.descendants()) < 2 and time.time() < deadline:
            time.sleep(0.1)
        found = runio.descendants()
        assert child.pid in found and len(found) >= 2
    finally:
        runio.kill_descendants()
        child.wait()
    assert child.returncode == -signal.SIGKILL
