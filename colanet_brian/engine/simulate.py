"""Run a CoLaNET network over blocks of samples on any Brian2 backend.

Backends
--------
``runtime``  Brian2 runtime mode, Cython code generation when it works, numpy otherwise.
``cython``   runtime mode, Cython only.
``numpy``    runtime mode, numpy only (slow, no compiler needed).
``cpp``      ``cpp_standalone``: the network is compiled once per `NetworkShape`
             and the binary is reused for every block, seed and hyperparameter set.
``cuda``     brian2cuda's ``cuda_standalone``, the same way (see `colanet_brian.engine.cuda`).

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

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from ..model.network import CoLaNETNetwork, NetworkShape
from ..model.params import CoLaNETParams
from ..model.readout import NO_SPIKE_TACT
from .base import BACKENDS, STANDALONE_BACKENDS, BlockResult
from .build import build_standalone
from .runtime import _initial_values, _parameter_values, _runtime_device, _RuntimeEngine
from .split import _SplitEngine, split_copies
from .standalone import _StandaloneEngine

__all__ = ["Simulator"]


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
