"""Figures of CoLaNET runs: pure plotting functions and the figures of a saved run.

Every ``plot_*`` function follows the brian2tools convention: data in,
``axes=None`` (pyplot's current axes) or a given `~matplotlib.axes.Axes`,
the axes out, with labels and units on every axis.  `figures.draw_all`
draws every figure a run directory supports (``colanet figures``).
"""

from .continual import draw_continual, plot_accuracy_matrix, plot_task_accuracy
from .ga import ga_history, plot_ga_fitness, read_ga_log
from .performance import (
    confusion_matrix,
    online_accuracy,
    plot_confusion_matrix,
    plot_ensemble_size,
    plot_learning_curve,
)
from .raster import plot_frame_raster
from .rundata import RunData, load_run
from .usage import microcolumn_usage, plot_microcolumn_usage
from .weights import (
    plot_receptive_field_evolution,
    plot_receptive_fields,
    plot_state_evolution,
    plot_state_histogram,
    plot_weight_matrix,
)

__all__ = [
    "RunData", "load_run",
    "plot_frame_raster",
    "plot_receptive_fields", "plot_receptive_field_evolution", "plot_weight_matrix", "plot_state_histogram",
    "plot_state_evolution",
    "online_accuracy", "plot_learning_curve", "confusion_matrix", "plot_confusion_matrix", "plot_ensemble_size",
    "microcolumn_usage", "plot_microcolumn_usage",
    "read_ga_log", "ga_history", "plot_ga_fitness",
    "plot_accuracy_matrix", "plot_task_accuracy", "draw_continual",
]
