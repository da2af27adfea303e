"""Conventional classifiers on the same features and split, for comparison (spec §12, §17.18)."""

from __future__ import annotations

import time

import numpy as np

__all__ = ["run_baselines"]


def run_baselines(X_train, y_train, X_test, y_test, seed: int = 0, which=("logistic_regression", "knn")) -> dict:
    """Test accuracy and wall time of baseline classifiers.

    ``logistic_regression``: L2-regularised, on standardised features;
    ``knn``: 5-nearest neighbours on standardised features.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    models = {
        "logistic_regression": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000,
                                                                                          random_state=seed)),
        "knn": lambda: make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=5)),
    }
    out = {}
    for name in which:
        t0 = time.time()
        model = models[name]().fit(X_train, y_train)
        out[name] = dict(accuracy=float(np.mean(model.predict(X_test) == y_test)), wall_time=time.time() - t0)
    return out
