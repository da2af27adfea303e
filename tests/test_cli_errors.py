"""The ``colanet`` command with bad outputs and inputs: one line, exit status 1, before any work (issue 12)."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from colanet_brian import __version__
from colanet_brian.cli import main


def _error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.strip().splitlines() if line.startswith("colanet") and "error" in line]
    assert "Traceback" not in err and len(lines) == 1, err
    return lines[0]


@pytest.fixture()
def full_dir(tmp_path):
    path = tmp_path / "full"
    path.mkdir()
    (path / "results.json").write_text("{}")
    return path


def test_output_paths_are_checked_before_the_data_are_even_read(tmp_path, full_dir, capsys):
    """A refused output fails first: the (missing) data set would be the next error."""
    missing = str(tmp_path / "absent.npz")
    (tmp_path / "afile").write_text("x")
    cases = [
        (["run", "--dataset", missing, "--out", str(full_dir)], "--out .*not empty"),
        (["run", "--dataset", missing, "--out", str(tmp_path / "afile")], "not a directory"),
        (["train", missing, "-o", str(tmp_path)], "is a directory"),
        (["train", missing, "-o", str(tmp_path / "afile")], "must end in .npz"),
        (["bench", "--out", str(tmp_path)], "is a directory"),
        (["evolve", "--dataset", missing, "--out", str(full_dir)], "not empty"),
        (["evaluate", missing, missing], "model file not found"),
    ]
    import re

    for argv, pattern in cases:
        assert main(argv) == 1, argv
        assert re.search(pattern, _error_line(capsys)), argv
    assert (full_dir / "results.json").read_text() == "{}"  # untouched
    # with --force the output passes and the next problem (the data) is reported
    assert main(["run", "--dataset", missing, "--out", str(full_dir), "--force"]) == 1
    assert "absent.npz" in _error_line(capsys)


@pytest.mark.parametrize("argv, message", [
    (["--set", "reward=abc"], "--set: reward must be a number, got 'abc'"),
    (["--set", "wta_random=3"], "--set: wta_random must be true or false"),
    (["--set", "reward"], "--set expects NAME=VALUE"),
])
def test_bad_parameter_values_are_one_line_errors(tmp_path, capsys, argv, message):
    assert main(["run", "--out", str(tmp_path / "o"), *argv]) == 1
    assert message in _error_line(capsys)
    assert not (tmp_path / "o").exists()


def test_a_params_file_holding_a_list_or_bad_json_is_a_one_line_error(tmp_path, capsys):
    for text, message in (("[1, 2]", "expected a JSON object"), ("{nope", "not a JSON parameter file"),
                          ('{"reward": "high"}', "reward must be a number")):
        path = tmp_path / "p.json"
        path.write_text(text)
        assert main(["run", "--params", str(path), "--out", str(tmp_path / "o")]) == 1
        line = _error_line(capsys)
        assert message in line and str(path) in line


@pytest.mark.parametrize("content", [b"garbage", b"PK\x03\x04" + b"\0" * 64, "truncated"])
def test_evaluate_on_a_garbage_model_file_names_the_file(tmp_path, capsys, content):
    model = tmp_path / "model.npz"
    if content == "truncated":  # a real zip archive cut in half
        np.savez_compressed(model, meta=np.array("{}"), x=np.arange(50000))
        data = model.read_bytes()
        model.write_bytes(data[: len(data) // 2])
    else:
        model.write_bytes(content)
    features = tmp_path / "f.npz"
    np.savez(features, X=np.ones((4, 3)), y=np.array([0, 1, 0, 1]))
    assert main(["evaluate", str(model), str(features)]) == 1
    line = _error_line(capsys)
    assert str(model) in line and "not a colanet-brian model file" in line


@pytest.mark.parametrize("name, text", [("config.json", '{"format": "colanet-evolve'),
                                        ("config.json", "[]"),
                                        ("checkpoint.json", '{"generation": 2, "popul')])
def test_evolve_resume_with_a_garbled_file_names_it(tmp_path, capsys, name, text):
    from colanet_brian.search.evolve import FORMAT

    run = tmp_path / "ga"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(dict(format=FORMAT, config={}, base_params={}, data={},
                                                       data_spec=dict(dataset="digits"))))
    (run / name).write_text(text)
    assert main(["evolve", "--resume", str(run)]) == 1
    line = _error_line(capsys)
    assert str(run / name) in line and ("truncated" in line or "damaged" in line)


def test_version_and_quiet(capsys, tmp_path):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"colanet-brian {__version__}"
    missing = str(tmp_path / "absent.npz")
    main(["run", "--dataset", missing, "--out", str(tmp_path / "o")])
    assert "colanet: run: data set" in capsys.readouterr().err  # progress messages by default
    main(["-q", "run", "--dataset", missing, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert "run: data set" not in err and "absent.npz" in err  # -q: errors only


def test_cuda_without_a_gpu_fails_at_once(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvidia-smi: no GPU visible
    t0 = time.time()
    assert main(["run", "--backend", "cuda", "--out", str(tmp_path / "o")]) == 1
    line = _error_line(capsys)
    assert "no NVIDIA GPU" in line and "--build-only" in line
    assert time.time() - t0 < 10 and not (tmp_path / "o").exists()


# -- interrupts -------------------------------------------------------------------
def _start_run(tmp_path, *extra):
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"), COLANET_CACHE=str(tmp_path / "cache"))
    (tmp_path / "tmp").mkdir()
    argv = [sys.executable, "-m", "colanet_brian.cli", "run", "--out", str(tmp_path / "out"), "--no-progress",
            "--no-baselines", *extra]
    return subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=env)


def _wait_for(proc, text, timeout=120):
    lines, deadline = [], time.time() + timeout
    while time.time() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if text in line:
            return lines
    raise AssertionError(f"{text!r} not seen: {lines}")


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_run_says_so_in_one_line_and_leaves_no_output(tmp_path, sig, code):
    proc = _start_run(tmp_path, "--backend", "numpy", "--copies", "1", "--microcolumns", "3")
    _wait_for(proc, "run: data set")
    checkpoint = tmp_path / "out.checkpoint.npz"
    deadline = time.time() + 300
    while not checkpoint.is_file() and time.time() < deadline:  # in the training pass: one block done
        time.sleep(0.05)
    proc.send_signal(sig)
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == code, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[-1] == f"colanet run: interrupted ({signal.Signals(sig).name}); exit status {code}"
    assert f"checkpoint kept in {checkpoint}: run the same command with --resume" in lines[-2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.checkpoint.npz", "tmp"]  # no --out, no sibling


@pytest.mark.slow
def test_sigterm_while_compiling_and_training_leaves_no_scratch_and_no_binary_running(tmp_path):
    """cpp backend: the compile message comes early; SIGTERM kills the binaries and removes the scratch."""
    t0 = time.time()
    proc = _start_run(tmp_path, "--backend", "cpp", "--copies", "2", "--split-copies", "2")
    lines = _wait_for(proc, "compiling the cpp_standalone network")
    seen = time.time() - t0
    assert seen < 10, (seen, lines)  # what compiles is said before the compile (README: ~2 s when idle)
    _wait_for(proc, "compiled", timeout=600)
    deadline = time.time() + 600
    scratch = []
    while not scratch and time.time() < deadline:  # the binaries are running
        scratch = list((tmp_path / "tmp").glob(f"colanet-run-{proc.pid}-*/run-*"))
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 143, err
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not (tmp_path / "out").exists()
    ps = subprocess.run(["pgrep", "-f", str(tmp_path / "cache")], capture_output=True, text=True)
    assert ps.stdout.strip() == ""  # no binary of this run survives


def test_the_parser_lists_the_simulator_backends_without_importing_brian2():
    import subprocess

    from colanet_brian.cli.common import BACKENDS
    from colanet_brian.engine.base import BACKENDS as SIMULATED

    assert BACKENDS == SIMULATED
    code = "import sys, colanet_brian.cli as c; c.build_parser(); print('brian2' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
