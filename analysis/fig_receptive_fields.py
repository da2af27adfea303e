"""Learned R->L weights of copy 0 as 8x8 images, one per microcolumn and class.

Data: ``colanet run --dataset digits --copies 15 --out results/digits``

Pixel inputs only; use ``--image-shape 28x28`` for Fashion-MNIST runs.

Usage::

    python analysis/fig_receptive_fields.py results/digits [-o figures/fig_receptive_fields.pdf]
"""

import sys

from colanet_brian.analysis.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("receptive_fields", __doc__))
