"""Search data: the training part of a data set, split into a fitting and a validation part.

The test split is never seen by the search.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class SearchData:
    """Training part of a data set, split into a fitting and a validation part.

    Attributes
    ----------
    X_fit, y_fit : ndarray
        One online training pass per individual, in this order.
    X_val, y_val : ndarray
        Validation samples scoring the fitness.
    class_names : list of str
    meta : dict
        Where the data came from and how it was split.
    """

    X_fit: np.ndarray
    y_fit: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    class_names: list
    meta: dict = field(default_factory=dict)

    def fingerprint(self) -> str:
        """SHA-1 of the arrays and class names: a resumed search must see the same data."""
        h = hashlib.sha1()
        for a in (self.X_fit, self.y_fit, self.X_val, self.y_val):
            a = np.ascontiguousarray(a)
            h.update(str((a.dtype.str, a.shape)).encode())
            h.update(a.tobytes())
        h.update(json.dumps(list(map(str, self.class_names))).encode())
        return h.hexdigest()

    def summary(self) -> dict:
        """Sizes, fingerprint and provenance."""
        return dict(n_fit=int(len(self.y_fit)), n_val=int(len(self.y_val)), n_features=int(self.X_fit.shape[1]),
                    n_classes=len(self.class_names), class_names=list(map(str, self.class_names)),
                    fingerprint=self.fingerprint(), **self.meta)


def search_split(dataset, val_size: float = 0.2, seed: int = 0, max_train: int | None = None) -> SearchData:
    """Carve a stratified, seeded validation split out of a data set's *training* part.

    Parameters
    ----------
    dataset : colanet_brian.data.dataset.Dataset
        Only ``X_train``/``y_train`` are used: the test split is never seen.
    val_size : float
        Validation fraction of the (possibly subsampled) training part.
    seed : int
        Seed of the subsample, the split and the training order.
    max_train : int, optional
        Use a stratified subsample of at most this many training samples
        (quick searches and tests).

    Returns
    -------
    SearchData
        The fitting part in a seeded random order (the online training order).
    """
    from ..data.dataset import stratified_split

    if not 0 < val_size < 1:
        raise ValueError(f"val_size must lie in (0, 1), got {val_size}")
    X, y = np.asarray(dataset.X_train), np.asarray(dataset.y_train)
    meta = dict(dataset=getattr(dataset, "name", "?"), source_split=getattr(dataset, "meta", {}).get("split"))
    if max_train is not None and max_train < len(y):
        if max_train < 2 * len(np.unique(y)):
            raise ValueError(f"max_train={max_train} is too small for {len(np.unique(y))} classes")
        keep, _ = stratified_split(y, test_size=len(y) - int(max_train), seed=seed)
        X, y = X[np.sort(keep)], y[np.sort(keep)]
        meta["max_train"] = int(max_train)
    fit, val = stratified_split(y, test_size=val_size, seed=seed)
    fit = fit[np.random.default_rng(seed).permutation(len(fit))]
    meta.update(val_size=val_size, split=f"stratified {1 - val_size:.0%}/{val_size:.0%} of the training part, "
                f"seed {seed}; test split unused")
    return SearchData(X[fit], y[fit], X[val], y[val], list(dataset.class_names), meta)


def search_block_frames(n_fit: int, n_val: int, max_block: int = 1000, overhead: int = 30) -> int:
    """Samples per binary run that waste the fewest simulated frames.

    A standalone run always simulates whole blocks, so the training pass
    costs ``ceil(n_fit/B)*B`` frames and the validation pass
    ``ceil(n_val/B)*B``; each block also costs one binary start (about
    ``overhead`` frames).  The block size is part of the network shape, so
    one value serves the whole search.
    """
    best, best_cost = 1, math.inf
    for b in range(1, max(1, min(max_block, max(n_fit, n_val))) + 1):
        blocks = -(-n_fit // b) + -(-n_val // b)
        cost = (-(-n_fit // b) * b + -(-n_val // b) * b) + overhead * blocks
        if cost < best_cost:
            best, best_cost = b, cost
    return best
