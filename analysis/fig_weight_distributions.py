"""Distributions of weights, resources, stability and threshold excess after training.

Data: ``colanet run --dataset digits --copies 15 --out results/digits``

Usage::

    python analysis/fig_weight_distributions.py results/digits [-o figures/fig_weight_distributions.pdf]
"""

import sys

from colanet_brian.analysis.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("weight_distributions", __doc__))
