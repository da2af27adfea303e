"""Synthetic feature sets (colanet_brian.data.synthetic): shape, sparsity, determinism, difficulty."""

import numpy as np
import pytest

from colanet_brian.data.datasets import load_dataset
from colanet_brian.data.synthetic import FeatureSetSpec, make_feature_dataset, save_feature_npz

SMALL = dict(n_classes=8, n_features=64, n_train=400, n_test=200)


def test_dense_features_are_positive_and_sparse_ones_have_the_requested_density():
    dense = make_feature_dataset(activation="softplus", **SMALL)
    assert dense.X_train.shape == (400, 64) and dense.X_test.shape == (200, 64)
    assert np.all(dense.X_train > 0)
    sparse = make_feature_dataset(activation="relu", density=0.3, **SMALL)
    assert np.all(sparse.X_train >= 0)
    assert np.mean(sparse.X_train > 0) == pytest.approx(0.3, abs=0.03)
    assert np.bincount(dense.y_train).tolist() == [50] * 8  # balanced classes


def test_same_seed_same_data_other_seed_other_data():
    a, b = make_feature_dataset(seed=3, **SMALL), make_feature_dataset(seed=3, **SMALL)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.allclose(a.X_train, make_feature_dataset(seed=4, **SMALL).X_train)


def _nearest_centroid_accuracy(data):
    centroids = np.stack([data.X_train[data.y_train == k].mean(axis=0) for k in range(len(data.class_names))])
    dist = ((data.X_test[:, None, :] - centroids[None]) ** 2).sum(axis=-1)
    return float(np.mean(np.argmin(dist, axis=1) == data.y_test))


def test_separation_sets_the_difficulty():
    accs = [_nearest_centroid_accuracy(make_feature_dataset(separation=s, **SMALL)) for s in (0.0, 0.3, 1.0)]
    assert accs[0] < 0.25  # no class signal: near chance (1/8)
    assert accs[0] < accs[1] < accs[2]
    assert accs[2] > 0.95


def test_impossible_specifications_are_named():
    with pytest.raises(ValueError, match="density"):
        FeatureSetSpec(density=0.0).validate()
    with pytest.raises(ValueError, match="activation"):
        FeatureSetSpec(activation="tanh").validate()
    with pytest.raises(ValueError, match="n_classes"):
        FeatureSetSpec(n_classes=1).validate()


def test_saved_file_loads_with_its_fixed_split(tmp_path):
    data = make_feature_dataset(**SMALL)
    path = save_feature_npz(data, tmp_path / "syn.npz")
    back = load_dataset(path)
    np.testing.assert_array_equal(back.X_train, data.X_train)
    np.testing.assert_array_equal(back.y_test, data.y_test)
    assert back.meta["split"] == "from file"
