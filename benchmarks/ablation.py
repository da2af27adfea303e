"""Accuracy ablation of the departures from the specification (issue "Accuracy I").

Starts from the spec's behaviour (every departure off) and switches the model
changes on one at a time, cumulatively; the readout changes (latency
tie-break, column-score readout of silent frames) need no new run, so every
row reports three readouts of the same spikes.  Prints a Markdown table and
writes it, with every number, as JSON.

Usage::

    python benchmarks/ablation.py --dataset fashion-mnist --n-train 10000 --n-test 2000 \\
        --out benchmarks/results/ablation-fashion.json

Rows (cumulative):

1. ``spec``: the spec's behaviour with the given base parameters;
2. ``+ frame_isolation``;
3. ``+ s_max``: stability bounded;
4. ``+ calibrate_width``: k_theta and n_silent scaled to the input;
5. ``defaults``: the package defaults (new parameter values too), when the
   base is not already the defaults.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from colanet_brian.baselines import run_baselines
from colanet_brian.classifier import CoLaNETClassifier
from colanet_brian.data.datasets import load_dataset
from colanet_brian.model.params import CoLaNETParams, load_params
from colanet_brian.provenance import provenance, write_json

#: The spec's behaviour: every departure of the package switched off.
SPEC_BEHAVIOUR = dict(frame_isolation=False, s_max=None, calibrate_width=False, tie_break="lowest",
                      silent_readout="none")
#: Model changes switched on one after the other (the readout changes are scored on every row).
STEPS = (("+ frame_isolation", dict(frame_isolation=True)), ("+ s_max", dict(s_max=4.0)),
         ("+ calibrate_width", dict(calibrate_width=True)))
#: Readouts scored on every run: (name, tie_break, silent_readout).
READOUTS = (("spec readout", "lowest", "none"), ("+ latency ties", "latency", "none"),
            ("+ score for silent frames", "latency", "score"))


def _subset(data, n_train, n_test, seed):
    order = np.random.default_rng(seed).permutation(len(data.y_train))[:n_train]
    return data.X_train[order], data.y_train[order], data.X_test[:n_test], data.y_test[:n_test]


def score_run(params, X_train, y_train, X_test, y_test, class_names, copies, seed, workers) -> dict:
    """Train once, then score every readout of `READOUTS` on the same test spikes."""
    params = params.replace(n_copies=copies)
    clf = CoLaNETClassifier(params, backend="cpp", seed=seed, workers=workers, progress=False)
    t0 = time.time()
    clf.fit(X_train, y_train, class_names)
    train_seconds = time.time() - t0
    test = clf.evaluate(X_test, y_test)
    row = dict(train_seconds=train_seconds, **test.readout_rates())
    for name, tie_break, silent in READOUTS:
        ev = dataclasses.replace(test, tie_break=tie_break, silent_readout=silent)
        row[name] = dict(ensemble=ev.accuracy, single_mean=float(ev.copy_accuracies.mean()))
    half = len(y_train) // 2
    online = clf.training.predictions == y_train
    row["online_first_half"], row["online_second_half"] = float(online[:half].mean()), float(online[half:].mean())
    row["stability_max"] = float(clf.learned_state()["L.s"].max())
    return row


def ablation_rows(base: CoLaNETParams) -> list[tuple[str, CoLaNETParams]]:
    """The cumulative parameter sets of the module docstring."""
    params = base.replace(**SPEC_BEHAVIOUR)
    rows = [("spec", params)]
    for name, change in STEPS:
        params = params.replace(**change)
        rows.append((name, params))
    defaults = CoLaNETParams()
    if base != defaults:
        rows.append(("defaults", defaults))
    return rows


def format_table(result: dict) -> str:
    """Markdown table: one row per run and readout."""
    base = result["baselines"]
    head = ("| row | readout | ensemble | single copy (mean) | silent frames (ensemble / copy) | "
            "online 1st / 2nd half | max s |\n|---|---|---|---|---|---|---|")
    lines = [head]
    for name, row in result["rows"].items():
        for readout, _, _ in READOUTS:
            acc = row[readout]
            lines.append(f"| {name} | {readout} | {acc['ensemble']:.4f} | {acc['single_mean']:.4f} | "
                         f"{row['silent_fraction']:.3f} / {row['silent_fraction_single']:.3f} | "
                         f"{row['online_first_half']:.3f} / {row['online_second_half']:.3f} | "
                         f"{row['stability_max']:.1f} |")
    lines.append("")
    lines.append("baselines on the same split: " + ", ".join(f"{k} {v['accuracy']:.4f}" for k, v in base.items()))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="digits", help="digits, fashion-mnist or an .npz feature file")
    parser.add_argument("--params", default=None, help="base parameter set (default: the package defaults)")
    parser.add_argument("--n-train", type=int, default=None, help="training samples (seeded subset; default all)")
    parser.add_argument("--n-test", type=int, default=None, help="test samples (the first ones; default all)")
    parser.add_argument("--copies", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help="binaries the copies are split over")
    parser.add_argument("--out", default=None, help="JSON file for every number")
    args = parser.parse_args(argv)
    data = load_dataset(args.dataset, seed=args.seed)
    n_train = args.n_train or len(data.y_train)
    n_test = args.n_test or len(data.y_test)
    X_train, y_train, X_test, y_test = _subset(data, n_train, n_test, args.seed)
    result = dict(dataset=args.dataset, n_train=len(y_train), n_test=len(y_test), copies=args.copies,
                  seed=args.seed, base_params=args.params, command=" ".join(sys.argv),
                  baselines=run_baselines(X_train, y_train, X_test, y_test, args.seed), rows={})
    for name, params in ablation_rows(load_params(args.params)):
        result["rows"][name] = score_run(params, X_train, y_train, X_test, y_test, data.class_names, args.copies,
                                         args.seed, args.workers)
        result["rows"][name]["params"] = params.to_dict()
        print(f"{name}: {json.dumps({k: v for k, v in result['rows'][name].items() if k != 'params'})}", flush=True)
    result.update(provenance())
    print(format_table(result))
    if args.out:
        write_json(Path(args.out), result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
