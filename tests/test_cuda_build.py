"""brian2cuda builds of a small CoLaNET network, without needing a GPU.

* `test_cuda_codegen` generates the ``cuda_standalone`` project only (about
  2 s); it runs in the default suite wherever brian2cuda and nvcc are
  installed and is skipped elsewhere.
* `test_cuda_compile` also compiles it with nvcc (3-4 minutes of CPU on 2
  cores; 22 minutes wall on a busy machine) and is opt-in:
  ``pytest -m cuda tests/test_cuda_build.py``.
* the other tests check the preference logic of `colanet_brian.engine.cuda` and
  need neither brian2cuda nor nvcc.

Running the binary needs a GPU; `test_cuda_compile` does so only where
``nvidia-smi`` reports one.
"""

from __future__ import annotations

import os
import re
import shutil
import time

import numpy as np
import pytest

from colanet_brian.model.network import NetworkShape
from colanet_brian.model.params import CoLaNETParams

try:
    import brian2cuda  # noqa: F401
except ImportError:
    brian2cuda = None
needs_toolkit = pytest.mark.skipif(brian2cuda is None or shutil.which("nvcc") is None,
                                   reason="needs brian2cuda and nvcc (pip install 'colanet-brian[cuda]', CUDA toolkit)")

N_INPUTS, N_CLASSES = 16, 3
PARAMS = CoLaNETParams(n_copies=2, n_microcolumns=3)
SHAPE = NetworkShape.from_params(PARAMS, N_INPUTS, N_CLASSES, block_frames=4)


@pytest.fixture(autouse=True)
def _restore_cpp_prefs():
    """`configure_cuda` edits the shared C++ preferences; give other tests theirs back."""
    yield
    from colanet_brian.engine.cuda import restore_host_prefs

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


@needs_toolkit
def test_cuda_codegen(tmp_path):
    """The CUDA project generates; its sources use the CUDA implementation of colanet_uniform."""
    from colanet_brian.engine.build import build_standalone

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
    # Brian2 adds a suffix (_1, ...) to code object names already used in this process
    (source,) = sorted((build_dir / "code_objects").glob("L_pre_input_codeobject*.cu"))
    noise = source.read_text()
    assert "__host__ __device__ static inline double colanet_uniform" in noise


def _loop_index_clashes(build_dir) -> list[str]:
    """Generated kernels whose model code redeclares a loop index of brian2cuda's templates (nvcc error)."""
    clashes = []
    for path in sorted((build_dir / "code_objects").glob("*.cu")):
        text = path.read_text()
        for name in ("i", "j"):
            if re.search(rf"for\s*\(\s*int {name}\s*=", text) and re.search(rf"const int32_t {name} = ", text):
                clashes.append(f"{path.name}: {name}")
    return clashes


@needs_toolkit
def test_cuda_synaptic_code_avoids_template_indices(tmp_path):
    """brian2cuda's synapse kernels loop with ``i``/``j``: model code using ``i``/``j`` does not compile."""
    from colanet_brian.engine.build import build_standalone

    build_dir, _, _ = build_standalone(PARAMS, SHAPE, "cuda", cache_dir=tmp_path, compile=False)
    assert _loop_index_clashes(build_dir) == []


@pytest.mark.cuda
@needs_toolkit
def test_cuda_compile(tmp_path):
    """nvcc compiles the project into ``main``; with a GPU present, one block runs."""
    from colanet_brian.engine.build import build_standalone
    from colanet_brian.engine.cuda import gpu_available
    from colanet_brian.engine.simulate import Simulator

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


# ---------------------------------------------------------------------------
# preference logic (no toolkit needed)
# ---------------------------------------------------------------------------
def test_host_flags_cpp17_and_portable():
    from colanet_brian.engine.cuda import _host_flags

    flags = ["-w", "-O3", "-march=native", "-std=c++11"]
    assert _host_flags(flags, keep_native=False) == ["-w", "-O3", "-std=c++17"]
    assert _host_flags(flags, keep_native=True) == ["-w", "-O3", "-march=native", "-std=c++17"]
    assert _host_flags(["-O2"], keep_native=False) == ["-O2", "-std=c++17"]


def test_gpu_choice_without_gpu(monkeypatch):
    from colanet_brian.engine import cuda

    monkeypatch.setattr(cuda, "detect_gpus", lambda: [])
    monkeypatch.delenv("COLANET_CUDA_CC", raising=False)
    monkeypatch.delenv("COLANET_CUDA_GPU", raising=False)
    assert cuda._choose_gpu(None, None) == (cuda.DEFAULT_COMPUTE_CAPABILITY, 0, None)
    monkeypatch.setenv("COLANET_CUDA_CC", "8.0")
    assert cuda._choose_gpu(None, None)[0] == 8.0
    assert cuda._choose_gpu(8.6, 1) == (8.6, 1, None)  # the argument wins
    with pytest.raises(ValueError, match="compute capability"):
        cuda._choose_gpu(3.5, None)


def test_gpu_choice_follows_nvidia_smi(monkeypatch):
    from colanet_brian.engine import cuda

    monkeypatch.setattr(cuda, "detect_gpus", lambda: [("NVIDIA H100 80GB HBM3", 9.0), ("NVIDIA A100", 8.0)])
    monkeypatch.delenv("COLANET_CUDA_CC", raising=False)
    monkeypatch.delenv("COLANET_CUDA_GPU", raising=False)
    assert cuda._choose_gpu(None, 1) == (8.0, 1, "NVIDIA A100")


def test_missing_nvcc_is_a_clear_error(monkeypatch, tmp_path):
    from colanet_brian.engine import cuda

    monkeypatch.setenv("CUDA_PATH", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(cuda, "Path", _NoDefaultCuda)
    with pytest.raises(cuda.CudaUnavailableError, match="nvcc"):
        cuda._find_nvcc()


class _NoDefaultCuda(type(__import__("pathlib").Path())):
    """`Path` that pretends /usr/local/cuda does not exist."""

    def is_file(self):
        return False if str(self).startswith("/usr/local/cuda") else super().is_file()


def test_curand_symlink_is_repointed(tmp_path):
    from colanet_brian.engine.cuda import _link_curand

    lib_a, lib_b = tmp_path / "libcurand.so.10", tmp_path / "libcurand.so.11"
    lib_a.write_bytes(b"a")
    lib_b.write_bytes(b"b")
    _link_curand(str(lib_a), tmp_path / "links")
    _link_curand(str(lib_b), tmp_path / "links")
    assert (tmp_path / "links" / "libcurand.so").read_bytes() == b"b"


def test_no_pathway_has_a_synaptic_delay():
    """brian2cuda's circular eventspaces assume thresholds before synapses: keep every delay at 0.

    With the CoLaNET schedule (synapses before thresholds) a delayed pathway next to an undelayed one
    from the same group delivered at the wrong tact on a GPU (measured: no dopamine potentiation, no
    votes); the Target -> L delay is therefore a delayed Target event (`equations.TARGET_DOPAMINE_EVENT`).
    """
    from brian2 import Synapses, ms

    from colanet_brian.engine.runtime import _runtime_device
    from colanet_brian.model.network import CoLaNETNetwork

    _runtime_device("numpy")
    net = CoLaNETNetwork(PARAMS, SHAPE)
    synapses = [obj for obj in net.objects.values() if isinstance(obj, Synapses)]
    assert len(synapses) == 8
    for syn in synapses:
        for pathway in syn._pathways:
            assert np.all(np.asarray(pathway.delay / ms) == 0), (syn.name, pathway.prepost)
    assert net.objects["Target_L"].pre.event == "dopa"
