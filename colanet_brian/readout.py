"""From OUT spike counts to votes, predictions and accuracies (spec §8.3, §9).

Counts have shape ``(n_samples, n_copies, n_classes)``.  A copy votes for the
class whose OUT neuron spiked most in the frame; the ensemble sums the OUT
spikes of all copies per class (KNP pooling, spec §9).  Ties go to the lowest
class index and a frame without any OUT spike predicts ``-1``, which is
always wrong (spec §8.3, §17.16).
"""

from __future__ import annotations

import numpy as np

__all__ = ["NO_SPIKE", "vote", "copy_predictions", "ensemble_predictions", "accuracy", "ensemble_size_curve"]

#: Prediction of a frame without OUT spikes.
NO_SPIKE = -1


def vote(counts: np.ndarray) -> np.ndarray:
    """Argmax over the last axis, ties to the lowest index, all-zero -> `NO_SPIKE`."""
    counts = np.asarray(counts)
    pred = np.argmax(counts, axis=-1)  # numpy returns the first maximum: lowest index
    return np.where(counts.max(axis=-1) > 0, pred, NO_SPIKE)


def copy_predictions(counts: np.ndarray) -> np.ndarray:
    """Predictions of every single copy, shape ``(n_samples, n_copies)``."""
    return vote(counts)


def ensemble_predictions(counts: np.ndarray, copies=None) -> np.ndarray:
    """Ensemble predictions from summed OUT counts of ``copies`` (default: all)."""
    counts = np.asarray(counts)
    if copies is not None:
        counts = counts[:, list(copies), :]
    return vote(counts.sum(axis=1))


def accuracy(pred: np.ndarray, y: np.ndarray) -> float:
    """Fraction of correct predictions (`NO_SPIKE` counts as wrong)."""
    pred, y = np.asarray(pred), np.asarray(y)
    if pred.shape != y.shape:
        raise ValueError(f"prediction shape {pred.shape} != label shape {y.shape}")
    return float(np.mean(pred == y)) if y.size else float("nan")


def ensemble_size_curve(counts: np.ndarray, y: np.ndarray, sizes=None, n_draws: int = 20, seed: int = 0):
    """Ensemble accuracy as a function of the number of pooled copies.

    Returns
    -------
    sizes : ndarray
    mean, std : ndarray
        Accuracy over ``n_draws`` random subsets of copies per size.
    """
    n_copies = counts.shape[1]
    sizes = np.arange(1, n_copies + 1) if sizes is None else np.asarray(sizes)
    rng = np.random.default_rng(seed)
    means, stds = [], []
    for k in sizes:
        draws = [accuracy(ensemble_predictions(counts, rng.choice(n_copies, size=k, replace=False)), y)
                 for _ in range(n_draws if k < n_copies else 1)]
        means.append(np.mean(draws))
        stds.append(np.std(draws))
    return sizes, np.array(means), np.array(stds)
