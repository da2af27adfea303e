"""CUDA (brian2cuda) against cpp_standalone on one GPU machine: same spikes, accuracy, throughput.

The check that issue 4 asks for whenever a GPU is lent.  Three stages, so that
the slow CUDA compile never spends GPU time (a CUDA project builds without a
GPU, see `colanet_brian.engine.cuda`)::

    python benchmarks/gpu_check.py prepare --dir .gpu   # here: data subsets -> .gpu/data.npz
    python benchmarks/gpu_check.py build --dir .gpu      # here: compile the CUDA shapes into .gpu/cache
    python benchmarks/gpu_check.py run --dir .gpu --out OUT [--deadline 420]   # on the GPU machine

``run`` builds whatever is not cached (the cpp_standalone shapes are always
compiled on the machine that runs them: Brian2 compiles host code with
``-march=native``), then, in order of importance and while time is left:

1. noise off (Fashion-MNIST pixels, 15 copies, 2,000 + 500 samples):
   cpp_standalone and CUDA must give the same OUT spikes in training and test
   and the same learned resources;
2. noise on, 10,000 + 2,000 samples: CUDA training/test throughput and
   accuracy, beside cpp_standalone with the copies split over one binary per
   copy (`engine.split.split_copies`; same spikes as one binary) and one binary
   (timed on 2,000 samples), same seed, same data; whether the spikes still
   agree (the random streams are counter-based and identical in C++ and CUDA,
   `colanet_brian.model.rng`, so they should unless floating point differs);
3. noise on, seeds 1 and 2 (5,000 + 1,000 samples): accuracy of both backends.

One network shape (784 inputs, 15 copies x 10 classes x 10 microcolumns,
blocks of 1,000 frames) serves every step: one CUDA compile.

Results go to ``OUT/gpu_check.json`` after every step.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np

FASHION_BLOCK = 1000
N_FASHION_TRAIN, N_FASHION_TEST = 10_000, 2_000
QUIET = dict(s_stoch=0.0, wta_random=False)


def _params(**changes):
    from colanet_brian.model.params import CoLaNETParams

    return CoLaNETParams(**{"n_copies": 15, **changes})


# ---------------------------------------------------------------------------
def prepare(directory: Path) -> None:
    """Write a Fashion-MNIST subset (uint8 pixels) to ``directory/data.npz``."""
    from colanet_brian.data.datasets import load_dataset

    fashion = load_dataset("fashion-mnist", seed=0)
    directory.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        directory / "data.npz",
        fashion_X_train=fashion.X_train[:N_FASHION_TRAIN].astype(np.uint8),
        fashion_y_train=fashion.y_train[:N_FASHION_TRAIN],
        fashion_X_test=fashion.X_test[:N_FASHION_TEST].astype(np.uint8),
        fashion_y_test=fashion.y_test[:N_FASHION_TEST])
    print(f"wrote {directory / 'data.npz'}")


#: Every network the check runs: (backend, n_inputs, block_frames, copies per binary).
TARGETS = {
    "cuda-fashion": ("cuda", 784, FASHION_BLOCK, 15),
    "cpp-fashion": ("cpp", 784, FASHION_BLOCK, 15),
    "cpp-fashion-1copy": ("cpp", 784, FASHION_BLOCK, 1),
}


def build_one(key: str) -> float:
    """Compile one target (a cache hit returns at once); seconds spent."""
    from colanet_brian.engine.build import build_standalone
    from colanet_brian.model.network import NetworkShape

    backend, n_inputs, block, copies = TARGETS[key]
    params = _params(n_copies=copies)
    t0 = time.time()
    build_standalone(params, NetworkShape.from_params(params, n_inputs, 10, block), backend)
    return time.time() - t0


def build(keys, log_dir: Path) -> dict:
    """Compile ``keys`` concurrently, each in its own process (Brian2's device is process-global)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    procs = {}
    t0 = time.time()
    for key in keys:
        log = open(log_dir / f"build-{key}.log", "w")
        procs[key] = (subprocess.Popen([sys.executable, __file__, "build-one", key], stdout=log, stderr=log), log)
    out = {}
    for key, (proc, log) in procs.items():
        rc = proc.wait()
        log.close()
        out[key] = dict(rc=rc, wall_s=round(time.time() - t0, 1))
    return out


# ---------------------------------------------------------------------------
def _gpu_names() -> str:
    import shutil

    smi = shutil.which("nvidia-smi")
    return subprocess.run([smi, "-L"], capture_output=True, text=True).stdout.strip() if smi else "none"


def _fit(backend, X, y, Xt, yt, params, block, seed=0, workers=1):
    from colanet_brian.classifier import CoLaNETClassifier

    clf = CoLaNETClassifier(params, backend=backend, seed=seed, block_frames=block, workers=workers, progress=False)
    clf.fit(X, y, [str(k) for k in range(10)])
    test = clf.evaluate(Xt, yt)
    s = test.summary()
    return clf, test, dict(
        backend=backend, workers=workers, seed=seed, n_train=len(y), n_test=len(yt),
        train_s=clf.training.wall_time, test_s=test.wall_time,
        train_sps=len(y) / clf.training.wall_time, test_sps=len(yt) / test.wall_time,
        accuracy=s["accuracy"], accuracy_single_mean=s["accuracy_single_mean"],
        out_spikes_train=int(clf.training.counts.sum()), out_spikes_test=int(test.counts.sum()))


def _agreement(a, b) -> dict:
    """How far two runs (classifier, test evaluation) agree."""
    (clf_a, test_a), (clf_b, test_b) = a, b
    state_a, state_b = clf_a.learned_state(), clf_b.learned_state()
    return dict(
        train_counts_equal=bool(np.array_equal(clf_a.training.counts, clf_b.training.counts)),
        test_counts_equal=bool(np.array_equal(test_a.counts, test_b.counts)),
        train_samples_differing=int(np.any(clf_a.training.counts != clf_b.training.counts, axis=(1, 2)).sum()),
        test_samples_differing=int(np.any(test_a.counts != test_b.counts, axis=(1, 2)).sum()),
        max_abs_diff={k: float(np.max(np.abs(state_a[k] - state_b[k]))) for k in state_a})


def run(directory: Path, out_dir: Path, deadline: float) -> dict:
    """Every step that fits before ``deadline`` seconds from now."""
    from colanet_brian.provenance import package_versions, write_json

    t_start = time.time()
    out_dir.mkdir(parents=True, exist_ok=True)
    result = dict(started=time.strftime("%Y-%m-%d %H:%M:%S"), versions=package_versions(), cpus=os.cpu_count(),
                  gpu=_gpu_names(), steps={})

    def save():
        write_json(out_dir / "gpu_check.json", result)

    def step(name, budget, fn):
        left = deadline - (time.time() - t_start)
        if left < budget:
            result["steps"][name] = dict(skipped=f"{left:.0f} s left, needs ~{budget} s")
        else:
            t0 = time.time()
            try:
                result["steps"][name] = fn()
            except Exception as err:  # keep going: the next step may still work
                result["steps"][name] = dict(error=repr(err), traceback=traceback.format_exc()[-4000:])
            result["steps"][name]["step_s"] = round(time.time() - t0, 1)
        print(f"[gpu_check] {name}: {json.dumps(result['steps'][name])[:1500]}", flush=True)
        save()

    result["builds"] = build(list(TARGETS), out_dir)
    result["build_s"] = round(time.time() - t_start, 1)
    save()
    print(f"[gpu_check] builds: {result['builds']}", flush=True)
    data = np.load(directory / "data.npz")
    f = [data[f"fashion_{k}"] for k in ("X_train", "y_train", "X_test", "y_test")]

    def subset(n_train, n_test):
        return f[0][:n_train], f[1][:n_train], f[2][:n_test], f[3][:n_test]

    def noise_off():
        runs = {b: _fit(b, *subset(2000, 500), _params(**QUIET), FASHION_BLOCK, workers=w)
                for b, w in (("cpp", 15), ("cuda", 1))}
        return dict(cpp_split15=runs["cpp"][2], cuda=runs["cuda"][2],
                    agreement=_agreement(runs["cpp"][:2], runs["cuda"][:2]))

    def fashion():
        rows, kept = {}, {}
        for label, backend, workers in (("cuda", "cuda", 1), ("cpp_split15", "cpp", 15), ("cpp", "cpp", 1)):
            n = len(f[1]) if label != "cpp" else 2000  # one cpp binary is slow: time it on fewer samples
            clf, test, row = _fit(backend, *subset(n, n // 5), _params(), FASHION_BLOCK, workers=workers)
            rows[label] = row
            kept[label] = (clf, test)
        rows["agreement_cuda_vs_cpp_split15"] = _agreement(kept["cuda"], kept["cpp_split15"])
        return rows

    def other_seeds():
        rows = {}
        for seed in (1, 2):
            runs = {b: _fit(b, *subset(5000, 1000), _params(), FASHION_BLOCK, seed=seed, workers=w)
                    for b, w in (("cpp", 15), ("cuda", 1))}
            rows[f"seed{seed}"] = dict(cpp_split15=runs["cpp"][2], cuda=runs["cuda"][2],
                                       agreement=_agreement(runs["cpp"][:2], runs["cuda"][:2]))
        return rows

    step("noise_off", 60, noise_off)
    step("noise_on", 150, fashion)
    step("other_seeds", 90, other_seeds)
    result["total_s"] = round(time.time() - t_start, 1)
    save()
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("stage", choices=("prepare", "build", "build-one", "run"))
    p.add_argument("key", nargs="?", help="build-one: one of " + ", ".join(TARGETS))
    p.add_argument("--dir", default=".gpu", help="data and build cache directory (default .gpu)")
    p.add_argument("--out", default=None, help="run: results directory (default DIR/results)")
    p.add_argument("--deadline", type=float, default=420.0, help="run: seconds before no new step starts")
    p.add_argument("--targets", nargs="+", default=None, help="build: targets (default: the CUDA ones)")
    args = p.parse_args(argv)
    directory = Path(args.dir).resolve()
    os.environ.setdefault("COLANET_CACHE", str(directory / "cache"))
    if args.stage == "prepare":
        prepare(directory)
    elif args.stage == "build-one":
        print(f"{args.key}: {build_one(args.key):.1f} s", flush=True)
    elif args.stage == "build":
        keys = args.targets or [k for k in TARGETS if k.startswith("cuda")]
        print(json.dumps(build(keys, directory / "logs"), indent=1))
    else:
        run(directory, Path(args.out) if args.out else directory / "results", args.deadline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
