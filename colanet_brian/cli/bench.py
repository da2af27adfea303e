"""``colanet bench``: parse, run the benchmark harness (`colanet_brian.bench`), print its table."""

from __future__ import annotations

import sys


def register(sub):
    """Add the ``bench`` subcommand."""
    p = sub.add_parser("bench", help="benchmark backends and network sizes (samples/s, compile time, ns/event)",
                       description="Time training and test passes of the naive Brian2 design, runtime blocks, "
                                   "cpp_standalone (1 and 2 threads) and CUDA (with a GPU) on one network, then "
                                   "scaling rows; print a table and write JSON.")
    p.add_argument("--quick", action="store_true", help="small plan, about a minute with a warm build cache")
    p.add_argument("--copies", type=int, default=None, help="copies of the backend-comparison network "
                   "(default 15; --quick: 3)")
    p.add_argument("--only", nargs="+", default=None, metavar="GROUP",
                   help="run only groups starting with these words: backends, scaling, Fashion")
    p.add_argument("--fashion-threads", type=int, nargs="+", default=[0], metavar="N",
                   help="OpenMP threads of the Fashion-MNIST estimate rows (default: 0 = no OpenMP; e.g. 0 2)")
    p.add_argument("--cache-dir", default=None, help="standalone build cache (default ~/.cache/colanet-brian)")
    p.add_argument("--out", default="bench.json", help="JSON result file (default ./bench.json)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    p.set_defaults(func=main)


def main(args) -> int:
    """Handler of ``colanet bench``."""
    from ..bench import format_table, run_benchmark
    from ..runio import check_output_file

    check_output_file(args.out, args.force, "--out")  # before the benchmark, not after it
    result = run_benchmark(quick=args.quick, copies=args.copies, cache_dir=args.cache_dir, out=args.out,
                           log=lambda msg: print(msg, file=sys.stderr, flush=True), only=args.only,
                           fashion_threads=args.fashion_threads)
    print(format_table(result))
    print(f"\nresults written to {args.out}")
    return 0
