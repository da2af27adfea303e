"""Image data sources: IDX / Fashion-MNIST, image folders, split files, the encoded-feature cache."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from colanet_brian.data import sources as ds
from colanet_brian.data.datasets import LOADERS, load_dataset
from colanet_brian.data.features import load_encoded

# --------------------------------------------------------------------------- helpers


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> Path:
    """An IDX file written from the format description (independent of the reader)."""
    codes = {np.dtype("u1"): 0x08, np.dtype("i1"): 0x09, np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C,
             np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


def fake_fashion_mnist(folder: Path, n_train=6, n_test=4, seed=0) -> dict:
    """Four small IDX files with the Fashion-MNIST names (gz for images, raw for labels)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = dict(train_images=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
                  train_labels=(np.arange(n_train) % 10).astype(np.uint8),
                  test_images=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
                  test_labels=(9 - np.arange(n_test) % 10).astype(np.uint8))
    write_idx(folder / "train-images-idx3-ubyte.gz", arrays["train_images"], compress=True)
    write_idx(folder / "train-labels-idx1-ubyte", arrays["train_labels"])
    write_idx(folder / "t10k-images-idx3-ubyte.gz", arrays["test_images"], compress=True)
    write_idx(folder / "t10k-labels-idx1-ubyte", arrays["test_labels"])
    return arrays


def make_folder(root: Path, classes=("ant", "bee", "cat"), per_class=4, seed=0) -> Path:
    from PIL import Image

    rng = np.random.default_rng(seed)
    for c in classes:
        (root / c).mkdir(parents=True)
        for k in range(per_class):
            Image.fromarray(rng.integers(0, 256, (24, 20, 3), dtype=np.uint8)).save(root / c / f"img{k}.png")
    return root


# --------------------------------------------------------------------------- IDX


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype", ["u1", ">i4", ">f8"])
def test_read_idx_round_trip(tmp_path, compress, dtype):
    array = (np.arange(2 * 3 * 5) * 7 - 11).reshape(2, 3, 5)
    array = (array % 256 if dtype == "u1" else array).astype(dtype)
    back = ds.read_idx(write_idx(tmp_path / "a.idx", array, compress))
    np.testing.assert_array_equal(back, array)
    assert back.shape == (2, 3, 5)


def test_read_idx_rejects_bad_files(tmp_path):
    good = write_idx(tmp_path / "good", np.arange(12, dtype="u1").reshape(3, 4))
    (tmp_path / "truncated").write_bytes(good.read_bytes()[:-3])
    with pytest.raises(ValueError, match="truncated"):
        ds.read_idx(tmp_path / "truncated")
    (tmp_path / "png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    with pytest.raises(ValueError, match="not an IDX file"):
        ds.read_idx(tmp_path / "png")
    (tmp_path / "badgz").write_bytes(gzip.compress(good.read_bytes())[:-8])
    with pytest.raises(ValueError, match="gzip"):
        ds.read_idx(tmp_path / "badgz")
    with pytest.raises(FileNotFoundError):
        ds.read_idx(tmp_path / "missing")


# --------------------------------------------------------------------------- Fashion-MNIST


def test_fashion_mnist_from_a_folder(tmp_path):
    arrays = fake_fashion_mnist(tmp_path / "fm")
    data = load_dataset("fashion-mnist", path=tmp_path / "fm")
    assert data.X_train.shape == (6, 784) and data.X_test.shape == (4, 784)
    np.testing.assert_array_equal(data.X_train[2], arrays["train_images"][2].ravel())  # pixels 0..255
    np.testing.assert_array_equal(data.y_test, arrays["test_labels"])
    assert data.class_names[9] == "Ankle boot" and len(data.class_names) == 10

    images = ds.fashion_mnist_images(tmp_path / "fm")
    assert len(images) == 10 and images.split.tolist() == ["train"] * 6 + ["test"] * 4
    picture = images.load(7)  # test image 1
    assert picture.mode == "L" and picture.size == (28, 28)
    np.testing.assert_array_equal(np.asarray(picture), arrays["test_images"][1])
    assert images.ids[7] == "test/1" and images.labels[7] == arrays["test_labels"][1]


def test_fashion_mnist_missing_files_say_how_to_install(tmp_path):
    (tmp_path / "half").mkdir()
    write_idx(tmp_path / "half" / "train-images-idx3-ubyte", np.zeros((1, 28, 28), "u1"))
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        ds.find_fashion_mnist(tmp_path / "half")


def _real_fashion_mnist():
    try:
        return ds.load_fashion_mnist_arrays()
    except FileNotFoundError as err:
        pytest.skip(f"real Fashion-MNIST not installed ({str(err)[:80]}...)")


def test_real_fashion_mnist_files():
    """The Debian package's files: official sizes, balanced classes, known first labels."""
    arrays = _real_fashion_mnist()
    assert arrays["train_images"].shape == (60000, 28, 28) and arrays["train_images"].dtype == np.uint8
    assert arrays["test_images"].shape == (10000, 28, 28)
    assert arrays["train_labels"][0] == 9 and arrays["test_labels"][0] == 9  # both start with an ankle boot
    np.testing.assert_array_equal(np.bincount(arrays["train_labels"]), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(arrays["test_labels"]), [1000] * 10)
    data = load_dataset("fashion-mnist")
    assert data.X_train.shape == (60000, 784) and data.X_test.shape == (10000, 784)
    assert data.X_train.max() == 255 and data.X_train.min() == 0
    assert data.class_names[data.y_train[0]] == "Ankle boot"


# --------------------------------------------------------------------------- image folders


def test_image_folder_labels_ids_and_ignored_files(tmp_path):
    root = make_folder(tmp_path / "imgs")
    (root / "bee" / "README.txt").write_text("not an image")
    (root / "cat" / ".hidden.png").write_bytes(b"")
    (root / "cat" / "nested").mkdir()
    (root / "ant" / "img0.png").rename(root / "cat" / "nested" / "extra.PNG")
    images = ds.image_folder(root)
    assert images.class_names == ["ant", "bee", "cat"]
    assert len(images) == 12 and images.split is None
    assert [images.class_names[y] for y in images.labels] == [i.split("/")[0] for i in images.ids]
    assert "cat/nested/extra.PNG" in images.ids.tolist()
    assert images.meta["n_ignored_files"] == 1 and images.meta["ignored_files"] == ["bee/README.txt"]
    assert images.meta["class_counts"] == {"ant": 3, "bee": 4, "cat": 5}
    assert images.load(0).size == (20, 24)


def test_image_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        ds.image_folder(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no class sub-folders"):
        ds.image_folder(tmp_path / "empty")
    root = make_folder(tmp_path / "imgs")
    (root / "dog").mkdir()
    (root / "dog" / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="dog holds no images"):
        ds.image_folder(root)


def test_train_val_layout_is_a_fixed_split(tmp_path):
    make_folder(tmp_path / "r" / "train", per_class=3)
    make_folder(tmp_path / "r" / "val", classes=("ant", "cat"), per_class=1, seed=1)
    images = ds.image_folder(tmp_path / "r")
    assert images.class_names == ["ant", "bee", "cat"]
    assert (images.split == "train").sum() == 9 and (images.split == "test").sum() == 2
    assert all(i.startswith("val/") for i in images.ids[images.split == "test"])


def test_split_file(tmp_path):
    root = make_folder(tmp_path / "imgs", per_class=2)
    ids = ds.image_folder(root).ids.tolist()
    lines = ["path,split", "# a comment"] + [f"{i},{'test' if i.endswith('img1.png') else 'train'}" for i in ids]
    (tmp_path / "split.csv").write_text("\n".join(lines) + "\n")
    images = ds.image_folder(root, split_file=tmp_path / "split.csv")
    assert [s == "test" for s in images.split] == [i.endswith("img1.png") for i in images.ids]

    def bad(text, match):
        (tmp_path / "bad.txt").write_text(text)
        with pytest.raises(ValueError, match=match):
            ds.image_folder(root, split_file=tmp_path / "bad.txt")

    bad("\n".join(f"{i} train" for i in ids[1:]), "have no split")
    bad("\n".join(f"{i} train" for i in ids) + "\nant/ghost.png test", "match no image")
    bad("\n".join(f"{i}\ttrain" for i in ids) + f"\n{ids[0]} test", "listed twice")
    bad(f"{ids[0]} holdout", "split must be train or test")


def test_sample_is_seeded_and_keeps_rows_aligned(tmp_path):
    images = ds.image_folder(make_folder(tmp_path / "imgs", per_class=5))
    sub = images.sample(6, seed=3)
    assert len(sub) == 6 and sub.ids.tolist() == images.sample(6, seed=3).ids.tolist()
    assert sub.ids.tolist() != images.sample(6, seed=4).ids.tolist()
    rows = [images.ids.tolist().index(i) for i in sub.ids]
    assert rows == sorted(rows)
    np.testing.assert_array_equal(np.asarray(sub.load(2)), np.asarray(images.load(rows[2])))
    assert sub.fingerprint() != images.fingerprint()


def test_digits_as_images():
    from sklearn.datasets import load_digits

    images = ds.digits_images()
    digits = load_digits()
    assert len(images) == 1797 and images.class_names == [str(k) for k in range(10)]
    picture = np.asarray(images.load(5))
    assert picture.shape == (8, 8)
    np.testing.assert_array_equal(picture, np.rint(digits.images[5] * 255 / 16))


def test_image_source_errors(tmp_path):
    with pytest.raises(ValueError, match="feature file"):
        ds.image_source(tmp_path / "x.npz")
    with pytest.raises(FileNotFoundError, match="unknown image source"):
        ds.image_source("no-such-set")
    with pytest.raises(ValueError, match="split-file"):
        ds.image_source("digits", split_file=tmp_path / "s.txt")


def test_loaders_registered():
    assert {"digits", "fashion-mnist", "image-folder"} <= set(LOADERS)


# --------------------------------------------------------------------------- encoded data sets and the cache


def test_load_encoded_caches_skips_corrupt_and_splits_by_seed(tmp_path, monkeypatch):
    pytest.importorskip("timm")
    from colanet_brian.data import features

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    root = make_folder(tmp_path / "imgs", per_class=5)
    (root / "cat" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    kw = dict(random_weights=True, cache=tmp_path / "cache", progress=False, threads=1)

    data = load_encoded(root, "test_efficientnet", seed=0, test_size=0.4, **kw)
    assert data.n_features == 256 and len(data.y_train) + len(data.y_test) == 15
    assert len(data.y_test) == 6 and np.bincount(data.y_test).tolist() == [2, 2, 2]  # stratified
    assert data.meta["n_skipped"] == 1 and data.meta["skipped"] == ["cat/broken.png"]
    assert "random-init" in data.meta["weights_id"]
    cached = list((tmp_path / "cache").glob("*.npz"))
    assert len(cached) == 1 and data.meta["features_file"] == str(cached[0])

    def no_encoding(*a, **k):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(features, "extract_features", no_encoding)
    again = load_encoded(root, "test_efficientnet", seed=0, test_size=0.4, **kw)
    np.testing.assert_array_equal(again.X_test, data.X_test)
    other = load_dataset("image-folder", seed=1, test_size=0.4, path=root, encoder="test_efficientnet", **kw)
    assert sorted(other.X_test[:, 0].tolist()) != sorted(data.X_test[:, 0].tolist())  # another seed, another split
    both = np.concatenate([other.X_train, other.X_test])
    np.testing.assert_array_equal(np.sort(both[:, 0]), np.sort(np.concatenate([data.X_train, data.X_test])[:, 0]))


def test_load_encoded_keeps_a_fixed_split(tmp_path, monkeypatch):
    pytest.importorskip("timm")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    fake_fashion_mnist(tmp_path / "fm", n_train=6, n_test=4)
    data = load_encoded("fashion-mnist", "test_efficientnet", data_dir=tmp_path / "fm", random_weights=True,
                           cache=False, progress=False, threads=1)
    assert data.X_train.shape == (6, 256) and data.X_test.shape == (4, 256)
    assert data.meta["split"] == "from file" and data.meta["features_file"] is None
