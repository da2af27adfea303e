#!/usr/bin/env python
"""CoLaNET benchmark harness: the same code and options as ``colanet bench``.

Usage::

    python benchmarks/run.py --quick          # ~10 s with a warm build cache, ~2 min cold
    python benchmarks/run.py                  # full table (~15-20 min on 2 quiet cores, 8 C++ builds when cold)
    python benchmarks/run.py --only backends  # one group

Prints the table and writes ``benchmarks/results/bench[-quick].json`` (or ``--out``).
See ``benchmarks/README.md`` for what every row means.
"""

import sys
from pathlib import Path

from colanet_brian.cli import main

if __name__ == "__main__":
    argv = sys.argv[1:]
    if "--out" not in argv:
        results = Path(__file__).resolve().parent / "results"
        results.mkdir(exist_ok=True)
        argv += ["--out", str(results / ("bench-quick.json" if "--quick" in argv else "bench.json"))]
    sys.exit(main(["bench", *argv]))
