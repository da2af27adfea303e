"""Conventional classifiers on the same features and split, for comparison (spec §12, §17.18)."""

from __future__ import annotations

import time

import numpy as np

__all__ = ["run_baselines", "DEFAULT_BASELINES"]


#: The baselines every accuracy table reports.
DEFAULT_BASELINES = ("logistic_regression", "knn", "mlp")


def run_baselines(X_train, y_train, X_test, y_test, seed: int = 0, which=DEFAULT_BASELINES) -> dict:
    """Test accuracy and wall time of baseline classifiers.

    ``logistic_regression``: L2-regularised, on standardised features;
    ``knn``: 5-nearest neighbours on standardised features;
    ``mlp``: one hidden layer of 256 ReLU units, Adam, early stopping on 10%
    of the training data (several epochs: an upper reference, not single-pass).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    models = {
        "logistic_regression": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000,
                                                                                          random_state=seed)),
        "knn": lambda: make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=5)),
        "mlp": lambda: make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(256,), early_stopping=True,
                                                                     max_iter=200, random_state=seed)),
    }
    out = {}
    for name in which:
        t0 = time.time()
        model = models[name]().fit(X_train, y_train)
        out[name] = dict(accuracy=float(np.mean(model.predict(X_test) == y_test)), wall_time=time.time() - t0)
    return out
