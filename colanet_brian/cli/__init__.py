"""The ``colanet`` command: one entry point, one module per subcommand.

Each subcommand module defines ``register(subparsers)``, which adds its
parser and sets ``func`` to a handler taking the parsed arguments.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

#: Subcommand modules, in the order ``colanet --help`` lists them.
SUBCOMMANDS = ("run", "train", "features", "evolve", "figures", "bench", "params")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(prog="colanet", description="CoLaNET spiking classifier in Brian2 "
                                     "(hybrid ANN-SNN pipeline with local plasticity).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"colanet_brian.cli.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"colanet_brian.cli.{name}":
                continue  # subcommand not (yet) part of this installation
            raise
        module.register(sub)
    return parser


def main(argv=None) -> int:
    """Console entry point."""
    warnings.filterwarnings("ignore", message="_get_vc_env is private")
    parser = build_parser()
    # Brian2 replaces sys.excepthook with one that writes debug files to /tmp for every error
    sys.excepthook = sys.__excepthook__
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # e.g. `colanet params | head`
        return 0
    except (ValueError, FileNotFoundError, RuntimeError) as err:
        print(f"colanet {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
