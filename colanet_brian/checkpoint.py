"""Checkpoints of a training pass: a killed ``run``/``train`` resumes with the same final state.

The pass is simulated in chunks of ``every`` blocks (a chunk boundary is a
block boundary, so the spikes are those of one uninterrupted pass: the state
carried between blocks and the per-block random keys are the same).  After
each chunk the simulator's carried state, its block counter, the results so
far and any per-block records (weight snapshots) are written atomically to one
``.npz``; a kill loses at most the chunk in progress.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .provenance import atomic_save_npz

__all__ = ["Checkpoint", "FORMAT", "checkpoint_path", "data_key"]

FORMAT = "colanet-brian checkpoint 1"
_LOG = logging.getLogger(__name__)


def checkpoint_path(output) -> Path:
    """Where the checkpoint of a command writing ``output`` lives: ``<output stem>.checkpoint.npz`` beside it."""
    output = Path(output)
    stem = output.stem if output.suffix == ".npz" else output.name
    return output.parent / f"{stem}.checkpoint.npz"


def data_key(rho, labels) -> str:
    """SHA-1 of the rates and labels of a pass: a checkpoint resumes only the same pass."""
    digest = hashlib.sha1(np.ascontiguousarray(np.asarray(rho, dtype=np.float64)).tobytes())
    digest.update(np.ascontiguousarray(np.asarray(labels, dtype=np.float64)).tobytes())
    return digest.hexdigest()


class Checkpoint:
    """One resumable training pass, checkpointed to ``path``.

    Parameters
    ----------
    path : path
        The checkpoint file (``.npz``), written atomically after every chunk.
    every : int
        Blocks per chunk (a checkpoint every ``every`` blocks).
    key : dict, optional
        What the pass depends on besides the data (parameters, seed, ...):
        a checkpoint with another key is refused.
    resume : bool
        Continue from an existing checkpoint (else start from scratch and overwrite it).
    """

    def __init__(self, path, every: int = 1, key: dict | None = None, resume: bool = False):
        if int(every) < 1:
            raise ValueError(f"checkpoint interval must be >= 1 block, got {every}")
        self.path = Path(path)
        self.every = int(every)
        self.key = json.loads(json.dumps(key or {}, default=str))
        self.resume = resume
        self.resumed_samples = 0

    # -- file --------------------------------------------------------------------
    def read(self) -> dict | None:
        """The saved checkpoint, or ``None`` if there is none (a damaged one is a `ValueError`)."""
        if not self.path.is_file():
            return None
        try:
            with np.load(self.path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                arrays = {k: data[k] for k in data.files if k != "meta"}
        except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as err:
            raise ValueError(f"checkpoint {self.path} is damaged ({err}); delete it to start again") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError(f"{self.path} is not a colanet-brian checkpoint")
        return dict(meta=meta, arrays=arrays)

    def remove(self) -> None:
        """Delete the checkpoint (after the pass has been saved for good)."""
        self.path.unlink(missing_ok=True)

    def _write(self, simulator, n_done: int, parts: list, extra: dict) -> None:
        meta = dict(format=FORMAT, key=self.key, n_done=int(n_done), block_index=int(simulator.block_index),
                    wall_time=float(sum(p.wall_time for p in parts)), extra=sorted(extra))
        arrays = {f"state/{k}": v for k, v in simulator.get_state().items()}
        merged = _merge(parts)
        for f in dataclasses.fields(merged):
            value = getattr(merged, f.name)
            if isinstance(value, np.ndarray):
                arrays[f"result/{f.name}"] = value
        for mon, (i, t) in merged.spikes.items():
            arrays[f"spikes/{mon}/i"], arrays[f"spikes/{mon}/t"] = i, t
        for name, values in extra.items():
            arrays[f"extra/{name}"] = np.asarray(values)
        atomic_save_npz(self.path, meta=np.array(json.dumps(meta)), **arrays)

    # -- the pass ------------------------------------------------------------------
    def _restore(self, simulator, key: dict, extra: dict):
        saved = self.read() if self.resume else None
        if saved is None:
            return 0, []
        meta, arrays = saved["meta"], saved["arrays"]
        if meta["key"] != key:
            changed = sorted(k for k in set(key) | set(meta["key"]) if key.get(k) != meta["key"].get(k))
            raise ValueError(f"checkpoint {self.path} belongs to another training pass (differs in "
                             f"{', '.join(changed)}); delete it or drop --resume")
        simulator.set_state({k[len("state/"):]: v for k, v in arrays.items() if k.startswith("state/")})
        simulator.block_index = meta["block_index"]
        for name in meta["extra"]:
            if name in extra:
                extra[name][:] = list(arrays[f"extra/{name}"])
        fields = {k[len("result/"):]: v for k, v in arrays.items() if k.startswith("result/")}
        mons = {k.split("/")[1] for k in arrays if k.startswith("spikes/")}
        spikes = {m: (arrays[f"spikes/{m}/i"], arrays[f"spikes/{m}/t"]) for m in mons}
        from .engine.base import BlockResult

        part = BlockResult(**fields, spikes=spikes, wall_time=meta["wall_time"])
        self.resumed_samples = meta["n_done"]
        _LOG.info("resuming from %s: %d samples done", self.path, meta["n_done"])
        return meta["n_done"], [part]

    def run(self, simulator, rho, labels, learning: bool = True, progress=None, record_frames=None, on_block=None,
            extra: dict | None = None):
        """`Simulator.run` in checkpointed chunks; same arguments, same `BlockResult`.

        Parameters
        ----------
        simulator : Simulator
            The simulator, in its initial state (a resumed checkpoint replaces it).
        extra : dict of lists, optional
            Per-block records appended by ``on_block`` (e.g. weight snapshots):
            saved with the checkpoint and restored in place on resume.
        """
        extra = {} if extra is None else extra
        n, B = len(rho), simulator.shape.block_frames
        key = dict(self.key, data=data_key(rho, labels), n_samples=n, block_frames=B, learning=bool(learning))
        start, parts = self._restore(simulator, key, extra)
        if progress is not None and start:
            progress(start)
        self.key, chunk = key, B * self.every
        frames = np.asarray([] if record_frames is None else record_frames, dtype=int)
        for a in range(start, n, chunk):
            b = min(a + chunk, n)
            rec = frames[(frames >= a) & (frames < b)] - a
            part = simulator.run(rho[a:b], None if labels is None else labels[a:b], learning=learning,
                                 progress=progress, record_frames=rec if record_frames is not None else None,
                                 on_block=None if on_block is None else (lambda stop, a=a: on_block(a + stop)))
            parts.append(_shifted(part, a * simulator.shape.frame_tacts) if a else part)
            if b < n:
                self._write(simulator, b, parts, extra)
        return _merge(parts)


def _shifted(result, tacts: int):
    """``result`` with its spike times moved by ``tacts`` (a chunk that started later)."""
    spikes = {m: (i, t + tacts) for m, (i, t) in result.spikes.items()}
    return dataclasses.replace(result, spikes=spikes)


def _merge(parts: list):
    """One result from consecutive chunks (per-sample arrays joined, spikes joined, times summed)."""
    first = parts[0]
    values = {}
    for f in dataclasses.fields(first):
        items = [getattr(p, f.name) for p in parts]
        if f.name == "spikes":
            mons = items[0].keys()
            values[f.name] = {m: (np.concatenate([s[m][0] for s in items]), np.concatenate([s[m][1] for s in items]))
                              for m in mons}
        elif isinstance(items[0], np.ndarray):
            values[f.name] = np.concatenate(items)
        else:
            values[f.name] = sum(items)
    return type(first)(**values)
