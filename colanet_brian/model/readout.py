"""From OUT spike counts to votes, predictions and accuracies (spec §8.3, §9).

Counts have shape ``(n_samples, n_copies, n_classes)``.  A copy votes for the
class whose OUT neuron spiked most in the frame; the ensemble sums the OUT
spikes of all copies per class (KNP pooling, spec §9).  A frame without any
OUT spike predicts ``-1``, which is always wrong (spec §8.3, §17.16).

Ties (spec §17.16): KNP gives them to the lowest class index (``"lowest"``).
A winning L neuron fires about every second tact, so one copy casts at most
about five votes per frame and ties are common; the lowest-index rule then
biases every tie towards low class indices.  The default ``"latency"`` rule
gives a tie to the class whose OUT neuron spiked first (the earliest first
spike over the pooled copies), and only then to the lowest index: the
first-spike latency is the spiking network's own measure of how strongly a
column was driven.

Silent frames (spec §8.3 counts them as wrong): with ``scores`` (the column
score of `equations.OUTPUT_SCORE_SUMMED`, a soft maximum over the column's
microcolumns of the peak potential relative to threshold in that frame), a
frame without any OUT spike goes to the column that came closest to firing.
Frames with spikes are decided by spikes alone.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "NO_SPIKE",
    "NO_SPIKE_TACT",
    "vote",
    "copy_predictions",
    "ensemble_predictions",
    "accuracy",
    "tie_fraction",
    "silent_fraction",
    "ensemble_size_curve",
]

#: Prediction of a frame without OUT spikes.
NO_SPIKE = -1
#: First-spike tact of a class whose OUT neuron did not spike (later than any frame-local tact).
NO_SPIKE_TACT = np.iinfo(np.int32).max


def _top(counts: np.ndarray) -> np.ndarray:
    """Boolean mask of the classes with the highest count (over the last axis)."""
    return counts == counts.max(axis=-1, keepdims=True)


def vote(counts: np.ndarray, first: np.ndarray | None = None, tie_break: str = "lowest",
         scores: np.ndarray | None = None) -> np.ndarray:
    """Argmax over the last axis with a tie rule; silent frames -> `NO_SPIKE` or the best score.

    Parameters
    ----------
    counts : ndarray
        OUT spike counts, classes on the last axis.
    first : ndarray, optional
        Tact of the first OUT spike per class (same shape; `NO_SPIKE_TACT`
        where none); needed for ``tie_break="latency"``.
    tie_break : {"lowest", "latency"}
        Rule among the classes with the highest count (module docstring).
    scores : ndarray, optional
        Column scores (same shape); where given, a frame without spikes goes
        to the highest score instead of `NO_SPIKE`.
    """
    counts = np.asarray(counts)
    if tie_break == "latency":
        if first is None:
            raise ValueError("tie_break='latency' needs the first-spike tacts (first=...)")
        # among the top classes, the earliest first spike; np.argmin takes the lowest index on equal tacts
        latency = np.where(_top(counts), np.asarray(first, dtype=np.int64), np.iinfo(np.int64).max)
        pred = np.argmin(latency, axis=-1)
    elif tie_break == "lowest":
        pred = np.argmax(counts, axis=-1)  # numpy returns the first maximum: lowest index
    else:
        raise ValueError(f"unknown tie_break {tie_break!r}; use 'lowest' or 'latency'")
    silent = counts.max(axis=-1) == 0
    fallback = NO_SPIKE
    if scores is not None:
        scores = np.asarray(scores)
        fallback = np.where(scores.max(axis=-1) > 0, np.argmax(scores, axis=-1), NO_SPIKE)
    return np.where(silent, fallback, pred)


def copy_predictions(counts: np.ndarray, first: np.ndarray | None = None, tie_break: str = "lowest",
                     scores: np.ndarray | None = None) -> np.ndarray:
    """Predictions of every single copy, shape ``(n_samples, n_copies)``."""
    return vote(counts, first, tie_break, scores)


def _select(array, copies):
    if array is None or copies is None:
        return array
    return np.asarray(array)[:, list(copies), :]


def ensemble_predictions(counts: np.ndarray, copies=None, first: np.ndarray | None = None,
                         tie_break: str = "lowest", scores: np.ndarray | None = None) -> np.ndarray:
    """Ensemble predictions from summed OUT counts of ``copies`` (default: all).

    With ``tie_break="latency"`` a tie goes to the class with the earliest
    first OUT spike in any of the pooled copies; with ``scores`` a frame in
    which no copy spiked goes to the highest summed column score.
    """
    counts, first, scores = (_select(a, copies) for a in (counts, first, scores))
    return vote(np.asarray(counts).sum(axis=1), None if first is None else np.asarray(first).min(axis=1),
                tie_break, None if scores is None else np.asarray(scores).sum(axis=1))


def tie_fraction(counts: np.ndarray) -> float:
    """Fraction of frames in which two or more classes share the highest non-zero count."""
    counts = np.asarray(counts)
    tied = (_top(counts).sum(axis=-1) > 1) & (counts.max(axis=-1) > 0)
    return float(np.mean(tied)) if tied.size else float("nan")


def silent_fraction(counts: np.ndarray) -> float:
    """Fraction of frames without any OUT spike (over the last axis)."""
    counts = np.asarray(counts)
    return float(np.mean(counts.max(axis=-1) == 0)) if counts.size else float("nan")


def accuracy(pred: np.ndarray, y: np.ndarray) -> float:
    """Fraction of correct predictions (`NO_SPIKE` counts as wrong)."""
    pred, y = np.asarray(pred), np.asarray(y)
    if pred.shape != y.shape:
        raise ValueError(f"prediction shape {pred.shape} != label shape {y.shape}")
    return float(np.mean(pred == y)) if y.size else float("nan")


def ensemble_size_curve(counts: np.ndarray, y: np.ndarray, sizes=None, n_draws: int = 20, seed: int = 0,
                        first: np.ndarray | None = None, tie_break: str = "lowest", scores: np.ndarray | None = None):
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
        draws = [accuracy(ensemble_predictions(counts, rng.choice(n_copies, size=k, replace=False), first,
                                               tie_break, scores), y)
                 for _ in range(n_draws if k < n_copies else 1)]
        means.append(np.mean(draws))
        stds.append(np.std(draws))
    return sizes, np.array(means), np.array(stds)
