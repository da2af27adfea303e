"""CoLaNET ensemble as a classifier: one online training pass, then testing.

`CoLaNETClassifier` is the library's main entry point::

    clf = CoLaNETClassifier(params, backend="cpp", seed=0)
    clf.fit(X_train, y_train, class_names)        # single pass, plasticity on (spec §2)
    result = clf.evaluate(X_test, y_test)          # plasticity and teacher off
    clf.save("model.npz"); CoLaNETClassifier.load("model.npz")

Labels given to `fit` are class indices ``0..K-1`` (with ``class_names``
naming them) or arbitrary labels, which are mapped to indices in sorted order.
"""

from __future__ import annotations

import functools
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .encoding import check_features, equalize_mass, feature_rates, mean_input_drive, positive_mass, saturation_level
from .modeldata import TrainingData
from .network import LEARNED_STATE
from .params import CoLaNETParams
from .provenance import atomic_save_npz, package_versions
from .readout import accuracy, copy_predictions, ensemble_predictions, silent_fraction, tie_fraction
from .simulate import Simulator

__all__ = ["CoLaNETClassifier", "Evaluation", "SimulationConfig", "balanced_block"]


def balanced_block(n_samples: int, max_block: int = 1000) -> int:
    """Block size <= ``max_block`` that splits ``n_samples`` into equal blocks (least padding)."""
    n_blocks = -(-max(1, n_samples) // max_block)
    return -(-max(1, n_samples) // n_blocks)


@dataclass
class SimulationConfig:
    """How a job simulates its classifier (the options every command records in ``results.json``)."""

    backend: str = "cpp"
    seed: int = 0
    block_frames: int | None = None
    threads: int = 0
    workers: int = 1
    cache_dir: str | None = None
    record_spikes: bool = False
    progress: bool = True

    def classifier(self, params, block_frames: int | None = None) -> CoLaNETClassifier:
        """A `CoLaNETClassifier` with these options (``block_frames`` overrides the configured one)."""
        return CoLaNETClassifier(params, backend=self.backend, seed=self.seed,
                                 block_frames=self.block_frames if block_frames is None else block_frames,
                                 threads=self.threads, workers=self.workers, cache_dir=self.cache_dir,
                                 record_spikes=self.record_spikes, progress=self.progress)


@dataclass
class Evaluation:
    """Accuracies and raw votes of one pass over a data set.

    Attributes
    ----------
    counts : ndarray, shape (n_samples, n_copies, n_classes)
        OUT spikes per sample, copy and class.
    y : ndarray
        True class indices.
    first : ndarray, shape (n_samples, n_copies, n_classes), optional
        Frame-local tact of the first OUT spike (for the latency tie-break).
    tie_break : str
        Readout tie rule (`readout.vote`).
    scores : ndarray, shape (n_samples, n_copies, n_classes), optional
        Column scores at the end of each frame (`readout` module docstring).
    silent_readout : str
        ``"score"``: frames without spikes go to the best column score.
    """

    counts: np.ndarray
    y: np.ndarray
    wall_time: float = 0.0
    spikes: dict = field(default_factory=dict)
    first: np.ndarray | None = None
    tie_break: str = "lowest"
    scores: np.ndarray | None = None
    silent_readout: str = "none"

    @property
    def _readout(self) -> dict:
        scores = self.scores if self.silent_readout == "score" else None
        return dict(first=self.first, tie_break=self.tie_break, scores=scores)

    @property
    def predictions(self) -> np.ndarray:
        """Ensemble predictions (`readout.ensemble_predictions`)."""
        return ensemble_predictions(self.counts, **self._readout)

    @property
    def accuracy(self) -> float:
        """Ensemble accuracy."""
        return accuracy(self.predictions, self.y)

    @property
    def copy_accuracies(self) -> np.ndarray:
        """Accuracy of every single copy."""
        preds = copy_predictions(self.counts, **self._readout)
        return np.array([accuracy(preds[:, c], self.y) for c in range(preds.shape[1])])

    @property
    def silent_fraction(self) -> float:
        """Fraction of samples with no OUT spike in the whole ensemble."""
        return silent_fraction(self.counts.sum(axis=1))

    def readout_rates(self) -> dict:
        """Tie and silent-frame rates of the ensemble and of single copies (mean over copies)."""
        return dict(silent_fraction=self.silent_fraction, tie_fraction=tie_fraction(self.counts.sum(axis=1)),
                    silent_fraction_single=silent_fraction(self.counts),
                    tie_fraction_single=tie_fraction(self.counts))

    def summary(self) -> dict:
        """JSON-ready numbers."""
        single = self.copy_accuracies
        out = dict(accuracy=self.accuracy, accuracy_single=single.tolist(),
                   accuracy_single_mean=float(single.mean()), accuracy_single_min=float(single.min()),
                   accuracy_single_max=float(single.max()), tie_break=self.tie_break,
                   silent_readout=self.silent_readout,
                   n_samples=int(self.y.size), wall_time=self.wall_time)
        out.update(self.readout_rates())
        return out


class CoLaNETClassifier:
    """An ensemble of CoLaNET networks trained online with local plasticity.

    Parameters
    ----------
    params : CoLaNETParams, optional
        Hyperparameters (defaults: `CoLaNETParams()`).
    backend : str
        Brian2 backend, see `simulate.BACKENDS`.
    seed : int
        Key of every random stream.
    block_frames : int, optional
        Samples per simulation run (default: `balanced_block` of the training set).
    threads : int
        OpenMP threads for the ``cpp`` backend.
    workers : int
        Standalone backends: binaries the copies are split over, run side by
        side (`simulate.split_copies`); the spikes are the same as with one.
    cache_dir : path, optional
        Standalone build cache.
    record_spikes : bool
        Record every L spike (analysis).
    progress : bool
        Show a progress bar while simulating.
    """

    def __init__(self, params: CoLaNETParams | None = None, *, backend="runtime", seed=0, block_frames=None,
                 threads=0, workers=1, cache_dir=None, record_spikes=False, progress=True):
        self.params = (params or CoLaNETParams()).validate()
        self.backend = backend
        self.seed = int(seed)
        self.block_frames = block_frames
        self.threads = threads
        self.workers = int(workers)
        self.cache_dir = cache_dir
        self.record_spikes = record_spikes
        self.progress = progress
        self.simulator: Simulator | None = None
        self.class_names: list[str] | None = None
        self.saturation: float | None = None
        self.input_offset: np.ndarray | None = None
        self.input_mass: float | None = None
        self.sigma: float | None = None
        self.n_inputs: int | None = None
        self.training: Evaluation | None = None
        self.snapshots: dict = {}
        self.training_data: TrainingData | None = None  # what test data are checked against

    # ------------------------------------------------------------------
    @property
    def n_classes(self) -> int:
        """Number of classes (columns per copy)."""
        return len(self.class_names) if self.class_names is not None else 0

    def _check_labels(self, y, n_samples) -> np.ndarray:
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != n_samples:
            raise ValueError(f"y must be 1-D with one label per sample ({n_samples}), got shape {y.shape}")
        if not np.issubdtype(y.dtype, np.integer):
            if np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
                y = y.astype(np.int64)
            else:
                raise ValueError(f"labels must be integer class indices, got dtype {y.dtype}")
        bad = (y < 0) | (y >= self.n_classes)
        if bad.any():
            raise ValueError(f"{int(bad.sum())} label(s) outside the {self.n_classes} known classes "
                             f"0..{self.n_classes - 1}: {np.unique(y[bad])[:10].tolist()}")
        return y.astype(np.int64)

    def _progress_bar(self, total, desc):
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit="sample", disable=not self.progress, leave=False)

    def _make_simulator(self, n_train, max_block=1000):
        block = self.block_frames or balanced_block(n_train, max_block)
        return Simulator(self.params, self.n_inputs, self.n_classes, sigma=self.sigma, backend=self.backend,
                         block_frames=block, seed=self.seed, threads=self.threads, cache_dir=self.cache_dir,
                         record_spikes=self.record_spikes, workers=self.workers)

    def _set_classes(self, class_names):
        self.class_names = [str(c) for c in class_names]
        if len(set(self.class_names)) != len(self.class_names):
            raise ValueError("class_names must be unique")
        if self.n_classes < 2:
            raise ValueError(f"need at least 2 classes, got {self.n_classes}")

    def _build(self, X, max_block=1000):
        """Fix the rate code (saturation, sigma) from ``X`` and build a fresh network."""
        self.params.validate(X.shape[1])
        self.n_inputs = X.shape[1]
        # centring (params.input_centering) first: the saturation level is a percentile of what is left
        self.input_offset = X.mean(axis=0) if self.params.input_centering == "mean" else None
        # then per-sample mass equalisation (params.input_normalization), to the mean training mass
        self.input_mass = None
        if self.params.input_normalization == "l1":
            self.input_mass = float(positive_mass(self._prepared(X)).mean())
            if not self.input_mass > 0:
                raise ValueError("no positive feature value in the training data: every input would stay silent")
        self.saturation = (float(self.params.saturation) if self.params.saturation is not None
                           else saturation_level(self._prepared(X), self.params.saturation_percentile))
        self.sigma = self.params.sigma(mean_input_drive(self.rates(X)))
        self.simulator = self._make_simulator(X.shape[0], max_block)

    def _prepared(self, X):
        """Features after centring and mass equalisation, before the saturation (spec §3.4)."""
        X = X if self.input_offset is None else X - self.input_offset
        return X if self.input_mass is None else equalize_mass(X, self.input_mass)

    def rates(self, X) -> np.ndarray:
        """Per-tact spike probabilities of features ``X`` under this model's rate code (spec §3)."""
        return feature_rates(self._prepared(X), self.saturation)

    def initialize(self, X, class_names) -> CoLaNETClassifier:
        """Build an untrained network whose rate code is fixed from ``X`` (no training pass).

        `fit` is `initialize` followed by one training pass.  Use it with
        `partial_fit` to train one network on a sequence of data sets
        (continual learning), or to test the untrained network.

        Parameters
        ----------
        X : array, shape (n_samples, n_features)
            Data that fixes the saturation level and ``sigma`` (spec §3, §6)
            for every later pass; its size sets the block size (unless
            ``block_frames`` was given).
        class_names : sequence of str
            Names of the K classes: every class the network will ever learn.
        """
        X = check_features(X, "X")
        self._set_classes(class_names)
        self._build(X)
        return self

    def partial_fit(self, X, y) -> CoLaNETClassifier:
        """One more online training pass of the same network over ``(X, y)``.

        The learned state, the random streams (they continue where they
        stopped), the block size and the rate code fixed by `fit` or
        `initialize` carry over: the saturation level and ``sigma`` are not
        recomputed from ``X``, so weights learned earlier keep their meaning.

        Parameters
        ----------
        X : array, shape (n_samples, n_inputs)
            Features of the new data, in training order.
        y : array of int, shape (n_samples,)
            Class indices ``0..K-1`` of the classes given at the start.
        """
        self._require_fitted()
        X = check_features(X, "X", self.n_inputs)
        y = self._check_labels(y, X.shape[0])
        with self._progress_bar(X.shape[0], "train") as bar:
            result = self.simulator.run(self.rates(X), y, learning=True, progress=bar.update)
        self.training = self._evaluation(result, y)
        return self

    # ------------------------------------------------------------------
    def fit(self, X, y, class_names=None, record_frames=None, snapshots=0, checkpoint=None) -> CoLaNETClassifier:
        """One online training pass over ``(X, y)`` in the given order (spec §2).

        Parameters
        ----------
        X : array, shape (n_samples, n_features)
            Features (any real values; non-positive ones never spike).
        y : array of int, shape (n_samples,)
            Class indices ``0..K-1``.
        class_names : sequence of str, optional
            Names of the K classes (default: ``"0".."K-1"`` for the largest label).
        record_frames : sequence of int, optional
            Samples whose input spikes are recorded (with ``record_spikes``).
        snapshots : int
            Number of weight snapshots to take during the pass (0: none); they
            land in `snapshots` as ``samples`` (the first is 0: the initial state), ``w`` and
            ``r`` (copy 0, [S, n_inputs, K*M]), ``s`` and ``theta_add`` (every L neuron, [S, n_L]).
        checkpoint : checkpoint.Checkpoint, optional
            Simulate in checkpointed chunks (and resume from its file): same result as one pass.
        """
        X = check_features(X, "X")
        y = np.asarray(y)
        if class_names is None:
            if not np.issubdtype(y.dtype, np.integer) or y.size == 0 or y.min() < 0:
                raise ValueError("without class_names, y must be non-negative integer class indices")
            class_names = [str(k) for k in range(int(y.max()) + 1)]
        self._set_classes(class_names)
        y = self._check_labels(y, X.shape[0])
        self._build(X, max_block=-(-X.shape[0] // snapshots) if snapshots else 1000)
        rho = self.rates(X)
        self.training_data = TrainingData.from_rows(X, rho)
        self.snapshots = dict(samples=[], w=[], r=[], s=[], theta_add=[])
        on_block = self._take_snapshot if snapshots else None
        if on_block:
            on_block(0)  # the initial state
        with self._progress_bar(X.shape[0], "train") as bar:
            run = (self.simulator.run if checkpoint is None
                   else functools.partial(checkpoint.run, self.simulator, extra=self.snapshots))
            result = run(rho, y, learning=True, progress=bar.update, record_frames=record_frames, on_block=on_block)
        self.snapshots = {k: np.asarray(v) for k, v in self.snapshots.items()}
        self.training = self._evaluation(result, y)
        return self

    def _take_snapshot(self, n_done):
        n_l_copy = self.n_classes * self.params.n_microcolumns
        state = self.simulator.engine.get_values(["R_L.w", "R_L.r", "L.s", "L.theta_add"])
        self.snapshots["samples"].append(n_done)
        for key, var in (("w", "R_L.w"), ("r", "R_L.r")):
            self.snapshots[key].append(state[var].reshape(self.n_inputs, -1)[:, :n_l_copy].astype(np.float32))
        self.snapshots["s"].append(state["L.s"].astype(np.float32))
        self.snapshots["theta_add"].append(state["L.theta_add"].astype(np.float32))

    def _require_fitted(self):
        if self.simulator is None:
            raise RuntimeError("the classifier is not trained: call fit() or load() first")

    def predict_counts(self, X) -> Evaluation:
        """OUT counts of a test pass (plasticity and teacher off); labels unknown."""
        return self.evaluate(X, None)

    def evaluate(self, X, y=None, record_frames=None) -> Evaluation:
        """Run a test pass; return the `Evaluation` (accuracies need ``y``)."""
        self._require_fitted()
        X = check_features(X, "X", self.n_inputs)
        y = -np.ones(X.shape[0], dtype=np.int64) if y is None else self._check_labels(y, X.shape[0])
        rho = self.rates(X)
        if self.training_data is not None:  # warn about training rows and a foreign input scale
            self.training_data.check_test(X, rho)
        with self._progress_bar(X.shape[0], "test") as bar:
            result = self.simulator.run(rho, None, learning=False, progress=bar.update, record_frames=record_frames)
        return self._evaluation(result, y)

    def _evaluation(self, result, y) -> Evaluation:
        return Evaluation(result.out_counts, y, result.wall_time, result.spikes, first=result.out_first,
                          tie_break=self.params.tie_break, scores=result.out_scores,
                          silent_readout=self.params.silent_readout)

    def predict(self, X) -> np.ndarray:
        """Ensemble class indices (``-1`` where no OUT neuron spiked)."""
        return self.predict_counts(X).predictions

    # ------------------------------------------------------------------
    def learned_state(self) -> dict:
        """Resources, weights, stability and thresholds of every copy."""
        self._require_fitted()
        names = [f"{obj}.{var}" for obj, variables in LEARNED_STATE.items() for var in variables]
        return self.simulator.engine.get_values(names)

    def save(self, path) -> Path:
        """Write the trained model (state, parameters, class names) to one ``.npz`` file, atomically."""
        self._require_fitted()
        meta = dict(block_frames=self.simulator.shape.block_frames, block_index=self.simulator.block_index, params=self.params.to_dict(),
                    class_names=self.class_names, saturation=self.saturation,
                    input_offset=None if self.input_offset is None else self.input_offset.tolist(),
                    input_mass=self.input_mass,
                    sigma=self.sigma, n_inputs=self.n_inputs, seed=self.seed, versions=package_versions(),
                    format="colanet-brian model 1")
        state = self.simulator.get_state()
        arrays = {f"state/{k}": v for k, v in state.items()}
        if self.training_data is not None:
            meta["data"] = self.training_data.to_meta()
            arrays.update(self.training_data.arrays())
        return atomic_save_npz(path, meta=np.array(json.dumps(meta)), **arrays)

    @classmethod
    def load(cls, path, **kwds) -> CoLaNETClassifier:
        """Load a model written by `save`; ``kwds`` override backend, seed, progress, ...

        Raises
        ------
        FileNotFoundError, ValueError
            For a missing file or one that is not a colanet-brian model.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"model file not found: {path}")
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                state = {k[len("state/"):]: data[k] for k in data.files if k.startswith("state/")}
                remembered = {k: data[k] for k in data.files if k.startswith("data/")}
        except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as err:  # garbage, truncated
            reason = "no pickled data allowed" if "pickled" in str(err) else str(err).strip("'\"")
            raise ValueError(f"{path} is not a colanet-brian model file ({reason})") from None
        meta = meta if isinstance(meta, dict) else {}
        if meta.get("format") != "colanet-brian model 1":
            raise ValueError(f"{path} is not a colanet-brian model file (format {meta.get('format')!r})")
        kwds.setdefault("seed", meta["seed"])
        clf = cls(CoLaNETParams.from_dict(meta["params"]), **kwds)
        clf.class_names = meta["class_names"]
        clf.saturation, clf.sigma, clf.n_inputs = meta["saturation"], meta["sigma"], meta["n_inputs"]
        offset = meta.get("input_offset")
        clf.input_offset = None if offset is None else np.asarray(offset, dtype=np.float64)
        clf.input_mass = meta.get("input_mass")
        clf.simulator = clf._make_simulator(meta["block_frames"])
        clf.simulator.set_state(state)
        clf.simulator.block_index = meta["block_index"]  # continue the random streams where they stopped
        clf.training_data = TrainingData.from_saved(meta.get("data"), remembered)
        return clf
