"""Figures of a continual-learning run (`colanet_brian.continual`, ``colanet continual``).

``plot_accuracy_matrix`` and ``plot_task_accuracy`` draw one method;
`continual_figures` lays out every method of a ``results.json`` side by side,
and `draw_continual` writes them (``colanet figures`` calls it for a
continual run directory).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from matplotlib import rc_context
from matplotlib.figure import Figure

from .style import PAPER_STYLE, add_colorbar, class_colors, get_axes

__all__ = ["METHOD_LABELS", "plot_accuracy_matrix", "plot_task_accuracy", "continual_figures", "draw_continual",
           "is_continual_run"]

#: Panel titles of the methods of a continual run.
METHOD_LABELS = {"colanet": "CoLaNET ensemble", "colanet_single": "CoLaNET single copy (mean)",
                 "sgd": "SGD log-loss (online)", "mlp": "MLP (online)"}


def plot_accuracy_matrix(R, annotate: bool | None = None, colorbar: bool = True, axes=None):
    """Heat map of the accuracy matrix ``R[i, j]`` (row: after training task i; column: test task j).

    Parameters
    ----------
    R : array, shape (T, T)
        Test accuracies in [0, 1].
    annotate : bool, optional
        Write the values in the cells (default: for T <= 10).
    colorbar : bool
        Add a colour bar.
    axes : matplotlib Axes, optional
    """
    ax = get_axes(axes)
    R = np.asarray(R, dtype=float)
    T = R.shape[0]
    image = ax.imshow(R, vmin=0.0, vmax=1.0, cmap="viridis", origin="upper")
    if annotate if annotate is not None else T <= 10:
        for (i, j), value in np.ndenumerate(R):
            ax.text(j, i, f"{100 * value:.0f}", ha="center", va="center", fontsize=6,
                    color="black" if value > 0.6 else "white")
    ticks = np.arange(T)
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set_xlabel("test on task j")
    ax.set_ylabel("after training task i")
    if colorbar:
        add_colorbar(ax, image, "test accuracy")
    return ax


def plot_task_accuracy(R, joint=None, task_names=None, legend: bool = True, axes=None):
    """Accuracy on every task over the sequence: one line per task, x = tasks trained so far.

    Parameters
    ----------
    R : array, shape (T, T)
        Accuracy matrix.
    joint : float, optional
        Average accuracy of the joint model (all tasks at once, the usual upper bound), dashed.
    task_names : list of str, optional
        Legend entries (default ``task 0`` ...).
    legend : bool
        Draw the legend.
    axes : matplotlib Axes, optional
    """
    ax = get_axes(axes)
    R = np.asarray(R, dtype=float)
    T = R.shape[0]
    colors = class_colors(T)
    x = np.arange(T)
    for j in range(T):
        # before its own task a task's accuracy is forward transfer: thin; from its task on: thick
        ax.plot(x[: j + 1], R[: j + 1, j], color=colors[j], lw=0.6, alpha=0.6)
        ax.plot(x[j:], R[j:, j], color=colors[j], lw=1.4, marker="o", ms=2.5,
                label=(task_names[j] if task_names else f"task {j}"))
    seen = [R[i, : i + 1].mean() for i in range(T)]
    ax.plot(x, seen, color="black", lw=1.2, ls=":", label="mean over tasks seen")
    if joint is not None:
        ax.axhline(joint, color="grey", ls="--", lw=0.9, label="joint (all tasks at once)")
    ax.set_xticks(x)
    ax.set_xlabel("after training task")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0.0, 1.02)
    if legend:
        ax.legend(fontsize=5, ncols=2 if T > 5 else 1, loc="lower left")
    return ax


def _methods(results: dict) -> list[str]:
    keys = ["colanet", "colanet_single", *[m for m in results.get("methods", []) if m != "colanet"]]
    return [k for k in keys if k in results]


def _joint(results: dict, method: str):
    joint = results.get("joint", {})
    if method == "colanet_single":
        return joint.get("colanet", {}).get("average_accuracy_single")
    return joint.get(method, {}).get("average_accuracy")


def continual_figures(results: dict) -> dict[str, Figure]:
    """``{"continual_matrices": Figure, "continual_curves": Figure}``: every method in one row."""
    methods = _methods(results)
    n = len(methods)
    names = [t["name"] for t in results.get("tasks", [])] or None
    figures = {}
    fig = Figure(figsize=(2.3 * n + 0.4, 2.4), layout="constrained")
    for method, ax in zip(methods, fig.subplots(1, n, squeeze=False)[0], strict=True):
        m = results[method]
        plot_accuracy_matrix(m["accuracy_matrix"], colorbar=method == methods[-1], axes=ax)
        ax.set_title(f"{METHOD_LABELS.get(method, method)}\nACC {m['average_accuracy']:.2f}, "
                     f"F {_num(m['forgetting'])}", fontsize=7)
    figures["continual_matrices"] = fig
    fig = Figure(figsize=(2.3 * n + 0.4, 2.4), layout="constrained")
    for k, (method, ax) in enumerate(zip(methods, fig.subplots(1, n, squeeze=False, sharey=True)[0], strict=True)):
        plot_task_accuracy(results[method]["accuracy_matrix"], joint=_joint(results, method), task_names=names,
                           legend=k == 0, axes=ax)
        ax.set_title(METHOD_LABELS.get(method, method), fontsize=7)
        if k:
            ax.set_ylabel("")
    figures["continual_curves"] = fig
    return figures


def _num(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def is_continual_run(run_dir) -> bool:
    """Whether ``run_dir/results.json`` was written by `colanet_brian.continual.run_continual`."""
    path = Path(run_dir) / "results.json"
    if not path.is_file():
        return False
    try:
        return json.loads(path.read_text()).get("experiment") == "continual"
    except (json.JSONDecodeError, AttributeError):
        return False


def draw_continual(results, out_dir, pdf: bool = False) -> list[Path]:
    """Write the figures of a continual run.

    Parameters
    ----------
    results : dict or path
        The result of `run_continual`, or a run directory holding its ``results.json``.
    out_dir : path
        Output directory.
    pdf : bool
        Also write PDF files.

    Returns
    -------
    list of Path
        The files written.
    """
    if not isinstance(results, dict):
        results = json.loads((Path(results) / "results.json").read_text())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with rc_context(PAPER_STYLE):
        for name, fig in continual_figures(results).items():
            for suffix in (".png", ".pdf") if pdf else (".png",):
                fig.savefig(out / f"{name}{suffix}")
                paths.append(out / f"{name}{suffix}")
    return paths
