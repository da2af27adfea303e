"""Shared plotting helpers: axes defaults, class colours, colour bars, the paper style."""

from __future__ import annotations

import numpy as np

__all__ = ["get_axes", "class_colors", "add_colorbar", "PAPER_STYLE"]

#: Matplotlib rc settings of the figures (single column 3.4 in, double column 7 in wide).
PAPER_STYLE = {
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 150,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "image.interpolation": "nearest",
}


def get_axes(axes=None):
    """``axes``, or pyplot's current axes when ``None`` (the brian2tools convention)."""
    if axes is not None:
        return axes
    import matplotlib.pyplot as plt

    return plt.gca()


def class_colors(n_classes: int) -> np.ndarray:
    """One RGBA colour per class (tab10/tab20, cycled beyond 20 classes)."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n_classes <= 10 else "tab20"]
    return np.array([cmap(k % cmap.N) for k in range(n_classes)])


def add_colorbar(axes, mappable, label: str):
    """A colour bar beside ``axes`` with a label (returns the colour bar)."""
    cbar = axes.figure.colorbar(mappable, ax=axes, fraction=0.046, pad=0.02)
    cbar.set_label(label)
    return cbar
