"""CoLaNETClassifier as a scikit-learn estimator: parameters, labels, Pipeline, partial_fit, estimator checks."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

import colanet_brian
from colanet_brian.classifier import CoLaNETClassifier
from colanet_brian.data.datasets import load_dataset
from colanet_brian.model.params import CoLaNETParams


def _small(build_cache, **kwds):
    kwds = dict(dict(n_copies=2, n_microcolumns=3, backend="cpp", cache_dir=build_cache, progress=False), **kwds)
    return CoLaNETClassifier(**kwds)


def test_exported_at_top_level_and_parameters_round_trip():
    assert colanet_brian.CoLaNETClassifier is CoLaNETClassifier
    params = CoLaNETParams(k_theta=0.1)
    clf = CoLaNETClassifier(params, n_copies=5, seed=3)
    assert clf.get_params()["params"] is params and clf.get_params()["n_copies"] == 5
    twin = clone(clf)
    assert twin.get_params() == clf.get_params() and twin is not clf
    clf.set_params(n_microcolumns=4, seed=7)
    assert (clf.n_microcolumns, clf.seed) == (4, 7)
    assert vars(CoLaNETClassifier()).keys() == set(CoLaNETClassifier().get_params())  # __init__ sets only params
    with pytest.raises(NotFittedError):
        CoLaNETClassifier().predict(np.ones((2, 3)))


def test_params_given_as_dict_or_file_name_resolve_at_fit(digits_small, build_cache):
    Xtr, ytr, Xte, _, _ = digits_small
    clf = _small(build_cache, params={"k_theta": 0.2}).fit(Xtr[:40], ytr[:40])
    assert clf.params_.k_theta == 0.2 and clf.params_.n_copies == 2 and clf.params == {"k_theta": 0.2}
    named = _small(build_cache, params="knp_mnist", n_copies=1).fit(Xtr[:40], ytr[:40])
    assert named.params_.tie_break == "lowest" and named.params_.n_copies == 1


def test_string_labels_and_probabilities(digits_small, build_cache):
    Xtr, ytr, Xte, yte, _ = digits_small
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    clf = _small(build_cache).fit(Xtr, names[ytr])
    assert list(clf.classes_) == sorted(names) and clf.n_features_in_ == 64
    pred = clf.predict(Xte)
    assert set(pred) <= set(names)
    proba = clf.predict_proba(Xte)
    assert proba.shape == (len(Xte), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # the same network with index labels votes identically: labels only name the columns
    by_index = _small(build_cache).fit(Xtr, np.searchsorted(clf.classes_, names[ytr]))
    np.testing.assert_array_equal(by_index.predict(Xte), np.searchsorted(clf.classes_, pred))
    np.testing.assert_array_equal(clf.predict(Xte), pred)  # a test pass leaves the network unchanged
    assert clf.score(Xte, names[yte]) == pytest.approx(np.mean(pred == names[yte]))
    with pytest.raises(ValueError, match="outside the 10 known classes"):
        clf.evaluate(Xte, np.where(yte == 3, "cat", names[yte]))


def test_pipeline_fits_and_scores_on_digits(build_cache):
    data = load_dataset("digits", seed=0)
    pipe = Pipeline([("scale", MinMaxScaler()),
                     ("snn", CoLaNETClassifier(n_copies=5, backend="cpp", cache_dir=build_cache, progress=False))])
    pipe.fit(data.X_train, data.y_train)
    accuracy = pipe.score(data.X_test, data.y_test)
    chance = np.bincount(data.y_test).max() / len(data.y_test)
    assert accuracy > 0.8 > 5 * chance  # a trained classifier, far above the majority class (0.10)


def test_partial_fit_over_chunks_equals_fit_on_their_concatenation(digits_small, build_cache):
    Xtr, ytr, Xte, _, _ = digits_small
    # a rate code that does not depend on the data, and chunks of whole blocks: the same spikes
    kwds = dict(params=CoLaNETParams(saturation=16.0, weight_scale=1.0, input_normalization="none"), block_frames=40)
    whole = _small(build_cache, **kwds).fit(Xtr, ytr)
    chunked = _small(build_cache, **kwds)
    for part in np.split(np.arange(120), 3):
        chunked.partial_fit(Xtr[part], ytr[part], classes=np.arange(10))
    a, b = whole.learned_state(), chunked.learned_state()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    np.testing.assert_array_equal(whole.predict_counts(Xte).counts, chunked.predict_counts(Xte).counts)
    with pytest.raises(NotFittedError, match="classes="):
        _small(build_cache).partial_fit(Xtr, ytr)


#: scikit-learn checks that do not apply to a single-pass spiking learner, and why.
NOT_APPLICABLE = {
    "check_classifiers_train": "asks for 83 % training accuracy on 2-D standardised blobs, where half of every "
                               "feature is negative and never spikes (spec 3.1)",
    "check_classifiers_classes": "the same: accuracy on standardised blobs and iris with negative features",
    "check_methods_subset_invariance": "inference runs the network: the accumulator phase and noise streams "
                                       "continue from sample to sample, so a sample's vote depends on its batch",
    "check_methods_sample_order_invariance": "the same: predictions depend on the order of the stream",
    "check_dont_overwrite_parameters": "the fitted network and its rate code are public attributes read across "
                                       "the package (simulator, saturation, sigma, class_names, training, ...); "
                                       "the sklearn-style ones (params_, classes_, n_features_in_) are added too",
    "check_supervised_y_2d": "multi-output y is not supported (one label per frame)",
    "check_classifiers_regression_target": "continuous targets are accepted as labels",
    "check_fit_check_is_fitted": "the fitted state is the network",
}


@pytest.mark.slow
def test_scikit_learn_estimator_checks(build_cache):
    from sklearn.utils.estimator_checks import check_estimator

    estimator = CoLaNETClassifier(n_copies=1, n_microcolumns=2, backend="cpp", cache_dir=build_cache,
                                  block_frames=64, progress=False)
    results = check_estimator(estimator, expected_failed_checks=NOT_APPLICABLE, on_fail=None)
    failed = [r for r in results if r["status"] == "failed"]
    assert not failed, [(r["check_name"], str(r["exception"])[:200]) for r in failed]
