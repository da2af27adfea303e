"""``colanet run``: the main job (train and test an ensemble, print a table, save results)."""

from __future__ import annotations

import logging

from .common import (
    add_model_options,
    add_resume_options,
    check_backend,
    make_checkpoint,
    params_from_args,
    split_copies_from_args,
)

_LOG = logging.getLogger("colanet_brian.cli")


def register(sub):
    p = sub.add_parser("run", help="train and test a CoLaNET ensemble (default: 15 copies on sklearn digits)",
                       description="Train a CoLaNET ensemble online in one pass, test it, compare with logistic "
                                   "regression and kNN on the same split, and write results.json, model.npz and "
                                   "run_data.npz into --out.")
    p.add_argument("--dataset", default="digits",
                   help="digits, fashion-mnist, or a path to an .npz feature file (X, y, class_names[, split])")
    p.add_argument("--encoder", default=None,
                   help="image encoder for image data sets (e.g. efficientnet_lite0); default: raw pixels")
    e = p.add_argument_group("image encoder (with --encoder)")
    e.add_argument("--weights", default=None, metavar="PATH",
                   help="encoder weights file (state dict or safetensors) instead of the model hub")
    e.add_argument("--random-weights", action="store_true",
                   help="untrained encoder weights (tests only: the features mean nothing)")
    e.add_argument("--batch-size", type=int, default=32, help="images per encoder batch (default 32)")
    e.add_argument("--encoder-device", default="cpu", help="torch device of the encoder (cpu, cuda)")
    p.add_argument("--test-size", type=float, default=0.2, help="test fraction where the data has no fixed split")
    p.add_argument("--out", default="results", help="output directory (default: ./results); written whole at the "
                   "end (a temporary sibling renamed into place)")
    p.add_argument("--force", action="store_true", help="replace an existing non-empty --out when the run finishes")
    p.add_argument("--no-baselines", action="store_true", help="skip logistic regression and kNN")
    p.add_argument("--no-report", action="store_true", help="do not write report.html (figures take a few seconds)")
    p.add_argument("--build-only", action="store_true", help="compile the standalone network(s) and stop "
                   "(e.g. --backend cuda on a machine without a GPU); writes no --out")
    add_model_options(p)
    add_resume_options(p)
    p.set_defaults(func=main)


def load_data(args):
    """The data set of ``--dataset`` (and ``--encoder``, where the encoders are installed)."""
    from ..data.datasets import load_dataset

    encoder_options = _encoder_options(args)
    if args.encoder:
        try:
            from ..data.features import load_encoded
        except ImportError as err:
            raise RuntimeError(f"--encoder needs the feature extractors: {err}") from None
        return load_encoded(args.dataset, args.encoder, seed=args.seed, test_size=args.test_size,
                            progress=not args.no_progress, **encoder_options)
    if encoder_options["weights"] or encoder_options["random_weights"]:
        raise ValueError("--weights/--random-weights need --encoder NAME")
    return load_dataset(args.dataset, seed=args.seed, test_size=args.test_size)


def data_spec(args) -> dict:
    """How `load_data` rebuilds this command's data: kept in the model for `colanet evaluate MODEL`."""
    from pathlib import Path

    dataset = str(Path(args.dataset).resolve()) if Path(args.dataset).exists() else args.dataset
    spec = dict(dataset=dataset, encoder=args.encoder, seed=args.seed, test_size=args.test_size)
    spec.update({k: v for k, v in _encoder_options(args).items() if k in ("weights", "random_weights")})
    return spec


def _encoder_options(args) -> dict:
    """Encoder options of the command (``colanet evolve`` shares `load_data` and has none)."""
    return dict(weights=getattr(args, "weights", None), random_weights=getattr(args, "random_weights", False),
                batch_size=getattr(args, "batch_size", 32), device=getattr(args, "encoder_device", "cpu"))


def main(args):
    from ..runio import atomic_run_dir, check_output_dir
    from .common import keep_checkpoint_note, write_report_or_warn

    if not args.build_only:  # before any work: a refused --out must not cost a training pass
        check_output_dir(args.out, args.force)
    check_backend(args)
    params = params_from_args(args)
    checkpoint = None if args.build_only else make_checkpoint(args, args.out, params)
    _LOG.info("run: data set %s, %d copies x %d microcolumns, backend %s, seed %d%s", args.dataset, params.n_copies,
              params.n_microcolumns, args.backend, args.seed, "" if args.build_only else f", output {args.out}")
    from ..experiment import ExperimentConfig, build_networks, format_table, run_experiment  # Brian2: seconds

    data = load_data(args)
    config = ExperimentConfig(backend=args.backend, seed=args.seed, block_frames=args.block_frames,
                              threads=args.threads, workers=split_copies_from_args(args), cache_dir=args.cache_dir,
                              progress=not args.no_progress, baselines=not args.no_baselines,
                              data_spec=data_spec(args))
    if args.build_only:
        for build in build_networks(data, params, config):
            print(f"built {build}")
        return 0
    with keep_checkpoint_note(checkpoint), atomic_run_dir(args.out, args.force) as tmp:
        results = run_experiment(data, params, config, out_dir=tmp, checkpoint=checkpoint)
        if not args.no_report:
            write_report_or_warn(tmp)
    if checkpoint is not None:
        checkpoint.remove()  # the run directory is in place: nothing left to resume
    print(format_table(results))
    print(f"\nresults written to {args.out}/results.json (model: {args.out}/model.npz)")
    return 0
