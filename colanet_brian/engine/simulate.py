"""Run a CoLaNET network over blocks of samples on any Brian2 backend.

Backends
--------
``runtime``  Brian2 runtime mode, Cython code generation when it works, numpy otherwise.
``cython``   runtime mode, Cython only.
``numpy``    runtime mode, numpy only (slow, no compiler needed).
``cpp``      ``cpp_standalone``: the network is compiled once per `NetworkShape`
             and the binary is reused for every block, seed and hyperparameter set.
``cuda``     brian2cuda's ``cuda_standalone``, the same way (see `colanet_brian.cuda`).

A *block* is a run of ``block_frames`` frames (spec §2): one ``run()`` with the
features in a `TimedArray`, never one ``run()`` per sample.  Between blocks the
state listed in `network.CARRIED_STATE` carries over.  In standalone mode the
binary is executed directly with every hyperparameter, the carried state and
the block's data as command-line ``run_args`` written into a private run
directory, so that several processes can share one compiled binary safely;
the build directory holds a ``manifest.json`` that lets a process run the
binary without rebuilding the Brian2 objects at all.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import time
import uuid
import weakref
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .network import CoLaNETNetwork, NetworkShape
from .params import CoLaNETParams
from .readout import NO_SPIKE_TACT

__all__ = ["BACKENDS", "BlockResult", "Simulator", "default_cache_dir", "build_standalone"]

_LOG = logging.getLogger(__name__)
BACKENDS = ("runtime", "cython", "numpy", "cpp", "cuda")
STANDALONE_BACKENDS = ("cpp", "cuda")
#: Spike monitors a network may have (`network.CoLaNETNetwork._build_monitors`).
MONITORS = ("OUT_spikes", "OUT_scores", "L_spikes", "GATE_spikes", "Target_spikes", "R_spikes")
#: Recorded variables of event monitors, returned after ``(indices, tacts)``.
MONITOR_VARIABLES = {"OUT_scores": ("score",)}


def default_cache_dir() -> Path:
    """Directory of cached standalone builds (``$COLANET_CACHE`` or ``~/.cache/colanet-brian``)."""
    return Path(os.environ.get("COLANET_CACHE", Path.home() / ".cache" / "colanet-brian"))


@dataclass
class BlockResult:
    """Spikes of one block, in block-relative tacts.

    Attributes
    ----------
    out_counts : ndarray, shape (n_frames, n_copies, n_classes)
        OUT spikes attributed to each frame (an OUT spike at tact T belongs to
        the frame of the L spike one tact earlier, spec §8.2).
    out_first : ndarray, shape (n_frames, n_copies, n_classes)
        Frame-local tact of the first of those spikes (`readout.NO_SPIKE_TACT`
        where there is none), for the latency tie-break of `readout.vote`.
    out_scores : ndarray, shape (n_frames, n_copies, n_classes)
        Column score at the end of each frame (`equations.OUTPUT_SCORE_SUMMED`),
        the readout of frames without an OUT spike.
    spikes : dict
        ``{monitor: (indices, tacts)}`` for every recorded population.
    wall_time : float
        Seconds spent in the simulation of this block.
    """

    out_counts: np.ndarray
    out_first: np.ndarray
    out_scores: np.ndarray
    spikes: dict = field(default_factory=dict)
    wall_time: float = 0.0


# ---------------------------------------------------------------------------
# Brian2 device handling
# ---------------------------------------------------------------------------
def _quiet_brian():
    """Keep Brian2 from writing debug logs and scripts into /tmp on errors."""
    from brian2 import prefs

    from .logs import quiet_brian_console

    prefs.logging.file_log = False
    prefs.logging.save_script = False
    prefs.logging.std_redirection = False
    prefs.logging.console_log_level = "WARNING"
    quiet_brian_console()  # the pref above only acts at import: brian2cuda's INFO lines stay off by default


def _runtime_device(backend: str):
    from brian2 import defaultclock, ms, prefs, set_device

    _quiet_brian()
    set_device("runtime")
    prefs.codegen.target = {"runtime": "auto", "cython": "cython", "numpy": "numpy"}[backend]
    defaultclock.dt = 1 * ms


def _initial_values(net: CoLaNETNetwork, sigma: float) -> dict:
    """Initial value of every carried state variable, as ``{"Obj.var": value}``."""
    values = {f"{obj}.{var}": 0 for obj, var in net.carried_variables()}
    values.update({name: value for name, value in net.initial_state(sigma).items() if name in values})
    return values


def _parameter_values(net: CoLaNETNetwork, sigma: float, seed: int) -> dict:
    values = {f"{obj.name}.{var}": value for obj, var, value in net.parameter_items(sigma)}
    values["clock.rng_seed"] = int(seed) % (2**31)
    return values


class _RuntimeEngine:
    """Runs the network in Brian2 runtime mode; state lives in the Brian2 objects."""

    def __init__(self, net: CoLaNETNetwork):
        self.net = net
        self.read_from = {name: 0 for name in MONITORS if name in net.objects}

    def _var(self, name):
        obj, var = name.split(".")
        return self.net.objects[obj], var

    def set_values(self, values: dict):
        for name, value in values.items():
            if name.split(".")[0] not in self.net.objects:
                continue  # e.g. L_L does not exist when M = 1
            obj, var = self._var(name)
            if var not in obj.variables:
                continue
            if obj.variables[var].scalar:
                setattr(obj, var, np.asarray(value).item())
            else:
                obj.variables[var].set_value(np.asarray(value, dtype=obj.variables[var].dtype))

    def get_values(self, names) -> dict:
        out = {}
        for name in names:
            if name.split(".")[0] not in self.net.objects:
                continue
            obj, var = self._var(name)
            out[name] = np.array(obj.variables[var].get_value(), copy=True)
        return out

    def run(self, stim, labels, record_mask, n_frames, progress=None) -> dict:
        from brian2 import ms

        net = self.net
        net.stim.values[:] = stim  # the generated code reads these arrays in place
        net.label.values[:] = labels
        net.record_mask.values[:] = record_mask
        clock = net.objects["clock"]
        clock.block_tact0 = int(clock.tact[:])
        t0 = float(net.network.t / ms)
        report = None
        if progress is not None:
            def report(elapsed, completed, start, duration):  # noqa: ARG001 - Brian2's signature
                progress(completed)
        net.network.run(n_frames * net.shape.frame_tacts * ms, namespace=net.namespace,
                        report=report, report_period=1000 * ms)
        spikes = {}
        for name, start in self.read_from.items():
            mon = net.objects[name]
            i, t = np.asarray(mon.i[start:]), np.asarray(mon.t[start:] / ms)
            values = tuple(np.asarray(getattr(mon, var)[start:]) for var in MONITOR_VARIABLES.get(name, ()))
            spikes[name] = (i.astype(np.int64), np.rint(t - t0).astype(np.int64), *values)
            self.read_from[name] = mon.num_events  # SpikeMonitor and EventMonitor
        return spikes


# ---------------------------------------------------------------------------
# Standalone builds and runs
# ---------------------------------------------------------------------------
@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(str(path) + ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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

    from . import __version__

    # the generated code depends on these sources: any edit invalidates cached builds
    sources = hashlib.sha1()
    for module in ("equations.py", "network.py", "rng.py") + (("cuda.py",) if backend == "cuda" else ()):
        path = Path(__file__).with_name(module)
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


class _StandaloneEngine:
    """Runs a compiled standalone binary; the state lives in Python between runs."""

    def __init__(self, build_dir: Path, manifest: dict, shape: NetworkShape, work_dir: Path | None = None):
        self.build_dir = Path(build_dir)
        self.manifest = manifest
        self.shape = shape
        if work_dir:
            self.work_dir = Path(work_dir)
        else:  # a private scratch directory, removed with the engine (or swept once this process is gone)
            from .runio import make_scratch_dir

            self.work_dir = make_scratch_dir()
            weakref.finalize(self, shutil.rmtree, str(self.work_dir), True)
        self.values: dict = {}

    def set_values(self, values: dict):
        for name, value in values.items():
            if name in self.manifest["variables"]:
                self.values[name] = value

    def get_values(self, names) -> dict:
        out = {}
        for name in names:
            value = np.array(self.values[name], copy=True)
            size = self.manifest["variables"][name]["size"]
            if value.ndim == 0 and size not in (None, 1):  # still the uniform initial value
                value = np.full(size, value.item(), dtype=np.dtype(self.manifest["variables"][name]["dtype"]))
            out[name] = value
        return out

    def _arg(self, name, value, run_dir: Path) -> str:
        spec = self.manifest["variables"][name]
        array = np.asarray(value, dtype=np.dtype(spec["dtype"]))
        if array.size == 1 and spec["size"] in (None, 1) or array.ndim == 0:
            item = array.reshape(-1)[0].item()
            return f"{name}={int(item) if isinstance(item, (bool, np.bool_)) else repr(item)}"
        if spec["size"] is not None and array.size != spec["size"]:
            raise ValueError(f"{name}: expected {spec['size']} values, got {array.size}")
        # lower case: brian2cuda 1.0a7's set_variable_by_name lowercases the whole argument, path included
        path = run_dir / f"{name.lower()}.dat"
        np.ascontiguousarray(array.ravel()).tofile(path)
        return f"{name}={path}"

    def run(self, stim, labels, record_mask, n_frames, progress=None) -> dict:
        run_dir = self.work_dir / f"run-{uuid.uuid4().hex[:10]}"
        run_dir.mkdir(parents=True)
        try:
            values = dict(self.values)
            values["stim.values"] = stim
            values["label.values"] = labels
            values["record_mask.values"] = record_mask
            values["clock.block_tact0"] = int(np.asarray(values["clock.tact"]).item())
            args = [self._arg(name, value, run_dir) for name, value in values.items()]
            result = subprocess.run([str(self.build_dir / "main"), "--results_dir", str(run_dir) + "/", *args],
                                    cwd=self.build_dir, capture_output=True, text=True)
            if result.returncode != 0 or "Error reading" in result.stderr:
                raise RuntimeError(f"standalone run failed (rc={result.returncode}) in {self.build_dir}:\n"
                                   f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
            for name in list(self.values):
                if name.split(".")[0] in ("clock", "R", "L", "OUT", "GATE", "R_L") and self._is_state(name):
                    self.values[name] = self._read(run_dir, name)
            spikes = {}
            for mon in MONITORS:
                if f"{mon}.i" in self.manifest["variables"]:
                    i = self._read(run_dir, f"{mon}.i").astype(np.int64)
                    t = np.rint(self._read(run_dir, f"{mon}.t") * 1000.0).astype(np.int64)
                    values = tuple(self._read(run_dir, f"{mon}.{var}") for var in MONITOR_VARIABLES.get(mon, ()))
                    spikes[mon] = (i, t, *values)
            if progress is not None:
                progress(1.0)
            return spikes
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)

    def _is_state(self, name) -> bool:
        from .network import CARRIED_STATE, ONE_FACTOR_STATE

        obj, var = name.split(".")
        return var in CARRIED_STATE.get(obj, ()) or (obj == "R_L" and var in ONE_FACTOR_STATE)

    def _read(self, run_dir: Path, name: str) -> np.ndarray:
        spec = self.manifest["variables"][name]
        return np.fromfile(run_dir / spec["file"], dtype=np.dtype(spec["dtype"]))


# ---------------------------------------------------------------------------
# Copies split over processes
# ---------------------------------------------------------------------------
#: Per-copy objects and the number of their elements per copy, in units of
#: ``n_classes`` (OUT, GATE) or ``n_classes * n_microcolumns`` (L; R_L along its postsynaptic axis).
_PER_COLUMN = ("OUT", "GATE", "OUT_spikes", "OUT_scores", "GATE_spikes")
_PER_LEARNING = ("L", "L_spikes", "R_L")


def split_copies(n_copies: int, workers: int) -> list[tuple[int, int]]:
    """``[(first_copy, n_copies), ...]``: the copies of an ensemble in nearly equal parts.

    Parameters
    ----------
    n_copies : int
        Copies in the ensemble.
    workers : int
        Parts wanted (capped at ``n_copies``).
    """
    workers = max(1, min(int(workers), int(n_copies)))
    sizes = [n_copies // workers + (k < n_copies % workers) for k in range(workers)]
    starts = np.cumsum([0] + sizes[:-1])
    return [(int(a), int(b)) for a, b in zip(starts, sizes, strict=True)]


class _SplitEngine:
    """Several standalone binaries, each simulating some copies of one ensemble, side by side.

    The copies of an ensemble never interact (spec §9): they share only the
    input R (unless each copy has its own, ``per_copy_inputs``) and the teacher Target.  Each part runs its own compiled network of
    ``n_copies / workers`` copies in its own process (the binary); the parts of
    a block run concurrently from threads, which wait on the processes.  L's
    random streams are keyed by the ensemble-wide neuron index (``L.i_offset``,
    ``R.r_offset``),
    and the inputs, the teacher and the block seeds are the same in every part,
    so the split ensemble produces the same spikes as the whole one.
    """

    def __init__(self, shape: NetworkShape, parts: list[tuple[int, int, _StandaloneEngine]]):
        self.shape = shape
        self.parts = parts  # (first_copy, n_copies, engine)
        for first, _, engine in parts:
            engine.set_values({"L.i_offset": first * shape.n_classes * shape.n_microcolumns,
                               "R.r_offset": first * shape.n_inputs if shape.per_copy_inputs else 0})

    def _slice(self, name: str, first: int, count: int):
        """Elements of ``name`` that belong to copies ``first .. first+count-1`` (None: shared by all)."""
        obj = name.split(".")[0]
        K, M = self.shape.n_classes, self.shape.n_microcolumns
        if obj in _PER_COLUMN:
            return slice(first * K, (first + count) * K)
        if obj in _PER_LEARNING:
            return slice(first * K * M, (first + count) * K * M)
        if obj == "R" and self.shape.per_copy_inputs:  # one block of inputs per copy
            return slice(first * self.shape.n_inputs, (first + count) * self.shape.n_inputs)
        return None

    def set_values(self, values: dict):
        for first, count, engine in self.parts:
            part = {}
            for name, value in values.items():
                if name in ("L.i_offset", "R.r_offset"):  # set per part, in __init__
                    continue
                where = self._slice(name, first, count)
                array = np.asarray(value)
                if where is None or array.ndim == 0 or array.size == 1:
                    part[name] = value
                elif name.startswith("R_L."):
                    part[name] = array.reshape(self.shape.n_inputs, -1)[:, where].ravel()
                else:
                    part[name] = array[where]
            engine.set_values(part)

    def get_values(self, names) -> dict:
        out = {}
        for name in names:
            pieces = [engine.get_values([name])[name] for _, _, engine in self.parts]
            if self._slice(name, 0, 1) is None or pieces[0].ndim == 0:
                out[name] = pieces[0]
            elif name.startswith("R_L."):
                out[name] = np.hstack([p.reshape(self.shape.n_inputs, -1) for p in pieces]).ravel()
            else:
                out[name] = np.concatenate(pieces)
        return out

    def run(self, stim, labels, record_mask, n_frames, progress=None) -> dict:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=len(self.parts)) as pool:
            futures = [pool.submit(engine.run, stim, labels, record_mask, n_frames, progress if k == 0 else None)
                       for k, (_, _, engine) in enumerate(self.parts)]
            results = [f.result() for f in futures]
        spikes = {}
        for name in results[0]:
            if self._slice(name, 0, 1) is None:  # input and teacher spikes: the same in every part
                spikes[name] = results[0][name]
                continue
            offsets = [self._slice(name, first, 1).start for first, _, _ in self.parts]
            i = np.concatenate([res[name][0] + off for res, off in zip(results, offsets, strict=True)])
            rest = [np.concatenate([res[name][k] for res in results]) for k in range(1, len(results[0][name]))]
            order = np.lexsort((i, rest[0]))  # the order a single monitor records: by tact, then index
            spikes[name] = (i[order], *(r[order] for r in rest))
        return spikes


# ---------------------------------------------------------------------------
class Simulator:
    """A CoLaNET network on one backend, fed block by block.

    Parameters
    ----------
    params : CoLaNETParams
        Hyperparameters.
    n_inputs, n_classes : int
        Input width and number of classes.
    sigma : float
        Resource-unit scale factor (`CoLaNETParams.sigma`).
    backend : str
        One of `BACKENDS`.
    block_frames : int
        Frames per ``run()`` (standalone: per binary execution).
    seed : int
        Key of every random stream (noise, WTA choice, Poisson input).
    threads : int
        OpenMP threads for ``cpp`` (0: none).
    cache_dir : path, optional
        Build cache root for standalone backends.
    record_spikes : bool
        Also record every L spike (for rasters and microcolumn usage).
    workers : int
        Standalone backends: split the copies over this many binaries that run
        side by side (`_SplitEngine`; same spikes as one binary).  Runtime
        backends accept only 1.

    Attributes
    ----------
    compiled_now : bool
        Whether constructing this simulator compiled a standalone project.
    compile_seconds : float
        Seconds spent generating and compiling (0 on a cache hit or in runtime mode).
    """

    def __init__(self, params: CoLaNETParams, n_inputs: int, n_classes: int, *, sigma: float, backend="runtime",
                 block_frames=1000, seed=0, threads=0, cache_dir=None, record_spikes=False, workers=1):
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
        if int(workers) < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if int(workers) > 1 and backend not in STANDALONE_BACKENDS:
            raise ValueError(f"workers > 1 needs a standalone backend {STANDALONE_BACKENDS}, not {backend!r}")
        self.params = params.validate(n_inputs)
        self.shape = NetworkShape.from_params(params, n_inputs, n_classes, block_frames, record_spikes)
        self.backend = backend
        self.sigma = float(sigma)
        self.seed = int(seed)
        self.compiled_now = False
        self.compile_seconds = 0.0
        self.block_index = 0
        t0 = time.time()
        if backend in STANDALONE_BACKENDS:
            self.engine, self.build_dir = self._standalone_engine(params, backend, threads, cache_dir, int(workers))
            self.compile_seconds = time.time() - t0 if self.compiled_now else 0.0
            # parameters and state are rebuilt in Python: the binary is not touched again
            self._net_for_values = _ValuesOnlyNetwork(params, self.shape)
            net_like = self._net_for_values
        else:
            _runtime_device(backend)
            net_like = CoLaNETNetwork(params, self.shape)
            self.engine = _RuntimeEngine(net_like)
            self.build_dir = None
        self.engine.set_values(_initial_values(net_like, self.sigma))
        self.set_params(params)

    def _standalone_engine(self, params, backend, threads, cache_dir, workers):
        """One binary for the whole ensemble, or one per part of its copies (`split_copies`)."""
        parts = []
        for first, count in split_copies(self.shape.n_copies, workers):
            shape = dataclasses.replace(self.shape, n_copies=count)
            build_dir, manifest, compiled = build_standalone(params.replace(n_copies=count), shape, backend, threads,
                                                             cache_dir)
            self.compiled_now |= compiled
            parts.append((first, count, _StandaloneEngine(build_dir, manifest, shape)))
        if len(parts) == 1:
            return parts[0][2], parts[0][2].build_dir
        return _SplitEngine(self.shape, parts), parts[0][2].build_dir

    # ------------------------------------------------------------------
    def set_params(self, params: CoLaNETParams, sigma: float | None = None):
        """Change every non-structural hyperparameter (no rebuild, no recompile)."""
        new_shape = NetworkShape.from_params(params, self.shape.n_inputs, self.shape.n_classes,
                                             self.shape.block_frames, self.shape.record_spikes)
        if new_shape != self.shape:
            raise ValueError("these parameters change the network shape; build a new Simulator")
        self.params = params
        if sigma is not None:
            self.sigma = float(sigma)
        net_like = self._net_for_values if self.build_dir is not None else self.engine.net
        net_like.params = params
        self.engine.set_values(_parameter_values(net_like, self.sigma, self.seed))

    def reset_state(self):
        """Forget everything learned: fresh resources, stability and neuron state."""
        net_like = self._net_for_values if self.build_dir is not None else self.engine.net
        self.engine.set_values(_initial_values(net_like, self.sigma))

    def get_state(self) -> dict:
        """Every carried state variable as ``{"Obj.var": array}``."""
        net_like = self._net_for_values if self.build_dir is not None else self.engine.net
        return self.engine.get_values([f"{o}.{v}" for o, v in net_like.carried_variables()])

    def set_state(self, state: dict):
        """Load state variables (e.g. a trained model's resources)."""
        self.engine.set_values(state)

    # ------------------------------------------------------------------
    def run(self, rho: np.ndarray, labels: np.ndarray | None, learning: bool, progress=None, record_frames=None,
            on_block=None) -> BlockResult:
        """Present samples in blocks; return OUT counts per sample.

        Parameters
        ----------
        rho : ndarray, shape (n_samples, n_inputs)
            Per-tact spike probabilities / accumulator increments in [0, 1] (spec §3).
        labels : ndarray of int, shape (n_samples,), optional
            Class indices for the teacher; ``None`` (or -1 entries) for no label.
        learning : bool
            Plasticity and teacher on (training pass) or off (testing).
        progress : callable, optional
            Called with the number of samples completed since the last call.
        record_frames : sequence of int, optional
            Samples whose input (R) spikes are recorded (needs ``record_spikes``).
        on_block : callable, optional
            Called as ``on_block(n_done)`` after every block, e.g. for weight snapshots.
        """
        rho = np.asarray(rho, dtype=np.float64)
        n = rho.shape[0]
        B = self.shape.block_frames
        counts = np.zeros((n, self.shape.n_copies, self.shape.n_classes), dtype=np.int32)
        first = np.full_like(counts, NO_SPIKE_TACT)
        scores = np.zeros(counts.shape, dtype=np.float32)
        spikes_all: dict = {}
        labels = -np.ones(n) if labels is None else np.asarray(labels, dtype=np.float64)
        self.engine.set_values({"L.plastic": bool(learning), "Target.teach": bool(learning)})
        mask = np.zeros(n)
        if record_frames is not None:
            mask[np.asarray(record_frames, dtype=int)] = 1.0
        start_wall = time.time()
        for start in range(0, n, B):
            stop = min(start + B, n)
            block_readout, block_spikes = self._run_block(rho[start:stop], labels[start:stop], mask[start:stop],
                                                          progress)
            if on_block is not None:
                on_block(stop)
            counts[start:stop], first[start:stop], scores[start:stop] = block_readout
            for name, (i, t) in block_spikes.items():
                offset = start * self.shape.frame_tacts
                spikes_all.setdefault(name, []).append((i, t + offset))
        spikes = {name: (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
                  for name, parts in spikes_all.items()}
        return BlockResult(out_counts=counts, out_first=first, out_scores=scores, spikes=spikes,
                           wall_time=time.time() - start_wall)

    def _run_block(self, rho, labels, mask, progress):
        n = rho.shape[0]
        B, T = self.shape.block_frames, self.shape.frame_tacts
        stim = np.zeros((B, self.shape.n_inputs))
        stim[:n] = rho
        lab = -np.ones(B)
        lab[:n] = labels
        rec = np.zeros(B)
        rec[:n] = mask
        # a fresh key per block: standalone runs restart their random streams
        self.engine.set_values({"clock.rng_seed": _block_seed(self.seed, self.block_index)})
        self.block_index += 1
        # A block always simulates B frames when learning, on every backend: the padding frames
        # (no input, no label) still let renormalisation act, so runtime and standalone agree.
        learning = bool(np.asarray(self.engine.get_values(["L.plastic"])["L.plastic"]).item())
        n_frames = B if (self.build_dir is not None or learning) else n
        done = [0]

        def report(fraction):
            if progress is not None:
                k = int(round(fraction * n))
                progress(k - done[0])
                done[0] = k

        spikes = self.engine.run(stim, lab, rec, n_frames, progress=report)
        report(1.0)
        i, t = spikes["OUT_spikes"]
        frame = (t - 1) // T
        ok = (frame >= 0) & (frame < n)
        counts = np.zeros((n, self.shape.n_columns), dtype=np.int32)
        np.add.at(counts, (frame[ok], i[ok]), 1)
        first = np.full((n, self.shape.n_columns), NO_SPIKE_TACT, dtype=np.int32)
        np.minimum.at(first, (frame[ok], i[ok]), (t[ok] - frame[ok] * T).astype(np.int32))
        per_copy = (n, self.shape.n_copies, self.shape.n_classes)
        i, t, score = spikes.pop("OUT_scores")
        frame = t // T  # recorded at the last tact of each frame
        ok = frame < n
        scores = np.zeros((n, self.shape.n_columns), dtype=np.float32)
        scores[frame[ok], i[ok]] = score[ok]
        recorded = {k: (v[0][v[1] < n * T], v[1][v[1] < n * T]) for k, v in spikes.items()}
        return (counts.reshape(per_copy), first.reshape(per_copy), scores.reshape(per_copy)), recorded


def _block_seed(seed: int, block: int) -> int:
    """Random-stream key of one block (tact counters also differ, this separates seeds)."""
    return int((seed * 1_000_003 + block * 7919) % (2**31 - 1))


class _ValuesOnlyNetwork:
    """The parameter and state layout of a `CoLaNETNetwork`, without Brian2 objects.

    Standalone simulators run a cached binary and never build Brian2 objects
    again; this provides the same `parameter_items`-style values from the
    manifest and the parameter object.
    """

    def __init__(self, params: CoLaNETParams, shape: NetworkShape):
        self.params = params
        self.shape = shape

    def carried_variables(self):
        return CoLaNETNetwork.carried_variables(self)

    def initial_state(self, sigma):
        return CoLaNETNetwork.initial_state(self, sigma)

    def parameter_items(self, sigma):
        for obj_name, values in self.params.brian_values(sigma, self.shape.n_inputs).items():
            for var, value in values.items():
                yield _Named(obj_name), var, value


@dataclass(frozen=True)
class _Named:
    name: str
