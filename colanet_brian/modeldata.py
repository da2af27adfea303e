"""What a trained model remembers about its training data, and the checks it makes on test data.

A model keeps a fingerprint of every training row (8 bytes each), the mean
input drive of the training pass and, where a command knows it, how to reload
the data (data set, split seed, test fraction, encoder).  Scoring then warns
about two silent mistakes:

* rows that were used for training (e.g. a split drawn with another seed);
* a test drive far outside the training drive (e.g. pixels scaled 0..1
  against a model trained on 0..16: every frame silent, accuracy 0).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

import numpy as np

from .model.encoding import mean_input_drive

__all__ = ["TrainingData", "row_fingerprints", "DRIVE_RATIO_LIMIT"]

_LOG = logging.getLogger(__name__)
#: A test drive below 1/limit or above limit times the training drive gets a warning.
DRIVE_RATIO_LIMIT = 3.0


def row_fingerprints(X) -> np.ndarray:
    """One 64-bit fingerprint per row of ``X`` (its float64 bytes), for finding rows seen in training."""
    X = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    out = np.empty(X.shape[0], dtype=np.uint64)
    for k, row in enumerate(X):
        out[k] = int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8).digest(), "little")
    return out


@dataclass
class TrainingData:
    """The training data of a model, as far as checks on test data need it.

    Attributes
    ----------
    fingerprints : ndarray of uint64
        `row_fingerprints` of the training rows, sorted.
    drive : float
        Mean input drive of the training pass (`encoding.mean_input_drive`).
    source : dict
        How to reload the data (``dataset``, ``seed``, ``test_size``, ``encoder``), if known.
    """

    fingerprints: np.ndarray
    drive: float
    source: dict = field(default_factory=dict)

    @classmethod
    def from_rows(cls, X, rho, source: dict | None = None) -> TrainingData:
        """Remember the training rows ``X`` (features) and their rates ``rho``."""
        return cls(np.unique(row_fingerprints(X)), float(mean_input_drive(rho)), dict(source or {}))

    # -- model file ----------------------------------------------------------
    def to_meta(self) -> dict:
        """JSON part (drive, source)."""
        return dict(drive=self.drive, source=self.source, n_rows=int(self.fingerprints.size))

    def arrays(self) -> dict:
        """Array part, stored beside the model's state."""
        return {"data/fingerprints": self.fingerprints}

    @classmethod
    def from_saved(cls, meta: dict | None, arrays: dict) -> TrainingData | None:
        """Rebuild from `to_meta` and `arrays` (``None`` for a model saved before this existed)."""
        if not meta or "data/fingerprints" not in arrays:
            return None
        return cls(np.asarray(arrays["data/fingerprints"], dtype=np.uint64), float(meta["drive"]),
                   dict(meta.get("source") or {}))

    # -- checks on test data --------------------------------------------------
    def seen_rows(self, X) -> np.ndarray:
        """Boolean mask of the rows of ``X`` that were training rows."""
        return np.isin(row_fingerprints(X), self.fingerprints)

    def check_test(self, X, rho) -> list[str]:
        """Warnings about test data (also logged): training rows among them, a drive far from training's."""
        notes = []
        seen = int(self.seen_rows(X).sum())
        if seen:
            seed = self.source.get("seed")
            hint = f" (the model's split seed is {seed})" if seed is not None else ""
            notes.append(f"{seen} of {len(X)} scored rows were used for training{hint}: the accuracy is optimistic")
        drive = float(mean_input_drive(rho))
        if self.drive > 0 and not (1 / DRIVE_RATIO_LIMIT <= drive / self.drive <= DRIVE_RATIO_LIMIT):
            notes.append(f"the test input drive {drive:.4g} is {drive / self.drive:.2g}x the training drive "
                         f"{self.drive:.4g}: the features are scaled differently from training (e.g. 0..1 against "
                         "0..16), frames may stay silent")
        for note in notes:
            _LOG.warning(note)
        return notes
