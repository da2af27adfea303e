"""``colanet train`` and ``colanet evaluate``: features in, trained model / accuracies out."""

from __future__ import annotations

from pathlib import Path

from ..runio import check_output_file
from .common import add_model_options, check_backend, params_from_args, split_copies_from_args


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
    p.set_defaults(func=train)

    e = sub.add_parser("evaluate", help="test a trained model on an .npz feature file",
                       description="Run a test pass (plasticity and teacher off) of MODEL over the test part of "
                                   "FEATURES and print ensemble and per-copy accuracies.")
    e.add_argument("model", help="model.npz written by `colanet train` or `colanet run`")
    e.add_argument("features", help=".npz feature file")
    e.add_argument("--test-size", type=float, default=0.2, help="test fraction if the file has no split")
    e.add_argument("--all", action="store_true", help="evaluate every row (ignore the split)")
    e.add_argument("--seed", type=int, default=0, help="seed of the split (must match training)")
    e.add_argument("--backend", default="cpp", help="Brian2 backend (default cpp)")
    e.add_argument("--split-copies", type=int, default=0, metavar="N",
                   help="copies run as N binaries side by side (0 = one per CPU core for cpp)")
    e.add_argument("--json", default=None, help="also write the accuracies to this JSON file")
    e.add_argument("--force", action="store_true", help="overwrite an existing --json file")
    e.add_argument("--no-progress", action="store_true")
    e.set_defaults(func=evaluate)


def _load(args):
    import numpy as np

    from ..datasets import load_npz_features

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
    data = _load(args)
    order = np.random.default_rng(args.seed).permutation(len(data.y_train))
    clf = CoLaNETClassifier(params, backend=args.backend, seed=args.seed, block_frames=args.block_frames,
                            threads=args.threads, workers=split_copies_from_args(args), cache_dir=args.cache_dir,
                            progress=not args.no_progress)
    clf.fit(data.X_train[order], data.y_train[order], data.class_names)
    path = clf.save(args.output)
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
    data = _load(args)
    if list(data.class_names) != list(clf.class_names):
        raise ValueError(f"the feature file's classes {data.class_names} differ from the model's {clf.class_names}")
    ev = clf.evaluate(data.X_test, data.y_test)
    s = ev.summary()
    print(f"ensemble accuracy {s['accuracy']:.4f}; single copy mean {s['accuracy_single_mean']:.4f} "
          f"(min {s['accuracy_single_min']:.4f}, max {s['accuracy_single_max']:.4f}); {s['n_samples']} samples")
    if args.json:
        write_json(args.json, dict(s, model=str(args.model), features=str(args.features), **provenance()))
    return 0
