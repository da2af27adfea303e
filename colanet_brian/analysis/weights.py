"""Plastic R->L state: receptive fields, weight matrix, distributions and their evolution (spec §6, §7).

Weights ``w`` of one copy are arrays ``[n_inputs, K*M]`` whose column ``k*M + m``
is microcolumn ``m`` of class column ``k`` (input-major, as in the model file).
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import TwoSlopeNorm

from .style import add_colorbar, get_axes

__all__ = ["QUANTITIES", "weight_norm", "plot_receptive_fields", "plot_receptive_field_evolution",
           "plot_weight_matrix", "plot_state_histogram", "plot_state_evolution"]

#: Axis labels of the plastic state variables (weights and resources are in units of the L potential, θ0 = 8.531).
QUANTITIES = {
    "w": "synaptic weight w (potential units)",
    "r": "synaptic resource r (weight units)",
    "s": "stability s (g(s) = min(2^-s, 1))",
    "theta_add": "threshold excess θ_add (potential units)",
    "F": "free resource F (weight units)",
}


def weight_norm(w, vmin=None, vmax=None):
    """Colour normalisation with white at w = 0 (diverging), from the data unless bounds are given."""
    w = np.asarray(w)
    vmin = float(np.min(w)) if vmin is None else vmin
    vmax = float(np.max(w)) if vmax is None else vmax
    vmin, vmax = min(vmin, -1e-9), max(vmax, 1e-9)
    return TwoSlopeNorm(vcenter=0.0, vmin=vmin, vmax=vmax)


def _tile_images(axes, images, image_shape, grid, norm, cmap):
    """Draw ``images[n]`` (flat pixels) at grid cell ``grid[n] = (row, col)``; rows from the top."""
    h, w = image_shape
    gap = max(1, max(h, w) // 8)
    n_rows = max(r for r, _ in grid) + 1
    last = None
    for img, (row, col) in zip(images, grid, strict=True):
        x0, y0 = col * (w + gap), (n_rows - 1 - row) * (h + gap)
        last = axes.imshow(np.reshape(img, image_shape), extent=(x0, x0 + w, y0, y0 + h), origin="upper",
                           norm=norm, cmap=cmap, interpolation="nearest")
    n_cols = max(c for _, c in grid) + 1
    axes.set_xlim(-gap / 2, n_cols * (w + gap) - gap / 2)
    axes.set_ylim(-gap / 2, n_rows * (h + gap) - gap / 2)
    axes.set_aspect("equal")
    axes.tick_params(length=0)
    for side in ("top", "right", "bottom", "left"):
        axes.spines[side].set_visible(False)
    row_centers = [(n_rows - 1 - r) * (h + gap) + h / 2 for r in range(n_rows)]
    col_centers = [c * (w + gap) + w / 2 for c in range(n_cols)]
    return last, row_centers, col_centers


def plot_receptive_fields(w, image_shape, n_microcolumns: int, class_names=None, vmin=None, vmax=None,
                          cmap="RdBu_r", colorbar=True, axes=None):
    """Weights of every L neuron of one copy drawn as images: one row per class, one column per microcolumn.

    Parameters
    ----------
    w : ndarray, shape (n_inputs, K*M)
        Weights of one copy (`RunData.copy_weights`).
    image_shape : (int, int)
        Pixel layout of the inputs, e.g. ``(8, 8)`` for digits, ``(28, 28)`` for Fashion-MNIST.
    n_microcolumns : int
        M.
    class_names : sequence of str, optional
    vmin, vmax : float, optional
        Colour range (default: data range; white is w = 0).
    cmap : str
    colorbar : bool
        Add a colour bar labelled with the weight unit.
    axes : `~matplotlib.axes.Axes`, optional

    Returns
    -------
    axes : `~matplotlib.axes.Axes`
        One `~matplotlib.image.AxesImage` per L neuron.
    """
    axes = get_axes(axes)
    w = np.asarray(w)
    n_classes = w.shape[1] // n_microcolumns
    grid = [(k, m) for k in range(n_classes) for m in range(n_microcolumns)]
    norm = weight_norm(w, vmin, vmax)
    im, rows, cols = _tile_images(axes, w.T, image_shape, grid, norm, cmap)
    names = class_names if class_names is not None else range(n_classes)
    axes.set_yticks(rows, [str(c) for c in names])
    axes.set_xticks(cols, [str(m) for m in range(n_microcolumns)])
    axes.set_xlabel("microcolumn (index)")
    axes.set_ylabel("class column")
    if colorbar:
        add_colorbar(axes, im, QUANTITIES["w"])
    return axes


def plot_receptive_field_evolution(samples, w_snapshots, image_shape, neurons, neuron_labels=None, vmin=None,
                                   vmax=None, cmap="RdBu_r", colorbar=True, axes=None):
    """Receptive fields of chosen L neurons at every snapshot: one row per neuron, one column per snapshot.

    Parameters
    ----------
    samples : ndarray, shape (S,)
        Training samples presented before each snapshot.
    w_snapshots : ndarray, shape (S, n_inputs, n)
        Weight snapshots.
    image_shape : (int, int)
    neurons : sequence of int
        Columns of ``w_snapshots`` to draw.
    neuron_labels : sequence of str, optional
        Row labels (default: the column numbers).

    Returns
    -------
    axes : `~matplotlib.axes.Axes`
        One image per (neuron, snapshot).
    """
    axes = get_axes(axes)
    w_snapshots = np.asarray(w_snapshots)
    sel = w_snapshots[:, :, list(neurons)]
    grid = [(r, c) for r in range(len(neurons)) for c in range(len(samples))]
    images = [sel[c, :, r] for r, c in grid]
    im, rows, cols = _tile_images(axes, images, image_shape, grid, weight_norm(sel, vmin, vmax), cmap)
    axes.set_yticks(rows, [str(x) for x in (neuron_labels if neuron_labels is not None else neurons)])
    axes.set_xticks(cols, [str(int(s)) for s in samples], rotation=90 if len(samples) > 8 else 0)
    axes.set_xlabel("training samples presented (count)")
    axes.set_ylabel("L neuron")
    if colorbar:
        add_colorbar(axes, im, QUANTITIES["w"])
    return axes


def plot_weight_matrix(w, n_microcolumns: int, class_names=None, vmin=None, vmax=None, cmap="RdBu_r",
                       colorbar=True, axes=None):
    """Weights of one copy as a matrix: L neurons (grouped by class column) x input features.

    Returns
    -------
    axes : `~matplotlib.axes.Axes`
        One image of shape ``(K*M, n_inputs)``.
    """
    axes = get_axes(axes)
    w = np.asarray(w)
    n_classes = w.shape[1] // n_microcolumns
    im = axes.imshow(w.T, aspect="auto", interpolation="nearest", norm=weight_norm(w, vmin, vmax), cmap=cmap,
                     extent=(-0.5, w.shape[0] - 0.5, w.shape[1] - 0.5, -0.5))
    for k in range(1, n_classes):
        axes.axhline(k * n_microcolumns - 0.5, color="k", lw=0.4)
    names = class_names if class_names is not None else range(n_classes)
    axes.set_yticks([k * n_microcolumns + (n_microcolumns - 1) / 2 for k in range(n_classes)],
                    [str(c) for c in names], fontsize="x-small" if n_classes <= 20 else 4)
    axes.set_xlabel("input feature (index)")
    axes.set_ylabel(f"L neuron: class column x {n_microcolumns} microcolumns")
    if colorbar:
        add_colorbar(axes, im, QUANTITIES["w"])
    return axes


def plot_state_histogram(values, quantity: str = "w", bins=50, log=False, bounds=None, axes=None, **kwds):
    """Histogram of a plastic state variable (weights, resources, stability, ...).

    Parameters
    ----------
    values : array
        Any shape; flattened.
    quantity : str
        Key of `QUANTITIES` (axis label), or a label.
    bins : int or sequence
    log : bool
        Logarithmic count axis.
    bounds : (float, float), optional
        Limits of the variable (e.g. ``w_min``, ``w_max``) drawn as dashed lines.
    **kwds
        Passed to `~matplotlib.axes.Axes.hist`.

    Returns
    -------
    axes : `~matplotlib.axes.Axes`
    """
    axes = get_axes(axes)
    values = np.ravel(values)
    style = dict(color="0.35", histtype="stepfilled")
    style.update(kwds)
    axes.hist(values, bins=bins, log=log, **style)
    for name, x in zip(("min", "max"), bounds or (), strict=False):
        axes.axvline(x, color="C3", ls="--", lw=0.8)
        axes.annotate(f"{quantity}_{name}", (x, 1), xycoords=("data", "axes fraction"), ha="center", va="bottom",
                      fontsize="x-small", color="C3")
    axes.set_xlabel(QUANTITIES.get(quantity, quantity))
    axes.set_ylabel(("synapses" if quantity in ("w", "r") else "L neurons") + " (count)")
    return axes


def plot_state_evolution(samples, snapshots, quantity: str = "w", percentiles=(5, 25, 50, 75, 95), color="C0",
                         axes=None):
    """Median and percentile bands of a state variable over the training pass.

    Parameters
    ----------
    samples : ndarray, shape (S,)
        Training samples presented before each snapshot.
    snapshots : ndarray, shape (S, ...)
        Values at each snapshot (flattened per snapshot).
    quantity : str
        Key of `QUANTITIES`, or a label.
    percentiles : 5 floats
        Outer band, inner band, median.

    Returns
    -------
    axes : `~matplotlib.axes.Axes`
        One median line of length S and two bands.
    """
    axes = get_axes(axes)
    flat = np.asarray(snapshots, dtype=float).reshape(len(samples), -1)
    lo2, lo1, mid, hi1, hi2 = np.percentile(flat, percentiles, axis=1)
    axes.fill_between(samples, lo2, hi2, color=color, alpha=0.15, lw=0,
                      label=f"{percentiles[0]}-{percentiles[4]} %")
    axes.fill_between(samples, lo1, hi1, color=color, alpha=0.35, lw=0,
                      label=f"{percentiles[1]}-{percentiles[3]} %")
    axes.plot(samples, mid, color=color, marker=".", label="median")
    axes.set_xlabel("training samples presented (count)")
    axes.set_ylabel(QUANTITIES.get(quantity, quantity))
    axes.legend(loc="best")
    return axes
