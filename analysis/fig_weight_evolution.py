"""Percentiles of weights, resources and stability over the training pass.

Data: ``colanet run --dataset digits --copies 15 --out results/digits``

Needs the weight snapshots (``snapshot_*`` arrays of run_data.npz, ``ExperimentConfig.snapshots``).

Usage::

    python analysis/fig_weight_evolution.py results/digits [-o figures/fig_weight_evolution.pdf]
"""

import sys

from colanet_brian.analysis.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("weight_evolution", __doc__))
