"""Rate coding and input validation: clear errors, nothing written on bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest
from helpers import TinyNet
from sklearn.exceptions import NotFittedError

from colanet_brian.classifier import CoLaNETClassifier
from colanet_brian.data.dataset import check_features
from colanet_brian.model.encoding import accumulator_reference, equalize_mass, feature_rates, saturation_level
from colanet_brian.model.params import CoLaNETParams, ParameterError, load_params


def test_accumulator_reproduces_spec_example():
    # spec §3.1: rate_code_counts([[0, 0.5, 1, -1]], S=1, reset) -> [[0, 5, 10, 0]]
    rho = feature_rates(np.array([[0.0, 0.5, 1.0, -1.0]]), 1.0)
    counts = accumulator_reference(rho, 10, 15, reset_per_sample=True).sum(axis=0)
    assert counts.tolist() == [0, 5, 10, 0]


def test_brian_input_group_matches_the_accumulator_reference(rng):
    rho = rng.uniform(0, 1, (3, 5))
    net = TinyNet(n_inputs=5, n_classes=2, n_microcolumns=1)
    net.run_frames(rho, learning=False)
    raster = np.zeros((45, 5), dtype=bool)
    for i, t in net.spikes("R"):
        raster[t, i] = True
    np.testing.assert_array_equal(raster, accumulator_reference(rho, 10, 15))


def test_poisson_input_rate_matches_rho():
    rho = np.array([[0.1, 0.5, 0.9]])
    net = TinyNet(n_inputs=3, n_classes=2, n_microcolumns=1, encoding="poisson", block_frames=200)
    net.run_frames(np.repeat(rho, 200, axis=0), learning=False)
    counts = np.bincount([i for i, _ in net.spikes("R")], minlength=3)
    n = 200 * 10  # presentation tacts
    expected = rho[0] * n
    assert np.all(np.abs(counts - expected) < 4 * np.sqrt(n * rho[0] * (1 - rho[0])))  # 4 sigma, binomial
    assert all(t % 15 < 10 for _, t in net.spikes("R"))  # silent part of every frame


def test_saturation_is_a_percentile_of_positive_features():
    X = np.array([[-1.0, 0.0, 1.0, 2.0], [3.0, 4.0, 0.0, -2.0]])
    assert saturation_level(X, 100) == 4.0
    assert saturation_level(X, 50) == 2.5
    with pytest.raises(ValueError, match="no positive feature"):
        saturation_level(-np.ones((2, 2)))


def test_mass_equalisation_scales_each_sample_to_the_reference_mass():
    X = np.array([[1.0, 3.0, -2.0], [0.5, 0.5, 0.0], [0.0, -1.0, 0.0]])
    Z = equalize_mass(X, 8.0)
    # positive mass 4 -> x2; mass 1 -> x8; no positive feature -> unchanged (hand-computed)
    np.testing.assert_allclose(Z, [[2.0, 6.0, -4.0], [4.0, 4.0, 0.0], [0.0, -1.0, 0.0]])
    with pytest.raises(ValueError, match="reference mass"):
        equalize_mass(X, 0.0)


def test_mass_equalisation_gives_faint_samples_the_mean_drive():
    X = np.array([[4.0, 4.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0], [2.0, 0.0, 2.0, 2.0]])
    clf = CoLaNETClassifier(CoLaNETParams(input_normalization="l1", saturation=100.0, n_copies=1))
    clf.initialize(X, ["a", "b"])
    assert clf.input_mass == pytest.approx((8 + 2 + 6) / 3)
    # every sample now delivers the same expected input spikes per tact: mean mass / S
    np.testing.assert_allclose(clf.rates(X).sum(axis=1), clf.input_mass / 100.0)
    np.testing.assert_allclose(clf.rates(X / 16), clf.rates(X))  # the input scale no longer matters
    spec = CoLaNETClassifier(CoLaNETParams(saturation=100.0, n_copies=1, input_normalization="none"))
    spec.initialize(X, ["a", "b"])
    np.testing.assert_allclose(spec.rates(X).sum(axis=1), [0.08, 0.02, 0.06])


@pytest.mark.parametrize("X, message", [
    (np.array([[1.0, np.nan]]), "NaN"),
    (np.array([[1.0, np.inf]]), "NaN/inf"),
    (np.ones(4), "2-D"),
    (np.ones((0, 4)), "empty"),
    (np.array([["a", "b"]]), "real numbers"),
])
def test_bad_features_are_rejected(X, message):
    with pytest.raises(ValueError, match=message):
        check_features(X)


def test_classifier_rejects_bad_labels_and_shapes(digits_small):
    Xtr, ytr, Xte, yte, names = digits_small
    clf = CoLaNETClassifier(CoLaNETParams(n_copies=1, n_microcolumns=2), progress=False)
    with pytest.raises(ValueError, match="outside the 10 known classes"):
        clf.fit(Xtr, np.where(ytr == 3, 12, ytr), names)
    with pytest.raises(ValueError, match="one label per sample"):
        clf.fit(Xtr, ytr[:-1], names)
    with pytest.raises(NotFittedError, match="not trained"):
        clf.evaluate(Xte, yte)


@pytest.mark.parametrize("changes, message", [
    (dict(w_min=0.1), "w_min < 0 < w_max"),
    (dict(present_tacts=20), "exceeds frame_tacts"),
    (dict(n_copies=0), "n_copies must be >= 1"),
    (dict(chartime=0.5), "chartime"),
    (dict(d_h=0.2), "d_h must be <= 0"),
    (dict(force_mode="sometimes"), "force_mode"),
    (dict(weight_scale=-2), "weight_scale"),
    (dict(label_tact=14), "label_tact"),
    (dict(input_normalization="l2"), "input_normalization"),
])
def test_impossible_parameters_are_rejected(changes, message):
    with pytest.raises(ParameterError, match=message):
        CoLaNETParams(**changes).validate()


def test_parameter_files_round_trip_and_reject_unknown_keys(tmp_path):
    p = CoLaNETParams(reward=0.42, n_microcolumns=7)
    p.to_json(tmp_path / "p.json")
    assert CoLaNETParams.from_json(tmp_path / "p.json") == p
    (tmp_path / "bad.json").write_text(json.dumps({"rewrd": 0.3}))
    with pytest.raises(ParameterError, match="unknown parameter"):
        CoLaNETParams.from_json(tmp_path / "bad.json")
    with pytest.raises(FileNotFoundError):
        load_params("no_such_parameter_set")
    assert load_params("default") == CoLaNETParams()


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "colanet_brian.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.parametrize("payload, message", [
    (dict(X=np.array([[1.0, np.nan], [0.0, 1.0]]), y=np.array([0, 1])), "NaN"),
    (dict(X=np.ones((4, 3)), y=np.array([0, 1, 2, 9]), class_names=np.array(["a", "b", "c"])), "labels must lie"),
    (dict(X=np.ones((4, 3))), "lacks array"),
    (dict(X=np.ones((0, 3)), y=np.zeros(0, dtype=int)), "empty"),
])
def test_cli_bad_feature_file_fails_clearly_and_writes_nothing(tmp_path, payload, message):
    np.savez(tmp_path / "bad.npz", **payload)
    out = tmp_path / "out"
    result = _cli("run", "--dataset", str(tmp_path / "bad.npz"), "--out", str(out), "--no-progress", cwd=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr
    assert not out.exists()


def test_cli_missing_and_corrupt_files(tmp_path):
    result = _cli("evaluate", str(tmp_path / "nope.npz"), str(tmp_path / "f.npz"), cwd=tmp_path)
    assert result.returncode == 1 and "model file not found" in result.stderr
    (tmp_path / "corrupt.npz").write_bytes(b"not a zip file")
    result = _cli("train", str(tmp_path / "corrupt.npz"), "-o", str(tmp_path / "m.npz"), cwd=tmp_path)
    assert result.returncode == 1 and "not a readable .npz" in result.stderr
    assert not (tmp_path / "m.npz").exists()
    result = _cli("run", "--set", "reward=-1", "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert result.returncode == 1 and "reward" in result.stderr and not (tmp_path / "o").exists()


@pytest.mark.parametrize("encoding", ["accumulator", "poisson"])
def test_per_copy_input_streams_keep_copy_zero_and_decorrelate_the_others(digits_small, build_cache, encoding):
    """Per-copy inputs: copy 0 sees exactly the shared input (same spikes), copy 1 its own stream."""
    Xtr, ytr, Xte, yte, names = digits_small
    runs = {}
    for streams in ("shared", "per_copy"):
        params = CoLaNETParams(n_copies=2, n_microcolumns=3, encoding=encoding, input_streams=streams)
        clf = CoLaNETClassifier(params, backend="cpp", seed=1, cache_dir=build_cache, record_spikes=True,
                                progress=False)
        clf.fit(Xtr, ytr, names, record_frames=[0, 1])
        runs[streams] = clf
    shared, own = runs["shared"], runs["per_copy"]
    np.testing.assert_array_equal(shared.training.counts[:, 0], own.training.counts[:, 0])
    w_shared, w_own = (c.learned_state()["R_L.w"].reshape(64, 2, -1) for c in (shared, own))
    np.testing.assert_array_equal(w_shared[:, 0], w_own[:, 0])
    assert not np.array_equal(w_shared[:, 1], w_own[:, 1])
    # the recorded input raster is copy 0's, i.e. the shared one
    for a, b in zip(shared.training.spikes["R_spikes"], own.training.spikes["R_spikes"], strict=True):
        np.testing.assert_array_equal(a, b)
    assert own.simulator.get_state()["R.a"].shape == (2 * 64,)
