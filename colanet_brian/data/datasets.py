"""Data sets as train/test feature matrices with class names.

``load_dataset`` understands

* ``"digits"``: scikit-learn's bundled 8x8 digits, pixels as features
  (0..16), stratified split;
* a path to an ``.npz`` feature file with ``X`` (float [N, D]), ``y`` (int [N]),
  optional ``class_names`` and optional ``split`` (``"train"``/``"test"`` per
  row); without ``split`` a stratified split is drawn with the seed.

Other loaders (Fashion-MNIST IDX files, image folders, feature caches) live
in `colanet_brian.data_sources` and register themselves in `LOADERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .encoding import check_features

__all__ = ["Dataset", "load_dataset", "load_npz_features", "stratified_split", "LOADERS"]


@dataclass
class Dataset:
    """A train/test split of features and labels.

    Attributes
    ----------
    X_train, X_test : ndarray, shape (n, n_features)
    y_train, y_test : ndarray of int
        Class indices into ``class_names``.
    class_names : list of str
    name : str
        Where the data came from.
    meta : dict
        Provenance: sizes, split rule, source files, encoder, ...
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: list
    name: str
    meta: dict = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        """Input width."""
        return self.X_train.shape[1]

    def summary(self) -> dict:
        """JSON-ready description."""
        return dict(name=self.name, n_train=int(len(self.y_train)), n_test=int(len(self.y_test)),
                    n_features=int(self.n_features), n_classes=len(self.class_names),
                    class_names=list(self.class_names), **self.meta)


def stratified_split(y: np.ndarray, test_size: float = 0.2, seed: int = 0):
    """Indices of a stratified, shuffled train/test split (scikit-learn's rule)."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    train, test = train_test_split(idx, test_size=test_size, stratify=y, random_state=seed)
    return np.asarray(train), np.asarray(test)


def _digits(seed: int = 0, test_size: float = 0.2, **_) -> Dataset:
    from sklearn.datasets import load_digits

    digits = load_digits()
    train, test = stratified_split(digits.target, test_size, seed)
    return Dataset(digits.data[train], digits.target[train], digits.data[test], digits.target[test],
                   [str(c) for c in digits.target_names], "digits",
                   dict(source="sklearn.datasets.load_digits", features="pixels (0..16)", image_shape=[8, 8],
                        split=f"stratified {1 - test_size:.0%}/{test_size:.0%}, seed {seed}"))


def load_npz_features(path: str | Path, seed: int = 0, test_size: float = 0.2, **_) -> Dataset:
    """Load an ``.npz`` feature file (see module docstring); validate everything.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        For missing arrays, wrong shapes, NaN/inf features, bad labels or an
        unknown split value.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"feature file not found: {path}")
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as err:  # zipfile / pickle errors: not an npz
        raise ValueError(f"{path} is not a readable .npz file: {err}") from None
    with data:
        missing = {"X", "y"} - set(data.files)
        if missing:
            raise ValueError(f"{path} lacks array(s) {sorted(missing)} (needs X [N, D] and y [N])")
        X = check_features(data["X"], f"{path.name}:X")
        y = np.asarray(data["y"])
        class_names = [str(c) for c in data["class_names"]] if "class_names" in data.files else None
        split = np.asarray(data["split"]).astype(str) if "split" in data.files else None
        extra = {k: data[k].tolist() for k in ("encoder", "weights_id") if k in data.files}
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"{path.name}: y must be 1-D with {len(X)} labels, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{path.name}: y must hold integer class indices, got dtype {y.dtype}")
    n_classes = len(class_names) if class_names is not None else int(y.max()) + 1
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"{path.name}: labels must lie in 0..{n_classes - 1} (the class list), "
                         f"got {int(y.min())}..{int(y.max())}")
    class_names = class_names or [str(k) for k in range(n_classes)]
    if split is not None:
        unknown = set(np.unique(split)) - {"train", "test"}
        if unknown or len(split) != len(y):
            raise ValueError(f"{path.name}: split must be 'train'/'test' per row, got {sorted(unknown)[:5]}")
        train, test = np.nonzero(split == "train")[0], np.nonzero(split == "test")[0]
        rule = "from file"
    else:
        train, test = stratified_split(y, test_size, seed)
        rule = f"stratified {1 - test_size:.0%}/{test_size:.0%}, seed {seed}"
    if len(train) == 0 or len(test) == 0:
        raise ValueError(f"{path.name}: the split leaves an empty train or test set")
    return Dataset(X[train], y[train], X[test], y[test], class_names, str(path),
                   dict(source=str(path), split=rule, **extra))


#: Named data sets: name -> loader(seed=..., test_size=..., path=...).
LOADERS: dict[str, Callable[..., Dataset]] = {"digits": _digits}


def load_dataset(name: str | Path = "digits", seed: int = 0, test_size: float = 0.2, **kwds) -> Dataset:
    """Load a named data set or an ``.npz`` feature file.

    Parameters
    ----------
    name : str or path
        A key of `LOADERS` or a path to a ``.npz`` file.
    seed : int
        Seed of the stratified split.
    test_size : float
        Test fraction where the data set has no fixed split.
    """
    try:  # optional loaders register themselves on import
        from . import data_sources  # noqa: F401
    except ImportError:
        pass
    key = str(name)
    if key in LOADERS:
        return LOADERS[key](seed=seed, test_size=test_size, **kwds)
    if Path(key).is_dir():
        raise ValueError(f"{key} is a folder: for images (one sub-folder per class) choose an encoder, e.g. "
                         "`--encoder efficientnet_lite0` (load_encoded), or pass an .npz feature file")
    if key.endswith(".npz") or Path(key).exists():
        return load_npz_features(key, seed=seed, test_size=test_size)
    raise ValueError(f"unknown data set {key!r}: use one of {sorted(LOADERS)} or a path to an .npz feature file")
