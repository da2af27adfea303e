"""Share of each class column's L spikes per microcolumn in the test pass.

Data: ``colanet run --dataset digits --copies 15 --out results/digits``

Usage::

    python analysis/fig_microcolumn_usage.py results/digits [-o figures/fig_microcolumn_usage.pdf]
"""

import sys

from colanet_brian.analysis.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("microcolumn_usage_test", __doc__))
