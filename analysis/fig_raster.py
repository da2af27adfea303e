"""Spike raster of the first training frames: R, L (by class column), OUT, GATE, Target.

Data: ``colanet run --dataset digits --copies 15 --out results/digits``

Input (R) spikes are recorded for the first and last ``ExperimentConfig.raster_frames`` (3)
training frames (``train_raster_frames`` of run_data.npz); older runs without them give a raster
of L and OUT only.

Usage::

    python analysis/fig_raster.py results/digits [-o figures/fig_raster.pdf]
"""

import sys

from colanet_brian.analysis.figures import script_main

if __name__ == "__main__":
    sys.exit(script_main("raster_train_start", __doc__))
