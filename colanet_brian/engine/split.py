"""Copies split over processes: one standalone binary per part of the ensemble."""

from __future__ import annotations

import numpy as np

from ..model.network import NetworkShape
from .standalone import _StandaloneEngine

#: Per-copy objects and the number of their elements per copy, in units of
#: ``n_classes`` (OUT, GATE) or ``n_classes * n_microcolumns`` (L; R_L along its postsynaptic axis).
_PER_COLUMN = ("OUT", "GATE", "OUT_spikes", "OUT_scores", "GATE_spikes")
_PER_LEARNING = ("L", "L_spikes", "R_L")


def split_copies(n_copies: int, workers: int) -> list[tuple[int, int]]:
    """``[(first_copy, n_copies), ...]``: the copies of an ensemble in nearly equal parts.

    Parameters
    ----------
    n_copies : int
        Copies in the ensemble.
    workers : int
        Parts wanted (capped at ``n_copies``).
    """
    workers = max(1, min(int(workers), int(n_copies)))
    sizes = [n_copies // workers + (k < n_copies % workers) for k in range(workers)]
    starts = np.cumsum([0] + sizes[:-1])
    return [(int(a), int(b)) for a, b in zip(starts, sizes, strict=True)]


class _SplitEngine:
    """Several standalone binaries, each simulating some copies of one ensemble, side by side.

    The copies of an ensemble never interact (spec §9): they share only the
    input R (unless each copy has its own, ``per_copy_inputs``) and the
    teacher Target.  Each part runs its own compiled network of
    ``n_copies / workers`` copies in its own process (the binary); the parts of
    a block run concurrently from threads, which wait on the processes.  The
    random streams of L and of per-copy inputs are keyed by ensemble-wide
    indices (``L.i_offset``, ``R.r_offset``), and the inputs, the teacher and
    the block seeds are the same in every part, so the split ensemble produces
    the same spikes as the whole one.
    """

    def __init__(self, shape: NetworkShape, parts: list[tuple[int, int, _StandaloneEngine]]):
        self.shape = shape
        self.parts = parts  # (first_copy, n_copies, engine)
        for first, _, engine in parts:
            engine.set_values({"L.i_offset": first * shape.n_classes * shape.n_microcolumns,
                               "R.r_offset": first * shape.n_inputs if shape.per_copy_inputs else 0})

    def _slice(self, name: str, first: int, count: int):
        """Elements of ``name`` that belong to copies ``first .. first+count-1`` (None: shared by all)."""
        obj = name.split(".")[0]
        K, M = self.shape.n_classes, self.shape.n_microcolumns
        if obj in _PER_COLUMN:
            return slice(first * K, (first + count) * K)
        if obj in _PER_LEARNING:
            return slice(first * K * M, (first + count) * K * M)
        if obj == "R" and self.shape.per_copy_inputs:  # one block of inputs per copy
            return slice(first * self.shape.n_inputs, (first + count) * self.shape.n_inputs)
        return None

    def set_values(self, values: dict):
        for first, count, engine in self.parts:
            part = {}
            for name, value in values.items():
                if name in ("L.i_offset", "R.r_offset"):  # set per part, in __init__
                    continue
                where = self._slice(name, first, count)
                array = np.asarray(value)
                if where is None or array.ndim == 0 or array.size == 1:
                    part[name] = value
                elif name.startswith("R_L."):
                    part[name] = array.reshape(self.shape.n_inputs, -1)[:, where].ravel()
                else:
                    part[name] = array[where]
            engine.set_values(part)

    def get_values(self, names) -> dict:
        out = {}
        for name in names:
            pieces = [engine.get_values([name])[name] for _, _, engine in self.parts]
            if self._slice(name, 0, 1) is None or pieces[0].ndim == 0:
                out[name] = pieces[0]
            elif name.startswith("R_L."):
                out[name] = np.hstack([p.reshape(self.shape.n_inputs, -1) for p in pieces]).ravel()
            else:
                out[name] = np.concatenate(pieces)
        return out

    def run(self, stim, labels, record_mask, n_frames, progress=None) -> dict:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=len(self.parts)) as pool:
            futures = [pool.submit(engine.run, stim, labels, record_mask, n_frames, progress if k == 0 else None)
                       for k, (_, _, engine) in enumerate(self.parts)]
            results = [f.result() for f in futures]
        spikes = {}
        for name in results[0]:
            if self._slice(name, 0, 1) is None:  # input and teacher spikes: the same in every part
                spikes[name] = results[0][name]
                continue
            offsets = [self._slice(name, first, 1).start for first, _, _ in self.parts]
            i = np.concatenate([res[name][0] + off for res, off in zip(results, offsets, strict=True)])
            rest = [np.concatenate([res[name][k] for res in results]) for k in range(1, len(results[0][name]))]
            order = np.lexsort((i, rest[0]))  # the order a single monitor records: by tact, then index
            spikes[name] = (i[order], *(r[order] for r in rest))
        return spikes
