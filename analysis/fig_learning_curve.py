"""Online (prequential) accuracy during the single training pass, ensemble and mean single copy.

Data: ``colanet run --dataset digits --copies 15 --out results/digits``

Usage::

    python analysis/fig_learning_curve.py results/digits [-o figures/fig_learning_curve.pdf]
"""

import sys

from colanet_brian.analysis.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("learning_curve", __doc__))
