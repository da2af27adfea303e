"""Configuration of a search: population, operators, fitness, evaluation settings."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .genes import Gene

#: pygad parent selection operators offered (single objective).
SELECTIONS = ("tournament", "sss", "rws", "sus", "rank", "random")
#: pygad crossover operators offered ("none": no crossover).
CROSSOVERS = ("uniform", "single_point", "two_points", "scattered", "sbx", "none")
#: pygad mutation operators that act gene-wise inside ``[0, 1]`` ("none": no mutation).
MUTATIONS = ("polynomial", "random", "none")
#: ``ensemble``: accuracy of the pooled vote; ``single``: mean accuracy of the single copies.
FITNESS_KINDS = ("ensemble", "single")


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
        from ..engine.base import BACKENDS

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
