"""Best and mean fitness per generation of the genetic search.

Data: ``colanet evolve --dataset digits --out results/evolve-digits``

Reads ``evaluations.jsonl`` and ``summary.json`` of the search directory.

Usage::

    python analysis/fig_ga_fitness.py results/evolve-digits [-o figures/fig_ga_fitness.pdf]
"""

import sys

from colanet_brian.analysis.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("ga_fitness", __doc__))
