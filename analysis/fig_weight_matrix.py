"""Learned R->L weights of copy 0 as a matrix (L neurons grouped by class column x input features).

Data: ``colanet features fashion-mnist -o features/fmnist_b3.npz`` then
``colanet run --dataset features/fmnist_b3.npz --copies 15 --out results/fmnist-b3``

For feature inputs (e.g. EfficientNet embeddings); pixel runs get ``fig_receptive_fields.py``.

Usage::

    python analysis/fig_weight_matrix.py results/fmnist-b3 [-o figures/fig_weight_matrix.pdf]
"""

import sys

from colanet_brian.analysis.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("weight_matrix", __doc__))
