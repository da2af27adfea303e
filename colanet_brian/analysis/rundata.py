"""A saved run as plotting input: ``results.json``, ``run_data.npz``, ``model.npz`` and a GA log.

`RunData` reads what `colanet_brian.experiment.run_experiment` wrote and
answers the questions the figures ask (spikes of a phase, labels, learned
weights per copy, snapshots, image shape).  Missing files or arrays are not
errors: the accessors return ``None`` or empty dicts, and
`colanet_brian.analysis.figures` skips the figures that need them.

Arrays of ``run_data.npz`` read here
------------------------------------
Written by `colanet_brian.experiment.run_experiment` (``phase`` is ``train``
or ``test``):

``{phase}_counts``  int [n, n_copies, n_classes]
    OUT spikes per sample.
``y_train``, ``y_test``  int [n]
    True classes (training order).
``class_names``  str [K]
``{phase}_{pop}_spikes_i``, ``{phase}_{pop}_spikes_t``  int [n_spikes]
    Neuron index and tact (relative to the start of the pass; frame =
    tact // frame_tacts) of the spikes of ``pop``: ``L``, ``OUT``, ``GATE``,
    ``Target`` in every frame, ``R`` in the raster frames only.
``{phase}_raster_frames``  int [n_frames]
    Frames whose R spikes were recorded (consecutive runs form the raster windows).
``snapshot_samples``  int [S]
    Training samples presented when each weight snapshot was taken.
``snapshot_w``  float32 [S, n_inputs, K*M]
    R->L weights of copy 0 (L neuron ``k*M + m``).
``snapshot_s``  float32 [S, n_L]
    Stability of every L neuron.
``snapshot_r``, ``snapshot_theta_add``  (optional)
    Resources [S, n_inputs, K*M] and threshold excess [S, n_L], drawn when present.
"""

from __future__ import annotations

import json
import math
from functools import cached_property
from pathlib import Path

import numpy as np

__all__ = ["RunData", "load_run", "PHASES", "POPULATIONS", "RASTER_SPEC", "SNAPSHOT_SPEC", "GA_LOG_NAMES",
           "GA_SUMMARY_NAME"]

#: Learned state read from ``model.npz`` (`colanet_brian.model.network.LEARNED_STATE`).
LEARNED = ("R_L.w", "R_L.r", "L.s", "L.theta_add", "L.F")
#: Passes of an experiment.
PHASES = ("train", "test")
#: Spiking populations in data-flow order (spec §4.2).
POPULATIONS = ("R", "L", "OUT", "GATE", "Target")
#: Arrays a full spike raster needs besides the L and OUT spikes (``{phase}`` = train/test).
RASTER_SPEC = ("{phase}_R_spikes_i", "{phase}_R_spikes_t", "{phase}_GATE_spikes_i", "{phase}_GATE_spikes_t",
               "{phase}_Target_spikes_i", "{phase}_Target_spikes_t", "{phase}_raster_frames")
#: Arrays of the weight snapshots taken during training (the first two are required).
SNAPSHOT_SPEC = ("snapshot_samples", "snapshot_w", "snapshot_s", "snapshot_r", "snapshot_theta_add")
#: File names searched for a GA log inside a run directory (then any ``*.jsonl``).
GA_LOG_NAMES = ("evaluations.jsonl", "ga_log.jsonl")
#: Per-generation summary of a GA run directory (`colanet_brian.search`).
GA_SUMMARY_NAME = "summary.json"


class RunData:
    """The saved output of one run directory.

    Parameters
    ----------
    path : path
        Run directory (``results.json``, ``run_data.npz``, ``model.npz``; all optional).
    image_shape : tuple of int, optional
        Shape of the input image when the inputs are pixels; by default
        inferred from ``results.json`` (see `image_shape`).
    ga_log : path, optional
        GA log (JSONL); by default searched in the run directory, where a
        GA run's ``summary.json`` is also read.
    """

    def __init__(self, path, image_shape=None, ga_log=None):
        self.path = Path(path)
        if not self.path.is_dir():
            raise FileNotFoundError(f"run directory not found: {self.path}")
        results = self.path / "results.json"
        self.results: dict = json.loads(results.read_text()) if results.is_file() else {}
        arrays = self.path / "run_data.npz"
        self.arrays: dict = {}
        if arrays.is_file():
            with np.load(arrays, allow_pickle=False) as data:
                self.arrays = {k: data[k] for k in data.files}
        self._image_shape = tuple(image_shape) if image_shape is not None else None
        self.ga_log_path = Path(ga_log) if ga_log is not None else _find_ga_log(self.path)
        summary = (self.ga_log_path.parent if self.ga_log_path else self.path) / GA_SUMMARY_NAME
        self.ga_summary_path = summary if summary.is_file() else None

    # ------------------------------------------------------------------ sizes
    @property
    def params(self) -> dict:
        """Model parameters of the run (``results.json``; empty when absent)."""
        return self.results.get("params", {})

    @property
    def n_classes(self) -> int | None:
        """Classes K."""
        if "class_names" in self.arrays:
            return len(self.arrays["class_names"])
        return self.results.get("dataset", {}).get("n_classes")

    @property
    def class_names(self) -> list[str] | None:
        """Class names, or ``None``."""
        if "class_names" in self.arrays:
            return [str(c) for c in self.arrays["class_names"]]
        return self.results.get("dataset", {}).get("class_names")

    @property
    def n_copies(self) -> int | None:
        """Copies C of the ensemble."""
        for phase in PHASES:
            if f"{phase}_counts" in self.arrays:
                return int(self.arrays[f"{phase}_counts"].shape[1])
        return self._structural("n_copies")

    @property
    def n_microcolumns(self) -> int | None:
        """Microcolumns M per class."""
        return self._structural("n_microcolumns")

    def _structural(self, name, default=None):
        if name in self.params:
            return int(self.params[name])
        if name in self.arrays:
            return int(self.arrays[name])
        return default

    @property
    def n_inputs(self) -> int | None:
        """Input channels (receptors R)."""
        return self.results.get("dataset", {}).get("n_features")

    @property
    def frame(self) -> dict:
        """``frame_tacts``, ``present_tacts`` and ``label_tact`` (spec §8.2 defaults where unknown)."""
        return {k: self._structural(k, d) for k, d in (("frame_tacts", 15), ("present_tacts", 10), ("label_tact", 11))}

    @property
    def image_shape(self) -> tuple[int, int] | None:
        """Image shape of pixel inputs, ``None`` for feature inputs.

        Taken from the constructor, else ``dataset.image_shape`` in
        ``results.json``, else a square shape where the data set describes
        its features as pixels and their number is a perfect square.
        """
        if self._image_shape is not None:
            return self._image_shape
        ds = self.results.get("dataset", {})
        if ds.get("image_shape"):
            return tuple(int(n) for n in ds["image_shape"])[-2:]
        n = ds.get("n_features")
        if n and "pixel" in str(ds.get("features", "")).lower() and math.isqrt(n) ** 2 == n:
            return (math.isqrt(n), math.isqrt(n))
        return None

    # ------------------------------------------------------------------ arrays
    def has(self, *names: str) -> bool:
        """Whether every array in ``names`` is in ``run_data.npz``."""
        return all(n in self.arrays for n in names)

    def missing(self, *names: str) -> list[str]:
        """The arrays of ``names`` that ``run_data.npz`` lacks."""
        return [n for n in names if n not in self.arrays]

    def counts(self, phase: str) -> np.ndarray | None:
        """OUT counts ``[n, n_copies, n_classes]`` of a pass."""
        return self.arrays.get(f"{phase}_counts")

    def readout(self, phase: str) -> dict:
        """Keyword arguments of `readout.vote` that reproduce the run's own predictions of a pass.

        First-spike tacts and column scores are used where the run recorded them
        and its parameters ask for them (``tie_break``, ``silent_readout``);
        runs from before those rules vote with the spec's readout.
        """
        params = self.params or {}
        first, scores = self.arrays.get(f"{phase}_first"), self.arrays.get(f"{phase}_scores")
        tie_break = params.get("tie_break", "lowest") if first is not None else "lowest"
        use_scores = params.get("silent_readout", "none") == "score" and scores is not None
        return dict(first=first, tie_break=tie_break, scores=scores if use_scores else None)

    def labels(self, phase: str) -> np.ndarray | None:
        """True classes of a pass, in presentation order."""
        return self.arrays.get(f"y_{phase}")

    def spikes(self, phase: str) -> dict:
        """``{population: (indices, tacts)}`` of every population recorded in ``phase``."""
        out = {}
        for pop in POPULATIONS:
            i, t = f"{phase}_{pop}_spikes_i", f"{phase}_{pop}_spikes_t"
            if self.has(i, t):
                out[pop] = (np.asarray(self.arrays[i]), np.asarray(self.arrays[t]))
        return out

    def raster_windows(self, phase: str) -> list[tuple[int, int]]:
        """``[start, stop)`` runs of consecutive frames whose R spikes were recorded (empty if none)."""
        frames = np.unique(np.asarray(self.arrays.get(f"{phase}_raster_frames", []), dtype=np.int64))
        if not frames.size:
            return []
        breaks = np.nonzero(np.diff(frames) > 1)[0]
        starts = np.concatenate([[frames[0]], frames[breaks + 1]])
        stops = np.concatenate([frames[breaks], [frames[-1]]]) + 1
        return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]

    def snapshots(self) -> dict | None:
        """Weight snapshots of copy 0, or ``None`` without them.

        Returns
        -------
        dict
            ``sample`` [S]; ``L`` [K*M] (the global L indices, copy 0);
            ``w`` [S, n_inputs, K*M]; ``s`` [S, K*M]; and ``r``,
            ``theta_add`` where recorded.
        """
        if not self.has(*SNAPSHOT_SPEC[:2]):
            return None
        km = self.n_classes * self.n_microcolumns
        out = dict(sample=np.asarray(self.arrays["snapshot_samples"]), L=np.arange(km),
                   w=np.asarray(self.arrays["snapshot_w"])[:, :, :km])
        for key in ("r", "s", "theta_add"):
            if f"snapshot_{key}" in self.arrays:
                value = np.asarray(self.arrays[f"snapshot_{key}"])
                out[key] = value[:, :, :km] if value.ndim == 3 else value[:, :km]
        return out

    def ga_history(self) -> dict | None:
        """`ga.ga_history` of the GA log and summary, or ``None`` without generation records."""
        from .ga import ga_history, read_ga_log

        records = read_ga_log(self.ga_log_path) if self.ga_log_path else []
        summary = json.loads(self.ga_summary_path.read_text()) if self.ga_summary_path else None
        history = ga_history(records, summary)
        return history if len(history["generation"]) else None

    # ------------------------------------------------------------------ model
    @property
    def model_path(self) -> Path:
        """Where the trained model is (may not exist)."""
        return self.path / "model.npz"

    @cached_property
    def learned_state(self) -> dict | None:
        """The learned state of ``model.npz`` (as ``CoLaNETClassifier.learned_state()``), or ``None``.

        Read from the file directly (``state/R_L.w``, ...), so that no network
        is built or compiled for a figure.
        """
        if not self.model_path.is_file():
            return None
        with np.load(self.model_path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"])) if "meta" in data.files else {}
            if not str(meta.get("format", "")).startswith("colanet-brian model"):
                raise ValueError(f"{self.model_path} is not a colanet-brian model file")
            return {name: data[f"state/{name}"] for name in LEARNED if f"state/{name}" in data.files}

    @property
    def weight_bounds(self) -> tuple[float, float] | None:
        """``(w_min, w_max)`` of the plastic weights in simulation units (after the resource scale sigma)."""
        if not self.params or self.results.get("sigma") is None:
            return None
        from ..model.params import CoLaNETParams

        values = CoLaNETParams.from_dict(self.params).brian_values(float(self.results["sigma"]))["R_L"]
        return float(values["w_min"]), float(values["w_min"] + values["dw"])

    def copy_weights(self, copy: int = 0, var: str = "w") -> np.ndarray | None:
        """Plastic R->L ``w`` (or ``r``) of one copy, shape ``(n_inputs, n_classes * n_microcolumns)``."""
        state = self.learned_state
        if state is None:
            return None
        flat = state[f"R_L.{var}"]
        n_L = self.n_copies * self.n_classes * self.n_microcolumns
        km = self.n_classes * self.n_microcolumns
        return flat.reshape(-1, n_L)[:, copy * km:(copy + 1) * km]


def load_run(run_dir, image_shape=None, ga_log=None) -> RunData:
    """Open a run directory; see `RunData`."""
    return RunData(run_dir, image_shape=image_shape, ga_log=ga_log)


def _find_ga_log(run_dir: Path) -> Path | None:
    for name in GA_LOG_NAMES:
        if (run_dir / name).is_file():
            return run_dir / name
    logs = sorted(run_dir.glob("*.jsonl"))
    return logs[0] if logs else None
