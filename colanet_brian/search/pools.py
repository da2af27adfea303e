"""Evaluation of individuals: `evaluate_params`, in-process, in local worker processes or on a Dask cluster.

Always through `evaluate_params`, which reuses the standalone build of the
network shape (a recompile happens only for a new shape, e.g. a new number of
microcolumns).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from pathlib import Path

import numpy as np

from ..model.params import CoLaNETParams
from .data import SearchData, search_block_frames

#: Serialises Brian2 code generation between threads of one process (Dask thread workers).
_BUILD_LOCK = threading.Lock()


# ---------------------------------------------------------------------------
# Evaluation of one individual (runs in workers)
# ---------------------------------------------------------------------------
def evaluate_params(params: CoLaNETParams | dict, data: SearchData, *, seed: int = 0, fitness: str = "ensemble",
                    backend: str = "cpp", block_frames: int | None = None, threads: int = 0,
                    cache_dir=None) -> dict:
    """Train on ``data.X_fit`` in one online pass, score on ``data.X_val``.

    Uses `CoLaNETClassifier`, i.e. the code path of ``colanet run``.  For a
    standalone backend the build of the network shape is made (or found in
    the cache) first, under a process-wide lock, so that thread workers never
    run Brian2's code generation concurrently.

    Returns
    -------
    dict
        ``fitness``, ``accuracy`` (ensemble), ``accuracy_single_mean``,
        ``silent_fraction``, ``compiled`` (a new build was compiled),
        ``compile_seconds``, ``wall_time`` and ``worker`` (host:pid).
    """
    from ..classifier import CoLaNETClassifier
    from ..engine.base import STANDALONE_BACKENDS
    from ..engine.build import build_standalone
    from ..model.network import NetworkShape

    t_start = time.time()
    if isinstance(params, dict):
        params = CoLaNETParams.from_dict(params)
    block_frames = block_frames or search_block_frames(len(data.y_fit), len(data.y_val))
    compiled, compile_seconds = False, 0.0
    standalone = backend in STANDALONE_BACKENDS
    if standalone:
        shape = NetworkShape.from_params(params, data.X_fit.shape[1], len(data.class_names), block_frames)
        with _BUILD_LOCK:
            t0 = time.time()
            _, _, compiled = build_standalone(params, shape, backend, threads, cache_dir)
            compile_seconds = time.time() - t0 if compiled else 0.0
    clf = CoLaNETClassifier(params, backend=backend, seed=seed, block_frames=block_frames, threads=threads,
                            cache_dir=cache_dir, progress=False)
    with contextlib.nullcontext() if standalone else _BUILD_LOCK:  # Brian2 runtime mode is not thread-safe
        try:
            clf.fit(data.X_fit, data.y_fit, data.class_names)
            ev = clf.evaluate(data.X_val, data.y_val)
        finally:
            _remove_empty_work_dir(clf)
    compiled = compiled or bool(clf.simulator.compiled_now)
    single = float(ev.copy_accuracies.mean())
    return dict(fitness=float(ev.accuracy if fitness == "ensemble" else single), accuracy=float(ev.accuracy),
                accuracy_single_mean=single, silent_fraction=float(ev.silent_fraction), compiled=compiled,
                compile_seconds=compile_seconds, wall_time=time.time() - t_start,
                worker=f"{socket.gethostname()}:{os.getpid()}")


def _remove_empty_work_dir(clf) -> None:
    """Remove the (empty) per-simulator scratch directory a standalone run leaves in the temp dir."""
    work_dir = getattr(getattr(clf.simulator, "engine", None), "work_dir", None)
    if work_dir is not None:
        with contextlib.suppress(OSError):
            Path(work_dir).rmdir()


def _evaluate_task(task: dict, data: SearchData) -> dict:
    """Evaluate one individual for every seed of the task; average the scores."""
    runs = [evaluate_params(task["params"], data, seed=seed, fitness=task["fitness"], backend=task["backend"],
                            block_frames=task["block_frames"], threads=task["threads"], cache_dir=task["cache_dir"])
            for seed in task["seeds"]]
    out = {key: float(np.mean([r[key] for r in runs]))
           for key in ("fitness", "accuracy", "accuracy_single_mean", "silent_fraction")}
    out.update(compiled=any(r["compiled"] for r in runs), compile_seconds=sum(r["compile_seconds"] for r in runs),
               wall_time=sum(r["wall_time"] for r in runs), worker=runs[0]["worker"])
    if len(runs) > 1:
        out["fitness_per_seed"] = [r["fitness"] for r in runs]
    return out


_WORKER_DATA: SearchData | None = None


def _init_local_worker(data: SearchData) -> None:
    """Initializer of a local worker process: keep the data (sent once per worker); end with the parent."""
    from ..runio import die_with_parent

    global _WORKER_DATA
    die_with_parent()  # a SIGKILLed `colanet evolve` must not leave workers (and their binaries) running
    _WORKER_DATA = data


def _evaluate_in_local_worker(task: dict) -> dict:
    return _evaluate_task(task, _WORKER_DATA)


def _evaluate_on_dask_worker(task: dict, data: SearchData) -> dict:
    """Dask task: without a shared ``cache_dir`` each worker builds into its own directory."""
    if task["cache_dir"] is None:
        from distributed import get_worker

        worker = get_worker()
        task = dict(task, cache_dir=str(Path(worker.local_directory) / "colanet-cache"))
    return _evaluate_task(task, data)


# ---------------------------------------------------------------------------
# Where individuals are evaluated
# ---------------------------------------------------------------------------
class _InProcess:
    """Evaluate in the calling process, one individual after the other."""

    description = "in-process"

    def __init__(self, data: SearchData):
        self.data = data

    def imap(self, tasks):
        for i, task in enumerate(tasks):
            yield i, _evaluate_task(task, self.data)

    def close(self):
        pass


class _LocalProcesses:
    """A pool of local worker processes (spawned; the data is sent once per worker)."""

    def __init__(self, data: SearchData, workers: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.description = f"{workers} local worker processes"
        self.executor = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_init_local_worker, initargs=(data,))

    def imap(self, tasks):
        from concurrent.futures import as_completed

        futures = {self.executor.submit(_evaluate_in_local_worker, task): i for i, task in enumerate(tasks)}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            for future in futures:
                future.cancel()

    def close(self):
        self.executor.shutdown(wait=True, cancel_futures=True)


class _DaskCluster:
    """Evaluate on a Dask distributed cluster (the data is scattered to every worker once)."""

    def __init__(self, data: SearchData, address: str):
        from dask.distributed import Client

        try:
            self.client = Client(address, set_as_default=False, timeout="30s")
        except OSError as err:
            raise RuntimeError(f"cannot reach the Dask scheduler at {address}: {err}") from None
        n = len(self.client.scheduler_info().get("workers", {}))
        self.description = f"Dask cluster {address} ({n} workers)"
        [self.data] = self.client.scatter([data], broadcast=True, hash=False)

    def imap(self, tasks):
        from dask.distributed import as_completed

        futures = self.client.map(_evaluate_on_dask_worker, tasks, data=self.data, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for future in as_completed(futures, loop=self.client.loop):
                yield index[future.key], future.result()
        finally:
            self.client.cancel([f for f in futures if not f.done()])

    def close(self):
        self.client.close()


def _make_pool(data: SearchData, workers: int, scheduler: str | None):
    if scheduler:
        return _DaskCluster(data, scheduler)
    if workers > 1:
        return _LocalProcesses(data, workers)
    return _InProcess(data)
