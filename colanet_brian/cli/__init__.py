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
SUBCOMMANDS = ("run", "train", "features", "evolve", "continual", "figures", "report", "bench", "params")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand."""
    from .. import __version__

    parser = argparse.ArgumentParser(prog="colanet", description="CoLaNET spiking classifier in Brian2 "
                                     "(hybrid ANN-SNN pipeline with local plasticity). Exit status: 0 done, "
                                     "1 user error, 2 usage error, 130/143 interrupted (SIGINT/SIGTERM).")
    parser.add_argument("--version", action="version", version=f"colanet-brian {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more messages on stderr (-vv: Brian2's INFO lines too)")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
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
    from ..logs import configure
    from ..runio import Interrupted, handle_signals, kill_descendants, sweep_stale_scratch

    configure(-1 if args.quiet else args.verbose)
    sweep_stale_scratch()  # scratch of colanet processes that were killed
    try:
        with handle_signals():
            return int(args.func(args) or 0)
    except BrokenPipeError:  # e.g. `colanet params | head`
        return 0
    except KeyboardInterrupt as err:  # Interrupted for SIGTERM/SIGHUP; partial outputs were removed on the way
        kill_descendants()
        code = err.exit_code if isinstance(err, Interrupted) else 130
        print(f"colanet {args.command}: interrupted ({err or 'SIGINT'}); exit status {code}", file=sys.stderr)
        return code
    except (ValueError, OSError, RuntimeError) as err:  # user errors: bad input, files, options
        print(f"colanet {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 1


def _one_line(err: BaseException) -> str:
    """The message of ``err`` (OSErrors name their file: ``[Errno 13] Permission denied: 'x'``)."""
    return str(err) or type(err).__name__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
