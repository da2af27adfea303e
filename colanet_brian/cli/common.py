"""Options shared by several subcommands."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging

#: `engine.base.BACKENDS`, spelled out: importing Brian2 to build the parser would cost seconds before the first message
BACKENDS = ("runtime", "cython", "numpy", "cpp", "cuda")


def add_model_options(parser: argparse.ArgumentParser, split_copies: bool = True) -> None:
    """Parameter file, copies, microcolumns, backend, seed, threads, block size (and ``--split-copies``)."""
    g = parser.add_argument_group("model and simulation")
    g.add_argument("--params", default=None, help="parameter JSON file or a named set in models/ (default: built-in)")
    g.add_argument("--copies", type=int, default=None, help="CoLaNET copies in the ensemble (default from params: 15)")
    g.add_argument("--microcolumns", type=int, default=None, help="microcolumns per class (default from params)")
    g.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override one parameter, e.g. --set reward=0.3 (repeatable)")
    g.add_argument("--backend", choices=BACKENDS, default="cpp",
                   help="Brian2 backend: cpp (cpp_standalone, compiled once per network shape and cached; "
                        "default), runtime (Cython, else numpy), cython, numpy, cuda (brian2cuda)")
    g.add_argument("--seed", type=int, default=0, help="seed of the split, training order and every random stream")
    g.add_argument("--threads", type=int, default=0, help="OpenMP threads for --backend cpp (0: none)")
    g.add_argument("--block-frames", type=int, default=None, help="samples per simulation run (default 1000)")
    g.add_argument("--cache-dir", default=None, help="standalone build cache (default ~/.cache/colanet-brian)")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")
    if split_copies:
        g.add_argument("--split-copies", type=int, default=0, metavar="N",
                       help="run the ensemble's copies as N binaries side by side (cpp/cuda; same spikes as one "
                            "binary); 0 = one per CPU core for cpp (default), 1 = a single binary")


def add_resume_options(parser: argparse.ArgumentParser) -> None:
    """``--checkpoint-every`` and ``--resume`` of the commands that train (run, train)."""
    g = parser.add_argument_group("checkpoints")
    g.add_argument("--checkpoint-every", type=int, default=1, metavar="N",
                   help="save the learned state every N blocks to OUTPUT.checkpoint.npz beside the output "
                        "(atomic; removed when the command has finished; 0: never). Default 1")
    g.add_argument("--resume", action="store_true",
                   help="continue an interrupted command from its checkpoint (same options): the result equals "
                        "an uninterrupted run")


def make_checkpoint(args, output, params):
    """The `Checkpoint` of a training command, after refusing to overwrite one silently; ``None`` if disabled."""
    from ..checkpoint import Checkpoint, checkpoint_path
    from ..runio import OutputError

    if args.checkpoint_every < 0:
        raise ValueError(f"--checkpoint-every must be >= 0, got {args.checkpoint_every}")
    path = checkpoint_path(output)
    if path.exists() and not args.resume and not args.force:
        raise OutputError(f"{path} holds an interrupted run: add --resume to continue it (same options), or --force "
                          "to start again")
    if args.checkpoint_every == 0:
        return None
    key = dict(params=params.to_dict(), seed=args.seed, threads=args.threads)
    return Checkpoint(path, args.checkpoint_every, key=key, resume=args.resume)


@contextlib.contextmanager
def keep_checkpoint_note(checkpoint):
    """On an interrupt or error, say where the checkpoint is and how to continue."""
    try:
        yield
    except BaseException:
        if checkpoint is not None and checkpoint.path.is_file():
            logging.getLogger("colanet_brian.cli").warning(
                "checkpoint kept in %s: run the same command with --resume to continue", checkpoint.path)
        raise


def write_report_or_warn(run_dir) -> None:
    """``report.html`` at the end of a command; a failure costs the report, never the run."""
    from ..report import write_report

    try:
        write_report(run_dir)
    except (OSError, ValueError, RuntimeError, KeyError) as err:
        logging.getLogger("colanet_brian.cli").warning("no report.html: %s", err)


def check_backend(args) -> None:
    """``--backend cuda`` needs a GPU here, unless the command only builds (``--build-only``)."""
    if args.backend != "cuda" or getattr(args, "build_only", False):
        return
    from ..engine.cuda import gpu_available

    if not gpu_available():  # else minutes of nvcc, then a binary that cannot start
        raise RuntimeError("--backend cuda: no NVIDIA GPU visible here (nvidia-smi); use --backend cpp, or add "
                           "--build-only to compile the CUDA project without running it")


def split_copies_from_args(args) -> int:
    """Binaries the copies are split over: ``--split-copies``, or one per CPU core for ``cpp``."""
    import os

    n = getattr(args, "split_copies", 1)
    if n < 0:
        raise ValueError(f"--split-copies must be >= 0, got {n}")
    if n == 0:
        return max(1, os.cpu_count() or 1) if args.backend == "cpp" else 1
    return n


def params_from_args(args):
    """`CoLaNETParams` from ``--params``, ``--copies``, ``--microcolumns`` and ``--set``."""
    from ..model.params import CoLaNETParams, ParameterError

    params = _load_params(args.params)
    changes = {}
    if args.copies is not None:
        changes["n_copies"] = args.copies
    if args.microcolumns is not None:
        changes["n_microcolumns"] = args.microcolumns
    for item in args.set:
        if "=" not in item:
            raise ParameterError(f"--set expects NAME=VALUE, got {item!r}")
        name, value = item.split("=", 1)
        try:
            changes[name] = json.loads(value)
        except json.JSONDecodeError:
            changes[name] = value
    _check_types(changes, "--set")
    data = params.to_dict()
    data.update(changes)
    return CoLaNETParams.from_dict(data)


def _load_params(spec):
    """`load_params`, with a one-line error for a file that holds no parameter object."""
    from pathlib import Path

    from ..model.params import ParameterError, load_params

    try:
        data = json.loads(Path(spec).read_text()) if spec and Path(spec).is_file() else None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ParameterError(f"--params {spec}: not a JSON parameter file ({err})") from None
    if data is not None:
        if not isinstance(data, dict):
            raise ParameterError(f"--params {spec}: expected a JSON object of NAME: VALUE, got a "
                                 f"{type(data).__name__}")
        _check_types(data.get("params", data) if isinstance(data.get("params"), dict) else data, f"--params {spec}")
    return load_params(spec)


def _check_types(values: dict, source: str) -> None:
    """Numbers and flags must be numbers and flags (the parameter object compares them; text would crash it)."""
    from ..model.params import CoLaNETParams, ParameterError

    defaults = CoLaNETParams().to_dict()
    for name, value in values.items():
        if name not in defaults or defaults[name] is None or value is None:
            continue  # unknown names are reported by CoLaNETParams.from_dict; optional ones take None
        default = defaults[name]
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ParameterError(f"{source}: {name} must be true or false, got {value!r}")
        if (isinstance(default, (int, float)) and not isinstance(default, bool)
                and (not isinstance(value, (int, float)) or isinstance(value, bool))):
            raise ParameterError(f"{source}: {name} must be a number, got {value!r}")
