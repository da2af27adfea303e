"""A data set as train/test feature matrices with class names, and its checks.

`Dataset` holds the split, `check_features` validates a feature matrix
(scikit-learn's wording), `stratified_split` draws the seeded split and
`load_npz_features` reads an ``.npz`` feature file with ``X`` (float [N, D]),
``y`` (int [N]), optional ``class_names`` and optional ``split``
(``"train"``/``"test"`` per row); without ``split`` a stratified split is
drawn with the seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["Dataset", "check_features", "load_npz_features", "stratified_split"]


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


def check_features(X, name: str = "X", n_inputs: int | None = None, owner: str = "the model") -> np.ndarray:
    """Validate a feature matrix; return it as a float64 array.

    Raises
    ------
    ValueError
        For a non-2-D or empty array, complex numbers, NaN or infinite values,
        or a width that differs from ``n_inputs``.
    TypeError
        For a sparse matrix or an object array that does not hold numbers.
    """
    if hasattr(X, "tocsr") or hasattr(X, "toarray"):  # scipy.sparse: refuse clearly instead of densifying
        raise TypeError(f"{name} is a sparse matrix; sparse input is not supported, pass a dense array")
    X = np.asarray(X)
    # messages use scikit-learn's wording where its estimator checks look for it
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array [n_samples, n_features], got shape {X.shape}. Reshape your "
                         "data (X.reshape(-1, 1) for one feature, X.reshape(1, -1) for one sample)")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} is empty: {X.shape[1]} feature(s) (shape={X.shape}) while a minimum of 1 is "
                         "required.")
    if np.issubdtype(X.dtype, np.complexfloating):
        raise ValueError(f"{name} must be real numbers, got dtype {X.dtype}. Complex data not supported")
    if X.dtype == object:  # numbers held in an object array (pandas, lists of Decimals): convert or refuse
        try:
            X = X.astype(np.float64)
        except (TypeError, ValueError) as err:  # TypeError keeps Python's own words ("argument must be ...")
            raise TypeError(f"{name} must be real numbers, got dtype object with non-numeric values: {err}") from None
    if not np.issubdtype(X.dtype, np.number):
        raise ValueError(f"{name} must be real numbers, got dtype {X.dtype}")
    X = X.astype(np.float64, copy=False)
    bad = ~np.isfinite(X)
    if bad.any():
        rows = np.unique(np.nonzero(bad)[0])
        raise ValueError(f"{name} has {int(bad.sum())} NaN/inf value(s), in rows {rows[:10].tolist()}"
                         + (" ..." if rows.size > 10 else ""))
    if n_inputs is not None and X.shape[1] != n_inputs:
        # scikit-learn's wording (its estimator checks look for it)
        raise ValueError(f"{name} has {X.shape[1]} features, but {owner} is expecting {n_inputs} features as input")
    return X


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
