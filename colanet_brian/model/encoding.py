"""Rate coding of feature vectors (spec §3).

Features become per-tact spike probabilities ``rho = clip(x / S, 0, 1)``
(non-positive features are silent, spec §3.1, §3.4).  The Brian2 input group
(`equations.INPUT_EQS`) turns ``rho`` into spikes during the first
``present_tacts`` tacts of every frame, either with the deterministic
accumulator of spec §3.1 or with Bernoulli draws (spec §3.3, §17.4).  This
module holds the numpy side: the saturation level, the per-sample mass
equalisation, the conversion and a reference implementation of the
accumulator for tests (input checks: `colanet_brian.data.dataset.check_features`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["saturation_level", "feature_rates", "positive_mass", "equalize_mass", "mean_input_drive", "accumulator_reference"]


def saturation_level(X_train: np.ndarray, percentile: float = 99.9) -> float:
    """Saturation S: a percentile of the positive training features (spec §3.4).

    Raises
    ------
    ValueError
        If no training feature is positive (nothing could ever spike).
    """
    positive = np.asarray(X_train)[np.asarray(X_train) > 0]
    if positive.size == 0:
        raise ValueError("no positive feature value in the training data: every input would stay silent")
    return float(np.percentile(positive, percentile))


def positive_mass(X: np.ndarray) -> np.ndarray:
    """Sum of the positive features of every sample (what can make input spikes)."""
    return np.clip(np.asarray(X, dtype=np.float64), 0.0, None).sum(axis=1)


def equalize_mass(X: np.ndarray, reference: float) -> np.ndarray:
    """Scale every sample so that its positive mass is ``reference`` (a package departure from spec §3).

    Faint samples (a sandal of few pixels, an image with weak activations)
    otherwise deliver fewer input spikes per tact than the training mean and
    leave every L below threshold.  Samples without positive features are
    returned unchanged (nothing can be scaled up).
    """
    if not reference > 0:
        raise ValueError(f"reference mass must be > 0, got {reference}")
    X = np.asarray(X, dtype=np.float64)
    mass = positive_mass(X)
    scale = np.where(mass > 0, reference / np.where(mass > 0, mass, 1.0), 1.0)
    return X * scale[:, None]


def feature_rates(X: np.ndarray, saturation: float) -> np.ndarray:
    """Per-tact spike probabilities ``rho = clip(x / S, 0, 1)`` (spec §3.1)."""
    if not saturation > 0:
        raise ValueError(f"saturation must be > 0, got {saturation}")
    return np.clip(np.asarray(X, dtype=np.float64) / saturation, 0.0, 1.0)


def mean_input_drive(rho: np.ndarray) -> float:
    """Expected input spikes per presentation tact, averaged over samples."""
    return float(np.mean(np.sum(rho, axis=1)))


def accumulator_reference(rho: np.ndarray, present_tacts: int, frame_tacts: int,
                          reset_per_sample: bool = False) -> np.ndarray:
    """Spike raster of the deterministic accumulator of spec §3.1 (numpy reference).

    Parameters
    ----------
    rho : ndarray, shape (n_samples, n_inputs)
        Per-tact increments.
    present_tacts, frame_tacts : int
        Frame layout (spec §2).
    reset_per_sample : bool
        Reset the accumulator at every frame start.

    Returns
    -------
    ndarray of bool, shape (n_samples * frame_tacts, n_inputs)
        ``True`` where an input spikes.
    """
    rho = np.asarray(rho, dtype=np.float64)
    a = np.zeros(rho.shape[1])
    out = np.zeros((rho.shape[0] * frame_tacts, rho.shape[1]), dtype=bool)
    for k, row in enumerate(rho):
        if reset_per_sample:
            a[:] = 0
        for t in range(present_tacts):
            a += row
            fire = a >= 1
            a[fire] -= 1
            out[k * frame_tacts + t] = fire
    return out
