"""One variant, one seed, one line of JSON: the quick probe behind the README's 10k-subset rows.

Usage::

    python benchmarks/probe_variant.py DATASET N_TRAIN N_TEST COPIES [params=NAME] [NAME=VALUE ...]
    SEED=1 python benchmarks/probe_variant.py digits 100000 100000 15 encoding=poisson input_streams=per_copy

Trains on a seeded subset of N_TRAIN training samples (seed 0 order), tests on the first N_TEST
test samples, and prints the ensemble and single-copy accuracies with several readouts of the same
spikes (``ens``: the variant's own readout; ``ens_scoresum``: argmax of the summed column scores),
silent-frame and tie rates, online accuracy in the two halves of the pass, the stability range and
the training time.  `benchmarks/variants.py` runs groups of variants over seeds with baselines.
"""

import dataclasses
import json
import os
import sys
import time

import numpy as np

from colanet_brian.classifier import CoLaNETClassifier
from colanet_brian.data.datasets import load_dataset
from colanet_brian.model.params import CoLaNETParams, load_params
from colanet_brian.model.readout import accuracy


def main(argv):
    dataset, n_train, n_test, copies = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    base, changes = None, {}
    for arg in argv[4:]:
        key, value = arg.split("=", 1)
        if key == "params":
            base = value
            continue
        try:
            changes[key] = json.loads(value)
        except json.JSONDecodeError:
            changes[key] = value
    params = CoLaNETParams.from_dict(dict(load_params(base).to_dict(), **changes, n_copies=copies))
    data = load_dataset(dataset, seed=0)
    order = np.random.default_rng(0).permutation(len(data.y_train))[:n_train]
    X_train, y_train = data.X_train[order], data.y_train[order]
    X_test, y_test = data.X_test[:n_test], data.y_test[:n_test]
    clf = CoLaNETClassifier(params, backend="cpp", seed=int(os.environ.get("SEED", "0")), progress=False)
    t0 = time.time()
    clf.fit(X_train, y_train, data.class_names)
    train_seconds = time.time() - t0
    test = clf.evaluate(X_test, y_test)
    online = clf.training.predictions == y_train
    half = len(y_train) // 2
    spec = dataclasses.replace(test, silent_readout="none", tie_break="lowest")
    stability = clf.learned_state()["L.s"]
    print(json.dumps(dict(
        dataset=dataset, base=base, changes=changes, seed=int(os.environ.get("SEED", "0")),
        ens=round(test.accuracy, 4), ens_spec_readout=round(spec.accuracy, 4),
        ens_scoresum=round(accuracy(np.argmax(test.scores.sum(axis=1), axis=1), y_test), 4),
        single=round(float(test.copy_accuracies.mean()), 4),
        **{k: round(v, 4) for k, v in test.readout_rates().items()},
        online_h1=round(float(online[:half].mean()), 3), online_h2=round(float(online[half:].mean()), 3),
        s_mean=round(float(stability.mean()), 2), s_max=round(float(stability.max()), 2),
        train_s=round(train_seconds, 1))), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
