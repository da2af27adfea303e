"""Genetic-algorithm progress: fitness per generation (spec §10).

Reads what `colanet_brian.search` writes into its run directory:
``evaluations.jsonl`` (one record per evaluated individual, with
``generation`` and ``fitness``) and ``summary.json`` (per-generation arrays
``generation``, ``best``, ``mean``).  Either one is enough.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from matplotlib.ticker import MaxNLocator

from .style import get_axes

__all__ = ["read_ga_log", "ga_history", "plot_ga_fitness"]

#: Keys accepted for the best and mean fitness of a per-generation summary record.
_BEST_KEYS = ("best", "best_fitness", "max_fitness", "max")
_MEAN_KEYS = ("mean", "mean_fitness", "avg_fitness", "average")


def read_ga_log(path) -> list[dict]:
    """Records of a JSONL log; blank and unreadable lines (e.g. a line cut by a crash) are skipped."""
    records = []
    for line in Path(path).read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def _number(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _first(record, keys):
    return next((_number(record[k]) for k in keys if k in record and _number(record[k]) is not None), None)


def _summary_records(summary: dict | None) -> list[dict]:
    """Per-generation records from the arrays of ``summary.json``."""
    if not summary or "generation" not in summary or "best" not in summary:
        return []
    gens, best = summary["generation"], summary["best"]
    mean = summary.get("mean") or [None] * len(gens)
    return [dict(generation=g, best=b, mean=m) for g, b, m in zip(gens, best, mean, strict=False)]


def ga_history(records=(), summary: dict | None = None) -> dict:
    """Best and mean fitness per generation.

    Parameters
    ----------
    records : sequence of dict
        Log records.  Individuals have ``generation`` and ``fitness``;
        per-generation summaries have ``generation`` and a best value
        (``best``/``best_fitness``, optional ``mean``).
    summary : dict, optional
        ``{"generation": [...], "best": [...], "mean": [...]}`` (``summary.json``).

    Summaries win over values computed from individuals (a generation's
    population may hold individuals evaluated earlier and not logged again);
    failed evaluations (non-finite fitness) are ignored.

    Returns
    -------
    dict
        ``generation``, ``best``, ``mean`` (ndarray, ``mean`` NaN where unknown)
        and ``individuals`` = ``(generation, fitness)`` arrays.
    """
    ind_gen, ind_fit, per_gen = [], [], {}
    for rec in list(records) + _summary_records(summary):
        if "generation" not in rec:
            continue
        gen = int(rec["generation"])
        fit = _number(rec.get("fitness"))
        if fit is not None:
            ind_gen.append(gen)
            ind_fit.append(fit)
        elif _first(rec, _BEST_KEYS) is not None:
            per_gen[gen] = (_first(rec, _BEST_KEYS), _first(rec, _MEAN_KEYS))
    ind_gen, ind_fit = np.array(ind_gen, dtype=int), np.array(ind_fit, dtype=float)
    generations = sorted(set(ind_gen.tolist()) | set(per_gen))
    best, mean = [], []
    for gen in generations:
        fits = ind_fit[ind_gen == gen]
        b, m = per_gen.get(gen, (None, None))
        best.append(b if b is not None else fits.max())
        mean.append(m if m is not None else (fits.mean() if fits.size else np.nan))
    return dict(generation=np.array(generations, dtype=int), best=np.array(best, dtype=float),
                mean=np.array(mean, dtype=float), individuals=(ind_gen, ind_fit))


def plot_ga_fitness(history: dict, ylabel: str = "fitness (validation accuracy, fraction)", axes=None):
    """Best and mean fitness per generation, best so far, and every evaluated individual.

    Parameters
    ----------
    history : dict
        ``{"generation": [...], "best": [...], "mean": [...]}`` and optionally
        ``individuals`` = ``(generations, fitnesses)`` (`ga_history`).
    ylabel : str

    Returns
    -------
    axes : `~matplotlib.axes.Axes`
        Lines ``best``, ``best so far`` and ``mean`` with one point per generation.
    """
    axes = get_axes(axes)
    gen = np.asarray(history["generation"])
    best = np.asarray(history["best"], dtype=float)
    ind = history.get("individuals")
    if ind is not None and len(ind[0]):
        axes.scatter(ind[0], ind[1], s=10, color="0.55", alpha=0.7, lw=0, label="individuals")
    axes.plot(gen, best, color="C0", marker="o", ms=3, label="best of generation")
    axes.step(gen, np.fmax.accumulate(best), where="post", color="C3", lw=1, ls="--", label="best so far")
    mean = np.asarray(history.get("mean", np.full(len(gen), np.nan)), dtype=float)
    axes.plot(gen, mean, color="C1", marker=".", label="mean of generation")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("generation (index)")
    axes.set_ylabel(ylabel)
    axes.legend(loc="lower right")
    return axes
