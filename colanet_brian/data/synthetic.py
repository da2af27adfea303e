"""Synthetic class-dependent feature sets shaped like frozen-ANN embeddings.

The paper's regime (spec §1, §11) is 64 classes of 1536-d EfficientNet-B3
pooled features.  Those data are not available offline, so the model's
behaviour at that shape is checked on generated data with the properties that
matter for rate coding (spec §3) and for the CoLaNET drive:

* **non-negative**, like pooled post-activation features;
* **dense or sparse**: B3's pooled SiLU features are nearly all non-zero,
  Lite0's ReLU6 features are about half exactly zero
  (``shared/notes/accuracy-review.md``); ``activation="softplus"`` gives
  dense features, ``activation="relu"`` sparse ones whose fraction of non-zero
  values is ``density``;
* **heavy-tailed, heterogeneous channels**: every channel has its own scale
  (log-normal), so that a saturation percentile over all values matters;
* **a chosen difficulty**: each class has a latent Gaussian prototype; a sample
  is its class prototype plus isotropic Gaussian noise in the latent space,
  ``separation`` is the prototype spread in units of that noise.  Logistic
  regression accuracy rises monotonically with ``separation``.

The generator is deterministic in ``seed``.  `make_feature_dataset` returns a
`dataset.Dataset`; `save_feature_npz` writes the ``.npz`` format that
``colanet run --dataset FILE.npz`` reads (with a fixed train/test split).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..provenance import atomic_save_npz
from .dataset import Dataset

__all__ = ["FeatureSetSpec", "make_feature_dataset", "save_feature_npz", "ACTIVATIONS"]

#: Output non-linearities: dense (every value > 0) or sparse (a ``density`` fraction non-zero).
ACTIVATIONS = ("softplus", "relu")


@dataclass(frozen=True)
class FeatureSetSpec:
    """Shape and difficulty of a synthetic feature set.

    Attributes
    ----------
    n_classes, n_features : int
        Classes and feature width (the paper: 64 x 1536).
    n_train, n_test : int
        Samples per split (stratified: every class gets the same share, +-1).
    separation : float
        Spread of the class prototypes in units of the within-class noise;
        larger is easier.
    activation : {"softplus", "relu"}
        Dense or sparse features.
    density : float
        ``relu`` only: fraction of values that are non-zero (0 < density <= 1).
    channel_spread : float
        Standard deviation of the log channel scales (0: equal scales).
    seed : int
        Seed of prototypes, scales and samples.
    """

    n_classes: int = 64
    n_features: int = 1536
    n_train: int = 1280
    n_test: int = 640
    separation: float = 0.25
    activation: str = "softplus"
    density: float = 0.5
    channel_spread: float = 0.5
    seed: int = 0

    def validate(self) -> FeatureSetSpec:
        """Raise `ValueError` naming the first impossible field."""
        for name in ("n_classes", "n_features", "n_train", "n_test"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if self.n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {self.n_classes}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        if not 0 < self.density <= 1:
            raise ValueError(f"density must be in (0, 1], got {self.density!r}")
        if not (self.separation >= 0 and self.channel_spread >= 0):
            raise ValueError("separation and channel_spread must be >= 0")
        return self


def _balanced_labels(n: int, n_classes: int, rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(np.arange(n) % n_classes)


def _activate(h: np.ndarray, spec: FeatureSetSpec) -> np.ndarray:
    if spec.activation == "softplus":
        return np.logaddexp(0.0, h)
    # shift so that a ``density`` fraction of the latent values is positive (standard normal margins)
    from scipy.stats import norm

    offset = norm.ppf(1.0 - spec.density) * np.sqrt(1.0 + spec.separation**2)
    return np.maximum(h - offset, 0.0)


def make_feature_dataset(spec: FeatureSetSpec | None = None, **changes) -> Dataset:
    """Generate a train/test feature set (see module docstring).

    Parameters
    ----------
    spec : FeatureSetSpec, optional
        Shape and difficulty (defaults: the paper's 64 x 1536, dense).
    **changes
        Field overrides, e.g. ``separation=0.3``.

    Returns
    -------
    Dataset
        With ``meta`` recording the full specification.
    """
    spec = FeatureSetSpec(**{**asdict(spec or FeatureSetSpec()), **changes}).validate()
    rng = np.random.default_rng(spec.seed)
    prototypes = rng.normal(0.0, spec.separation, size=(spec.n_classes, spec.n_features))
    scales = np.exp(rng.normal(0.0, spec.channel_spread, size=spec.n_features))

    def sample(n):
        y = _balanced_labels(n, spec.n_classes, rng)
        h = prototypes[y] + rng.normal(size=(n, spec.n_features))
        return (_activate(h, spec) * scales).astype(np.float32), y.astype(np.int64)

    X_train, y_train = sample(spec.n_train)
    X_test, y_test = sample(spec.n_test)
    names = [f"class{k:02d}" for k in range(spec.n_classes)]
    meta = dict(source="colanet_brian.synthetic", synthetic=asdict(spec), split="generated train/test")
    return Dataset(X_train, y_train, X_test, y_test, names, f"synthetic-{spec.n_classes}x{spec.n_features}", meta)


def save_feature_npz(data: Dataset, path: str | Path) -> Path:
    """Write a `Dataset` as a feature file with a fixed split (``X, y, class_names, split``), atomically."""
    X = np.concatenate([data.X_train, data.X_test])
    y = np.concatenate([data.y_train, data.y_test])
    split = np.array(["train"] * len(data.y_train) + ["test"] * len(data.y_test))
    return atomic_save_npz(path, X=X, y=y, class_names=np.array(data.class_names), split=split)
