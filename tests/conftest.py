"""Shared fixtures: a small real data set and one standalone build cache per test session."""

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may download during tests


@pytest.fixture(scope="session")
def digits_small():
    """A stratified digits subset: 120 training and 60 test samples (pixels 0..16)."""
    from colanet_brian.data.datasets import load_dataset

    data = load_dataset("digits", seed=0)
    return data.X_train[:120], data.y_train[:120], data.X_test[:60], data.y_test[:60], data.class_names


@pytest.fixture(scope="session")
def build_cache(tmp_path_factory):
    """One standalone build cache for the whole session (each network shape compiles once)."""
    return str(tmp_path_factory.mktemp("colanet-cache"))


@pytest.fixture()
def rng():
    return np.random.default_rng(12345)
