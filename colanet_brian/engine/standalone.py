"""The standalone engine: one compiled binary run with ``run_args`` per block.

The binary is executed directly with every hyperparameter, the carried state
and the block's data as command-line ``run_args`` written into a private run
directory, so that several processes can share one compiled binary safely.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
import weakref
from pathlib import Path

import numpy as np

from ..model.network import NetworkShape
from .base import MONITOR_VARIABLES, MONITORS


class _StandaloneEngine:
    """Runs a compiled standalone binary; the state lives in Python between runs."""

    def __init__(self, build_dir: Path, manifest: dict, shape: NetworkShape, work_dir: Path | None = None):
        self.build_dir = Path(build_dir)
        self.manifest = manifest
        self.shape = shape
        if work_dir:
            self.work_dir = Path(work_dir)
        else:  # a private scratch directory, removed with the engine (or swept once this process is gone)
            from ..runio import make_scratch_dir

            self.work_dir = make_scratch_dir()
            weakref.finalize(self, shutil.rmtree, str(self.work_dir), True)
        self.values: dict = {}

    def set_values(self, values: dict):
        for name, value in values.items():
            if name in self.manifest["variables"]:
                self.values[name] = value

    def get_values(self, names) -> dict:
        out = {}
        for name in names:
            value = np.array(self.values[name], copy=True)
            size = self.manifest["variables"][name]["size"]
            if value.ndim == 0 and size not in (None, 1):  # still the uniform initial value
                value = np.full(size, value.item(), dtype=np.dtype(self.manifest["variables"][name]["dtype"]))
            out[name] = value
        return out

    def _arg(self, name, value, run_dir: Path) -> str:
        spec = self.manifest["variables"][name]
        array = np.asarray(value, dtype=np.dtype(spec["dtype"]))
        if array.size == 1 and spec["size"] in (None, 1) or array.ndim == 0:
            item = array.reshape(-1)[0].item()
            return f"{name}={int(item) if isinstance(item, (bool, np.bool_)) else repr(item)}"
        if spec["size"] is not None and array.size != spec["size"]:
            raise ValueError(f"{name}: expected {spec['size']} values, got {array.size}")
        # lower case: brian2cuda 1.0a7's set_variable_by_name lowercases the whole argument, path included
        path = run_dir / f"{name.lower()}.dat"
        np.ascontiguousarray(array.ravel()).tofile(path)
        return f"{name}={path}"

    def run(self, stim, labels, record_mask, n_frames, progress=None) -> dict:
        run_dir = self.work_dir / f"run-{uuid.uuid4().hex[:10]}"
        run_dir.mkdir(parents=True)
        try:
            values = dict(self.values)
            values["stim.values"] = stim
            values["label.values"] = labels
            values["record_mask.values"] = record_mask
            values["clock.block_tact0"] = int(np.asarray(values["clock.tact"]).item())
            args = [self._arg(name, value, run_dir) for name, value in values.items()]
            result = subprocess.run([str(self.build_dir / "main"), "--results_dir", str(run_dir) + "/", *args],
                                    cwd=self.build_dir, capture_output=True, text=True)
            if result.returncode != 0 or "Error reading" in result.stderr:
                raise RuntimeError(f"standalone run failed (rc={result.returncode}) in {self.build_dir}:\n"
                                   f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
            for name in list(self.values):
                if name.split(".")[0] in ("clock", "R", "L", "OUT", "GATE", "R_L") and self._is_state(name):
                    self.values[name] = self._read(run_dir, name)
            spikes = {}
            for mon in MONITORS:
                if f"{mon}.i" in self.manifest["variables"]:
                    i = self._read(run_dir, f"{mon}.i").astype(np.int64)
                    t = np.rint(self._read(run_dir, f"{mon}.t") * 1000.0).astype(np.int64)
                    values = tuple(self._read(run_dir, f"{mon}.{var}") for var in MONITOR_VARIABLES.get(mon, ()))
                    spikes[mon] = (i, t, *values)
            if progress is not None:
                progress(1.0)
            return spikes
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)

    def _is_state(self, name) -> bool:
        from ..model.network import CARRIED_STATE, ONE_FACTOR_STATE

        obj, var = name.split(".")
        return var in CARRIED_STATE.get(obj, ()) or (obj == "R_L" and var in ONE_FACTOR_STATE)

    def _read(self, run_dir: Path, name: str) -> np.ndarray:
        spec = self.manifest["variables"][name]
        return np.fromfile(run_dir / spec["file"], dtype=np.dtype(spec["dtype"]))
