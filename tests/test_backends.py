"""Backends agree spike for spike; seeds reproduce; trained models survive a save/load round trip."""

import numpy as np
import pytest

from colanet_brian.classifier import CoLaNETClassifier
from colanet_brian.model.params import CoLaNETParams

SMALL = dict(n_copies=2, n_microcolumns=4, saturation=16.0)


def _fit(backend, digits_small, cache, seed=0, **changes):
    Xtr, ytr, Xte, yte, names = digits_small
    params = CoLaNETParams(**{**SMALL, **changes})
    clf = CoLaNETClassifier(params, backend=backend, seed=seed, block_frames=60, cache_dir=cache,
                            record_spikes=True, progress=False)
    clf.fit(Xtr, ytr, names)
    return clf, clf.evaluate(Xte, yte)


@pytest.mark.parametrize("noise", [False, True])
def test_runtime_and_cpp_standalone_give_identical_spikes(digits_small, build_cache, noise):
    changes = {} if noise else dict(s_stoch=0.0, wta_random=False)
    runtime, rt_test = _fit("numpy", digits_small, build_cache, **changes)
    compiled, cpp_test = _fit("cpp", digits_small, build_cache, **changes)
    assert runtime.training.counts.sum() > 0
    np.testing.assert_array_equal(runtime.training.counts, compiled.training.counts)
    np.testing.assert_array_equal(rt_test.counts, cpp_test.counts)
    for phase_rt, phase_cpp in ((runtime.training, compiled.training), (rt_test, cpp_test)):
        i_rt, t_rt = phase_rt.spikes["L_spikes"]
        i_cpp, t_cpp = phase_cpp.spikes["L_spikes"]
        order_rt, order_cpp = np.lexsort((i_rt, t_rt)), np.lexsort((i_cpp, t_cpp))
        np.testing.assert_array_equal(i_rt[order_rt], i_cpp[order_cpp])
        np.testing.assert_array_equal(t_rt[order_rt], t_cpp[order_cpp])
    state_rt, state_cpp = runtime.learned_state(), compiled.learned_state()
    for key in state_rt:
        np.testing.assert_allclose(state_rt[key], state_cpp[key], rtol=1e-9, atol=1e-12, err_msg=key)


def test_same_seed_same_result_other_seed_other_result(digits_small, build_cache):
    a, a_test = _fit("cpp", digits_small, build_cache, seed=3)
    b, b_test = _fit("cpp", digits_small, build_cache, seed=3)
    c, c_test = _fit("cpp", digits_small, build_cache, seed=4)
    assert not b.simulator.compiled_now  # the second classifier reused the cached binary
    np.testing.assert_array_equal(a.training.counts, b.training.counts)
    np.testing.assert_array_equal(a_test.counts, b_test.counts)
    np.testing.assert_array_equal(a.learned_state()["R_L.r"], b.learned_state()["R_L.r"])
    assert not np.array_equal(a_test.counts, c_test.counts)


def test_copies_are_independent_random_streams(digits_small, build_cache):
    clf, test = _fit("cpp", digits_small, build_cache, seed=0)
    counts = clf.training.counts
    assert not np.array_equal(counts[:, 0], counts[:, 1])


def test_save_and_load_round_trip(digits_small, build_cache, tmp_path):
    Xtr, ytr, Xte, yte, names = digits_small
    clf = CoLaNETClassifier(CoLaNETParams(**SMALL), backend="cpp", seed=1, block_frames=60, cache_dir=build_cache,
                            progress=False)
    clf.fit(Xtr, ytr, names)
    path = clf.save(tmp_path / "model.npz")
    loaded = CoLaNETClassifier.load(path, cache_dir=build_cache, progress=False)
    assert loaded.class_names == clf.class_names
    assert loaded.saturation == clf.saturation and loaded.sigma == clf.sigma
    np.testing.assert_array_equal(loaded.learned_state()["R_L.w"], clf.learned_state()["R_L.w"])
    # the loaded model continues exactly where the saved one stopped, random streams included
    np.testing.assert_array_equal(loaded.evaluate(Xte, yte).counts, clf.evaluate(Xte, yte).counts)


def test_learning_beats_chance_and_untrained_network(digits_small, build_cache):
    clf, test = _fit("cpp", digits_small, build_cache, seed=0)
    # 120 training samples, 2 copies: far from converged, but well above chance (0.1)
    assert test.accuracy > 0.4


@pytest.mark.slow
def test_cython_runtime_matches_cpp_standalone(digits_small, build_cache):
    # the Cython target compiles every code object on first use (minutes on a cold cache): opt-in
    runtime, rt_test = _fit("cython", digits_small, build_cache)
    compiled, cpp_test = _fit("cpp", digits_small, build_cache)
    np.testing.assert_array_equal(runtime.training.counts, compiled.training.counts)
    np.testing.assert_array_equal(rt_test.counts, cpp_test.counts)


@pytest.mark.parametrize("inputs", [dict(), dict(input_streams="per_copy", encoding="poisson")])
def test_copies_split_over_binaries_give_the_same_spikes(digits_small, build_cache, inputs):
    """Three copies as binaries of 2 + 1 copies: same votes, L spikes and learned state as one binary (noise on)."""
    Xtr, ytr, Xte, yte, names = digits_small
    runs = []
    for workers in (1, 2):
        clf = CoLaNETClassifier(CoLaNETParams(**{**SMALL, "n_copies": 3, **inputs}), backend="cpp", seed=3,
                                block_frames=60,
                                cache_dir=build_cache, record_spikes=True, progress=False, workers=workers)
        clf.fit(Xtr, ytr, names)
        runs.append((clf, clf.evaluate(Xte, yte)))
    (one, one_test), (split, split_test) = runs
    assert one.training.counts[:, 2].sum() > 0  # the last copy, simulated by the second binary, takes part
    np.testing.assert_array_equal(one.training.counts, split.training.counts)
    np.testing.assert_array_equal(one_test.counts, split_test.counts)
    for key in ("L_spikes", "OUT_spikes", "GATE_spikes"):
        for a, b in zip(one.training.spikes[key], split.training.spikes[key], strict=True):
            np.testing.assert_array_equal(a, b, err_msg=key)
    state_one, state_split = one.learned_state(), split.learned_state()
    for key in state_one:
        np.testing.assert_array_equal(state_one[key], state_split[key], err_msg=key)


def test_split_copies_rejects_runtime_backends():
    from colanet_brian.engine.simulate import Simulator
    from colanet_brian.engine.split import split_copies

    assert split_copies(15, 2) == [(0, 8), (8, 7)]
    assert split_copies(3, 8) == [(0, 1), (1, 1), (2, 1)]
    with pytest.raises(ValueError, match="standalone"):
        Simulator(CoLaNETParams(**SMALL), 64, 10, sigma=1.0, backend="numpy", workers=2)
