"""``colanet continual``: a task sequence through one network, forgetting metrics, online baselines."""

from __future__ import annotations

from pathlib import Path

from .common import add_model_options, check_backend, params_from_args, split_copies_from_args


def register(sub):
    p = sub.add_parser("continual", help="continual learning: a task sequence through one network, single pass "
                                         "per task, tested on every task after each task",
                       description="Train one CoLaNET network on a sequence of tasks (permuted inputs, "
                                   "class-incremental splits or several data sets), one online pass per task, test "
                                   "on every task after each task, and write the accuracy matrix with average "
                                   "accuracy, forgetting, backward and forward transfer for CoLaNET and for online "
                                   "SGD / MLP baselines (scikit-learn partial_fit) into OUT/results.json, with "
                                   "figures in OUT/figures.")
    p.add_argument("--protocol", choices=("permuted", "split", "domain"), default="permuted",
                   help="permuted: one fixed pixel permutation per task; split: classes arrive in groups "
                        "(class-incremental); domain: one task per --dataset (.npz files with the same classes)")
    p.add_argument("--dataset", action="append", default=None, metavar="NAME",
                   help="digits, fashion-mnist or an .npz feature file (default digits); repeat it for "
                        "--protocol domain, one per task")
    p.add_argument("--tasks", type=int, default=5,
                   help="number of tasks (permuted: permutations; split: class groups); default 5")
    p.add_argument("--max-train", type=int, default=None, metavar="N",
                   help="stratified subset of at most N training samples (per task) of every data set")
    p.add_argument("--max-test", type=int, default=None, metavar="N", help="the same for the test samples")
    p.add_argument("--test-size", type=float, default=0.2, help="test fraction where the data has no fixed split")
    p.add_argument("--baselines", default="sgd,mlp",
                   help="comma-separated online baselines among sgd, mlp ('' for none); default sgd,mlp")
    p.add_argument("--batch-size", type=int, default=32, help="minibatch of the online baselines (default 32)")
    p.add_argument("--no-joint", action="store_true", help="skip the joint (all tasks at once) upper bounds")
    p.add_argument("--no-dormant", action="store_true",
                   help="split protocol: let the columns of classes not yet taught spike (and learn) freely")
    p.add_argument("--no-figures", action="store_true", help="do not draw the figures")
    p.add_argument("--out", default="results-continual", help="output directory (default ./results-continual); "
                   "written whole at the end (a temporary sibling renamed into place)")
    p.add_argument("--force", action="store_true", help="replace an existing non-empty --out when the run finishes")
    add_model_options(p)
    p.set_defaults(func=main)


def main(args):
    from ..continual import BASELINES, ContinualConfig, format_summary, limit_dataset, make_tasks, run_continual
    from ..data.datasets import load_dataset
    from ..runio import atomic_run_dir, check_output_dir

    check_output_dir(args.out, args.force)  # before any work: a refused --out must not cost a run
    check_backend(args)
    names = args.dataset or ["digits"]
    if args.protocol == "domain" and len(names) < 2:
        raise ValueError("--protocol domain needs two or more --dataset (e.g. --dataset a.npz --dataset b.npz)")
    if args.protocol != "domain" and len(names) > 1:
        raise ValueError(f"--protocol {args.protocol} takes one --dataset, got {len(names)}")
    baselines = tuple(b for b in args.baselines.split(",") if b)
    unknown = set(baselines) - set(BASELINES)
    if unknown:
        raise ValueError(f"unknown baseline(s) {sorted(unknown)}; choose from {', '.join(BASELINES)}")
    params = params_from_args(args)
    datasets = [limit_dataset(load_dataset(n, seed=args.seed, test_size=args.test_size), args.max_train,
                              args.max_test, args.seed) for n in names]
    tasks = make_tasks(args.protocol, datasets, args.tasks, args.seed)
    config = ContinualConfig(backend=args.backend, seed=args.seed, block_frames=args.block_frames,
                             threads=args.threads, workers=split_copies_from_args(args), cache_dir=args.cache_dir,
                             progress=not args.no_progress, dormant=not args.no_dormant, baselines=baselines,
                             joint=not args.no_joint, batch_size=args.batch_size, figures=not args.no_figures)
    with atomic_run_dir(args.out, args.force) as tmp:
        results = run_continual(tasks, datasets[0].class_names, params, config, out_dir=tmp,
                                protocol=args.protocol, datasets=[d.summary() for d in datasets])
    print(format_summary(results))
    print(f"\nresults written to {args.out}/results.json")
    for path in results.get("figures", []):  # written in the temporary directory, now in --out
        print(Path(args.out) / "figures" / Path(path).name)
    return 0
