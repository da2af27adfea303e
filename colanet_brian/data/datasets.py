"""Data sets as train/test feature matrices with class names.

``load_dataset`` understands

* ``"digits"``: scikit-learn's bundled 8x8 digits, pixels as features
  (0..16), stratified split;
* a path to an ``.npz`` feature file with ``X`` (float [N, D]), ``y`` (int [N]),
  optional ``class_names`` and optional ``split`` (``"train"``/``"test"`` per
  row); without ``split`` a stratified split is drawn with the seed.

* ``"fashion-mnist"``: the Fashion-MNIST IDX files (`colanet_brian.data.sources`);
* ``"image-folder"``: an image folder encoded by a frozen network
  (`colanet_brian.data.features.load_encoded`).

`Dataset`, `load_npz_features` and `stratified_split` live in
`colanet_brian.data.dataset`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .dataset import Dataset, load_npz_features, stratified_split
from .features import _image_folder_loader
from .sources import fashion_mnist

__all__ = ["load_dataset", "LOADERS"]


def _digits(seed: int = 0, test_size: float = 0.2, **_) -> Dataset:
    from sklearn.datasets import load_digits

    digits = load_digits()
    train, test = stratified_split(digits.target, test_size, seed)
    return Dataset(digits.data[train], digits.target[train], digits.data[test], digits.target[test],
                   [str(c) for c in digits.target_names], "digits",
                   dict(source="sklearn.datasets.load_digits", features="pixels (0..16)", image_shape=[8, 8],
                        split=f"stratified {1 - test_size:.0%}/{test_size:.0%}, seed {seed}"))


#: Named data sets: name -> loader(seed=..., test_size=..., path=...).
LOADERS: dict[str, Callable[..., Dataset]] = {"digits": _digits, "fashion-mnist": fashion_mnist,
                                              "image-folder": _image_folder_loader}


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
    key = str(name)
    if key in LOADERS:
        return LOADERS[key](seed=seed, test_size=test_size, **kwds)
    if Path(key).is_dir():
        raise ValueError(f"{key} is a folder: for images (one sub-folder per class) choose an encoder, e.g. "
                         "`--encoder efficientnet_lite0` (load_encoded), or pass an .npz feature file")
    if key.endswith(".npz") or Path(key).exists():
        return load_npz_features(key, seed=seed, test_size=test_size)
    raise ValueError(f"unknown data set {key!r}: use one of {sorted(LOADERS)} or a path to an .npz feature file")
