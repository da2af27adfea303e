"""Accuracy of named parameter variants side by side, over seeds (issue "Accuracy II").

Each variant is a set of parameter changes over a base set; every variant is
trained once per seed on the same seeded subset and scored with its own
readout rules; baselines (logistic regression, kNN, MLP) on the same split.
Prints a Markdown table (mean +- sd over seeds where more than one) and writes
every number as JSON.

Usage::

    python benchmarks/variants.py --dataset fashion-mnist --n-train 10000 --n-test 2000 --group inputs \\
        --out benchmarks/results/variants-inputs-fashion.json
    python benchmarks/variants.py --dataset digits --group inputs --seeds 0,1,2

Groups:

``inputs``
    input-side options: mass equalisation, Poisson code, per-copy input streams;
``capacity``
    microcolumns per class, M = 10, 20, 40 (time per pass grows with M);
``set=NAME=VALUE,...``
    one ad-hoc variant.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from ablation import _subset

from colanet_brian.baselines import run_baselines
from colanet_brian.classifier import CoLaNETClassifier
from colanet_brian.data.datasets import load_dataset
from colanet_brian.model.params import load_params
from colanet_brian.provenance import provenance, write_json

#: Variant groups: name -> [(variant name, parameter changes)].
GROUPS = {
    "inputs": [
        ("base", {}),
        ("+ input_normalization=l1", dict(input_normalization="l1")),
        ("+ l1, encoding=poisson", dict(input_normalization="l1", encoding="poisson")),
        ("+ l1, poisson, input_streams=per_copy",
         dict(input_normalization="l1", encoding="poisson", input_streams="per_copy")),
        ("+ l1, accumulator, input_streams=per_copy", dict(input_normalization="l1", input_streams="per_copy")),
    ],
    "capacity": [(f"M = {m}", dict(n_microcolumns=m)) for m in (10, 20, 40)],
}


def _parse_value(text):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def variants(group: str) -> list[tuple[str, dict]]:
    """The variants of ``group`` (a `GROUPS` key or ``set=NAME=VALUE,...``)."""
    if group.startswith("set="):
        changes = dict(item.split("=", 1) for item in group[4:].split(","))
        return [(group[4:], {k: _parse_value(v) for k, v in changes.items()})]
    if group not in GROUPS:
        raise SystemExit(f"unknown group {group!r}; use one of {sorted(GROUPS)} or set=NAME=VALUE,...")
    return GROUPS[group]


def run_variant(params, data, seed, copies) -> dict:
    """One training pass and one test pass; the numbers of one table cell."""
    clf = CoLaNETClassifier(params.replace(n_copies=copies), backend="cpp", seed=seed, progress=False)
    t0 = time.time()
    clf.fit(data["X_train"], data["y_train"], data["class_names"])
    train_seconds = time.time() - t0
    test = clf.evaluate(data["X_test"], data["y_test"])
    return dict(ensemble=test.accuracy, single_mean=float(test.copy_accuracies.mean()),
                train_seconds=train_seconds, samples_per_second=len(data["y_train"]) / train_seconds,
                **test.readout_rates())


def _cell(values, fmt="{:.4f}"):
    values = np.asarray(values, dtype=float)
    if values.size == 1:
        return fmt.format(values[0])
    return f"{fmt.format(values.mean())} +- {fmt.format(values.std(ddof=1))}"


def format_table(result: dict) -> str:
    lines = ["| variant | ensemble | single copy (mean) | silent frames (ensemble / copy) | train s / pass |",
             "|---|---|---|---|---|"]
    for name, runs in result["variants"].items():
        col = {k: [r[k] for r in runs] for k in runs[0]}
        lines.append(f"| {name} | {_cell(col['ensemble'])} | {_cell(col['single_mean'])} | "
                     f"{_cell(col['silent_fraction'], '{:.3f}')} / {_cell(col['silent_fraction_single'], '{:.3f}')} | "
                     f"{_cell(col['train_seconds'], '{:.0f}')} |")
    lines.append("")
    lines.append("baselines on the same split: " + ", ".join(
        f"{k} {v['accuracy']:.4f}" for k, v in result["baselines"].items()))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="digits", help="digits, fashion-mnist or an .npz feature file")
    parser.add_argument("--params", default=None, help="base parameter set (default: the package defaults)")
    parser.add_argument("--group", default="inputs", help="variant group (module docstring)")
    parser.add_argument("--n-train", type=int, default=None, help="training samples (seeded subset; default all)")
    parser.add_argument("--n-test", type=int, default=None, help="test samples (the first ones; default all)")
    parser.add_argument("--copies", type=int, default=15)
    parser.add_argument("--seeds", default="0", help="comma-separated network seeds (the subset uses the first)")
    parser.add_argument("--out", default=None, help="JSON file for every number")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    dataset = load_dataset(args.dataset, seed=seeds[0])
    X_train, y_train, X_test, y_test = _subset(dataset, args.n_train or len(dataset.y_train),
                                               args.n_test or len(dataset.y_test), seeds[0])
    data = dict(X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test, class_names=dataset.class_names)
    base = load_params(args.params)
    result = dict(dataset=args.dataset, group=args.group, n_train=len(y_train), n_test=len(y_test),
                  copies=args.copies, seeds=seeds, base_params=args.params, command=" ".join(sys.argv),
                  baselines=run_baselines(X_train, y_train, X_test, y_test, seeds[0]), variants={}, changes={})
    for name, changes in variants(args.group):
        result["changes"][name] = changes
        result["variants"][name] = [run_variant(base.replace(**changes), data, seed, args.copies) for seed in seeds]
        print(f"{name}: {json.dumps(result['variants'][name])}", flush=True)
    result.update(provenance())
    print(format_table(result))
    if args.out:
        write_json(Path(args.out), result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
