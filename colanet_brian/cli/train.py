"""``colanet train`` and ``colanet evaluate``: features in, trained model / accuracies out."""

from __future__ import annotations

from pathlib import Path

from ..runio import check_output_file
from .common import (
    add_model_options,
    add_resume_options,
    check_backend,
    keep_checkpoint_note,
    make_checkpoint,
    params_from_args,
    split_copies_from_args,
)


def register(sub):
    p = sub.add_parser("train", help="one online training pass on an .npz feature file; writes model.npz",
                       description="Train on the training part of FEATURES (X, y, class_names[, split]); the test "
                                   "part is left for `colanet evaluate`.")
    p.add_argument("features", help=".npz with X [N, D], y [N], optional class_names and split")
    p.add_argument("-o", "--output", default="model.npz", help="trained model file (default model.npz)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --output file")
    p.add_argument("--test-size", type=float, default=0.2, help="test fraction if the file has no split")
    p.add_argument("--all", action="store_true", help="train on every row (ignore the split)")
    add_model_options(p)
    add_resume_options(p)
    p.set_defaults(func=train)

    e = sub.add_parser("evaluate", help="test a trained model on an .npz feature file",
                       description="Run a test pass (plasticity and teacher off) of MODEL over the test part of "
                                   "FEATURES and print ensemble and per-copy accuracies.")
    e.add_argument("model", help="model.npz written by `colanet train` or `colanet run`")
    e.add_argument("features", nargs="?", default=None, help=".npz feature file (default: the data set the model "
                   "was trained on, recorded in the model, with its split: reproduces results.json)")
    e.add_argument("--test-size", type=float, default=None, help="test fraction if the data have no fixed split "
                   "(default: the model's, else 0.2)")
    e.add_argument("--all", action="store_true", help="evaluate every row (ignore the split)")
    e.add_argument("--seed", type=int, default=None, help="seed of the split (default: the model's; another seed "
                   "scores training rows, which is warned about)")
    e.add_argument("--backend", default="cpp", help="Brian2 backend (default cpp)")
    e.add_argument("--split-copies", type=int, default=0, metavar="N",
                   help="copies run as N binaries side by side (0 = one per CPU core for cpp)")
    e.add_argument("--json", default=None, help="also write the accuracies to this JSON file")
    e.add_argument("--force", action="store_true", help="overwrite an existing --json file")
    e.add_argument("--no-progress", action="store_true")
    e.set_defaults(func=evaluate)


def _load(args):
    import numpy as np

    from ..data.dataset import load_npz_features

    data = load_npz_features(args.features, seed=args.seed, test_size=args.test_size)
    if args.all:
        data.X_train = data.X_test = np.concatenate([data.X_train, data.X_test])
        data.y_train = data.y_test = np.concatenate([data.y_train, data.y_test])
    return data


def train(args):
    import numpy as np

    from ..classifier import CoLaNETClassifier

    check_output_file(args.output, args.force, "-o", suffix=".npz")  # before the training pass, not after it
    check_backend(args)
    params = params_from_args(args)
    checkpoint = make_checkpoint(args, args.output, params)
    data = _load(args)
    order = np.random.default_rng(args.seed).permutation(len(data.y_train))
    clf = CoLaNETClassifier(params, backend=args.backend, seed=args.seed, block_frames=args.block_frames,
                            threads=args.threads, workers=split_copies_from_args(args), cache_dir=args.cache_dir,
                            progress=not args.no_progress)
    with keep_checkpoint_note(checkpoint):
        clf.fit(data.X_train[order], data.y_train[order], data.class_names, checkpoint=checkpoint)
    clf.training_data.source = dict(dataset=str(Path(args.features).resolve()), encoder=None, seed=args.seed,
                                    test_size=args.test_size, all=args.all)
    path = clf.save(args.output)
    if checkpoint is not None:
        checkpoint.remove()
    print(f"trained on {len(order)} samples ({clf.simulator.shape.n_copies} copies); online accuracy "
          f"{clf.training.accuracy:.4f}; model written to {path}")
    return 0


def evaluate(args):
    from ..classifier import CoLaNETClassifier
    from ..provenance import provenance, write_json

    if not Path(args.model).is_file():
        raise FileNotFoundError(f"model file not found: {args.model}")
    if args.json:
        check_output_file(args.json, args.force, "--json")
    check_backend(args)
    clf = CoLaNETClassifier.load(args.model, backend=args.backend, workers=split_copies_from_args(args),
                                 progress=not args.no_progress)
    data = _evaluation_data(args, clf)
    if list(data.class_names) != list(clf.class_names):
        raise ValueError(f"the data's classes {data.class_names} differ from the model's {clf.class_names}")
    ev = clf.evaluate(data.X_test, data.y_test)
    s = ev.summary()
    print(f"ensemble accuracy {s['accuracy']:.4f}; single copy mean {s['accuracy_single_mean']:.4f} "
          f"(min {s['accuracy_single_min']:.4f}, max {s['accuracy_single_max']:.4f}); {s['n_samples']} samples")
    if args.json:
        write_json(args.json, dict(s, model=str(args.model), features=str(args.features or data.name),
                                   **provenance()))
    return 0


def _evaluation_data(args, clf):
    """FEATURES with the model's split seed (unless given), or the data the model remembers."""
    import argparse

    from .run import load_data

    source = clf.training_data.source if clf.training_data is not None else {}
    args.seed = source.get("seed", 0) if args.seed is None else args.seed
    args.test_size = source.get("test_size", 0.2) if args.test_size is None else args.test_size
    if args.features:
        return _load(args)
    if not source.get("dataset"):
        raise ValueError(f"{args.model} does not record its data set (saved by an older version or from Python): "
                         "give the FEATURES file")
    ns = argparse.Namespace(dataset=source["dataset"], encoder=source.get("encoder"), seed=args.seed,
                            test_size=args.test_size, no_progress=args.no_progress,
                            weights=source.get("weights"), random_weights=source.get("random_weights", False))
    data = load_data(ns)
    if args.all:
        import numpy as np

        data.X_test = np.concatenate([data.X_train, data.X_test])
        data.y_test = np.concatenate([data.y_train, data.y_test])
    return data
