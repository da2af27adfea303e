"""How a network runs: Brian2 runtime mode, compiled standalone binaries (one, or split over several),
their build cache and the CUDA configuration.  Imports the model only."""
