"""Genetic search of CoLaNET hyperparameters with pygad (spec §10).

The paper tuned its hyperparameters with a genetic algorithm that ran for
three days on a GPU cluster; this module makes that search one crash-safe,
resumable command (``colanet evolve``).

Genes
    Every parameter with a spec §10 range (``ga`` in the field metadata of
    `CoLaNETParams`) can be a gene; `gene_table` selects a subset and checks
    user-given ranges.  pygad evolves *normalised* genes ``u`` in ``[0, 1]``;
    `Gene.value` maps them to parameter values, uniformly over the integers
    for integer parameters and in log space for parameters spanning decades.
Fitness
    Ensemble (or mean single-copy) accuracy on a validation split carved
    stratified and seeded from the *training* data (`search_split`), after one
    online training pass over the rest of it.  The test split is never seen.
    Every individual is trained with the same seed (common random numbers), so
    its fitness is a deterministic function of its parameters.
Evaluation
    In-process, in local worker processes or on a Dask cluster; always
    through `evaluate_params`, which reuses the standalone build of the
    network shape (a recompile happens only for a new shape, e.g. a new
    number of microcolumns).
Crash safety
    Every evaluated individual is appended to ``evaluations.jsonl`` as soon as
    it finishes, and after every generation ``checkpoint.json`` holds the
    population, its fitness, the pygad random-generator states and the
    history.  The random generators of pygad are reseeded at the start of every
    generation from ``(seed, generation)``; a resumed search therefore repeats
    the uninterrupted search exactly, answering finished individuals from the
    log instead of evaluating them again.

Run directory
-------------
``config.json``        search configuration, genes, base parameters, data fingerprint
``evaluations.jsonl``  one line per evaluated individual (genes, params, fitness, seed, time, compiled, generation)
``checkpoint.json``    state after the last finished generation
``summary.json``       per-generation arrays ``generation``, ``best``, ``mean``, ``wall_time`` (and more)
``best_params.json``   best parameters so far, a parameter file for ``colanet run --params``

Example
-------
::

    data = search_split(load_dataset("digits"), val_size=0.2, seed=0)
    config = SearchConfig(genes=gene_table(["reward", "d_h", "s_stoch"]), population=8, generations=5)
    search = Evolution.create("runs/evolve", config, data, CoLaNETParams(), workers=2)
    summary = search.run()
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import logging
import math
import os
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .params import CoLaNETParams, ParameterError
from .provenance import atomic_write_text, provenance, write_json

__all__ = [
    "Gene",
    "SearchConfig",
    "SearchData",
    "Evolution",
    "available_genes",
    "default_genes",
    "gene_table",
    "parse_range",
    "search_split",
    "search_block_frames",
    "evaluate_params",
    "format_summary",
    "SELECTIONS",
    "CROSSOVERS",
    "MUTATIONS",
    "FITNESS_KINDS",
]

FORMAT = "colanet-brian evolve 1"
#: pygad parent selection operators offered (single objective).
SELECTIONS = ("tournament", "sss", "rws", "sus", "rank", "random")
#: pygad crossover operators offered ("none": no crossover).
CROSSOVERS = ("uniform", "single_point", "two_points", "scattered", "sbx", "none")
#: pygad mutation operators that act gene-wise inside ``[0, 1]`` ("none": no mutation).
MUTATIONS = ("polynomial", "random", "none")
#: ``ensemble``: accuracy of the pooled vote; ``single``: mean accuracy of the single copies.
FITNESS_KINDS = ("ensemble", "single")
#: Genes with a spec §10 range that `default_genes` leaves out, and why.
NOT_BY_DEFAULT = {
    "a1": "switches on one-factor plasticity, whose meaning is not documented (spec §7.4, §17.11)",
    "gate_weight": "only used with force_mode='input' (spec §17.7)",
}

_LOG = logging.getLogger(__name__)
_PYGAD_LOG = logging.getLogger(__name__ + ".pygad")
_PYGAD_LOG.addHandler(logging.NullHandler())
_PYGAD_LOG.propagate = False
#: Serialises Brian2 code generation between threads of one process (Dask thread workers).
_BUILD_LOCK = threading.Lock()


# ---------------------------------------------------------------------------
# Genes
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Gene:
    """One searched parameter and its range.

    pygad evolves a normalised value ``u`` in ``[0, 1]``; `value` maps it onto
    ``[low, high]``.

    Parameters
    ----------
    name : str
        Field of `CoLaNETParams`.
    low, high : float
        Range of the parameter (inclusive).
    integer : bool
        Integer parameter: every integer in the range gets an equal share of ``[0, 1]``.
    log : bool
        Map ``u`` in log space (needs ``0 < low``).
    """

    name: str
    low: float
    high: float
    integer: bool = False
    log: bool = False

    def value(self, u: float) -> float | int:
        """Parameter value of the normalised gene ``u`` (clipped to ``[0, 1]``).

        Floats are rounded to 6 significant digits, like the evolved values of
        spec §16, so that parameter files stay readable.
        """
        u = min(max(float(u), 0.0), 1.0)
        if self.integer:
            n = int(self.high) - int(self.low) + 1
            if self.log:
                x = math.exp(math.log(self.low - 0.5) + u * (math.log(self.high + 0.5) - math.log(self.low - 0.5)))
                return int(min(max(round(x), self.low), self.high))
            return int(self.low) + min(int(u * n), n - 1)
        if self.log:
            x = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        return min(max(float(f"{x:.6g}"), self.low), self.high)

    def encode(self, value: float) -> float:
        """Normalised gene of a parameter value (the inverse of `value`, clipped to ``[0, 1]``)."""
        v = float(value)
        if self.integer and not self.log:
            u = (v - self.low + 0.5) / (self.high - self.low + 1)
        elif self.integer:
            lo, hi = math.log(self.low - 0.5), math.log(self.high + 0.5)
            u = (math.log(min(max(v, self.low), self.high)) - lo) / (hi - lo)
        elif self.log:
            u = (math.log(min(max(v, self.low), self.high)) - math.log(self.low)) / (
                math.log(self.high) - math.log(self.low))
        else:
            u = (v - self.low) / (self.high - self.low)
        return min(max(u, 0.0), 1.0)

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return dataclasses.asdict(self)

    def describe(self) -> str:
        """``name low..high`` with the integer / log flags."""
        flags = ", ".join(f for f, on in (("integer", self.integer), ("log", self.log)) if on)
        return f"{self.name} {self.low:g}..{self.high:g}" + (f" ({flags})" if flags else "")


def _fields() -> dict:
    return {f.name: f for f in dataclasses.fields(CoLaNETParams)}


def available_genes() -> dict[str, Gene]:
    """Every parameter with a spec §10 GA range, as a `Gene` with that range."""
    out = {}
    for name, f in _fields().items():
        ga = f.metadata.get("ga")
        if ga is not None:
            out[name] = Gene(name, float(ga[0]), float(ga[1]), bool(f.metadata.get("integer")),
                             bool(f.metadata.get("log")))
    return out


def default_genes(base: CoLaNETParams | None = None) -> list[str]:
    """Genes searched when none are named: every spec §10 gene except `NOT_BY_DEFAULT`.

    ``gate_weight`` is included when ``base.force_mode == "input"`` (the only
    mode that uses it).
    """
    base = base or CoLaNETParams()
    names = []
    for name in available_genes():
        if name == "gate_weight" and base.force_mode == "input":
            names.append(name)
        elif name not in NOT_BY_DEFAULT:
            names.append(name)
    return names


def parse_range(text: str) -> tuple[str, float, float]:
    """Parse ``NAME=LOW:HIGH`` (the ``--range`` syntax).

    Raises
    ------
    ParameterError
        If the text is not of that form or the bounds are not numbers.
    """
    if "=" not in text or ":" not in text.split("=", 1)[1]:
        raise ParameterError(f"a gene range must look like NAME=LOW:HIGH (e.g. reward=0.05:0.8), got {text!r}")
    name, bounds = text.split("=", 1)
    low, high = bounds.split(":", 1)
    try:
        return name.strip(), float(low), float(high)
    except ValueError:
        raise ParameterError(f"gene range {text!r}: LOW and HIGH must be numbers") from None


def _numeric_field(name: str, f) -> bool:
    default = f.default
    return isinstance(default, (int, float)) and not isinstance(default, bool)


def _check_gene(gene: Gene, base: CoLaNETParams) -> None:
    """Raise `ParameterError` unless ``gene`` is a usable range for ``base``."""
    name, low, high = gene.name, gene.low, gene.high
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ParameterError(f"gene {name}: the range {low}..{high} must be finite")
    if not low < high:
        raise ParameterError(f"gene {name}: the range needs low < high, got {low:g}..{high:g}")
    if gene.integer and (low != int(low) or high != int(high)):
        raise ParameterError(f"gene {name} is an integer parameter: give integer bounds, got {low:g}..{high:g}")
    if gene.log and not low > (0.5 if gene.integer else 0.0):
        raise ParameterError(f"gene {name} is searched in log space: its range must be positive, got {low:g}..{high:g}")
    for end in (low, high):
        value = int(end) if gene.integer else end
        try:
            dataclasses.replace(base, **{name: value}).validate()
        except ParameterError as err:
            raise ParameterError(f"gene {name}: the range {low:g}..{high:g} reaches an invalid value: {err}") from None


def gene_table(names=None, ranges=None, base: CoLaNETParams | None = None) -> list[Gene]:
    """Validated genes for a search.

    Parameters
    ----------
    names : sequence of str, optional
        Parameters to search (default: `default_genes`).  A parameter without a
        spec §10 range needs an explicit range in ``ranges``.
    ranges : dict or sequence, optional
        ``{name: (low, high)}`` or ``[(name, low, high), ...]`` overriding the
        spec ranges; every name must be among ``names``.
    base : CoLaNETParams, optional
        Parameters the genes modify; both ends of every range must pass its
        `CoLaNETParams.validate`.

    Returns
    -------
    list of Gene

    Raises
    ------
    ParameterError
        For an unknown or duplicated gene, a non-numeric parameter, a range
        with ``low >= high``, non-integer bounds of an integer parameter, a
        non-positive log range, or a bound that the parameters reject.
    """
    base = (base or CoLaNETParams()).validate()
    fields = _fields()
    spec = available_genes()
    names = list(default_genes(base) if names is None else names)
    if not names:
        raise ParameterError("no genes to search")
    if isinstance(ranges, dict):
        ranges = [(k, *v) for k, v in ranges.items()]
    overrides = {}
    for name, low, high in ranges or ():
        if name in overrides:
            raise ParameterError(f"two ranges for gene {name}")
        overrides[name] = (float(low), float(high))
    seen = set()
    genes = []
    for name in names:
        if name not in fields:
            raise ParameterError(f"unknown gene {name!r}; parameters with a spec §10 range: {', '.join(spec)}")
        if name in seen:
            raise ParameterError(f"gene {name} is listed twice")
        seen.add(name)
        if not _numeric_field(name, fields[name]):
            raise ParameterError(f"parameter {name} is not numeric and cannot be a gene")
        meta = fields[name].metadata
        if name in overrides:
            low, high = overrides[name]
        elif name in spec:
            low, high = spec[name].low, spec[name].high
        else:
            raise ParameterError(f"parameter {name} has no GA range in spec §10: give one with --range {name}=LOW:HIGH")
        gene = Gene(name, low, high, bool(meta.get("integer")), bool(meta.get("log")))
        _check_gene(gene, base)
        genes.append(gene)
    stray = set(overrides) - seen
    if stray:
        raise ParameterError(f"range given for {sorted(stray)}, which are not among the searched genes {names}")
    return genes


# ---------------------------------------------------------------------------
# Configuration and data
# ---------------------------------------------------------------------------
@dataclass
class SearchConfig:
    """Everything that defines a search (and therefore its result).

    Parameters
    ----------
    genes : list of Gene
        Searched parameters (`gene_table`).
    population, generations : int
        Individuals per population and generations after the initial one
        (``generations + 1`` populations are evaluated).
    parents : int, optional
        Parents mating per generation (default: half the population, at least 2).
    selection, k_tournament : str, int
        pygad ``parent_selection_type`` (`SELECTIONS`) and ``K_tournament``.
    crossover, crossover_probability : str, float
        pygad ``crossover_type`` (`CROSSOVERS`) and ``crossover_probability``.
    mutation, mutation_probability, mutation_eta : str, float, float
        pygad ``mutation_type`` (`MUTATIONS`), per-gene ``mutation_probability``
        and ``polynomial_mutation_eta`` (larger: smaller steps).
    elitism : int
        pygad ``keep_elitism``: best individuals copied unchanged.
    seed : int
        pygad ``random_seed`` base, split and training order, network noise.
    fitness : str
        `FITNESS_KINDS`.
    fitness_seeds : int
        Network seeds ``seed, seed+1, ...`` whose fitnesses are averaged (the
        noise and tie-breaking streams differ; data and order do not).  With
        one seed the search can select parameters that suit that seed's noise.
    fitness_copies : int, optional
        Copies simulated during the search (default: those of the base
        parameters); the best parameter file keeps the base's number of copies.
    include_base : bool
        Put the base parameters into the initial population.
    backend, block_frames, threads : str, int, int
        Simulation backend, samples per binary run (default `search_block_frames`)
        and OpenMP threads.
    """

    genes: list
    population: int = 10
    generations: int = 6
    parents: int | None = None
    selection: str = "tournament"
    k_tournament: int = 3
    crossover: str = "uniform"
    crossover_probability: float | None = None
    mutation: str = "polynomial"
    mutation_probability: float = 0.2
    mutation_eta: float = 20.0
    elitism: int = 2
    seed: int = 0
    fitness: str = "ensemble"
    fitness_seeds: int = 1
    fitness_copies: int | None = None
    include_base: bool = True
    backend: str = "cpp"
    block_frames: int | None = None
    threads: int = 0

    def __post_init__(self):
        self.genes = [g if isinstance(g, Gene) else Gene(**g) for g in self.genes]

    @property
    def n_parents(self) -> int:
        """Parents mating per generation."""
        return self.parents if self.parents is not None else max(2, self.population // 2)

    def validate(self) -> SearchConfig:
        """Raise `ValueError` for an impossible setting; return ``self``."""
        from .simulate import BACKENDS

        def need(ok, message):
            if not ok:
                raise ValueError(message)

        need(len(self.genes) > 0, "no genes to search")
        need(len({g.name for g in self.genes}) == len(self.genes), "a gene is listed twice")
        need(self.population >= 2, f"population must be >= 2, got {self.population}")
        need(self.generations >= 1, f"generations must be >= 1, got {self.generations}")
        need(1 <= self.n_parents <= self.population, f"parents must lie in 1..{self.population}, got {self.n_parents}")
        need(0 <= self.elitism < self.population, f"elitism must lie in 0..{self.population - 1}, got {self.elitism}")
        need(self.selection in SELECTIONS, f"selection must be one of {SELECTIONS}, got {self.selection!r}")
        need(self.k_tournament >= 1, f"k_tournament must be >= 1, got {self.k_tournament}")
        need(self.crossover in CROSSOVERS, f"crossover must be one of {CROSSOVERS}, got {self.crossover!r}")
        need(self.mutation in MUTATIONS, f"mutation must be one of {MUTATIONS}, got {self.mutation!r}")
        need(0 <= self.mutation_probability <= 1, f"mutation_probability must lie in [0, 1], got {self.mutation_probability}")
        need(self.crossover_probability is None or 0 <= self.crossover_probability <= 1,
             f"crossover_probability must lie in [0, 1], got {self.crossover_probability}")
        need(self.mutation_eta > 0, f"mutation_eta must be > 0, got {self.mutation_eta}")
        need(self.fitness in FITNESS_KINDS, f"fitness must be one of {FITNESS_KINDS}, got {self.fitness!r}")
        need(self.fitness_seeds >= 1, f"fitness_seeds must be >= 1, got {self.fitness_seeds}")
        need(self.fitness_copies is None or self.fitness_copies >= 1,
             f"fitness_copies must be >= 1, got {self.fitness_copies}")
        need(self.backend in BACKENDS, f"backend must be one of {BACKENDS}, got {self.backend!r}")
        need(self.block_frames is None or self.block_frames >= 1, f"block_frames must be >= 1, got {self.block_frames}")
        need(0 <= int(self.seed) < 2**32, f"seed must lie in 0..2**32-1, got {self.seed}")
        return self

    def to_dict(self) -> dict:
        """JSON-ready fields (genes as dicts)."""
        data = dataclasses.asdict(self)
        data["genes"] = [g.to_dict() for g in self.genes]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> SearchConfig:
        """Inverse of `to_dict`."""
        return cls(**data)


@dataclass
class SearchData:
    """Training part of a data set, split into a fitting and a validation part.

    Attributes
    ----------
    X_fit, y_fit : ndarray
        One online training pass per individual, in this order.
    X_val, y_val : ndarray
        Validation samples scoring the fitness.
    class_names : list of str
    meta : dict
        Where the data came from and how it was split.
    """

    X_fit: np.ndarray
    y_fit: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    class_names: list
    meta: dict = field(default_factory=dict)

    def fingerprint(self) -> str:
        """SHA-1 of the arrays and class names: a resumed search must see the same data."""
        h = hashlib.sha1()
        for a in (self.X_fit, self.y_fit, self.X_val, self.y_val):
            a = np.ascontiguousarray(a)
            h.update(str((a.dtype.str, a.shape)).encode())
            h.update(a.tobytes())
        h.update(json.dumps(list(map(str, self.class_names))).encode())
        return h.hexdigest()

    def summary(self) -> dict:
        """Sizes, fingerprint and provenance."""
        return dict(n_fit=int(len(self.y_fit)), n_val=int(len(self.y_val)), n_features=int(self.X_fit.shape[1]),
                    n_classes=len(self.class_names), class_names=list(map(str, self.class_names)),
                    fingerprint=self.fingerprint(), **self.meta)


def search_split(dataset, val_size: float = 0.2, seed: int = 0, max_train: int | None = None) -> SearchData:
    """Carve a stratified, seeded validation split out of a data set's *training* part.

    Parameters
    ----------
    dataset : colanet_brian.datasets.Dataset
        Only ``X_train``/``y_train`` are used: the test split is never seen.
    val_size : float
        Validation fraction of the (possibly subsampled) training part.
    seed : int
        Seed of the subsample, the split and the training order.
    max_train : int, optional
        Use a stratified subsample of at most this many training samples
        (quick searches and tests).

    Returns
    -------
    SearchData
        The fitting part in a seeded random order (the online training order).
    """
    from .datasets import stratified_split

    if not 0 < val_size < 1:
        raise ValueError(f"val_size must lie in (0, 1), got {val_size}")
    X, y = np.asarray(dataset.X_train), np.asarray(dataset.y_train)
    meta = dict(dataset=getattr(dataset, "name", "?"), source_split=getattr(dataset, "meta", {}).get("split"))
    if max_train is not None and max_train < len(y):
        if max_train < 2 * len(np.unique(y)):
            raise ValueError(f"max_train={max_train} is too small for {len(np.unique(y))} classes")
        keep, _ = stratified_split(y, test_size=len(y) - int(max_train), seed=seed)
        X, y = X[np.sort(keep)], y[np.sort(keep)]
        meta["max_train"] = int(max_train)
    fit, val = stratified_split(y, test_size=val_size, seed=seed)
    fit = fit[np.random.default_rng(seed).permutation(len(fit))]
    meta.update(val_size=val_size, split=f"stratified {1 - val_size:.0%}/{val_size:.0%} of the training part, "
                f"seed {seed}; test split unused")
    return SearchData(X[fit], y[fit], X[val], y[val], list(dataset.class_names), meta)


def search_block_frames(n_fit: int, n_val: int, max_block: int = 1000, overhead: int = 30) -> int:
    """Samples per binary run that waste the fewest simulated frames.

    A standalone run always simulates whole blocks, so the training pass
    costs ``ceil(n_fit/B)*B`` frames and the validation pass
    ``ceil(n_val/B)*B``; each block also costs one binary start (about
    ``overhead`` frames).  The block size is part of the network shape, so
    one value serves the whole search.
    """
    best, best_cost = 1, math.inf
    for b in range(1, max(1, min(max_block, max(n_fit, n_val))) + 1):
        blocks = -(-n_fit // b) + -(-n_val // b)
        cost = (-(-n_fit // b) * b + -(-n_val // b) * b) + overhead * blocks
        if cost < best_cost:
            best, best_cost = b, cost
    return best


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
    from .classifier import CoLaNETClassifier
    from .network import NetworkShape
    from .simulate import STANDALONE_BACKENDS, build_standalone

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
    from .runio import die_with_parent

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


# ---------------------------------------------------------------------------
# Files of a run directory
# ---------------------------------------------------------------------------
def _append_jsonl(path: Path, record: dict) -> None:
    line = json.dumps(record, default=_json_default) + "\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj)}")


def _read_jsonl(path: Path) -> list[dict]:
    """Records of an evaluation log; a torn last line (killed while writing) is cut off."""
    if not path.is_file():
        return []
    raw = path.read_bytes()
    records, good = [], 0
    for line in raw.splitlines(keepends=True):
        try:
            if not line.endswith(b"\n"):
                raise ValueError("unterminated line")
            records.append(json.loads(line))
        except ValueError:
            if good + len(line) < len(raw):
                raise ValueError(f"{path} is corrupt after {len(records)} records") from None
            with open(path, "r+b") as handle:  # torn last line: drop it
                handle.truncate(good)
            break
        good += len(line)
    return records


def _read_json_record(path: Path, keys) -> dict:
    """A JSON object with ``keys``; a garbled or truncated file is a one-line `ValueError` naming it."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is unreadable or truncated ({err}); restore it or start a new search") from None
    missing = [k for k in keys if k not in record] if isinstance(record, dict) else list(keys)
    if missing:
        raise ValueError(f"{path} is damaged: {', '.join(missing)} missing; restore it or start a new search")
    return record


def _values_key(values: dict) -> str:
    return json.dumps(values, sort_keys=True)


def _generation_seed(seed: int, generation: int) -> int:
    """Seed of pygad's random generators for the operators that follow generation ``generation``."""
    return int(np.random.SeedSequence([int(seed), int(generation), 0xC01A]).generate_state(1)[0])


def _rng_state(numpy_rng: np.random.RandomState, python_rng: random.Random) -> dict:
    name, keys, pos, has_gauss, cached = numpy_rng.get_state()
    version, internal, gauss_next = python_rng.getstate()
    return dict(numpy=[name, keys.tolist(), int(pos), int(has_gauss), float(cached)],
                python=[version, list(internal), gauss_next])


def _set_rng_state(ga, state: dict) -> None:
    name, keys, pos, has_gauss, cached = state["numpy"]
    ga.numpy_random_generator.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    version, internal, gauss_next = state["python"]
    ga.python_random_generator.setstate((version, tuple(internal), gauss_next))


@contextlib.contextmanager
def _exclusive(run_dir: Path):
    """Hold ``run_dir/.lock`` so that two searches never write one run directory."""
    handle = open(run_dir / ".lock", "w")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another `colanet evolve` is running in {run_dir}") from None
        yield
    finally:
        handle.close()


# ---------------------------------------------------------------------------
# The search
# ---------------------------------------------------------------------------
class Evolution:
    """A pygad search of CoLaNET hyperparameters, checkpointed in a run directory.

    Create one with `Evolution.create` (new run directory) or
    `Evolution.resume` (continue one), then call `run`.

    Parameters
    ----------
    run_dir : path
        Run directory (see the module docstring).
    config : SearchConfig
        The search.
    data : SearchData
        Fitting and validation data.
    base_params : CoLaNETParams
        Parameters the genes modify (the model: its ``n_copies`` goes into the
        best parameter file).
    workers : int
        Local worker processes (1: evaluate in this process).
    scheduler : str, optional
        Address of a Dask scheduler: evaluate there instead.
    cache_dir : path, optional
        Standalone build cache (default `simulate.default_cache_dir`; on Dask
        without it every worker builds into its own directory).
    progress : bool
        Progress bar and one line per generation.
    on_evaluated : callable, optional
        Called with every new log record (after it was written).
    data_spec : dict, optional
        How to reload ``data`` (data set, split sizes, seed), stored in
        ``config.json`` so that ``colanet evolve --resume`` can rebuild it.
    """

    def __init__(self, run_dir, config: SearchConfig, data: SearchData, base_params: CoLaNETParams, *,
                 workers: int = 1, scheduler: str | None = None, cache_dir=None, progress: bool = True,
                 on_evaluated=None, data_spec: dict | None = None):
        self.run_dir = Path(run_dir)
        self.config = config.validate()
        self.data = data
        self.base_params = base_params.validate(data.X_fit.shape[1])
        self.workers = max(1, int(workers))
        self.scheduler = scheduler
        self.cache_dir = None if cache_dir is None else str(cache_dir)
        self.progress = progress
        self.on_evaluated = on_evaluated
        self.data_spec = data_spec or {}
        changes = {} if config.fitness_copies is None else dict(n_copies=config.fitness_copies)
        self.search_params = self.base_params.replace(**changes)
        self.block_frames = config.block_frames or search_block_frames(len(data.y_fit), len(data.y_val))
        self.seeds = [int(config.seed) + k for k in range(config.fitness_seeds)]
        self.log_path = self.run_dir / "evaluations.jsonl"
        self.records: list[dict] = []
        self.cache: dict[str, dict] = {}
        self.history = dict(generation=[], best=[], mean=[], best_so_far=[], wall_time=[], evaluations=[],
                            compiles=[])
        self.best: dict | None = None
        self.elapsed = 0.0
        self._pool = None
        self._bar = None

    # -- construction ------------------------------------------------------
    @classmethod
    def create(cls, run_dir, config: SearchConfig, data: SearchData, base_params: CoLaNETParams,
               **options) -> Evolution:
        """Start a search in a new (or empty) run directory; writes ``config.json``.

        Raises
        ------
        FileExistsError
            If ``run_dir`` already holds a search (use `resume`).
        """
        run_dir = Path(run_dir)
        if (run_dir / "config.json").exists() or (run_dir / "evaluations.jsonl").exists():
            raise FileExistsError(f"{run_dir} already holds a search: resume it (`colanet evolve --resume "
                                  f"{run_dir}`) or choose another output directory")
        search = cls(run_dir, config, data, base_params, **options)
        run_dir.mkdir(parents=True, exist_ok=True)
        write_json(run_dir / "config.json", search._config_record())
        return search

    @classmethod
    def resume(cls, run_dir, data: SearchData, generations: int | None = None, **options) -> Evolution:
        """Continue the search in ``run_dir`` (after a crash, or with more ``generations``).

        Raises
        ------
        FileNotFoundError
            If ``run_dir`` holds no search.
        ValueError
            If ``data`` differs from the data the search started with, or
            ``generations`` is below the generations already finished.
        """
        run_dir = Path(run_dir)
        record = cls.read_config(run_dir)
        if data.fingerprint() != record["data"]["fingerprint"]:
            raise ValueError(f"the data differ from those the search in {run_dir} started with "
                             f"(fingerprint {data.fingerprint()[:12]} != {record['data']['fingerprint'][:12]})")
        config = SearchConfig.from_dict(record["config"])
        checkpoint = cls.read_checkpoint(run_dir)
        if generations is not None:
            done = checkpoint["generation"] if checkpoint else 0
            if generations < done:
                raise ValueError(f"{run_dir} has already finished {done} generations; cannot stop at {generations}")
            config.generations = int(generations)
        options.setdefault("data_spec", record.get("data_spec"))
        search = cls(run_dir, config, data, CoLaNETParams.from_dict(record["base_params"]), **options)
        if generations is not None:
            write_json(run_dir / "config.json", dict(record, config=config.to_dict()))
        return search

    @staticmethod
    def read_config(run_dir) -> dict:
        """``config.json`` of a run directory."""
        path = Path(run_dir) / "config.json"
        if not path.is_file():
            raise FileNotFoundError(f"no search to resume in {run_dir} (config.json missing)")
        record = _read_json_record(path, ("format", "config", "base_params", "data"))
        if record.get("format") != FORMAT:
            raise ValueError(f"{path} is not a colanet evolve configuration (format {record.get('format')!r})")
        return record

    @staticmethod
    def read_checkpoint(run_dir) -> dict | None:
        """``checkpoint.json`` of a run directory, or ``None`` before the first generation finished."""
        path = Path(run_dir) / "checkpoint.json"
        if not path.is_file():
            return None
        return _read_json_record(path, ("generation", "population", "rng", "history", "best", "elapsed"))

    def _config_record(self) -> dict:
        return dict(format=FORMAT, config=self.config.to_dict(), base_params=self.base_params.to_dict(),
                    search_params=self.search_params.to_dict(), block_frames=self.block_frames,
                    data=self.data.summary(), data_spec=self.data_spec, created=time.strftime("%Y-%m-%d %H:%M:%S"),
                    **provenance())

    # -- genes <-> parameters ----------------------------------------------
    def decode(self, genes) -> dict:
        """``{name: value}`` of a normalised gene vector."""
        return {g.name: g.value(u) for g, u in zip(self.config.genes, genes, strict=True)}

    def params_for(self, values: dict, model: bool = False) -> CoLaNETParams:
        """Parameters of an individual (``model=True``: with the base's number of copies)."""
        base = self.base_params if model else self.search_params
        return CoLaNETParams.from_dict(dict(base.to_dict(), **values))

    def initial_population(self) -> np.ndarray:
        """Generation 0: uniform in ``[0, 1]`` from ``seed``; row 0 is the base parameters (``include_base``)."""
        rng = np.random.default_rng(np.random.SeedSequence([int(self.config.seed), 0xB17E]))
        population = rng.random((self.config.population, len(self.config.genes)))
        if self.config.include_base:
            population[0] = [g.encode(getattr(self.base_params, g.name)) for g in self.config.genes]
        return population

    # -- running -------------------------------------------------------------
    def run(self) -> dict:
        """Run (or continue) the search to ``config.generations``; return the summary.

        Each finished generation is checkpointed before the next starts; an
        exception (or a kill) loses at most the unfinished generation, whose
        finished individuals are still in the log.
        """
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with _exclusive(self.run_dir):
            if not (self.run_dir / "config.json").exists():  # built directly, not by `create`
                write_json(self.run_dir / "config.json", self._config_record())
            self._load_state()
            checkpoint = self.read_checkpoint(self.run_dir)
            start = checkpoint["generation"] if checkpoint else 0
            if start >= self.config.generations:
                return self._write_summary()
            population = np.asarray(checkpoint["population"], float) if checkpoint else self.initial_population()
            ga = self._make_ga(population, start, checkpoint)
            self._pool = _make_pool(self.data, self.workers, self.scheduler)
            self._open_bar(start)
            _LOG.info("evolve: %s, evaluation %s", self.run_dir, self._pool.description)
            try:
                self._gen_start = time.time()
                ga.run()
            finally:
                self._pool.close()
                self._pool = None
                if self._bar is not None:
                    self._bar.close()
                    self._bar = None
            return self._write_summary()

    def _make_ga(self, population: np.ndarray, start: int, checkpoint: dict | None):
        import pygad

        c = self.config
        ga = pygad.GA(
            num_generations=c.generations - start,
            num_parents_mating=c.n_parents,
            fitness_func=self._fitness,
            fitness_batch_size=c.population,
            initial_population=population,
            gene_type=float,
            gene_space={"low": 0.0, "high": 1.0},
            parent_selection_type=c.selection,
            K_tournament=min(c.k_tournament, c.population),
            keep_elitism=c.elitism,
            crossover_type=None if c.crossover == "none" else c.crossover,
            crossover_probability=c.crossover_probability,
            mutation_type=None if c.mutation == "none" else c.mutation,
            mutation_probability=c.mutation_probability if c.mutation != "none" else None,
            polynomial_mutation_eta=c.mutation_eta,
            on_fitness=self._on_fitness,
            on_stop=self._on_stop,
            random_seed=_generation_seed(c.seed, start),
            suppress_warnings=True,
            logger=_PYGAD_LOG,
        )
        ga.generations_completed = int(start)
        if checkpoint is not None:
            _set_rng_state(ga, checkpoint["rng"])
        return ga

    def _load_state(self) -> None:
        """Read the log (fitness cache) and the checkpointed history."""
        self.records = _read_jsonl(self.log_path)
        self.cache = {_values_key(r["values"]): r for r in self.records}
        checkpoint = self.read_checkpoint(self.run_dir)
        if checkpoint is not None:
            self.history = {k: list(v) for k, v in checkpoint["history"].items()}
            self.best = checkpoint["best"]
            self.elapsed = checkpoint["elapsed"]

    # -- pygad callbacks -----------------------------------------------------
    def _fitness(self, ga, solutions, indices):
        """pygad batch fitness: one call per population (individuals pygad has not cached)."""
        solutions = np.atleast_2d(np.asarray(solutions, dtype=float))
        indices = np.atleast_1d(indices).tolist()
        return self.evaluate_population(solutions, indices, int(ga.generations_completed))

    def evaluate_population(self, solutions: np.ndarray, indices, generation: int) -> list[float]:
        """Fitness of normalised gene vectors; new individuals are evaluated and logged.

        Individuals already in the log (a resumed search, a duplicate) are
        answered from it; an individual whose parameters are invalid gets
        fitness 0 and its error in the log.
        """
        keys, pending = [], {}
        for row, index in zip(solutions, indices, strict=True):
            values = self.decode(row)
            key = _values_key(values)
            keys.append(key)
            if key not in self.cache and key not in pending:
                pending[key] = (row, index, values)
        tasks, meta = [], []
        for key, (row, index, values) in pending.items():
            record = self._new_record(generation, index, row, values)
            try:
                params = self.params_for(values)
            except ParameterError as err:
                self._log(key, dict(record, fitness=0.0, error=str(err), compiled=False, wall_time=0.0))
                continue
            record["params"] = params.to_dict()
            tasks.append(dict(params=record["params"], seeds=self.seeds, fitness=self.config.fitness,
                              backend=self.config.backend, block_frames=self.block_frames,
                              threads=self.config.threads, cache_dir=self.cache_dir))
            meta.append((key, record))
        for i, result in self._pool.imap(tasks):
            key, record = meta[i]
            self._log(key, dict(record, **result))
        return [float(self.cache[key]["fitness"]) for key in keys]

    def _new_record(self, generation, index, row, values) -> dict:
        return dict(evaluation=None, generation=int(generation), index=int(index),
                    genes={g.name: float(u) for g, u in zip(self.config.genes, row, strict=True)}, values=values,
                    seed=int(self.config.seed), seeds=self.seeds, fitness_kind=self.config.fitness, error=None)

    def _log(self, key: str, record: dict) -> None:
        record["evaluation"] = len(self.records)
        record.setdefault("params", None)
        _append_jsonl(self.log_path, record)
        self.records.append(record)
        self.cache[key] = record
        if self._bar is not None:
            self._bar.update(1)
        if self.on_evaluated is not None:
            self.on_evaluated(record)

    def _on_fitness(self, ga, fitness):
        """Start of a generation's operators: reseed pygad, then checkpoint the finished population."""
        generation = int(ga.generations_completed)
        self._reseed(ga, generation)
        self._finish_generation(ga, generation, fitness)

    def _on_stop(self, ga, fitness):
        generation = int(ga.generations_completed)
        self._reseed(ga, generation)
        self._finish_generation(ga, generation, fitness)

    def _reseed(self, ga, generation: int) -> None:
        seed = _generation_seed(self.config.seed, generation)
        ga.numpy_random_generator.seed(seed)
        ga.python_random_generator.seed(seed)

    def _finish_generation(self, ga, generation: int, fitness) -> None:
        """Record the population ``generation`` and checkpoint it (atomically)."""
        fitness = np.asarray(fitness, dtype=float)
        now = time.time()
        population = np.asarray(ga.population, dtype=float)
        if generation not in self.history["generation"]:  # not the checkpoint a resumed search starts from
            wall = now - self._gen_start
            self.elapsed += wall
            best_i = int(np.argmax(fitness))
            if self.best is None or fitness[best_i] > self.best["fitness"]:
                self._set_best(generation, population[best_i])
            mine = [r for r in self.records if r["generation"] == generation]
            for key, value in (("generation", generation), ("best", float(fitness.max())),
                               ("mean", float(fitness.mean())), ("best_so_far", float(self.best["fitness"])),
                               ("wall_time", wall), ("evaluations", len(mine)),
                               ("compiles", int(sum(bool(r.get("compiled")) for r in mine)))):
                self.history[key].append(value)
            if self.progress:
                from tqdm.auto import tqdm

                tqdm.write(f"generation {generation}: best {fitness.max():.4f}, mean {fitness.mean():.4f}, "
                                f"best so far {self.best['fitness']:.4f} ({len(mine)} evaluated, "
                                f"{self.history['compiles'][-1]} compiled, {wall:.1f} s)")
        self._gen_start = now
        checkpoint = dict(format=FORMAT, generation=generation, generations=self.config.generations,
                          population=population.tolist(), fitness=fitness.tolist(),
                          rng=_rng_state(ga.numpy_random_generator, ga.python_random_generator),
                          best=self.best, history=self.history, elapsed=self.elapsed,
                          n_evaluations=len(self.records), time=time.strftime("%Y-%m-%d %H:%M:%S"))
        write_json(self.run_dir / "checkpoint.json", checkpoint)
        self._write_summary()
        if self._bar is not None:
            self._bar.n = (generation - self._bar_start + 1) * self.config.population
            self._bar.set_postfix(best=f"{self.best['fitness']:.4f}", gen=generation)

    def _set_best(self, generation: int, genes) -> None:
        values = self.decode(genes)
        record = self.cache[_values_key(values)]
        self.best = dict(fitness=float(record["fitness"]), generation=int(generation), values=values,
                         genes={g.name: float(u) for g, u in zip(self.config.genes, genes, strict=True)},
                         accuracy=record.get("accuracy"), accuracy_single_mean=record.get("accuracy_single_mean"))
        self.write_best_params(self.run_dir / "best_params.json")

    def write_best_params(self, path) -> Path:
        """Write the best parameters found so far as a parameter file (``colanet run --params``).

        The file holds the base parameters with the evolved values (and the
        base's number of copies); a ``_evolve`` entry (ignored when loading)
        records where they came from.
        """
        if self.best is None:
            raise RuntimeError("no individual has been evaluated yet")
        params = self.params_for(self.best["values"], model=True)
        note = dict(run_dir=str(self.run_dir.resolve()), fitness=self.best["fitness"], fitness_kind=self.config.fitness,
                    generation=self.best["generation"], seed=self.config.seed, fitness_seeds=self.seeds,
                    fitness_copies=self.search_params.n_copies, genes=[g.describe() for g in self.config.genes],
                    data=dict((k, v) for k, v in self.data.summary().items() if k != "class_names"))
        text = json.dumps(dict(_comment="CoLaNET parameters found by `colanet evolve` (validation fitness, "
                               "test split unseen)", _evolve=note, **params.to_dict()), indent=2) + "\n"
        return atomic_write_text(path, text)

    # -- output ----------------------------------------------------------------
    def summary(self) -> dict:
        """Per-generation arrays and totals (the content of ``summary.json``)."""
        compiles = sum(bool(r.get("compiled")) for r in self.records)
        return dict(format=FORMAT, **{k: list(v) for k, v in self.history.items()},
                    population=self.config.population, generations=self.config.generations,
                    genes=[g.to_dict() for g in self.config.genes], fitness_kind=self.config.fitness,
                    fitness_copies=self.search_params.n_copies, fitness_seeds=self.seeds, seed=self.config.seed,
                    best_individual=self.best,
                    n_evaluations=len(self.records), n_compiles=compiles,
                    compile_seconds=float(sum(r.get("compile_seconds") or 0.0 for r in self.records)),
                    evaluation_seconds=float(sum(r.get("wall_time") or 0.0 for r in self.records)),
                    total_wall_time=self.elapsed, block_frames=self.block_frames, backend=self.config.backend,
                    data=dict((k, v) for k, v in self.data.summary().items() if k != "class_names"),
                    complete=bool(self.history["generation"]
                                  and self.history["generation"][-1] >= self.config.generations))

    def _write_summary(self) -> dict:
        summary = self.summary()
        write_json(self.run_dir / "summary.json", summary)
        return summary

    def _open_bar(self, start: int) -> None:
        from tqdm.auto import tqdm

        self._bar_start = start
        total = (self.config.generations - start + 1) * self.config.population
        # no bar (but the per-generation lines) when stderr is not a terminal, e.g. a log file
        self._bar = tqdm(total=total, desc="evolve", unit="ind", disable=None if self.progress else True, leave=False)


def format_summary(summary: dict) -> str:
    """Table of a search summary: generation, best, best so far, mean, evaluations, compiles, time."""
    lines = [f"{'generation':>10} {'best':>8} {'so far':>8} {'mean':>8} {'evaluated':>9} {'compiled':>8} "
             f"{'time [s]':>9}", "-" * 67]
    h = summary
    for i, g in enumerate(h["generation"]):
        lines.append(f"{g:>10d} {h['best'][i]:>8.4f} {h['best_so_far'][i]:>8.4f} {h['mean'][i]:>8.4f} "
                     f"{h['evaluations'][i]:>9d} {h['compiles'][i]:>8d} {h['wall_time'][i]:>9.1f}")
    lines.append("-" * 67)
    best = summary.get("best_individual") or {}
    lines.append(f"population {summary['population']}, {summary['generations']} generations, "
                 f"{summary['n_evaluations']} evaluations, {summary['n_compiles']} compiles "
                 f"({summary['compile_seconds']:.1f} s), wall time {summary['total_wall_time']:.1f} s")
    if best:
        values = ", ".join(f"{k}={v}" for k, v in best["values"].items())
        lines.append(f"best validation fitness {best['fitness']:.4f} ({summary['fitness_kind']}, generation "
                     f"{best['generation']}): {values}")
    return "\n".join(lines)
