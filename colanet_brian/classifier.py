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

import dataclasses
import functools
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError

from .data.dataset import check_features
from .engine.simulate import Simulator
from .model.encoding import equalize_mass, feature_rates, mean_input_drive, positive_mass, saturation_level
from .model.network import LEARNED_STATE
from .model.params import CoLaNETParams, load_params
from .model.readout import accuracy, copy_predictions, ensemble_predictions, silent_fraction, tie_fraction
from .modeldata import TrainingData
from .provenance import atomic_save_npz, package_versions

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


class CoLaNETClassifier(ClassifierMixin, BaseEstimator):
    """An ensemble of CoLaNET networks trained online with local plasticity.

    A scikit-learn estimator: the constructor arguments are its parameters
    (`get_params`, `set_params`, `sklearn.base.clone`), `fit` takes any
    labels (``classes_`` holds them, sorted), `predict` returns them,
    `predict_proba` gives vote fractions and `partial_fit` continues the
    online pass, so it drops into a `sklearn.pipeline.Pipeline`,
    `sklearn.model_selection.cross_val_score` or a stream loop.

    Parameters
    ----------
    params : CoLaNETParams, dict, str or path, optional
        Hyperparameters: an object, a dict of fields (over the defaults), or
        the name or path of a parameter file (`params.load_params`); default
        `CoLaNETParams()`.  Resolved and validated by `fit` into ``params_``.
    n_copies, n_microcolumns : int, optional
        Override these two fields of ``params`` (the sizes one tunes most).
    backend : str
        Brian2 backend, see `engine.base.BACKENDS`.
    seed : int
        Key of every random stream.
    block_frames : int, optional
        Samples per simulation run (default: `balanced_block` of the training set).
    threads : int
        OpenMP threads for the ``cpp`` backend.
    workers : int
        Standalone backends: binaries the copies are split over, run side by
        side (`engine.split.split_copies`); the spikes are the same as with one.
    cache_dir : path, optional
        Standalone build cache.
    record_spikes : bool
        Record every L spike (analysis).
    progress : bool
        Show a progress bar while simulating.

    Attributes
    ----------
    params_ : CoLaNETParams
        The validated hyperparameters of the fitted network.
    classes_ : ndarray
        Class labels, in the order of the columns.
    class_names : list of str
        The labels as text (figures, reports).
    n_features_in_ : int
        Width of the feature vectors.
    """

    # Fitted state; class-level defaults so that __init__ sets nothing but its parameters (scikit-learn rule).
    simulator: Simulator | None = None
    class_names: list[str] | None = None
    saturation: float | None = None
    input_offset: np.ndarray | None = None
    input_mass: float | None = None
    sigma: float | None = None
    n_inputs: int | None = None
    training: Evaluation | None = None
    snapshots: dict | None = None
    training_data: TrainingData | None = None  # what test data are checked against

    def __init__(self, params=None, *, n_copies=None, n_microcolumns=None, backend="runtime", seed=0,
                 block_frames=None, threads=0, workers=1, cache_dir=None, record_spikes=False, progress=True):
        self.params = params
        self.n_copies = n_copies
        self.n_microcolumns = n_microcolumns
        self.backend = backend
        self.seed = seed
        self.block_frames = block_frames
        self.threads = threads
        self.workers = workers
        self.cache_dir = cache_dir
        self.record_spikes = record_spikes
        self.progress = progress

    # ------------------------------------------------------------------
    def _resolve_params(self) -> CoLaNETParams:
        """``params`` with the size overrides, as a validated `CoLaNETParams` (a copy: ``params`` is untouched)."""
        if self.params is None:
            base = CoLaNETParams()
        elif isinstance(self.params, CoLaNETParams):
            base = dataclasses.replace(self.params)
        elif isinstance(self.params, dict):
            base = CoLaNETParams.from_dict(self.params)
        elif isinstance(self.params, (str, Path)):
            base = load_params(self.params)
        else:
            raise TypeError(f"params must be a CoLaNETParams, a dict or a parameter file, got {type(self.params)}")
        sizes = {k: v for k, v in (("n_copies", self.n_copies), ("n_microcolumns", self.n_microcolumns))
                 if v is not None}
        return dataclasses.replace(base, **sizes).validate() if sizes else base.validate()

    @property
    def n_classes(self) -> int:
        """Number of classes (columns per copy)."""
        return len(self.class_names) if self.class_names is not None else 0

    def _check_labels(self, y, n_samples) -> np.ndarray:
        """Column indices of labels ``y`` (members of ``classes_``); a clear error for anything else."""
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != n_samples:
            raise ValueError(f"y must be 1-D with one label per sample ({n_samples}), got shape {y.shape}")
        classes = self.classes_
        if np.issubdtype(classes.dtype, np.number) and not np.issubdtype(y.dtype, np.number):
            raise ValueError(f"labels must be numbers like the known classes, got dtype {y.dtype}")
        if np.issubdtype(y.dtype, np.floating) and not np.all(np.isfinite(y)):
            raise ValueError("labels must be finite (NaN/inf in y)")
        index = np.clip(np.searchsorted(classes, y), 0, classes.size - 1)
        bad = classes[index] != y
        if bad.any():
            shown = classes.tolist() if classes.size <= 10 else f"{classes[:10].tolist()} ..."
            raise ValueError(f"{int(bad.sum())} label(s) outside the {self.n_classes} known classes "
                             f"{shown}: {np.unique(y[bad])[:10].tolist()}")
        return index.astype(np.int64)

    def _progress_bar(self, total, desc):
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit="sample", disable=not self.progress, leave=False)

    def _make_simulator(self, n_train, max_block=1000):
        block = self.block_frames or balanced_block(n_train, max_block)
        return Simulator(self.params_, self.n_inputs, self.n_classes, sigma=self.sigma, backend=self.backend,
                         block_frames=block, seed=int(self.seed), threads=self.threads, cache_dir=self.cache_dir,
                         record_spikes=self.record_spikes, workers=int(self.workers))

    def _set_classes(self, class_names, classes=None):
        """Name the columns; ``classes`` are the labels they stand for (default: indices ``0..K-1``)."""
        names = [str(c) for c in class_names]
        if len(set(names)) != len(names):
            raise ValueError("class_names must be unique")
        if len(names) < 2:
            raise ValueError(f"need at least 2 classes, got {len(names)} (one class: nothing to tell apart)")
        self.class_names = names
        self.classes_ = np.arange(len(names)) if classes is None else np.asarray(classes)

    def _build(self, X, max_block=1000) -> np.ndarray:
        """Fix the rate code (saturation, sigma) from ``X``, build a fresh network; return ``X``'s rates."""
        self.params_ = self._resolve_params()
        self.params_.validate(X.shape[1])
        self.n_inputs = self.n_features_in_ = X.shape[1]
        # centring (params.input_centering) first: the saturation level is a percentile of what is left
        self.input_offset = X.mean(axis=0) if self.params_.input_centering == "mean" else None
        # then per-sample mass equalisation (params.input_normalization), to the mean training mass
        self.input_mass = None
        prepared = self._prepared(X)  # centred only: the mass is not fixed yet
        if self.params_.input_normalization == "l1":
            self.input_mass = float(positive_mass(prepared).mean())
            if not self.input_mass > 0:
                raise ValueError("no positive feature value in the training data: every input would stay silent")
            prepared = equalize_mass(prepared, self.input_mass)  # = self._prepared(X) from here on
        self.saturation = (float(self.params_.saturation) if self.params_.saturation is not None
                           else saturation_level(prepared, self.params_.saturation_percentile))
        rho = feature_rates(prepared, self.saturation)  # = self.rates(X)
        self.sigma = self.params_.sigma(mean_input_drive(rho))
        self.simulator = self._make_simulator(X.shape[0], max_block)
        return rho

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

    def partial_fit(self, X, y, classes=None) -> CoLaNETClassifier:
        """One more online training pass of the same network over ``(X, y)``.

        The learned state, the random streams (they continue where they
        stopped), the block size and the rate code fixed by the first call (or
        by `fit` / `initialize`) carry over: the saturation level and
        ``sigma`` are not recomputed from later ``X``, so weights learned
        earlier keep their meaning.  With ``block_frames`` set and chunks of
        whole blocks, chunks in a row give exactly the spikes of one `fit` on
        their concatenation when the rate code does not depend on the data
        (a fixed ``saturation`` and ``weight_scale``, ``input_normalization="none"``).

        Parameters
        ----------
        X : array, shape (n_samples, n_inputs)
            Features of the new data, in training order.
        y : array, shape (n_samples,)
            Labels, members of ``classes_``.
        classes : array, optional
            Every label the network will ever learn; required on the first
            call of an unfitted estimator (scikit-learn convention), which
            also fixes the rate code from this ``X``.
        """
        if self.simulator is None:
            if classes is None:
                raise NotFittedError("the first partial_fit call needs classes=... (every label to be learned)")
            classes = np.unique(np.asarray(classes))
            self.initialize(X, [str(c) for c in classes])
            self.classes_ = classes
        X = check_features(X, "X", self.n_inputs, owner=type(self).__name__)
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
        y : array, shape (n_samples,)
            Labels: any sortable values (``classes_`` = the sorted distinct
            labels), or, with ``class_names``, class indices ``0..K-1``.
        class_names : sequence of str, optional
            Names of the K classes; ``y`` then holds indices and every class
            gets a column even if absent from ``y``.
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
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:  # before the classes are read from y
            raise ValueError(f"y must be 1-D with one label per sample ({X.shape[0]}), got shape {y.shape}")
        if class_names is None:
            classes = np.unique(y)
            self._set_classes([str(c) for c in classes], classes)
        else:
            self._set_classes(class_names)
        y = self._check_labels(y, X.shape[0])
        rho = self._build(X, max_block=-(-X.shape[0] // snapshots) if snapshots else 1000)
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
        n_l_copy = self.n_classes * self.params_.n_microcolumns
        state = self.simulator.engine.get_values(["R_L.w", "R_L.r", "L.s", "L.theta_add"])
        self.snapshots["samples"].append(n_done)
        for key, var in (("w", "R_L.w"), ("r", "R_L.r")):
            self.snapshots[key].append(state[var].reshape(self.n_inputs, -1)[:, :n_l_copy].astype(np.float32))
        self.snapshots["s"].append(state["L.s"].astype(np.float32))
        self.snapshots["theta_add"].append(state["L.theta_add"].astype(np.float32))

    def _require_fitted(self):
        if self.simulator is None:
            raise NotFittedError(f"this {type(self).__name__} is not trained: call fit() or load() first")

    def predict_counts(self, X) -> Evaluation:
        """OUT counts of a test pass (plasticity and teacher off); labels unknown."""
        return self.evaluate(X, None)

    def evaluate(self, X, y=None, record_frames=None) -> Evaluation:
        """Run a test pass (no side effects on the network); return the `Evaluation` (accuracies need ``y``)."""
        self._require_fitted()
        X = check_features(X, "X", self.n_inputs, owner=type(self).__name__)
        y = -np.ones(X.shape[0], dtype=np.int64) if y is None else self._check_labels(y, X.shape[0])
        rho = self.rates(X)
        if self.training_data is not None:  # warn about training rows and a foreign input scale
            self.training_data.check_test(X, rho)
        # A test pass leaves the network as it found it (neuron state, accumulators, random streams): the
        # same X gives the same votes every time, and a stream that goes on training after a test (continual
        # learning, partial_fit) continues exactly as if no test had run.
        state, block_index = self.simulator.get_state(), self.simulator.block_index
        try:
            with self._progress_bar(X.shape[0], "test") as bar:
                result = self.simulator.run(rho, None, learning=False, progress=bar.update,
                                            record_frames=record_frames)
        finally:
            self.simulator.set_state(state)
            self.simulator.block_index = block_index
        return self._evaluation(result, y)

    def _evaluation(self, result, y) -> Evaluation:
        return Evaluation(result.out_counts, y, result.wall_time, result.spikes, first=result.out_first,
                          tie_break=self.params_.tie_break, scores=result.out_scores,
                          silent_readout=self.params_.silent_readout)

    def predict_indices(self, X) -> np.ndarray:
        """Ensemble column indices (`readout.NO_SPIKE` where the readout has no evidence at all)."""
        return self.predict_counts(X).predictions

    def predict(self, X) -> np.ndarray:
        """Ensemble predictions as labels of ``classes_`` (readout rules of ``params_``).

        A frame without any evidence (no OUT spike and, with
        ``silent_readout="score"``, no column score) goes to the class that
        was most frequent in the training pass.
        """
        index = self.predict_indices(X)
        return self.classes_[np.where(index >= 0, index, self._prior_class())]

    def predict_proba(self, X) -> np.ndarray:
        """Vote fractions: each class's share of the ensemble's OUT spikes, shape (n_samples, n_classes).

        Frames without spikes share out the column scores instead (with
        ``silent_readout="score"``), and frames with neither give the
        training class frequencies.
        """
        return self._vote_fractions(self.predict_counts(X))

    def _prior_class(self) -> int:
        return int(np.argmax(self._class_frequencies()))

    def _class_frequencies(self) -> np.ndarray:
        seen = self.training.y if self.training is not None else np.arange(self.n_classes)
        counts = np.bincount(seen[seen >= 0], minlength=self.n_classes).astype(np.float64)
        return counts / counts.sum() if counts.sum() > 0 else np.full(self.n_classes, 1.0 / self.n_classes)

    def _vote_fractions(self, evaluation: Evaluation) -> np.ndarray:
        votes = evaluation.counts.sum(axis=1).astype(np.float64)
        if evaluation.silent_readout == "score" and evaluation.scores is not None:
            silent = votes.sum(axis=1) == 0
            votes[silent] = evaluation.scores.sum(axis=1)[silent]
        total = votes.sum(axis=1, keepdims=True)
        return np.where(total > 0, votes / np.where(total > 0, total, 1.0), self._class_frequencies())

    # ------------------------------------------------------------------
    def learned_state(self) -> dict:
        """Resources, weights, stability and thresholds of every copy."""
        self._require_fitted()
        names = [f"{obj}.{var}" for obj, variables in LEARNED_STATE.items() for var in variables]
        return self.simulator.engine.get_values(names)

    def save(self, path) -> Path:
        """Write the trained model (state, parameters, class names) to one ``.npz`` file, atomically."""
        self._require_fitted()
        meta = dict(block_frames=self.simulator.shape.block_frames, block_index=self.simulator.block_index, params=self.params_.to_dict(),
                    class_names=self.class_names, classes=self.classes_.tolist(), saturation=self.saturation,
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
        clf.params_ = clf._resolve_params()
        clf._set_classes(meta["class_names"], meta.get("classes"))
        clf.n_features_in_ = meta["n_inputs"]
        clf.saturation, clf.sigma, clf.n_inputs = meta["saturation"], meta["sigma"], meta["n_inputs"]
        offset = meta.get("input_offset")
        clf.input_offset = None if offset is None else np.asarray(offset, dtype=np.float64)
        clf.input_mass = meta.get("input_mass")
        clf.simulator = clf._make_simulator(meta["block_frames"])
        clf.simulator.set_state(state)
        clf.simulator.block_index = meta["block_index"]  # continue the random streams where they stopped
        clf.training_data = TrainingData.from_saved(meta.get("data"), remembered)
        return clf
