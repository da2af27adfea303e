"""The benchmark harness behind ``colanet bench``: speed of every backend and of the network sizes that matter.

One run measures, on the same network and data, side by side:

a. the naive Brian2 design: runtime mode, one ``run()`` per sample
   (``block_frames=1``), timed on a few samples only (it is slow);
b. runtime mode with one ``run()`` per block;
c. ``cpp_standalone`` without OpenMP and with 2 OpenMP threads;
d. brian2cuda's ``cuda_standalone`` where ``nvidia-smi`` reports a GPU (a
   row saying "skipped" otherwise);

then ``cpp_standalone`` scaling rows (copies, microcolumns, input width) and
an estimate of one 15-copy Fashion-MNIST training pass from a measured
2,000-sample pass.  Training and test throughput are reported separately
from the one-off compile time.  Synaptic events are counted per sample as
input spikes x L neurons (all copies); the input spikes are the exact
raster of the deterministic accumulator (`encoding.accumulator_reference`)
or, for Bernoulli input, their expectation.  ``benchmarks/run.py`` calls
the same code; ``benchmarks/README.md`` explains the rows.
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import json
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Reference cost of one synaptic event on this kind of machine (shared/notes/performance.md).
FLOOR_NS_PER_EVENT = 1.0
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_TRAIN_SIZE = 60_000
TARGET_FASHION_PASS_S = 600.0


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------
@dataclass
class BenchData:
    """Rates (already divided by the saturation) and labels of one input width.

    Attributes
    ----------
    name : str
        Where the data came from (``"digits"``, ``"fashion-mnist"``, ``"synthetic ..."``).
    rho_train, rho_test : ndarray, shape (n, n_inputs)
        Per-tact spike probabilities / accumulator increments in [0, 1].
    y_train, y_test : ndarray of int
    """

    name: str
    rho_train: np.ndarray
    y_train: np.ndarray
    rho_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_inputs(self) -> int:
        """Input width."""
        return self.rho_train.shape[1]

    @property
    def mean_rho(self) -> float:
        """Mean rate over training samples and inputs."""
        return float(self.rho_train.mean())


def digits_data() -> BenchData:
    """scikit-learn digits, pixels / 16 (the project's digits default)."""
    from .data.datasets import load_dataset
    from .model.encoding import feature_rates

    d = load_dataset("digits", seed=0)
    return BenchData("digits", feature_rates(d.X_train, 16.0), d.y_train, feature_rates(d.X_test, 16.0), d.y_test)


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as handle:
        raw = handle.read()
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def fashion_data(n_train: int, n_test: int, seed: int = 0) -> BenchData:
    """Fashion-MNIST pixels / 255 (Debian ``dataset-fashion-mnist``), else synthetic pixels of the same density."""
    files = {k: FASHION_DIR / f"{k}-idx{3 if 'images' in k else 1}-ubyte.gz"
             for k in ("train-images", "train-labels", "t10k-images", "t10k-labels")}
    if all(p.is_file() for p in files.values()):
        X = _read_idx(files["train-images"]).reshape(-1, 784)[:n_train] / 255.0
        Xt = _read_idx(files["t10k-images"]).reshape(-1, 784)[:n_test] / 255.0
        y, yt = _read_idx(files["train-labels"])[:n_train], _read_idx(files["t10k-labels"])[:n_test]
        return BenchData("fashion-mnist", X, y.astype(np.int64), Xt, yt.astype(np.int64))
    rng = np.random.default_rng(seed)
    # one prototype per class: half the pixels background, the rest bright; mean pixel ~0.29 like Fashion-MNIST
    protos = np.where(rng.uniform(size=(10, 784)) < 0.5, 0.0, rng.beta(2.0, 1.5, (10, 784)))

    def pixels(y):
        noisy = protos[y] * rng.uniform(0.7, 1.3, (len(y), 784)) + rng.normal(0, 0.05, (len(y), 784))
        return np.clip(noisy, 0.0, 1.0)

    y, yt = rng.integers(0, 10, n_train), rng.integers(0, 10, n_test)
    return BenchData("synthetic fashion-like (mean rho ~0.29)", pixels(y), y, pixels(yt), yt)


def efficientnet_like_data(n_train: int, n_test: int, n_inputs: int = 1536, seed: int = 0) -> BenchData:
    """Synthetic stand-in for pooled EfficientNet features: sparse, positive, heavy-tailed, class-dependent.

    Calibrated on EfficientNet-Lite0 features of Fashion-MNIST (1280-D): about
    half the values are 0 and, with the saturation at the 99.9th percentile
    of the positive training values (`encoding.saturation_level`), the mean
    rate is ~0.04, i.e. ~50-60 input spikes per tact (Lite0: 0.038, 49).  Each class scales every feature by its own
    log-normal factor, so that the network has something to learn.
    """
    from .model.encoding import feature_rates, saturation_level

    rng = np.random.default_rng(seed)
    scale = rng.lognormal(0.0, 0.6, n_inputs) * rng.lognormal(0.0, 0.4, (10, n_inputs))

    def features(y):
        values = rng.gamma(1.5, 1.0, (len(y), n_inputs)) * scale[y]
        return values * (rng.uniform(size=values.shape) > 0.5)

    y, yt = rng.integers(0, 10, n_train), rng.integers(0, 10, n_test)
    X, Xt = features(y), features(yt)
    s = saturation_level(X)
    return BenchData(f"synthetic EfficientNet-like ({n_inputs} sparse features)", feature_rates(X, s), y,
                     feature_rates(Xt, s), yt)


# ---------------------------------------------------------------------------
# One measurement
# ---------------------------------------------------------------------------
@dataclass
class Case:
    """One row: a network, a backend and how many samples to time.

    Attributes
    ----------
    group, label : str
        Table section and row label.
    backend : str
        `engine.base.BACKENDS` entry.
    threads : int
        OpenMP threads (``cpp``).
    block_frames : int
        Samples per ``run()`` / binary execution.
    n_train, n_test : int
        Samples timed in the training and the test pass.
    copies, microcolumns : int
        Network size (``n_classes`` is 10 everywhere).
    workers : int
        Binaries the copies are split over, run side by side (`engine.split.split_copies`).
    data : str
        Key of the data set (``"digits"``, ``"fashion"``, ``"effnet"``).
    note : str
        Remark printed in the table (e.g. extrapolation).
    """

    group: str
    label: str
    backend: str
    threads: int = 0
    block_frames: int = 360
    n_train: int = 720
    n_test: int = 360
    copies: int = 15
    microcolumns: int = 10
    workers: int = 1
    data: str = "digits"
    note: str = ""
    extra: dict = field(default_factory=dict)


def input_spikes(rho: np.ndarray, params) -> np.ndarray:
    """Input spikes of every sample: exact for the accumulator, expected for Bernoulli input."""
    from .model.encoding import accumulator_reference

    if params.encoding != "accumulator":
        return rho.sum(axis=1) * params.present_tacts
    raster = accumulator_reference(rho, params.present_tacts, params.frame_tacts,
                                   params.reset_accumulator_per_sample)
    return raster.reshape(rho.shape[0], params.frame_tacts, -1).sum(axis=(1, 2))


def _make_simulator(case: Case, params, data: BenchData, sigma: float, cache_dir, log_path):
    from .engine.build import output_to
    from .engine.simulate import Simulator

    t0 = time.time()
    with output_to(log_path, append=True):
        sim = Simulator(params, data.n_inputs, 10, sigma=sigma, backend=case.backend, block_frames=case.block_frames,
                        seed=0, threads=case.threads, cache_dir=cache_dir, workers=case.workers)
        if case.backend == "cuda":
            from .engine.cuda import restore_host_prefs

            restore_host_prefs()
    return sim, time.time() - t0


def _warm_up(sim, case: Case, data: BenchData, log_path) -> float:
    """Runtime modes generate and compile code on the first ``run()``: do it outside the timing."""
    if case.backend not in ("runtime", "cython", "numpy"):
        return 0.0
    t0 = time.time()
    from .engine.build import output_to

    with output_to(log_path, append=True):
        sim.run(data.rho_train[:1], data.y_train[:1], learning=True)
    return time.time() - t0


def measure(case: Case, data: BenchData, cache_dir, log_path=None) -> dict:
    """Time one training and one test pass of ``case``; return a JSON-ready row."""
    from .model.encoding import mean_input_drive
    from .model.params import CoLaNETParams

    params = CoLaNETParams(n_copies=case.copies, n_microcolumns=case.microcolumns).validate(data.n_inputs)
    sigma = params.sigma(mean_input_drive(data.rho_train))
    sim, setup_s = _make_simulator(case, params, data, sigma, cache_dir, log_path)
    warmup_s = _warm_up(sim, case, data, log_path)
    row = dict(group=case.group, label=case.label, backend=case.backend, threads=case.threads, workers=case.workers,
               block_frames=case.block_frames, data=data.name, n_inputs=data.n_inputs, copies=case.copies,
               microcolumns=case.microcolumns, n_learning=params.n_copies * 10 * params.n_microcolumns,
               mean_rho=round(data.mean_rho, 4), note=case.note, setup_s=setup_s, warmup_s=warmup_s,
               compiled_now=bool(sim.compiled_now), compile_s=_compile_seconds(sim), **case.extra)
    row["n_synapses"] = data.n_inputs * row["n_learning"]
    row.update(_timed_passes(sim, case, data))
    row.update(_event_rates(row, data, case, params))
    del sim
    gc.collect()
    return row


def _timed_passes(sim, case: Case, data: BenchData) -> dict:
    """Wall and CPU time of a training pass and a test pass; OUT activity and test accuracy."""
    from .model.readout import accuracy, ensemble_predictions

    y_train, y_test = data.y_train[:case.n_train], data.y_test[:case.n_test]
    cpu0 = _cpu_seconds()
    train = sim.run(data.rho_train[:case.n_train], y_train, learning=True)
    cpu1 = _cpu_seconds()
    test = sim.run(data.rho_test[:case.n_test], None, learning=False)
    cpu2 = _cpu_seconds()
    out = dict(n_train=len(y_train), n_test=len(y_test), train_s=train.wall_time, test_s=test.wall_time,
               train_sps=len(y_train) / train.wall_time, test_sps=len(y_test) / test.wall_time,
               train_cpu_s=cpu1 - cpu0, test_cpu_s=cpu2 - cpu1, train_sps_cpu=len(y_train) / max(cpu1 - cpu0, 1e-9),
               out_spikes_per_sample=float(train.out_counts.sum() / len(y_train)))
    if len(y_test) >= 50:
        scores = test.out_scores if sim.params.silent_readout == "score" else None
        out["test_accuracy"] = accuracy(ensemble_predictions(test.out_counts, first=test.out_first,
                                                             tie_break=sim.params.tie_break, scores=scores), y_test)
    return out


def _event_rates(row: dict, data: BenchData, case: Case, params) -> dict:
    """Synaptic events (input spikes x L neurons) per sample and wall-clock ns per event."""
    rho = np.concatenate([data.rho_train[:case.n_train], data.rho_test[:case.n_test]])
    spikes = input_spikes(rho, params)
    ev_train = spikes[:case.n_train].sum() * row["n_learning"]
    ev_test = spikes[case.n_train:].sum() * row["n_learning"]
    return dict(input_spikes_per_sample=float(spikes.mean()),
                syn_events_per_sample=float(spikes.mean()) * row["n_learning"],
                ns_per_event_train=1e9 * row["train_s"] / max(ev_train, 1),
                ns_per_event_test=1e9 * row["test_s"] / max(ev_test, 1))


def _cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its finished children (the standalone binaries).

    On a shared machine, samples per CPU second show what the code would do
    on an idle core; wall-clock rates show what it did.
    """
    import resource

    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                   resource.getrusage(resource.RUSAGE_CHILDREN)))


def _compile_seconds(sim) -> float | None:
    """Compile time of a standalone build (also on a cache hit: from its manifest)."""
    if sim.build_dir is None:
        return None
    manifest = json.loads((Path(sim.build_dir) / "manifest.json").read_text())
    return float(manifest.get("compile_seconds", sim.compile_seconds))


# ---------------------------------------------------------------------------
# The plan
# ---------------------------------------------------------------------------
def backend_cases(quick: bool, copies: int, gpu: bool) -> list[Case]:
    """Rows (a)-(d) on one digits network."""
    g = "backends (digits, 64 inputs)"
    if quick:
        naive_n, block, n_train, n_test = 4, 90, 90, 90
    else:
        naive_n, block, n_train, n_test = 10, 360, 720, 360
    cases = [
        Case(g, "a. runtime, 1 run()/sample (naive)", "runtime", block_frames=1, n_train=naive_n, n_test=naive_n,
             copies=copies, note=f"timed on {naive_n}+{naive_n} samples, rate extrapolated"),
        Case(g, "b. runtime, 1 run()/block", "runtime", block_frames=block, n_train=block, n_test=min(n_test, block),
             copies=copies),
        Case(g, "c. cpp_standalone, 1 thread", "cpp", 0, block, n_train, n_test, copies),
    ]
    if not quick:
        cases.append(Case(g, "c. cpp_standalone, 2 OpenMP threads", "cpp", 2, block, n_train, n_test, copies))
    if gpu:
        cases.append(Case(g, "d. cuda_standalone", "cuda", 0, block, n_train, n_test, copies))
    return cases


def scaling_cases(quick: bool) -> list[Case]:
    """cpp_standalone (1 thread) rows over copies, microcolumns and input width."""
    if quick:
        return []
    cases = [Case("scaling: copies (digits, M=10)", f"copies {c}", "cpp", copies=c) for c in (1, 5, 15)]
    cases += [Case("scaling: microcolumns (digits, 15 copies)", f"M = {m}", "cpp", microcolumns=m) for m in (5, 20)]
    g = "scaling: input width (15 copies, M=10)"
    cases.append(Case(g, "64 (digits)", "cpp"))
    cases.append(Case(g, "784 (Fashion-MNIST pixels)", "cpp", block_frames=1000, n_train=1000, n_test=1000,
                      data="fashion"))
    cases.append(Case(g, "1536 (EfficientNet-like)", "cpp", block_frames=500, n_train=1000, n_test=500,
                      data="effnet"))
    return cases


def fashion_cases(quick: bool, threads: tuple[int, ...]) -> list[Case]:
    """2,000-sample Fashion-MNIST training passes behind the 60,000-sample estimate.

    One row per OpenMP setting of a single binary, and one with the copies
    split over one binary per CPU core (`engine.split.split_copies`, the
    ``colanet run`` default for ``cpp``).
    """
    if quick:
        return []
    g = "Fashion-MNIST 60k-pass estimate (784 inputs, 15 copies, M=10)"
    cases = [Case(g, f"cpp_standalone, {'1 thread' if t == 0 else f'{t} OpenMP threads'}", "cpp", t, 1000, 2000, 1000,
                  data="fashion") for t in threads]
    workers = min(os.cpu_count() or 1, Case.copies)  # one binary per core, at most one per copy
    if workers > 1:
        cases.append(Case(g, f"cpp_standalone, copies split over {workers} binaries", "cpp", 0, 1000, 2000, 1000,
                          workers=workers, data="fashion"))
    return cases


def load_data(key: str, quick: bool) -> BenchData:
    """The data set of a `Case`."""
    if key == "digits":
        return digits_data()
    if key == "fashion":
        return fashion_data(2000, 1000)
    if key == "effnet":
        return efficientnet_like_data(1000, 500)
    raise ValueError(f"unknown benchmark data {key!r}")


def add_ratios(rows: list[dict]) -> None:
    """Throughput ratios against the naive row of the same group and network."""
    naive = {r["group"]: r for r in rows
             if r.get("backend") == "runtime" and r.get("block_frames") == 1 and "train_sps" in r}
    for r in rows:
        ref = naive.get(r["group"])
        if ref is not None and "train_sps" in r:
            r["ratio_train"] = r["train_sps"] / ref["train_sps"]
            r["ratio_test"] = r["test_sps"] / ref["test_sps"]


def fashion_estimate(rows: list[dict]) -> list[dict]:
    """Extrapolate the measured 2,000-sample Fashion passes to 60,000 samples."""
    out = []
    for r in rows:
        if not r["group"].startswith("Fashion") or "train_sps" not in r:
            continue
        run_s = FASHION_TRAIN_SIZE / r["train_sps"]
        cpu_run_s = FASHION_TRAIN_SIZE / r["train_sps_cpu"]
        cores = min(os.cpu_count() or 1, max(1, r["threads"], r.get("workers", 1)))  # cores this row could use
        floor_s = FASHION_TRAIN_SIZE * r["syn_events_per_sample"] * FLOOR_NS_PER_EVENT * 1e-9 / cores
        out.append(dict(label=r["label"], measured_samples=r["n_train"], est_train_pass_s=run_s,
                        est_train_pass_cpu_s=cpu_run_s,
                        compile_s=r["compile_s"], est_total_s=run_s + (r["compile_s"] or 0.0),
                        floor_s=floor_s, target_s=TARGET_FASHION_PASS_S,
                        meets_target=run_s + (r["compile_s"] or 0.0) <= TARGET_FASHION_PASS_S))
    return out


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------
def _fmt(value, spec="{:.3g}") -> str:
    if value is None:
        return "-"
    if spec == "{:.3g}" and value >= 1000:
        return f"{value:,.0f}"
    return spec.format(value)


COLUMNS = (("row", 38), ("train/s", 9), ("per CPU s", 9), ("test/s", 9), ("x naive train/test", 18), ("compile s", 9), ("events/sample", 13),
           ("ns/event", 8), ("acc", 5), ("note", 0))


def format_table(result: dict) -> str:
    """Plain-text table of a benchmark result."""
    lines = [f"CoLaNET benchmark ({result['machine']['cpu_count']} CPUs, {result['machine']['cpu']}); "
             f"load average at start {result['machine']['loadavg_start']}, end {result['machine']['loadavg_end']}",
             f"floor: ~{FLOOR_NS_PER_EVENT:g} ns per synaptic event per core (shared/notes/performance.md)", ""]
    header = "  ".join(name.ljust(width) if width else name for name, width in COLUMNS)
    group = None
    for r in result["rows"]:
        if r["group"] != group:
            group = r["group"]
            lines += ["", group, header, "-" * len(header)]
        lines.append(_format_row(r))
    for e in result.get("fashion_estimate", []):
        lines += ["", f"Fashion-MNIST, one 60,000-sample training pass ({e['label']}): "
                  f"~{e['est_train_pass_s'] / 60:.1f} min wall (~{e['est_train_pass_cpu_s'] / 60:.1f} min of CPU) "
                  f"extrapolated from {e['measured_samples']} measured samples "
                  f"(+ {e['compile_s'] or 0:.0f} s compile); target {e['target_s'] / 60:.0f} min: "
                  f"{'met' if e['meets_target'] else 'NOT met'}; floor ~{e['floor_s'] / 60:.1f} min "
                  f"({FLOOR_NS_PER_EVENT:g} ns/event on the cores it uses)"]
    return "\n".join(lines)


def _ratio(r: dict) -> str:
    if "ratio_train" not in r:
        return "-"
    return f"{r['ratio_train']:,.0f}x / {r['ratio_test']:,.0f}x"


def _format_row(r: dict) -> str:
    if "skipped" in r:
        cells = [r["label"]] + ["-"] * (len(COLUMNS) - 2) + [r["skipped"]]
    else:
        compile_s = r["compile_s"] if r["compile_s"] is not None else r["warmup_s"]
        notes = [r["note"]]
        if r["compile_s"] is None:
            notes.append("compile = first run() (Cython, cached)")
        elif not r["compiled_now"]:
            notes.append("cached build, compile time from its manifest")
        note = "; ".join(n for n in notes if n)
        cells = [r["label"], _fmt(r["train_sps"]), _fmt(r.get("train_sps_cpu")), _fmt(r["test_sps"]), _ratio(r),
                 _fmt(compile_s, "{:.1f}"), _fmt(r["syn_events_per_sample"]), _fmt(r["ns_per_event_train"]),
                 _fmt(r.get("test_accuracy"), "{:.2f}"), note]
    return "  ".join(c.ljust(w) if w else c for c, (_, w) in zip(cells, COLUMNS, strict=True))


def machine_info() -> dict:
    """CPU, core count and load average (the numbers are only as good as the machine was quiet)."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return dict(cpu=cpu, cpu_count=os.cpu_count(), loadavg_start=_loadavg())


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


# ---------------------------------------------------------------------------
def run_benchmark(quick=False, copies=None, cache_dir=None, out=None, log=print, only=None,
                  fashion_threads=(0,)) -> dict:
    """Run every row; return ``{"machine", "rows", "fashion_estimate", ...}`` and write it to ``out`` as JSON.

    Parameters
    ----------
    quick : bool
        A small plan that finishes in about a minute with a warm build cache.
    copies : int, optional
        Copies of the backend-comparison network (default 15, quick 3).
    cache_dir : path, optional
        Standalone build cache (default `engine.cache.default_cache_dir`).
    out : path, optional
        JSON file to write.
    log : callable
        Progress messages.
    only : sequence of str, optional
        Run only the groups whose name starts with one of these words.
    fashion_threads : sequence of int
        OpenMP settings of the Fashion-MNIST estimate rows (0: no OpenMP).
    """
    from .engine.cuda import gpu_available

    gpu = gpu_available()
    copies = copies or (3 if quick else 15)
    cases = backend_cases(quick, copies, gpu) + scaling_cases(quick) + fashion_cases(quick, tuple(fashion_threads))
    if only:
        cases = [c for c in cases if any(c.group.startswith(word) for word in only)]
    result = dict(machine=machine_info(), quick=quick, gpu=gpu, rows=[], started=time.strftime("%Y-%m-%d %H:%M:%S"))
    build_log = Path(out).with_suffix(".build.log") if out else None
    data_cache: dict[str, BenchData] = {}
    for case in cases:
        data = data_cache.setdefault(case.data, load_data(case.data, quick))
        log(f"[bench] {case.group} / {case.label}: {case.n_train} train + {case.n_test} test samples ...")
        row = measure(case, data, cache_dir, build_log)
        log(f"[bench]   train {row['train_sps']:.3g}/s, test {row['test_sps']:.3g}/s, "
            f"{row['ns_per_event_train']:.1f} ns/event")
        result["rows"].append(row)
        if out:  # keep what was measured, should a later row fail
            _write(out, result)
    if not gpu and any(c.group.startswith("backends") for c in cases):
        result["rows"].append(dict(group=cases[0].group, label="d. cuda_standalone",
                                   skipped="skipped: no GPU here (nvidia-smi reports none); see tests/test_cuda_build.py"))
    add_ratios(result["rows"])
    result["fashion_estimate"] = fashion_estimate(result["rows"])
    result["machine"]["loadavg_end"] = _loadavg()
    if out:
        _write(out, result)
    return result


def _write(out, result: dict) -> None:
    from .provenance import provenance, write_json

    result.setdefault("provenance", provenance())
    write_json(out, result)
