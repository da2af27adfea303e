"""``colanet report``: one self-contained report.html of a run directory."""

from __future__ import annotations


def register(sub):
    p = sub.add_parser("report", help="write a self-contained report.html of a run or GA directory",
                       description="Write RUN_DIR/report.html: results with baselines, training and timing, "
                                   "parameters, provenance and every figure the run supports, embedded as PNG "
                                   "(one file, no links). `colanet run` and `colanet evolve` write it at the end.")
    p.add_argument("run_dir", help="output directory of `colanet run` or `colanet evolve`")
    p.add_argument("-o", "--out", default=None, help="report file (default RUN_DIR/report.html)")
    p.set_defaults(func=main)


def main(args):
    from ..report import write_report

    print(f"report written to {write_report(args.run_dir, args.out)}")
    return 0
