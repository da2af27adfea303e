"""Checkpointed training passes resume with the same final state (issue 12): in-process and after a real SIGKILL."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from colanet_brian.checkpoint import Checkpoint
from colanet_brian.classifier import CoLaNETClassifier
from colanet_brian.model.params import CoLaNETParams

SMALL = dict(n_copies=2, n_microcolumns=4, saturation=16.0)  # the shape of test_backends: one build per session


class _Killed(Exception):
    pass


def _classifier(build_cache):
    return CoLaNETClassifier(CoLaNETParams(**SMALL), backend="cpp", seed=1, block_frames=60, cache_dir=build_cache,
                             progress=False)


def test_a_pass_interrupted_after_a_checkpoint_resumes_to_the_uninterrupted_state(digits_small, build_cache,
                                                                                  tmp_path):
    Xtr, ytr, Xte, yte, names = digits_small  # 120 samples: 2 blocks of 60
    whole = _classifier(build_cache).fit(Xtr, ytr, names, snapshots=2)
    path = tmp_path / "ck.npz"

    killed = _classifier(build_cache)
    take = killed._take_snapshot

    def die_in_block_2(n_done):
        take(n_done)
        if n_done == 120:
            raise _Killed  # after block 2, before its chunk was checkpointed
    killed._take_snapshot = die_in_block_2
    with pytest.raises(_Killed):
        killed.fit(Xtr, ytr, names, snapshots=2, checkpoint=Checkpoint(path, every=1, key=dict(seed=1)))
    saved = Checkpoint(path).read()
    assert saved["meta"]["n_done"] == 60 and saved["meta"]["block_index"] == 1  # the last finished chunk

    ck = Checkpoint(path, every=1, key=dict(seed=1), resume=True)
    resumed = _classifier(build_cache).fit(Xtr, ytr, names, snapshots=2, checkpoint=ck)
    assert ck.resumed_samples == 60
    np.testing.assert_array_equal(resumed.training.counts, whole.training.counts)
    for key, value in whole.learned_state().items():
        np.testing.assert_array_equal(resumed.learned_state()[key], value, err_msg=key)
    for key in ("samples", "w", "s"):
        np.testing.assert_array_equal(resumed.snapshots[key], whole.snapshots[key], err_msg=key)
    assert resumed.simulator.block_index == whole.simulator.block_index
    np.testing.assert_array_equal(resumed.evaluate(Xte, yte).counts, whole.evaluate(Xte, yte).counts)


def test_a_checkpoint_of_another_pass_is_refused(digits_small, build_cache, tmp_path):
    Xtr, ytr, _, _, names = digits_small
    path = tmp_path / "ck.npz"
    clf = _classifier(build_cache)
    clf.fit(Xtr[:90], ytr[:90], names, checkpoint=Checkpoint(path, every=1, key=dict(seed=1)))
    assert path.is_file()  # written after blocks 1 and 2 (the last block needs none)
    with pytest.raises(ValueError, match="another training pass.*data"):
        _classifier(build_cache).fit(Xtr[:90] + 1, ytr[:90], names,
                                     checkpoint=Checkpoint(path, every=1, key=dict(seed=1), resume=True))
    with pytest.raises(ValueError, match="another training pass.*seed"):
        _classifier(build_cache).fit(Xtr[:90], ytr[:90], names,
                                     checkpoint=Checkpoint(path, every=1, key=dict(seed=2), resume=True))
    path.write_bytes(b"PK\x03\x04 torn")
    with pytest.raises(ValueError, match="damaged"):
        Checkpoint(path, resume=True).read()


# -- a real SIGKILL of `colanet run` -------------------------------------------------
def _run(tmp_path, out, *extra, wait=True):
    env = dict(os.environ, COLANET_CACHE=str(tmp_path / "cache"), TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir(exist_ok=True)
    argv = [sys.executable, "-m", "colanet_brian.cli", "run", "--out", str(out), "--no-progress", "--no-baselines",
            "--copies", "2", "--split-copies", "1", "--checkpoint-every", "1", *extra]
    if wait:
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=1800)
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
def test_colanet_run_killed_with_sigkill_resumes_to_the_same_model_and_accuracy(tmp_path):
    ref = _run(tmp_path, tmp_path / "ref")  # uninterrupted (also compiles the shape)
    assert ref.returncode == 0, ref.stderr
    checkpoint = tmp_path / "killed.checkpoint.npz"
    proc = _run(tmp_path, tmp_path / "killed", wait=False)
    deadline = time.time() + 600
    while time.time() < deadline:
        if checkpoint.is_file() and json.loads(str(np.load(checkpoint)["meta"]))["n_done"] >= 300:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_done = json.loads(str(np.load(checkpoint)["meta"]))["n_done"]
    assert 0 < n_done < 1437 and not (tmp_path / "killed").exists()

    again = _run(tmp_path, tmp_path / "killed")
    assert again.returncode == 1 and "--resume" in again.stderr  # a checkpoint is never silently overwritten
    resumed = _run(tmp_path, tmp_path / "killed", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming from {checkpoint}: {n_done} samples done" in resumed.stderr
    assert not checkpoint.exists()  # removed once the run directory is in place
    a = json.loads((tmp_path / "ref" / "results.json").read_text())
    b = json.loads((tmp_path / "killed" / "results.json").read_text())
    assert b["accuracy"] == a["accuracy"] and b["accuracy_single"] == a["accuracy_single"]
    assert b["training"]["online_accuracy"] == a["training"]["online_accuracy"]
    with np.load(tmp_path / "ref" / "model.npz") as ma, np.load(tmp_path / "killed" / "model.npz") as mb:
        for key in ma.files:
            if key.startswith("state/"):
                np.testing.assert_array_equal(ma[key], mb[key], err_msg=key)
