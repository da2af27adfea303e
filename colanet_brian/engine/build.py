"""The build cache: one compiled standalone project per network shape, backend and thread count.

The build directory holds a ``manifest.json`` that lets a process run the
binary without rebuilding the Brian2 objects at all (`colanet_brian.engine.standalone`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..model.network import CoLaNETNetwork, NetworkShape
from ..model.params import CoLaNETParams
from .base import MONITOR_VARIABLES, MONITORS, _quiet_brian
from .cache import _locked, default_cache_dir

_LOG = logging.getLogger(__name__)


@contextlib.contextmanager
def output_to(log_path: Path | None, append: bool = False):
    """Send this process's stdout/stderr (compiler output included) to ``log_path``.

    On failure the end of the log is attached to the exception, so a broken
    build still explains itself without flooding the terminal on success.
    ``None`` leaves the output alone.
    """
    import sys

    if log_path is None:
        yield
        return
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log_path, "a" if append else "w") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        except Exception as err:
            sys.stdout.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            tail = log_path.read_text()[-3000:]
            raise RuntimeError(f"standalone build failed ({err}); end of {log_path}:\n{tail}") from err
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _build_signature(params_shape: NetworkShape, backend: str, threads: int) -> dict:
    import brian2

    from .._version import __version__

    # the generated code depends on these sources: any edit invalidates cached builds
    sources = hashlib.sha1()
    model = Path(__file__).resolve().parent.parent / "model"
    for path in [model / "equations.py", model / "network.py", model / "rng.py"] + (
            [Path(__file__).with_name("cuda.py")] if backend == "cuda" else []):
        if path.is_file():
            sources.update(path.read_bytes())
    signature = dict(shape=asdict(params_shape), backend=backend, threads=int(threads), brian2=brian2.__version__,
                     colanet=__version__, sources=sources.hexdigest()[:16])
    if backend == "cuda":  # a binary serves one GPU architecture and CUDA release
        from .cuda import cuda_signature

        signature["cuda"] = cuda_signature()
    return signature


def build_standalone(params: CoLaNETParams, shape: NetworkShape, backend: str = "cpp", threads: int = 0,
                     cache_dir: Path | None = None, compile: bool = True) -> tuple[Path, dict, bool]:
    """Generate and compile a standalone project for ``shape``, or reuse a cached one.

    Parameters
    ----------
    params : CoLaNETParams
        Parameters (only structural fields matter; the rest are run arguments).
    shape : NetworkShape
        The network shape; with ``backend`` and ``threads`` it names the build.
    backend : {"cpp", "cuda"}
        ``cpp_standalone`` or brian2cuda's ``cuda_standalone``.
    threads : int
        OpenMP threads of ``cpp_standalone`` (0 = no OpenMP).
    cache_dir : path, optional
        Root of the build cache (`default_cache_dir`).
    compile : bool
        Compile the project (``False`` only generates code).

    Returns
    -------
    build_dir : Path
        Project directory holding ``main`` and ``manifest.json``.
    manifest : dict
        Variable names, dtypes, sizes and result file names of the build.
    compiled_now : bool
        ``True`` if this call generated/compiled the project, ``False`` on a cache hit.
    """
    signature = _build_signature(shape, backend, threads)
    key = hashlib.sha1(json.dumps(signature, sort_keys=True).encode()).hexdigest()[:16]
    build_dir = (Path(cache_dir) if cache_dir else default_cache_dir()) / "builds" / f"{backend}-{key}"
    manifest_path = build_dir / "manifest.json"
    with _locked(build_dir):
        if manifest_path.is_file() and (build_dir / "main").is_file():
            manifest = json.loads(manifest_path.read_text())
            if manifest.get("signature") == signature:
                return build_dir, manifest, False
        stale = manifest_path.is_file()
        _LOG.info("compiling %s (%s)", _describe_build(shape, backend, threads),
                  "the cached build is out of date" if stale else f"first use of this shape; cached in {build_dir}")
        t0 = time.time()
        manifest = _generate_project(params, shape, backend, threads, build_dir, compile)
        _LOG.info("compiled %s in %.1f s", build_dir.name, time.time() - t0)
        manifest["signature"] = signature
        tmp = manifest_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest, indent=1))
        os.replace(tmp, manifest_path)
    return build_dir, manifest, True


def _describe_build(shape: NetworkShape, backend: str, threads: int) -> str:
    """What a build holds, for the message shown while it compiles."""
    device = {"cpp": "cpp_standalone", "cuda": "cuda_standalone"}.get(backend, backend)
    extra = (f", {threads} OpenMP threads" if threads else "") + (", spike recording" if shape.record_spikes else "")
    return (f"the {device} network of {shape.n_copies} copies x {shape.n_classes} classes x "
            f"{shape.n_microcolumns} microcolumns, {shape.n_inputs} inputs, {shape.block_frames} frames per block"
            f"{extra}")


def _generate_project(params, shape, backend, threads, build_dir: Path, compile: bool) -> dict:
    from brian2 import defaultclock, device, ms, prefs, set_device

    _quiet_brian()
    if backend == "cuda":
        from .cuda import configure_cuda

        set_device("cuda_standalone", build_on_run=False)
        device.reinit()
        device.activate(build_on_run=False)
        configure_cuda(build_dir)
    else:
        set_device("cpp_standalone", build_on_run=False)
        device.reinit()
        device.activate(build_on_run=False)
        prefs.devices.cpp_standalone.openmp_threads = int(threads)
    # Brian2's default `make -j` starts every compiler at once: nvcc needs ~0.5 GB each, so bound it
    prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{max(1, os.cpu_count() or 1)}"]
    defaultclock.dt = 1 * ms
    try:
        net = CoLaNETNetwork(params, shape)
        net.network.run(shape.block_frames * shape.frame_tacts * ms, namespace=net.namespace)
        t_start = time.time()
        with output_to(build_dir / "build.log"):
            device.build(directory=str(build_dir), compile=compile, run=False, with_output=False)
        manifest = dict(variables=_manifest_variables(net, device), compile_seconds=time.time() - t_start)
    finally:
        device.reinit()
        set_device("runtime")
        if backend == "cuda":  # later C++ builds get their usual host flags back
            from .cuda import restore_host_prefs

            restore_host_prefs()
    return manifest


def _manifest_variables(net: CoLaNETNetwork, device) -> dict:
    names = [f"{o}.{v}" for o, v in net.carried_variables()]
    names += [f"{obj.name}.{var}" for obj, var, _ in net.parameter_items(1.0)]
    names += ["clock.rng_seed", "clock.block_tact0", "L.plastic", "Target.teach", "L.i_offset", "R.r_offset"]
    for mon in MONITORS:
        if mon in net.objects:
            names += [f"{mon}.{var}" for var in ("i", "t", *MONITOR_VARIABLES.get(mon, ()))]
    out = {}
    for name in dict.fromkeys(names):
        obj_name, var_name = name.split(".")
        var = net.objects[obj_name].variables[var_name]
        out[name] = dict(dtype=np.dtype(var.dtype).str, file=device.get_array_filename(var),
                         size=None if var.dynamic else int(var.size))
    for ta in (net.stim, net.label, net.record_mask):
        out[f"{ta.name}.values"] = dict(dtype=np.dtype(np.float64).str, file=None, size=int(ta.values.size))
    out["R_L.r"]["size"] = out["R_L.w"]["size"] = net.shape.n_inputs * net.shape.n_learning
    return out
