"""Which microcolumns of each class column fire (spec §4.4, §4.5), from recorded L spikes."""

from __future__ import annotations

import numpy as np

from .style import add_colorbar, get_axes

__all__ = ["microcolumn_usage", "plot_microcolumn_usage"]


def microcolumn_usage(l_indices, n_classes: int, n_microcolumns: int, n_copies: int, copies=None) -> np.ndarray:
    """L spikes per class column and microcolumn, summed over copies.

    Parameters
    ----------
    l_indices : array of int
        Indices of L spikes (neuron ``copy*K*M + class*M + m``).
    n_classes, n_microcolumns, n_copies : int
        K, M, C.
    copies : sequence of int, optional
        Copies to count (default: all).

    Returns
    -------
    ndarray, shape (n_classes, n_microcolumns)
    """
    per_copy = np.bincount(np.asarray(l_indices, dtype=np.int64), minlength=n_copies * n_classes * n_microcolumns)
    per_copy = per_copy.reshape(n_copies, n_classes, n_microcolumns)
    return per_copy[list(copies) if copies is not None else slice(None)].sum(axis=0)


def plot_microcolumn_usage(usage, class_names=None, min_fraction: float = 0.01, cmap="viridis", colorbar=True,
                           axes=None):
    """Share of each class column's L spikes per microcolumn, and how many microcolumns are in use.

    Parameters
    ----------
    usage : ndarray, shape (K, M)
        Spike counts (`microcolumn_usage`).
    class_names : sequence of str, optional
    min_fraction : float
        A microcolumn counts as used when it has at least this share of its column's spikes.

    Returns
    -------
    axes : `~matplotlib.axes.Axes`
        One image of the row-normalised usage (rows sum to 1, silent columns 0).
    """
    axes = get_axes(axes)
    usage = np.asarray(usage, dtype=float)
    n_classes, n_micro = usage.shape
    frac = usage / np.maximum(usage.sum(axis=1, keepdims=True), 1)
    im = axes.imshow(frac, aspect="auto", cmap=cmap, vmin=0, vmax=max(frac.max(), 1e-9), interpolation="nearest")
    used = (frac >= min_fraction).sum(axis=1)
    names = [str(c) for c in (class_names if class_names is not None else range(n_classes))]
    axes.set_yticks(range(n_classes), [f"{name} ({u} used)" for name, u in zip(names, used, strict=True)],
                    fontsize="x-small" if n_classes <= 20 else 4)
    axes.set_xticks(range(n_micro) if n_micro <= 20 else range(0, n_micro, max(1, n_micro // 10)))
    axes.set_xlabel("microcolumn (index)")
    axes.set_ylabel(f"class column (microcolumns with ≥ {min_fraction:.0%} of spikes)")
    if colorbar:
        add_colorbar(axes, im, "fraction of the column's L spikes")
    return axes
