"""``colanet evolve``: genetic search of CoLaNET hyperparameters (pygad; spec §10).

Examples::

    colanet evolve --dataset digits --population 10 --generations 6 --genes reward,d_h,s_stoch --out runs/ga
    colanet evolve --resume runs/ga                      # after a crash or kill: continue
    colanet evolve --resume runs/ga --generations 10     # extend a finished search
    colanet evolve --scheduler tcp://host:8786 ...       # evaluate on a Dask cluster
    colanet evolve --list-genes
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .common import add_model_options

#: Options that define a search; they cannot change when resuming.
_SEARCH_OPTIONS = ("dataset", "encoder", "test_size", "val_size", "max_train", "population", "parents", "selection",
                   "k_tournament", "crossover", "crossover_probability", "mutation", "mutation_probability",
                   "mutation_eta", "elitism", "genes", "ranges", "fitness", "fitness_seeds", "fitness_copies",
                   "params", "copies", "microcolumns", "backend", "seed", "block_frames", "threads")


def register(sub):
    from ..search.config import CROSSOVERS, FITNESS_KINDS, MUTATIONS, SELECTIONS

    p = sub.add_parser(
        "evolve", help="genetic search of the hyperparameters (pygad), crash-safe and resumable",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Search CoLaNET hyperparameters with a genetic algorithm (pygad). Fitness: validation accuracy "
                    "after one online training pass, on a stratified split of the training data (the test split is "
                    "never used). Every evaluation is appended to OUT/evaluations.jsonl and every generation is "
                    "checkpointed, so `--resume OUT` continues after a kill exactly where the search stopped.",
        epilog=__doc__.split("\n", 2)[2])
    g = p.add_argument_group("search")
    g.add_argument("--out", default=None, help="run directory (default results/evolve-<dataset>-seed<seed>)")
    g.add_argument("--resume", default=None, metavar="DIR", help="continue the search in DIR (with --generations: "
                   "extend it); other search options are taken from DIR/config.json")
    g.add_argument("--list-genes", action="store_true", help="list the genes and their spec §10 ranges, then exit")
    g.add_argument("--genes", default=None, help="comma-separated genes (default: every spec §10 gene except a1 and "
                   "gate_weight); 'all' for every gene with a range")
    g.add_argument("--range", dest="ranges", action="append", default=None, metavar="NAME=LOW:HIGH",
                   help="override a gene's range (repeatable)")
    g.add_argument("--population", type=int, default=None, help="individuals per generation (default 10)")
    g.add_argument("--generations", type=int, default=None, help="generations after the initial population (default 6)")
    g.add_argument("--parents", type=int, default=None, help="parents mating per generation (default population/2)")
    g.add_argument("--selection", choices=SELECTIONS, default=None, help="parent selection (default tournament)")
    g.add_argument("--k-tournament", type=int, default=None, help="tournament size (default 3)")
    g.add_argument("--crossover", choices=CROSSOVERS, default=None, help="crossover (default uniform)")
    g.add_argument("--crossover-probability", type=float, default=None, help="crossover probability (default 1)")
    g.add_argument("--mutation", choices=MUTATIONS, default=None,
                   help="mutation in the normalised gene space (default polynomial)")
    g.add_argument("--mutation-probability", type=float, default=None, help="per-gene mutation probability (0.2)")
    g.add_argument("--mutation-eta", type=float, default=None, help="polynomial mutation index (default 20)")
    g.add_argument("--elitism", type=int, default=None, help="best individuals kept unchanged (default 2)")
    g.add_argument("--fitness", choices=FITNESS_KINDS, default=None,
                   help="ensemble accuracy (default) or mean single-copy accuracy on the validation split")
    g.add_argument("--fitness-seeds", type=int, default=None,
                   help="average the fitness over this many network seeds (default 1)")
    g.add_argument("--fitness-copies", type=int, default=None,
                   help="copies simulated during the search (default: the model's); the best parameter file keeps "
                        "the model's number of copies")
    g.add_argument("--no-report", action="store_true", help="do not write report.html at the end")
    g.add_argument("--save-model", default=None, metavar="NAME", help="also write the best parameters to "
                   "models/NAME.json")
    g.add_argument("--force", action="store_true", help="overwrite models/NAME.json; start a search in a "
                   "non-empty --out that holds none")
    d = p.add_argument_group("data")
    d.add_argument("--dataset", default=None, help="digits (default), fashion-mnist or an .npz feature file")
    d.add_argument("--encoder", default=None, help="image encoder for image data sets (default: raw pixels)")
    d.add_argument("--test-size", type=float, default=None, help="test fraction where the data has no split (0.2); "
                   "the test part is never used by the search")
    d.add_argument("--val-size", type=float, default=None, help="validation fraction of the training part (0.2)")
    d.add_argument("--max-train", type=int, default=None, help="stratified subsample of the training part")
    e = p.add_argument_group("evaluation")
    e.add_argument("--workers", type=int, default=None, help="local worker processes (default: CPU count, at most "
                   "the population; 1 evaluates in this process)")
    e.add_argument("--scheduler", default=None, metavar="ADDRESS", help="evaluate on this Dask scheduler "
                   "(e.g. tcp://host:8786); without --cache-dir every worker builds into its own directory")
    add_model_options(p, split_copies=False)  # --workers spreads individuals instead
    p.set_defaults(func=main, backend=None, seed=None, threads=None)


# ---------------------------------------------------------------------------
def list_genes() -> str:
    """Table of every parameter that has a spec §10 range."""
    from ..model.params import CoLaNETParams, param_info
    from ..search.genes import NOT_BY_DEFAULT, available_genes

    docs = {row["name"]: row for row in param_info()}
    base = CoLaNETParams()
    lines = [f"{'gene':<22} {'range':<16} {'kind':<12} {'default':>9}  meaning", "-" * 90]
    for name, gene in available_genes().items():
        kind = ("integer" if gene.integer else "float") + (", log" if gene.log else "")
        note = f"  [not searched by default: {NOT_BY_DEFAULT[name]}]" if name in NOT_BY_DEFAULT else ""
        lines.append(f"{name:<22} {f'{gene.low:g}..{gene.high:g}':<16} {kind:<12} "
                     f"{str(getattr(base, name)):>9}  {docs[name]['doc']} (spec §{docs[name]['section']}){note}")
    return "\n".join(lines)


def _search_config(args, base):
    from ..search.config import SearchConfig
    from ..search.genes import gene_table, parse_range

    if args.genes in (None, ""):
        names = None
    elif args.genes.strip() == "all":
        from ..search.genes import available_genes

        names = list(available_genes())
    else:
        names = [n.strip() for n in args.genes.split(",") if n.strip()]
    ranges = [parse_range(text) for text in args.ranges or ()]
    genes = gene_table(names, ranges, base)
    given = {k: getattr(args, k) for k in ("population", "generations", "parents", "selection", "k_tournament",
                                           "crossover", "crossover_probability", "mutation", "mutation_probability",
                                           "mutation_eta", "elitism", "fitness", "fitness_seeds", "fitness_copies",
                                           "block_frames")}
    config = SearchConfig(genes=genes, seed=args.seed or 0, backend=args.backend or "cpp", threads=args.threads or 0,
                          **{k: v for k, v in given.items() if v is not None})
    return config.validate()


def _data_spec(args) -> dict:
    dataset = args.dataset or "digits"
    if Path(dataset).exists():  # a feature file: resume from any working directory
        dataset = str(Path(dataset).resolve())
    return dict(dataset=dataset, encoder=args.encoder, test_size=args.test_size or 0.2,
                val_size=args.val_size or 0.2, max_train=args.max_train, seed=args.seed or 0)


def _load_search_data(spec: dict, progress: bool):
    from ..search.data import search_split
    from .run import load_data

    ns = argparse.Namespace(dataset=spec["dataset"], encoder=spec["encoder"], seed=spec["seed"],
                            test_size=spec["test_size"], no_progress=not progress)
    return search_split(load_data(ns), val_size=spec["val_size"], seed=spec["seed"], max_train=spec["max_train"])


def _workers(args, population: int) -> int:
    if args.workers is not None:
        if args.workers < 1:
            raise ValueError(f"--workers must be >= 1, got {args.workers}")
        return args.workers
    return max(1, min(os.cpu_count() or 1, population))


def _start(args, progress: bool):
    from ..runio import check_output_dir
    from ..search.evolve import Evolution
    from .common import params_from_args

    base = params_from_args(args)
    config = _search_config(args, base)  # invalid genes or settings fail here, before anything runs
    spec = _data_spec(args)
    out = Path(args.out or f"results/evolve-{Path(str(spec['dataset'])).stem}-seed{config.seed}")
    if (out / "config.json").exists():
        raise ValueError(f"{out} already holds a search: resume it with `colanet evolve --resume {out}` or choose "
                         "another --out")
    check_output_dir(out, args.force, "--out")  # before the data are loaded or encoded
    data = _load_search_data(spec, progress)
    return Evolution.create(out, config, data, base, workers=_workers(args, config.population),
                            scheduler=args.scheduler, cache_dir=args.cache_dir, progress=progress, data_spec=spec)


def _resume(args, progress: bool):
    from ..search.evolve import Evolution

    given = [k for k in _SEARCH_OPTIONS if getattr(args, k, None) not in (None, [], False)]
    if args.set:
        given.append("set")
    if given:
        raise ValueError(f"--resume takes the search from {args.resume}/config.json; do not give "
                         f"{', '.join('--' + k.replace('_', '-') for k in given)}")
    record = Evolution.read_config(args.resume)
    Evolution.read_checkpoint(args.resume)  # a damaged checkpoint fails here, before the data are loaded
    spec = record.get("data_spec") or {}
    if not spec:
        raise ValueError(f"{args.resume} was started from Python (no data spec): resume it with Evolution.resume()")
    data = _load_search_data(spec, progress)
    population = record["config"]["population"]
    return Evolution.resume(args.resume, data, generations=args.generations, workers=_workers(args, population),
                            scheduler=args.scheduler, cache_dir=args.cache_dir, progress=progress)


def _check_model_name(name: str, force: bool) -> Path:
    from .. import MODELS_DIR

    if not name or Path(name).name != name or name.endswith(".json"):
        raise ValueError(f"--save-model takes a plain name (written to models/NAME.json), got {name!r}")
    path = Path(MODELS_DIR) / f"{name}.json"
    if path.exists() and not force:
        raise ValueError(f"{path} exists; choose another --save-model name or add --force")
    return path


def main(args):
    from ..search.evolve import format_summary

    if args.list_genes:
        print(list_genes())
        return 0
    progress = not args.no_progress
    model_path = _check_model_name(args.save_model, args.force) if args.save_model else None
    try:
        search = _resume(args, progress) if args.resume else _start(args, progress)
    except FileExistsError as err:
        raise ValueError(str(err)) from None
    print(f"colanet evolve: {search.run_dir} ({len(search.config.genes)} genes: "
          f"{', '.join(g.name for g in search.config.genes)}; population {search.config.population}, "
          f"{search.config.generations} generations, fitness {search.config.fitness} of "
          f"{search.search_params.n_copies} copies, block {search.block_frames})", flush=True)
    summary = search.run()
    if not args.no_report:
        from .common import write_report_or_warn

        write_report_or_warn(search.run_dir)
    print(format_summary(summary))
    best = search.run_dir / "best_params.json"
    print(f"\nbest parameters: {best}\nsummary: {search.run_dir / 'summary.json'}; log: {search.log_path}")
    if model_path is not None:
        print(f"saved as {search.write_best_params(model_path)}")
    print(f"test them with: colanet run --params {best} --backend cpp")
    return 0
