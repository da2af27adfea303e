"""Accuracy figures: online learning curve, confusion matrix, accuracy vs ensemble size (spec §8.3, §9)."""

from __future__ import annotations

import numpy as np

from ..model.readout import NO_SPIKE, copy_predictions, ensemble_predictions, ensemble_size_curve
from .style import add_colorbar, get_axes

__all__ = ["default_window", "online_accuracy", "plot_learning_curve", "confusion_matrix", "plot_confusion_matrix",
           "plot_ensemble_size"]


def default_window(n_samples: int) -> int:
    """Sliding-window length of the learning curve: a tenth of the pass, 10 to 100 samples."""
    return int(min(max(n_samples // 10, 10), 100, max(n_samples, 1)))


def online_accuracy(counts, y, window: int, readout=None):
    """Sliding-window accuracy during the training pass.

    Parameters
    ----------
    counts : ndarray, shape (n, n_copies, n_classes)
        OUT counts of the training frames, in training order (before the teacher acted).
    y : ndarray, shape (n,)
        Labels in training order.
    window : int
        Window length in samples.
    readout : dict, optional
        ``first``, ``tie_break``, ``scores`` for `readout.vote` (default: the spec's readout).

    Returns
    -------
    end : ndarray, shape (n - window + 1,)
        Number of samples presented at the end of each window.
    ensemble, single_mean : ndarray, shape (n - window + 1,)
        Windowed accuracy of the pooled ensemble and mean over copies of the single-copy accuracy.
    """
    counts, y = np.asarray(counts), np.asarray(y)
    if not 1 <= window <= len(y):
        raise ValueError(f"window must lie in 1..{len(y)} samples, got {window}")
    readout = readout or {}
    ens = (ensemble_predictions(counts, **readout) == y).astype(float)
    single = (copy_predictions(counts, **readout) == y[:, None]).mean(axis=1)
    kernel = np.ones(window) / window
    end = np.arange(window, len(y) + 1)
    return end, np.convolve(ens, kernel, mode="valid"), np.convolve(single, kernel, mode="valid")


def plot_learning_curve(counts, y, window: int | None = None, n_classes: int | None = None, readout=None,
                        axes=None):
    """Online (prequential) accuracy during the single training pass, ensemble and mean single copy.

    Each training frame is scored by the OUT vote before the teacher acts
    (GATE->OUT blocks the forced spikes), so this is the accuracy on samples
    not yet learned.

    Parameters
    ----------
    counts, y : see `online_accuracy`
    window : int, optional
        Window length in samples (default `default_window`).
    n_classes : int, optional
        Draws the chance level 1/K.
    readout : dict, optional
        Passed to `online_accuracy`.
    axes : `~matplotlib.axes.Axes`, optional

    Returns
    -------
    axes : `~matplotlib.axes.Axes`
        Lines ``ensemble`` and ``single copy (mean)`` of length ``n - window + 1``.
    """
    axes = get_axes(axes)
    window = default_window(len(y)) if window is None else window
    end, ens, single = online_accuracy(counts, y, window, readout)
    n_copies = np.asarray(counts).shape[1]
    axes.plot(end, ens, color="C0", label=f"ensemble ({n_copies} copies)")
    axes.plot(end, single, color="C1", label="single copy (mean)")
    if n_classes:
        axes.axhline(1 / n_classes, color="0.5", ls=":", lw=0.8, label="chance")
    axes.set_xlim(0, len(y))
    axes.set_ylim(0, 1)
    axes.set_xlabel("training samples presented (count)")
    axes.set_ylabel(f"online accuracy (fraction, last {window} samples)")
    axes.legend(loc="lower right")
    return axes


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Counts ``[true class, predicted class]``; a last column counts frames without OUT spike.

    Returns
    -------
    ndarray, shape (n_classes, n_classes + 1)
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    col = np.where(y_pred == NO_SPIKE, n_classes, y_pred)
    out = np.zeros((n_classes, n_classes + 1), dtype=np.int64)
    np.add.at(out, (y_true, col), 1)
    return out


def plot_confusion_matrix(y_true, y_pred, class_names, normalize: bool = True, annotate: bool | None = None,
                          cmap="Blues", colorbar=True, axes=None):
    """Confusion matrix of the readout; a "none" column is added when some frames had no OUT spike.

    Parameters
    ----------
    y_true, y_pred : array of int
        True classes and predictions (`readout.NO_SPIKE` for silent frames).
    class_names : sequence of str
    normalize : bool
        Colour by the fraction of each true class (rows sum to 1); the numbers written are counts.
    annotate : bool, optional
        Write the counts into the cells (default: up to 20 classes).

    Returns
    -------
    axes : `~matplotlib.axes.Axes`
        One image of the matrix (counts, or row fractions when ``normalize``).
    """
    axes = get_axes(axes)
    n = len(class_names)
    cm = confusion_matrix(y_true, y_pred, n)
    names = [str(c) for c in class_names]
    if cm[:, n].sum() == 0:
        cm = cm[:, :n]
    else:
        names = names + ["none"]
    data = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    im = axes.imshow(data, cmap=cmap, vmin=0, vmax=1 if normalize else None, interpolation="nearest")
    if annotate if annotate is not None else n <= 20:
        for (r, c), v in np.ndenumerate(cm):
            if v:
                axes.text(c, r, str(v), ha="center", va="center", fontsize="x-small",
                          color="white" if data[r, c] > 0.6 * data.max() else "black")
    size = "x-small" if n <= 20 else 4
    axes.set_xticks(range(cm.shape[1]), names, rotation=90 if n > 10 else 0, fontsize=size)
    axes.set_yticks(range(n), names[:n], fontsize=size)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    acc = np.trace(cm[:, :n]) / max(cm.sum(), 1)
    axes.set_title(f"accuracy {acc:.3f} ({cm.sum()} samples)")
    if colorbar:
        add_colorbar(axes, im, "fraction of true class" if normalize else "samples (count)")
    return axes


def plot_ensemble_size(counts, y, sizes=None, n_draws: int = 20, seed: int = 0, baselines=None, readout=None,
                       axes=None):
    """Test accuracy against the number of pooled copies (mean and s.d. over random subsets of copies).

    Parameters
    ----------
    counts : ndarray, shape (n, n_copies, n_classes)
        Test OUT counts.
    y : ndarray
        True classes.
    sizes : sequence of int, optional
        Ensemble sizes (default ``1..n_copies``).
    n_draws : int
        Random subsets per size (`readout.ensemble_size_curve`).
    baselines : dict, optional
        ``{name: accuracy}`` drawn as horizontal lines (e.g. ``results["baselines"]``).
    readout : dict, optional
        ``first``, ``tie_break``, ``scores`` for `readout.vote` (default: the spec's readout).

    Returns
    -------
    axes : `~matplotlib.axes.Axes`
        The mean line has one point per size.
    """
    axes = get_axes(axes)
    readout = readout or {}
    sizes, mean, std = ensemble_size_curve(np.asarray(counts), np.asarray(y), sizes, n_draws, seed, **readout)
    single = (copy_predictions(counts, **readout) == np.asarray(y)[:, None]).mean(axis=0)
    axes.fill_between(sizes, mean - std, mean + std, color="C0", alpha=0.25, lw=0, label="± s.d. over subsets")
    axes.plot(sizes, mean, color="C0", marker="o", ms=3, label="ensemble (mean)")
    axes.scatter(np.ones_like(single), single, s=10, color="C1", zorder=3, label="single copies")
    for n, (name, acc) in enumerate((baselines or {}).items()):
        acc = acc["accuracy"] if isinstance(acc, dict) else acc
        axes.axhline(acc, color=f"C{n + 2}", ls="--", lw=0.8, label=name.replace("_", " "))
    axes.set_xticks(sizes if len(sizes) <= 15 else sizes[:: max(1, len(sizes) // 15)])
    axes.set_xlabel("ensemble size (copies)")
    axes.set_ylabel("test accuracy (fraction)")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    return axes
