"""The main job: train a CoLaNET ensemble on a data set, test it, compare with baselines, save everything."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .baselines import run_baselines
from .classifier import SimulationConfig
from .data.dataset import Dataset
from .model.params import CoLaNETParams
from .provenance import atomic_save_npz, provenance, write_json

__all__ = ["ExperimentConfig", "run_experiment", "format_table"]


@dataclass
class ExperimentConfig(SimulationConfig):
    """Options of one train/test experiment (all recorded in ``results.json``)."""

    record_spikes: bool = True
    baselines: bool = True
    snapshots: int = 20
    raster_frames: int = 3
    data_spec: dict | None = None  # how to reload the data (dataset, seed, test_size, encoder): kept in model.npz


def run_experiment(data: Dataset, params: CoLaNETParams, config: ExperimentConfig, out_dir=None,
                   checkpoint=None) -> dict:
    """One online training pass, a test pass, baselines; write results into ``out_dir``.

    The training order is a seeded permutation of the training set. Files
    written (atomically): ``results.json``, ``model.npz`` (trained state),
    ``run_data.npz`` (per-sample OUT counts and L spikes, for the figures).

    Returns
    -------
    dict
        The content of ``results.json``.
    """
    t_start = time.time()
    order = np.random.default_rng(config.seed).permutation(len(data.y_train))
    X_train, y_train = data.X_train[order], data.y_train[order]
    clf = config.classifier(params)
    t0 = time.time()
    k, n = config.raster_frames, len(y_train)
    train_frames = sorted({*range(min(k, n)), *range(max(0, n - k), n)})
    test_frames = list(range(min(k, len(data.y_test))))
    clf.fit(X_train, y_train, data.class_names, record_frames=train_frames, snapshots=config.snapshots,
            checkpoint=checkpoint)  # a `checkpoint.Checkpoint`: resumable training pass
    train_time = time.time() - t0 - clf.simulator.compile_seconds  # the one-off compile is reported on its own
    if out_dir is not None:  # saved before the test pass moves the state and the random streams on
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        clf.training_data.source = dict(config.data_spec or {})  # `colanet evaluate model.npz` reloads the split
        clf.save(Path(out_dir) / "model.npz")
    t0 = time.time()
    test = clf.evaluate(data.X_test, data.y_test, record_frames=test_frames)
    test_time = time.time() - t0
    sim = clf.simulator
    results = dict(test.summary())
    results.update(
        dataset=data.summary(),
        training=dict(online_accuracy=clf.training.accuracy,
                      online_accuracy_single_mean=float(clf.training.copy_accuracies.mean()),
                      **clf.training.readout_rates()),
        baselines=run_baselines(data.X_train, data.y_train, data.X_test, data.y_test, config.seed)
        if config.baselines else {},
        params=params.to_dict(),
        seed=config.seed,
        backend=config.backend,
        config=config.__dict__,
        saturation=clf.saturation,
        sigma=clf.sigma,
        timing=dict(train_seconds=train_time, test_seconds=test_time, compile_seconds=sim.compile_seconds,
                    compiled_now=sim.compiled_now, total_seconds=time.time() - t_start,
                    train_samples_per_second=len(y_train) / train_time,
                    test_samples_per_second=len(data.y_test) / test_time),
    )
    results.update(provenance())
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        arrays = dict(train_counts=clf.training.counts, y_train=y_train, train_order=order,
                      test_counts=test.counts, y_test=data.y_test, class_names=np.array(data.class_names),
                      train_first=clf.training.first, test_first=test.first,
                      train_scores=clf.training.scores, test_scores=test.scores)
        arrays.update(train_raster_frames=np.array(train_frames), test_raster_frames=np.array(test_frames),
                      frame_tacts=params.frame_tacts, present_tacts=params.present_tacts,
                      n_microcolumns=params.n_microcolumns, n_copies=params.n_copies)
        for key, value in clf.snapshots.items():
            arrays[f"snapshot_{key}"] = value
        for phase, ev in (("train", clf.training), ("test", test)):
            for mon, (i, t) in ev.spikes.items():
                arrays[f"{phase}_{mon}_i"], arrays[f"{phase}_{mon}_t"] = i, t
        atomic_save_npz(out / "run_data.npz", **arrays)
        write_json(out / "results.json", results)
    return results


def format_table(results: dict) -> str:
    """Human-readable summary of ``results.json``."""
    rows = [("CoLaNET ensemble", results["accuracy"], f"{len(results['accuracy_single'])} copies"),
            ("CoLaNET single copy (mean)", results["accuracy_single_mean"],
             f"min {results['accuracy_single_min']:.3f}, max {results['accuracy_single_max']:.3f}")]
    for name, b in results.get("baselines", {}).items():
        rows.append((name.replace("_", " "), b["accuracy"], f"{b['wall_time']:.1f} s"))
    ds, tm = results["dataset"], results["timing"]
    lines = [f"data set: {ds['name']}  train {ds['n_train']}  test {ds['n_test']}  features {ds['n_features']}  "
             f"classes {ds['n_classes']}  ({ds.get('split', '')})", "",
             f"{'classifier':<30} {'test accuracy':>13}   notes", "-" * 64]
    lines += [f"{name:<30} {acc:>13.4f}   {note}" for name, acc, note in rows]
    lines += ["", f"online training accuracy (ensemble, plasticity on): {results['training']['online_accuracy']:.4f}",
              f"backend {results['backend']}: train {tm['train_seconds']:.1f} s "
              f"({tm['train_samples_per_second']:.1f} samples/s), test {tm['test_seconds']:.1f} s, "
              f"compile {tm['compile_seconds']:.1f} s, total wall time {tm['total_seconds']:.1f} s"]
    return "\n".join(lines)


def build_networks(data: Dataset, params: CoLaNETParams, config: ExperimentConfig) -> list[str]:
    """Compile (or find cached) the standalone binaries `run_experiment` would use, and run nothing.

    For ``--build-only``: e.g. build a CUDA project on a machine without a GPU.

    Returns
    -------
    list of str
        The build directories.
    """
    from .classifier import balanced_block
    from .engine.simulate import Simulator

    n = len(data.y_train)
    block = config.block_frames or balanced_block(n, -(-n // config.snapshots) if config.snapshots else 1000)
    sim = Simulator(params, data.X_train.shape[1], len(data.class_names), sigma=1.0, backend=config.backend,
                    block_frames=block, seed=config.seed, threads=config.threads, cache_dir=config.cache_dir,
                    record_spikes=config.record_spikes, workers=config.workers)
    parts = getattr(sim.engine, "parts", None)
    return [str(engine.build_dir) for _, _, engine in parts] if parts else [str(sim.build_dir)]
