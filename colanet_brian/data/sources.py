"""Image sources: Fashion-MNIST IDX files, scikit-learn's digits and image folders.

* `fashion_mnist`: the real Fashion-MNIST IDX files (Debian package
  ``dataset-fashion-mnist``, ``$COLANET_FASHION_MNIST`` or ``path=``), the
  official 60,000/10,000 split, pixels (0..255) as features (the
  ``"fashion-mnist"`` entry of `colanet_brian.data.datasets.LOADERS`).

Image sets (`ImageSet`: lazily loaded images with labels, ids and an optional
fixed split) come from `image_source`: ``"fashion-mnist"``, ``"digits"``
(scikit-learn's 8x8 digits as grayscale images, upscaled by the encoder's
transform) or a folder path.  `colanet_brian.data.features.load_encoded` turns
one into a `Dataset` of encoder features through a cache of ``.npz`` files.

Nothing here imports torch or timm.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .dataset import Dataset

__all__ = ["ImageSet", "read_idx", "find_fashion_mnist", "load_fashion_mnist_arrays", "fashion_mnist",
           "fashion_mnist_images", "digits_images", "image_folder", "read_split_file", "image_source",
           "FASHION_MNIST_CLASSES", "IMAGE_EXTENSIONS"]

FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                         "Ankle boot"]
_FASHION_MNIST_FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
                        "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
_FASHION_MNIST_DIRS = ("/usr/share/datasets/fashion-mnist",)  # where the Debian package puts them
_FASHION_MNIST_INSTALL = ("install them with `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or "
                          "download the four *-ubyte.gz files from https://github.com/zalandoresearch/fashion-mnist "
                          "and set COLANET_FASHION_MNIST=DIR (or pass path=DIR / --data-dir DIR)")

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"})
_SPLIT_WORDS = {"train": "train", "test": "test", "val": "test", "valid": "test", "validation": "test"}


# --------------------------------------------------------------------------- image sets


@dataclass
class ImageSet:
    """Labelled images, loaded one at a time.

    Attributes
    ----------
    name : str
        Source (``fashion-mnist``, ``digits`` or the folder path).
    ids : ndarray of str
        One id per image: a path relative to the folder, or ``split/index``.
    labels : ndarray of int
        Class index per image.
    class_names : list of str
    reader : callable
        ``reader(k) -> PIL.Image`` for row ``k`` of the *original* set.
    split : ndarray of str, optional
        Fixed ``"train"``/``"test"`` per image, or None (drawn later with a seed).
    meta : dict
        Provenance (root, counts, split rule, ignored files, ...).
    index : ndarray of int, optional
        Rows of the original set this (sub)set holds; None means all.
    content_key : str
        Extra text folded into `fingerprint` (file sizes, IDX checksums).
    """

    name: str
    ids: np.ndarray
    labels: np.ndarray
    class_names: list
    reader: Callable
    split: np.ndarray | None = None
    meta: dict = field(default_factory=dict)
    index: np.ndarray | None = None
    content_key: str = ""

    def __len__(self) -> int:
        return len(self.ids)

    def load(self, i: int):
        """Image ``i`` of this set, decoded (raises on unreadable files)."""
        return self.reader(int(self.index[i]) if self.index is not None else int(i))

    def subset(self, rows, note: str) -> ImageSet:
        """The images at ``rows`` (in that order); ``note`` goes into ``meta['subset']``."""
        rows = np.asarray(rows, dtype=np.int64)
        base = self.index if self.index is not None else np.arange(len(self))
        return replace(self, ids=self.ids[rows], labels=self.labels[rows],
                       split=None if self.split is None else self.split[rows], index=base[rows],
                       meta=dict(self.meta, subset=note))

    def sample(self, limit: int | None, seed: int = 0) -> ImageSet:
        """A seeded random subset of ``limit`` images, kept in their original order (all if ``limit`` is None)."""
        if limit is None or limit >= len(self):
            return self
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        rows = np.sort(np.random.default_rng(seed).choice(len(self), size=limit, replace=False))
        return self.subset(rows, f"random {limit} of {len(self)}, seed {seed}")

    def fingerprint(self) -> str:
        """SHA-256 of what defines the set: ids, labels, split, class names, content key."""
        digest = hashlib.sha256()
        digest.update(json.dumps([self.name, list(self.class_names), self.content_key]).encode())
        digest.update("\0".join(map(str, self.ids)).encode())
        digest.update(np.asarray(self.labels, dtype=np.int64).tobytes())
        if self.split is not None:
            digest.update("\0".join(map(str, self.split)).encode())
        return digest.hexdigest()


# --------------------------------------------------------------------------- IDX / Fashion-MNIST

_IDX_DTYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzip-compressed or raw.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        For a bad magic number, a broken gzip stream, or a payload whose size
        does not match the header (truncated file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {path}")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":  # gzip magic, whatever the file name says
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise ValueError(f"{path}: broken gzip stream ({err})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (magic {raw[:4].hex() or 'empty'})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: IDX header truncated")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"{path}: header says {dims} ({expected} bytes of data) but the file holds "
                         f"{len(raw) - header} bytes (truncated or corrupt)")
    return np.frombuffer(raw, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def _idx_path(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def _dpkg_dirs() -> list[Path]:
    """Folders holding the Debian package's IDX files, as ``dpkg -L`` lists them."""
    try:
        listing = subprocess.run(["dpkg", "-L", "dataset-fashion-mnist"], capture_output=True, text=True,
                                 timeout=10)
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({Path(line).parent for line in listing.stdout.splitlines() if "-ubyte" in line})


def find_fashion_mnist(path: str | Path | None = None) -> Path:
    """The folder holding the four Fashion-MNIST IDX files.

    Looks in ``path`` if given, else in ``$COLANET_FASHION_MNIST``, the Debian
    package's folder and whatever ``dpkg -L dataset-fashion-mnist`` lists.

    Raises
    ------
    FileNotFoundError
        Naming the folders searched and how to install the files.
    """
    if path is not None:
        candidates = [Path(path)]
    else:
        env = os.environ.get("COLANET_FASHION_MNIST")
        candidates = ([Path(env)] if env else []) + [Path(d) for d in _FASHION_MNIST_DIRS]
        if not any(all(_idx_path(c, s) for s in _FASHION_MNIST_FILES.values()) for c in candidates):
            candidates += _dpkg_dirs()
    for folder in candidates:
        if all(_idx_path(folder, stem) for stem in _FASHION_MNIST_FILES.values()):
            return folder
    looked = ", ".join(str(c) for c in dict.fromkeys(candidates)) or "nowhere"
    raise FileNotFoundError(f"Fashion-MNIST IDX files ({', '.join(_FASHION_MNIST_FILES.values())}[.gz]) not found "
                            f"(looked in {looked}): {_FASHION_MNIST_INSTALL}")


@functools.lru_cache(maxsize=2)
def _fashion_mnist_cached(folder: str) -> dict:
    out = {key: read_idx(_idx_path(Path(folder), stem)) for key, stem in _FASHION_MNIST_FILES.items()}
    for part in ("train", "test"):
        images, labels = out[f"{part}_images"], out[f"{part}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"Fashion-MNIST {part} files in {folder} disagree: images {images.shape}, "
                             f"labels {labels.shape}")
        if labels.size and (labels.min() < 0 or labels.max() >= len(FASHION_MNIST_CLASSES)):
            raise ValueError(f"Fashion-MNIST {part} labels in {folder} leave 0..9")
        images.flags.writeable = labels.flags.writeable = False  # shared between callers
    out["folder"] = folder
    return out


def load_fashion_mnist_arrays(path: str | Path | None = None) -> dict:
    """The raw Fashion-MNIST arrays: ``train_images`` [60000, 28, 28] uint8, ``train_labels``, ``test_*``, ``folder``.

    The arrays are read-only and cached per folder.
    """
    return _fashion_mnist_cached(str(find_fashion_mnist(path).resolve()))


def fashion_mnist(seed: int = 0, test_size: float = 0.2, path: str | Path | None = None, n_train: int | None = None,
                  n_test: int | None = None, **_) -> Dataset:
    """Fashion-MNIST with pixels (0..255, float32, 784 features) and its official split.

    ``seed`` and ``test_size`` are ignored (the split is fixed); ``n_train`` /
    ``n_test`` keep the first images of each part, for quick runs.
    """
    arrays = load_fashion_mnist_arrays(path)
    Xtr, ytr = arrays["train_images"][:n_train], arrays["train_labels"][:n_train]
    Xte, yte = arrays["test_images"][:n_test], arrays["test_labels"][:n_test]
    return Dataset(Xtr.reshape(len(Xtr), -1).astype(np.float32), ytr.astype(np.int64),
                   Xte.reshape(len(Xte), -1).astype(np.float32), yte.astype(np.int64), list(FASHION_MNIST_CLASSES),
                   "fashion-mnist", dict(source=arrays["folder"], features="pixels (0..255)",
                                         split=f"official {len(ytr)}/{len(yte)}"))


def fashion_mnist_images(path: str | Path | None = None) -> ImageSet:
    """Fashion-MNIST as 70,000 grayscale 28x28 images (train first), with the official split."""
    from PIL import Image

    arrays = load_fashion_mnist_arrays(path)
    images = np.concatenate([arrays["train_images"], arrays["test_images"]])
    n_train, n_test = len(arrays["train_labels"]), len(arrays["test_labels"])
    ids = np.array([f"train/{k}" for k in range(n_train)] + [f"test/{k}" for k in range(n_test)])
    split = np.array(["train"] * n_train + ["test"] * n_test)
    labels = np.concatenate([arrays["train_labels"], arrays["test_labels"]]).astype(np.int64)
    content = hashlib.sha256(images.tobytes()).hexdigest()[:16]
    return ImageSet("fashion-mnist", ids, labels, list(FASHION_MNIST_CLASSES), lambda k: Image.fromarray(images[k]),
                    split=split, content_key=content,
                    meta=dict(folder=arrays["folder"], split=f"official {n_train}/{n_test}", image_size=[28, 28]))


def digits_images() -> ImageSet:
    """scikit-learn's 1,797 8x8 digits as grayscale images (0..16 scaled to 0..255); no fixed split."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.rint(digits.images * (255 / 16)).astype(np.uint8)
    ids = np.array([f"digits/{k}" for k in range(len(images))])
    return ImageSet("digits", ids, digits.target.astype(np.int64), [str(c) for c in digits.target_names],
                    lambda k: Image.fromarray(images[k]), meta=dict(image_size=[8, 8], pixels="0..16 x 255/16"))


# --------------------------------------------------------------------------- image folders


def _visible_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _scan_class(folder: Path, root: Path, ignored: list) -> list[str]:
    """Image files under one class folder (recursively, sorted), as paths relative to ``root``."""
    found = []
    for here, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            rel = (Path(here) / name).relative_to(root).as_posix()
            (found if Path(name).suffix.lower() in IMAGE_EXTENSIONS else ignored).append(rel)
    return found


def _split_layout(root: Path, subdirs: list[Path]) -> dict[str, Path] | None:
    """``{"train": root/train, "test": root/val}`` for a train/val(/test) layout, else None."""
    names = {p.name.lower(): p for p in subdirs}
    if "train" not in names or not set(names) <= {"train", "val", "test", "validation"} or len(names) < 2:
        return None
    if not all(_visible_dirs(p) for p in names.values()):
        return None
    if "test" in names and ("val" in names or "validation" in names):
        raise ValueError(f"{root} has both test/ and val/ folders: pass a split file to say which is the test set")
    return {("train" if k == "train" else "test"): p for k, p in names.items()}


def read_split_file(path: str | Path, ids) -> np.ndarray:
    """``"train"``/``"test"`` for each of ``ids`` from a split file.

    One image per line: ``relative/path,split`` (comma, tab or spaces), paths
    relative to the folder root; split is ``train`` or ``test`` (``val``,
    ``valid``, ``validation`` mean test). Blank lines, ``#`` comments and a
    ``path,split`` header are ignored.

    Raises
    ------
    ValueError
        For malformed lines, unknown split words, duplicates, entries that
        match no image, or images the file does not mention.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"split file not found: {path}")
    table = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p.strip() for p in (line.rsplit(",", 1) if "," in line else line.rsplit(None, 1))]
        if len(parts) != 2 or not parts[0]:
            raise ValueError(f"{path}:{number}: expected 'relative/path,split', got {line!r}")
        name, word = Path(parts[0]).as_posix(), parts[1].lower()
        if number == 1 and word == "split":
            continue  # header
        if word not in _SPLIT_WORDS:
            raise ValueError(f"{path}:{number}: split must be train or test (or val), got {parts[1]!r}")
        if name in table:
            raise ValueError(f"{path}:{number}: {name} is listed twice")
        table[name] = _SPLIT_WORDS[word]
    ids = [str(i) for i in ids]
    unknown = sorted(set(table) - set(ids))
    if unknown:
        raise ValueError(f"{path}: {len(unknown)} entr(y/ies) match no image under the root, e.g. {unknown[:3]}")
    missing = [i for i in ids if i not in table]
    if missing:
        raise ValueError(f"{path}: {len(missing)} image(s) have no split, e.g. {missing[:3]}")
    return np.array([table[i] for i in ids])


def _open_image(path: Path):
    from PIL import Image

    with Image.open(path) as image:
        image.load()  # decode now, so a corrupt file fails here and not later
        return image


def image_folder(root: str | Path, split_file: str | Path | None = None) -> ImageSet:
    """Images in ``root/<class>/...`` (ImageNet-subset layout), labelled by folder.

    ``root/train/<class>/`` with ``root/val/<class>/`` (or ``test/``) is read as
    a fixed split; otherwise the split comes from ``split_file`` (see
    `read_split_file`) or is drawn later with a seed. Files are not decoded
    here: unreadable images are found, skipped and listed during encoding.

    Raises
    ------
    FileNotFoundError
        If ``root`` is not a folder.
    ValueError
        For a root without class folders, a class folder without images, or a
        bad split file.
    """
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"image folder not found: {root}")
    subdirs = _visible_dirs(root)
    if not subdirs:
        raise ValueError(f"{root} has no class sub-folders (expected {root}/<class>/<image>)")
    layout = _split_layout(root, subdirs)
    if layout and split_file:
        raise ValueError(f"{root} already has train/ and val/ folders; a split file cannot be combined with them")
    parts = layout or {None: root}
    class_names = sorted({d.name for part in parts.values() for d in _visible_dirs(part)})
    ids, labels, split, ignored, counts = [], [], [], [], {}
    for part, folder in parts.items():
        for cls in _visible_dirs(folder):
            files = _scan_class(cls, root, ignored)
            if not files:
                raise ValueError(f"class folder {cls} holds no images (looked for {', '.join(sorted(IMAGE_EXTENSIONS))})")
            ids += files
            labels += [class_names.index(cls.name)] * len(files)
            split += [part] * len(files)
            counts[cls.name] = counts.get(cls.name, 0) + len(files)
    ids = np.array(ids)
    if layout:
        fixed, rule = np.array(split), f"folders {', '.join(f'{p.name}/={k}' for k, p in layout.items())}"
    elif split_file:
        fixed, rule = read_split_file(split_file, ids), f"split file {Path(split_file).resolve()}"
    else:
        fixed, rule = None, None
    sizes = [(root / i).stat().st_size for i in ids]
    meta = dict(root=str(root), n_images=len(ids), class_counts=counts, n_ignored_files=len(ignored),
                ignored_files=ignored[:20])
    if rule:
        meta["split"] = rule
    return ImageSet(str(root), ids, np.array(labels, dtype=np.int64), class_names,
                    lambda k: _open_image(root / ids[k]), split=fixed, meta=meta,
                    content_key=hashlib.sha256(np.asarray(sizes, np.int64).tobytes()).hexdigest()[:16])


def image_source(source: str | Path, split_file: str | Path | None = None,
                 data_dir: str | Path | None = None) -> ImageSet:
    """The `ImageSet` named by ``source``: ``fashion-mnist``, ``digits`` or an image folder path.

    Raises
    ------
    ValueError
        For feature files, unknown names, or a split file for a named set.
    FileNotFoundError
        For a path that does not exist.
    """
    key = str(source)
    if key in ("fashion-mnist", "digits"):
        if split_file:
            raise ValueError(f"{key} has a fixed or seeded split; --split-file applies to image folders")
        return fashion_mnist_images(data_dir) if key == "fashion-mnist" else digits_images()
    if key.endswith(".npz"):
        raise ValueError(f"{key} is a feature file, not images: use it directly (without an encoder)")
    if Path(key).expanduser().is_dir():
        return image_folder(key, split_file=split_file)
    raise FileNotFoundError(f"unknown image source {key!r}: use fashion-mnist, digits or an image folder "
                            f"(<root>/<class>/<image>)")
