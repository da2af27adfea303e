"""Test confusion matrix of the 15-copy ensemble.

Data: ``colanet run --dataset digits --copies 15 --out results/digits``

Usage::

    python analysis/fig_confusion.py results/digits [-o figures/fig_confusion.pdf]
"""

import sys

from colanet_brian.analysis.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("confusion_test", __doc__))
