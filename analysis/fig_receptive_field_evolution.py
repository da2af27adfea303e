"""Receptive fields of the most used microcolumn of each class (copy 0) at every weight snapshot.

Data: ``colanet run --dataset digits --copies 15 --out results/digits``

Needs the weight snapshots (``snapshot_*`` arrays of run_data.npz, ``ExperimentConfig.snapshots``).

Usage::

    python analysis/fig_receptive_field_evolution.py results/digits [-o figures/fig_rf_evolution.pdf]
"""

import sys

from colanet_brian.analysis.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("receptive_field_evolution", __doc__))
