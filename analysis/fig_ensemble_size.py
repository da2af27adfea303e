"""Test accuracy against the number of pooled copies (1..15), mean and s.d. over random subsets.

Data: ``colanet run --dataset digits --copies 15 --out results/digits``

Usage::

    python analysis/fig_ensemble_size.py results/digits [-o figures/fig_ensemble_size.pdf]
"""

import sys

from colanet_brian.analysis.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("ensemble_size", __doc__))
