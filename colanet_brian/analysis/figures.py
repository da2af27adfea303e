"""Every figure a run directory supports, drawn from saved results (no simulation).

`FIGURES` lists the figures by name; each has a check that names the missing
data (or ``None``) and a function ``RunData -> Figure``.  `draw_all` draws
those the data supports; `colanet figures` and the scripts in ``analysis/``
are thin wrappers over it.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib import rc_context
from matplotlib.figure import Figure

from ..model.readout import ensemble_predictions
from .ga import plot_ga_fitness
from .performance import plot_confusion_matrix, plot_ensemble_size, plot_learning_curve
from .raster import plot_frame_raster
from .rundata import RASTER_SPEC, SNAPSHOT_SPEC, RunData, load_run
from .style import PAPER_STYLE
from .usage import microcolumn_usage, plot_microcolumn_usage
from .weights import (
    plot_receptive_field_evolution,
    plot_receptive_fields,
    plot_state_evolution,
    plot_state_histogram,
    plot_weight_matrix,
)

__all__ = ["FigureSpec", "FIGURES", "available", "incomplete", "draw", "draw_all", "script_main"]

#: Frames per raster figure when the run has no recorded raster windows.
RASTER_FRAMES = 4
#: Receptor rows of a raster figure; wider inputs are subsampled evenly.
MAX_RASTER_INPUTS = 128


@dataclass(frozen=True)
class FigureSpec:
    """One figure: file stem, what it shows, what data it lacks, how to draw it."""

    name: str
    description: str
    missing: Callable[[RunData], str | None]
    make: Callable[[RunData], Figure]


# ---------------------------------------------------------------------------- checks
def _needs_arrays(*names):
    def check(run: RunData):
        absent = run.missing(*names)
        return f"run_data.npz lacks {', '.join(absent)}" if absent else None
    return check


def _needs_model(pixels: bool | None = None):
    def check(run: RunData):
        if run.learned_state is None:
            return "no model.npz"
        if pixels is True and run.image_shape is None:
            return "inputs are not pixels (no image shape; pass --image-shape)"
        if pixels is False and run.image_shape is not None:
            return "inputs are pixels (see receptive_fields)"
        return None
    return check


def _needs_snapshots(pixels: bool = False):
    def check(run: RunData):
        if run.snapshots() is None:
            return f"run_data.npz lacks the weight snapshots ({', '.join(SNAPSHOT_SPEC[:2])})"
        if pixels and run.image_shape is None:
            return "inputs are not pixels (no image shape)"
        return None
    return check


def _needs_raster(phase: str):
    def check(run: RunData):
        present = run.spikes(phase)
        if "L" not in present and "OUT" not in present:
            return f"run_data.npz has no {phase} spikes"
        return None
    return check


def _needs_ga(run: RunData):
    if run.ga_log_path is None and run.ga_summary_path is None:
        return "no GA log (evaluations.jsonl, summary.json) in the run directory"
    if run.ga_history() is None:
        return "the GA log has no generation records"
    return None


# ---------------------------------------------------------------------------- figures
def _figure(width=3.4, height=2.6, ncols=1, nrows=1, **kwds):
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwds)
    return fig, axes


def _grid_size(n_rows: int, n_cols: int, image_shape) -> tuple[float, float]:
    """Figure size (in) for a grid of images: at most 0.6 in per image, within 7 x 9 in."""
    h, w = image_shape
    cell = min(0.6, 5.4 / (n_cols * w / max(h, w)), 7.8 / (n_rows * h / max(h, w)))
    return 1.6 + cell * n_cols * w / max(h, w), 1.2 + cell * n_rows * h / max(h, w)


def _raster_frames(run: RunData, phase: str, which: str):
    """The frame window of a raster: a recorded raster window, else the first/last frames of the pass."""
    windows = run.raster_windows(phase)
    if windows:
        return windows[0] if which == "first" else windows[-1]
    n = len(run.labels(phase)) if run.labels(phase) is not None else RASTER_FRAMES
    return (0, min(RASTER_FRAMES, n)) if which == "first" else (max(0, n - RASTER_FRAMES), n)


def raster_figure(run: RunData, phase: str = "train", which: str = "first", copies=(0,)) -> Figure:
    """Spike raster of a few frames of one pass (copy 0)."""
    start, stop = _raster_frames(run, phase, which)
    labels = run.labels(phase)
    counts = run.counts(phase)
    spikes = run.spikes(phase)
    n_in = run.n_inputs or 0
    inputs = np.arange(0, n_in, -(-n_in // MAX_RASTER_INPUTS)) if n_in else None
    n_rows = sum(n for p, n in (("R", len(inputs) if n_in else 0), ("L", run.n_classes * run.n_microcolumns),
                                ("OUT", run.n_classes), ("GATE", run.n_classes), ("Target", run.n_classes))
                 if p in spikes)
    fig, ax = _figure(7.0, max(3.0, min(9.0, 1.2 + 0.022 * n_rows)))
    plot_frame_raster(spikes, (start, stop), run.n_classes, run.n_microcolumns, n_inputs=run.n_inputs,
                      labels=None if labels is None else labels[start:stop],
                      predictions=None if counts is None else _predictions(run, phase, start, stop, copies),
                      class_names=run.class_names, copies=copies, inputs=inputs, frame_tacts=run.frame["frame_tacts"],
                      present_tacts=run.frame["present_tacts"], axes=ax[0, 0])
    missing = [p for p in ("R", "L", "OUT", "GATE", "Target") if p not in spikes]
    note = f"; not recorded: {', '.join(missing)}" if missing else ""
    if n_in and len(inputs) < n_in:
        note += f"; 1 in {inputs[1] - inputs[0]} inputs shown"
    ax[0, 0].set_title(f"{phase}ing pass, frames {start}-{stop - 1}, copy {', '.join(map(str, copies))}{note}",
                       pad=22)
    return fig


def receptive_fields_figure(run: RunData, copy: int = 0) -> Figure:
    """Learned weights of copy 0 as images, class x microcolumn."""
    w = run.copy_weights(copy)
    M, K = run.n_microcolumns, run.n_classes
    fig, ax = _figure(*_grid_size(K, M, run.image_shape))
    plot_receptive_fields(w, run.image_shape, M, class_names=run.class_names, axes=ax[0, 0])
    ax[0, 0].set_title(f"receptive fields after training (copy {copy})")
    return fig


def weight_matrix_figure(run: RunData, copy: int = 0) -> Figure:
    """Learned weights of copy 0 as a matrix, L neurons x input features."""
    fig, ax = _figure(7.0, 4.5)
    plot_weight_matrix(run.copy_weights(copy), run.n_microcolumns, class_names=run.class_names, axes=ax[0, 0])
    ax[0, 0].set_title(f"R→L weights after training (copy {copy})")
    return fig


def weight_distributions_figure(run: RunData) -> Figure:
    """Distributions of weights, resources, stability and threshold excess after training (all copies)."""
    state = run.learned_state
    fig, ax = _figure(7.0, 4.4, ncols=2, nrows=2)
    plot_state_histogram(state["R_L.w"], "w", log=True, bounds=run.weight_bounds, axes=ax[0, 0])
    plot_state_histogram(state["R_L.r"], "r", log=True, axes=ax[0, 1])
    plot_state_histogram(state["L.s"], "s", bins=30, axes=ax[1, 0])
    plot_state_histogram(state["L.theta_add"], "theta_add", bins=30, axes=ax[1, 1])
    fig.suptitle(f"plastic state after training ({run.n_copies} copies)")
    return fig


def weight_evolution_figure(run: RunData) -> Figure:
    """Weights, resources and stability of the snapshot neurons over the training pass."""
    snap = run.snapshots()
    panels = [(q, snap[q]) for q in ("w", "r", "s", "theta_add") if q in snap]
    fig, ax = _figure(3.4 * min(len(panels), 2), 2.4 * ((len(panels) + 1) // 2), ncols=min(len(panels), 2),
                      nrows=(len(panels) + 1) // 2)
    for a, (q, values), color in zip(ax.flat, panels, ("C0", "C2", "C1", "C4"), strict=False):
        plot_state_evolution(snap["sample"], values, q, color=color, axes=a)
    for a in ax.flat[len(panels):]:
        a.set_visible(False)
    fig.suptitle(f"plastic state during training (copy 0, {len(snap['L'])} L neurons)")
    return fig


def _most_used_neurons(run: RunData, snap: dict) -> tuple[list[int], list[str]]:
    """Per class, the snapshot column of the microcolumn with most test (else training) L spikes.

    Ties (e.g. no spikes at all) go to the largest spread of the final weights.
    """
    K, M = run.n_classes, run.n_microcolumns
    names = run.class_names or [str(k) for k in range(K)]
    snap_L = np.asarray(snap["L"])
    spikes = run.spikes("test").get("L") or run.spikes("train").get("L")
    counts = np.bincount(spikes[0], minlength=snap_L.max() + 1) if spikes is not None else np.zeros(snap_L.max() + 1)
    spread = np.asarray(snap["w"][-1], dtype=float).std(axis=0)
    cols, labels = [], []
    for k in range(K):
        members = np.nonzero((snap_L // M) % K == k)[0]
        if members.size:
            best = int(members[np.lexsort((spread[members], counts[snap_L[members]]))[-1]])
            cols.append(best)
            labels.append(f"{names[k]}: m{snap_L[best] % M}")
    return cols, labels


def receptive_field_evolution_figure(run: RunData) -> Figure:
    """Receptive field of the most used microcolumn of every class at every snapshot."""
    snap = run.snapshots()
    cols, labels = _most_used_neurons(run, snap)
    fig, ax = _figure(*_grid_size(len(cols), len(snap["sample"]), run.image_shape))
    plot_receptive_field_evolution(snap["sample"], snap["w"], run.image_shape, cols, labels, axes=ax[0, 0])
    ax[0, 0].set_title("receptive fields during training\n(most used microcolumn of each class, copy 0)")
    return fig


def _predictions(run: RunData, phase: str, start: int, stop: int, copies) -> np.ndarray:
    """The run's own ensemble predictions for frames ``start:stop`` of ``copies``."""
    readout = {k: (v[start:stop, list(copies)] if isinstance(v, np.ndarray) else v)
               for k, v in run.readout(phase).items()}
    return ensemble_predictions(run.counts(phase)[start:stop, list(copies)], **readout)


def learning_curve_figure(run: RunData) -> Figure:
    """Windowed online accuracy during the training pass."""
    fig, ax = _figure(3.4, 2.6)
    plot_learning_curve(run.counts("train"), run.labels("train"), n_classes=run.n_classes,
                        readout=run.readout("train"), axes=ax[0, 0])
    return fig


def confusion_figure(run: RunData) -> Figure:
    """Test confusion matrix of the ensemble."""
    K = run.n_classes
    fig, ax = _figure(min(7.0, 1.6 + 0.3 * K), min(7.0, 1.2 + 0.28 * K))
    plot_confusion_matrix(run.labels("test"), ensemble_predictions(run.counts("test"), **run.readout("test")),
                          run.class_names,
                          axes=ax[0, 0])
    return fig


def ensemble_size_figure(run: RunData) -> Figure:
    """Test accuracy against ensemble size, with baselines."""
    fig, ax = _figure(3.4, 2.6)
    baselines = {k: v["accuracy"] for k, v in run.results.get("baselines", {}).items() if "accuracy" in v}
    plot_ensemble_size(run.counts("test"), run.labels("test"), baselines=baselines, readout=run.readout("test"),
                       axes=ax[0, 0])
    return fig


def usage_figure(run: RunData, phase: str = "test", copy: int = 0) -> Figure:
    """Microcolumn usage per class from the L spikes of a pass (one copy: microcolumn m differs between copies)."""
    K, M = run.n_classes, run.n_microcolumns
    usage = microcolumn_usage(run.spikes(phase)["L"][0], K, M, run.n_copies, copies=[copy])
    fig, ax = _figure(min(7.0, 2.4 + 0.25 * M), min(7.0, 1.2 + 0.25 * K))
    plot_microcolumn_usage(usage, run.class_names, axes=ax[0, 0])
    ax[0, 0].set_title(f"{phase}ing pass, copy {copy}: {int(usage.sum())} L spikes")
    return fig


def ga_fitness_figure(run: RunData) -> Figure:
    """Fitness per generation of a GA log."""
    fig, ax = _figure(3.4, 2.6)
    kind = json.loads(run.ga_summary_path.read_text()).get("fitness_kind") if run.ga_summary_path else None
    label = f"fitness (validation {kind} accuracy)" if kind else "fitness (validation accuracy, fraction)"
    plot_ga_fitness(run.ga_history(), ylabel=label, axes=ax[0, 0])
    ax[0, 0].set_title(f"GA: {run.ga_log_path.parent.name if run.ga_log_path else run.path.name}")
    return fig


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("learning_curve", "windowed online accuracy during the training pass (ensemble, mean single copy)",
               _needs_arrays("train_counts", "y_train"), learning_curve_figure),
    FigureSpec("confusion_test", "test confusion matrix of the ensemble",
               _needs_arrays("test_counts", "y_test"), confusion_figure),
    FigureSpec("ensemble_size", "test accuracy vs number of pooled copies (mean ± s.d. over subsets), baselines",
               _needs_arrays("test_counts", "y_test"), ensemble_size_figure),
    FigureSpec("microcolumn_usage_train", "share of each class column's L spikes per microcolumn, training pass (copy 0)",
               _needs_arrays("train_L_spikes_i"), lambda run: usage_figure(run, "train")),
    FigureSpec("microcolumn_usage_test", "share of each class column's L spikes per microcolumn, test pass (copy 0)",
               _needs_arrays("test_L_spikes_i"), lambda run: usage_figure(run, "test")),
    FigureSpec("raster_train_start", "spike raster of the first training frames (copy 0)",
               _needs_raster("train"), lambda run: raster_figure(run, "train", "first")),
    FigureSpec("raster_train_end", "spike raster of the last training frames (copy 0)",
               _needs_raster("train"), lambda run: raster_figure(run, "train", "last")),
    FigureSpec("raster_test", "spike raster of the first test frames (copy 0)",
               _needs_raster("test"), lambda run: raster_figure(run, "test", "first")),
    FigureSpec("receptive_fields", "learned weights of copy 0 as images (pixel inputs)",
               _needs_model(pixels=True), receptive_fields_figure),
    FigureSpec("weight_matrix", "learned weights of copy 0 as an L x input matrix (feature inputs)",
               _needs_model(pixels=False), weight_matrix_figure),
    FigureSpec("weight_distributions", "histograms of weights, resources, stability, threshold excess",
               _needs_model(), weight_distributions_figure),
    FigureSpec("weight_evolution", "percentiles of weights, resources and stability over training (snapshots)",
               _needs_snapshots(), weight_evolution_figure),
    FigureSpec("receptive_field_evolution", "receptive field of the most used microcolumn per class at each snapshot",
               _needs_snapshots(pixels=True), receptive_field_evolution_figure),
    FigureSpec("ga_fitness", "best and mean fitness per GA generation",
               _needs_ga, ga_fitness_figure),
)


# ---------------------------------------------------------------------------- drawing
def _spec(name: str) -> FigureSpec:
    for spec in FIGURES:
        if spec.name == name:
            return spec
    raise ValueError(f"unknown figure {name!r}; known: {', '.join(s.name for s in FIGURES)}")


def available(run: RunData) -> dict[str, str | None]:
    """``{figure name: None if drawable, else the reason it is skipped}``."""
    return {spec.name: spec.missing(run) for spec in FIGURES}


def incomplete(run: RunData) -> dict[str, str]:
    """Figures drawn without some of their data: ``{name: what is missing}``."""
    notes = {}
    for phase in ("train", "test"):
        absent = run.missing(*[n.format(phase=phase) for n in RASTER_SPEC])
        if absent and _needs_raster(phase)(run) is None:
            for spec in FIGURES:
                if spec.name.startswith(f"raster_{phase}"):
                    notes[spec.name] = f"drawn without {', '.join(absent)}"
    return notes


def draw(run: RunData | str | Path, name: str, out: str | Path, pdf: bool = False) -> list[Path]:
    """Draw one figure into ``out`` (a file name; ``.png`` and with ``pdf`` also ``.pdf``)."""
    run = run if isinstance(run, RunData) else load_run(run)
    spec = _spec(name)
    reason = spec.missing(run)
    if reason:
        raise ValueError(f"figure {name} cannot be drawn: {reason}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    suffixes = [out.suffix] if out.suffix in (".png", ".pdf", ".svg") else [".png"] + ([".pdf"] if pdf else [])
    with rc_context(PAPER_STYLE):
        fig = spec.make(run)
        paths = [out.with_suffix(s) for s in suffixes]
        for path in paths:
            fig.savefig(path)
    return paths


def draw_all(run_dir, out_dir=None, pdf: bool = False, skipped: list | None = None, image_shape=None,
             ga_log=None) -> list[Path]:
    """Draw every figure the run's data supports.

    Parameters
    ----------
    run_dir : path or RunData
        Output directory of `colanet_brian.experiment.run_experiment` (or of a GA run).
    out_dir : path, optional
        Where the figures go (default ``run_dir/figures``).
    pdf : bool
        Also write PDF files.
    skipped : list, optional
        Receives ``(name, reason)`` for every figure not drawn.
    image_shape : (int, int), optional
        Pixel layout of the inputs (default: inferred, see `RunData.image_shape`).
    ga_log : path, optional
        GA log (default: searched in ``run_dir``).

    Returns
    -------
    list of Path
        The files written.
    """
    run = run_dir if isinstance(run_dir, RunData) else load_run(run_dir, image_shape=image_shape, ga_log=ga_log)
    out_dir = Path(out_dir) if out_dir is not None else run.path / "figures"
    written = []
    for name, reason in available(run).items():
        if reason:
            if skipped is not None:
                skipped.append((name, reason))
            continue
        written += draw(run, name, out_dir / name, pdf=pdf)
    return written


def script_main(name: str, doc: str, argv=None) -> int:
    """Command line of the figure scripts in ``analysis/``: ``RUN_DIR [-o FILE]``."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", help="run directory (results.json, run_data.npz, model.npz)")
    parser.add_argument("-o", "--out", default=None, help=f"output file (default RUN_DIR/figures/{name}.pdf)")
    parser.add_argument("--image-shape", default=None, help="pixel layout of the inputs, e.g. 28x28")
    args = parser.parse_args(argv)
    shape = tuple(int(n) for n in args.image_shape.split("x")) if args.image_shape else None
    run = load_run(args.run_dir, image_shape=shape)
    out = args.out or Path(args.run_dir) / "figures" / f"{name}.pdf"
    for path in draw(run, name, out):
        print(path)
    return 0
