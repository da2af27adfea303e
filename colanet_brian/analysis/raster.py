"""Spike raster of a few frames: R, L (grouped by column), OUT, GATE and Target (spec §4.2, §8.2)."""

from __future__ import annotations

import numpy as np

from .style import class_colors, get_axes

__all__ = ["plot_frame_raster", "raster_rows"]

#: Gap between population blocks, in rows.
_GAP = 3
#: Scatter style per population: dense inputs thin, the sparse network spikes large; GATE (teacher) crosses.
_MARKERS = {"R": dict(marker="|", s=10, linewidths=0.8), "L": dict(marker="|", s=40, linewidths=1.6),
            "OUT": dict(marker="|", s=40, linewidths=1.6), "GATE": dict(marker="x", s=22, linewidths=1.2),
            "Target": dict(marker="|", s=40, linewidths=1.6)}


def raster_rows(populations, n_classes: int, n_microcolumns: int, n_inputs: int, copies) -> dict:
    """Row layout of the raster, bottom to top in data-flow order.

    Returns
    -------
    dict
        ``{population: (first_row, n_rows)}``.
    """
    sizes = {"R": n_inputs, "L": len(copies) * n_classes * n_microcolumns, "OUT": len(copies) * n_classes,
             "GATE": len(copies) * n_classes, "Target": n_classes}
    rows, start = {}, 0
    for pop in populations:
        rows[pop] = (start, sizes[pop])
        start += sizes[pop] + _GAP
    return rows


def plot_frame_raster(spikes: dict, frames, n_classes: int, n_microcolumns: int, n_inputs: int | None = None,
                      frame_tacts: int = 15, present_tacts: int = 10, labels=None, predictions=None,
                      class_names=None, copies=(0,), inputs=None, axes=None, **kwds):
    """Raster of the spikes of one or more frames, every population in its own block of rows.

    Parameters
    ----------
    spikes : dict
        ``{population: (indices, tacts)}`` for any of ``R``, ``L``, ``OUT``,
        ``GATE``, ``Target`` (absent populations are left out); tacts count
        from the start of the pass.
    frames : (int, int)
        ``[start, stop)`` frame range to draw.
    n_classes, n_microcolumns : int
        Network shape (K, M); L neuron ``copy*K*M + class*M + m``, OUT/GATE neuron ``copy*K + class``.
    n_inputs : int, optional
        Receptors R (default: largest recorded R index + 1).
    frame_tacts, present_tacts : int
        Frame length and input presentation (shaded) in tacts.
    labels, predictions : sequence of int, optional
        True class and readout of each frame in ``frames``, written above it.
    class_names : sequence of str, optional
        Names used for labels and L row ticks.
    copies : sequence of int or None
        Copies whose L, OUT and GATE neurons are drawn (``None``: all recorded).
    inputs : sequence of int, optional
        Receptors R drawn, bottom to top (default: all ``n_inputs``); e.g. a
        subset of 1536 feature inputs.
    axes : `~matplotlib.axes.Axes`, optional
        Where to draw (default: current axes).
    **kwds
        Passed to `~matplotlib.axes.Axes.scatter` (e.g. ``s``, ``marker``).

    Returns
    -------
    axes : `~matplotlib.axes.Axes`
        One scatter collection per drawn population, one point per spike.
    """
    axes = get_axes(axes)
    start, stop = int(frames[0]), int(frames[1])
    window = (start * frame_tacts, stop * frame_tacts)
    pops = [p for p in ("R", "L", "OUT", "GATE", "Target") if p in spikes]
    per_copy = {"L": n_classes * n_microcolumns, "OUT": n_classes, "GATE": n_classes}
    if copies is None:
        copies = _recorded_copies(spikes, per_copy)
    copies = list(copies)
    if n_inputs is None:
        n_inputs = int(np.max(spikes["R"][0], initial=-1)) + 1 if "R" in spikes else 0
    inputs = np.arange(n_inputs) if inputs is None else np.asarray(inputs, dtype=np.int64)
    rows = raster_rows(pops, n_classes, n_microcolumns, len(inputs), copies)
    colors = class_colors(n_classes)
    names = [str(c) for c in class_names] if class_names is not None else [str(k) for k in range(n_classes)]
    for pop in pops:
        row, t, cls = _spikes_in_block(pop, *spikes[pop], window, copies, per_copy, n_microcolumns, inputs)
        c = "0.25" if cls is None else colors[cls % n_classes]
        style = dict(_MARKERS[pop])
        style.update(kwds)
        axes.scatter(t, rows[pop][0] + row, c=c, label=pop, **style)
    _draw_frames(axes, start, stop, frame_tacts, present_tacts, labels, predictions, names)
    _draw_rows(axes, rows, n_classes, n_microcolumns, copies, names)
    axes.set_xlim(window[0] - 0.5, window[1] - 0.5)
    axes.set_ylim(-1.5, sum(rows[pops[-1]]) + 0.5 if pops else 1)
    axes.set_xlabel("time since start of pass (tacts)")
    axes.set_ylabel("neuron (population; colour: class column)")
    return axes


def _recorded_copies(spikes, per_copy):
    found = set()
    for pop, size in per_copy.items():
        if pop in spikes and len(spikes[pop][0]):
            found.update(np.unique(np.asarray(spikes[pop][0]) // size).tolist())
    return sorted(found) or [0]


def _positions(selected, indices):
    """Position of each index in ``selected`` (-1 where absent)."""
    lookup = np.full(max(int(np.max(selected, initial=-1)), int(np.max(indices, initial=-1))) + 1, -1)
    lookup[selected] = np.arange(len(selected))
    return lookup[indices]


def _spikes_in_block(pop, i, t, window, copies, per_copy, n_microcolumns, inputs):
    """Row within the population block, tact and class of the spikes of ``pop`` in ``window``/``copies``."""
    i, t = np.asarray(i, dtype=np.int64), np.asarray(t, dtype=np.int64)
    keep = (t >= window[0]) & (t < window[1])
    i, t = i[keep], t[keep]
    if pop == "R":
        row = _positions(inputs, i)
        return row[row >= 0], t[row >= 0], None
    if pop == "Target":
        return i, t, i
    size = per_copy[pop]
    copy, local = np.divmod(i, size)
    keep = np.isin(copy, copies)
    position = _positions(copies, copy[keep])
    local = local[keep]
    cls = local // n_microcolumns if pop == "L" else local
    return position * size + local, t[keep], cls


def _draw_frames(axes, start, stop, frame_tacts, present_tacts, labels, predictions, names):
    """Frame boundaries, shaded input presentation, label (and prediction) above each frame."""
    for f in range(start, stop + 1):
        axes.axvline(f * frame_tacts - 0.5, color="0.3", lw=0.8, ls="--", zorder=0)
    for n, f in enumerate(range(start, stop)):
        t0 = f * frame_tacts
        axes.axvspan(t0 - 0.5, t0 + present_tacts - 0.5, color="0.93", zorder=-1, lw=0)
        text = []
        if labels is not None:
            text.append(f"label {names[int(labels[n])]}")
        if predictions is not None:
            pred = int(predictions[n])
            text.append(f"out {names[pred]}" if pred >= 0 else "out none")
        if text:
            axes.text(t0 + (frame_tacts - 1) / 2, 1.01, "\n".join(text), transform=axes.get_xaxis_transform(),
                      ha="center", va="bottom", fontsize="small")


def _draw_rows(axes, rows, n_classes, n_microcolumns, copies, names):
    """Tick labels per population (per class column for L) and separators between blocks and columns."""
    ticks, tick_labels = [], []
    every = -(-n_classes * len(copies) // 24)  # at most about 24 column labels
    for pop, (first, n) in rows.items():
        if pop == "L":
            for c_pos, copy in enumerate(copies):
                for k in range(n_classes):
                    lo = first + (c_pos * n_classes + k) * n_microcolumns
                    if n_classes <= 32:
                        axes.axhline(lo - 0.5, color="0.8", lw=0.5, zorder=0)
                    if (c_pos * n_classes + k) % every == 0:
                        ticks.append(lo + (n_microcolumns - 1) / 2)
                        tick_labels.append(f"L {names[k]}" if len(copies) == 1 else f"L{copy}:{names[k]}")
        else:
            ticks.append(first + (n - 1) / 2)
            tick_labels.append(pop if len(copies) == 1 or pop in ("R", "Target") else f"{pop} (copies)")
        axes.axhline(first + n + (_GAP - 1) / 2, color="0.5", lw=0.8, zorder=0)
    axes.set_yticks(ticks, tick_labels, fontsize="x-small")
