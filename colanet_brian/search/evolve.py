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

import json
import logging
import time
from pathlib import Path

import numpy as np

from ..model.params import CoLaNETParams, ParameterError
from ..provenance import atomic_write_text, provenance, write_json
from .checkpoint import (
    _append_jsonl,
    _exclusive,
    _generation_seed,
    _read_json_record,
    _read_jsonl,
    _rng_state,
    _set_rng_state,
    _values_key,
)
from .config import SearchConfig
from .data import SearchData, search_block_frames
from .pools import _make_pool

__all__ = ["Evolution", "format_summary", "FORMAT"]

FORMAT = "colanet-brian evolve 1"

_LOG = logging.getLogger(__name__)
_PYGAD_LOG = logging.getLogger(__name__ + ".pygad")
_PYGAD_LOG.addHandler(logging.NullHandler())
_PYGAD_LOG.propagate = False


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
        Standalone build cache (default `engine.cache.default_cache_dir`; on Dask
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
