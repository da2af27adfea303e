"""The package version (a module of its own, so that the engine's build cache can key on it)."""

__version__ = "0.1.0"
