"""Genetic search of CoLaNET hyperparameters: genes, configuration, search data, evaluation pools (in-process,
local processes, Dask), the run directory's files and the evolution loop."""
