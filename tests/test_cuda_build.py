"""brian2cuda builds of a small CoLaNET network, without needing a GPU.

* `test_cuda_codegen` generates the ``cuda_standalone`` project only (about
  2 s); it runs in the default suite wherever brian2cuda and nvcc are
  installed and is skipped elsewhere.
* `test_cuda_compile` also compiles it with nvcc (about 3 minutes on 2
  cores) and is opt-in: ``pytest -m cuda tests/test_cuda_build.py``.

Running the binary needs a GPU; `test_cuda_compile` does so only where
``nvidia-smi`` reports one.
"""

from __future__ import annotations

import os
import shutil
import time

import numpy as np
import pytest

from colanet_brian.network import NetworkShape
from colanet_brian.params import CoLaNETParams

brian2cuda = pytest.importorskip("brian2cuda")
pytestmark = pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc (CUDA toolkit) not installed")

N_INPUTS, N_CLASSES = 16, 3
PARAMS = CoLaNETParams(n_copies=2, n_microcolumns=3)
SHAPE = NetworkShape.from_params(PARAMS, N_INPUTS, N_CLASSES, block_frames=4)


@pytest.fixture(autouse=True)
def _restore_cpp_prefs():
    """`configure_cuda` edits the shared C++ preferences; give other tests theirs back."""
    yield
    from colanet_brian.cuda import restore_host_prefs

    restore_host_prefs()


def _check_manifest(build_dir, manifest):
    assert (build_dir / "manifest.json").is_file()
    variables = manifest["variables"]
    for name in ("R_L.w", "R_L.r", "L.theta_add", "clock.tact", "clock.rng_seed", "stim.values",
                 "OUT_spikes.i", "OUT_spikes.t", "Target_L.reward"):
        assert name in variables, name
    n_syn = N_INPUTS * SHAPE.n_learning
    assert variables["R_L.w"]["size"] == n_syn
    assert variables["stim.values"]["size"] == SHAPE.block_frames * N_INPUTS
    assert variables["L.theta_add"]["size"] == SHAPE.n_learning
    for name, spec in variables.items():
        if spec["file"] is not None:
            assert spec["file"].startswith("_"), (name, spec)  # Brian2's array file names


def test_cuda_codegen(tmp_path):
    """The CUDA project generates; its sources use the CUDA implementation of colanet_uniform."""
    from colanet_brian.simulate import build_standalone

    build_dir, manifest, built = build_standalone(PARAMS, SHAPE, "cuda", cache_dir=tmp_path, compile=False)
    assert built
    _check_manifest(build_dir, manifest)
    assert (build_dir / "main.cu").is_file() and (build_dir / "makefile").is_file()
    line = next(line for line in (build_dir / "makefile").read_text().splitlines() if line.startswith("NVCCFLAGS"))
    device_flags, host_flags = line.split("-Xcompiler", 1)
    assert "-arch=sm_90" in device_flags.split() or "COLANET_CUDA_CC" in os.environ
    # CUDA 13 needs C++17: a later -std=c++17 overrides the template's -std=c++11, and the host compiler agrees
    assert [f for f in device_flags.split() if f.startswith("-std=")][-1] == "-std=c++17"
    assert "-std=c++17" in host_flags and "-std=c++11" not in host_flags
    assert (tmp_path / "builds" / "cuda_libs" / "libcurand.so").exists()
    noise = (build_dir / "code_objects" / "L_pre_input_codeobject.cu").read_text()
    assert "__host__ __device__ static inline double colanet_uniform" in noise


@pytest.mark.cuda
def test_cuda_compile(tmp_path):
    """nvcc compiles the project into ``main``; with a GPU present, one block runs."""
    from colanet_brian.cuda import gpu_available
    from colanet_brian.simulate import Simulator, build_standalone

    t0 = time.time()
    build_dir, manifest, built = build_standalone(PARAMS, SHAPE, "cuda", cache_dir=tmp_path, compile=True)
    seconds = time.time() - t0
    print(f"\nCUDA generate + compile: {seconds:.1f} s (make: {manifest['compile_seconds']:.1f} s)")
    assert built
    assert (build_dir / "main").is_file()
    _check_manifest(build_dir, manifest)
    # a second request is a cache hit
    assert build_standalone(PARAMS, SHAPE, "cuda", cache_dir=tmp_path)[2] is False
    if not gpu_available():
        return
    sim = Simulator(PARAMS, N_INPUTS, N_CLASSES, sigma=1.0, backend="cuda", block_frames=4, cache_dir=tmp_path)
    rho = np.random.default_rng(0).uniform(0, 1, (4, N_INPUTS))
    result = sim.run(rho, np.array([0, 1, 2, 0]), learning=True)
    assert result.out_counts.shape == (4, PARAMS.n_copies, N_CLASSES)
