"""Continual learning: one CoLaNET network trained on a sequence of tasks, one pass per task.

After every task the network is tested on every task; the accuracy matrix
``R[i, j]`` (test accuracy on task ``j`` after training task ``i``) gives the
standard continual-learning metrics (`continual_metrics`).  The same stream
feeds online scikit-learn baselines (single pass, no replay), and a joint
model trained on all tasks at once gives the upper bound.

Protocols (`make_tasks`)
------------------------
``permuted``  T tasks over the same images, each with its own fixed pixel
              permutation (task 0 unpermuted); every task has every class.
``split``     class-incremental: the classes arrive in T groups (10 classes,
              T = 5: 2 per task); one network and one read-out over all classes.
``domain``    two or more data sets (``.npz`` files) with the same classes, one per task.

Choices
-------
* The rate code (saturation level, ``sigma``) is fixed from the first task's
  training data (`CoLaNETClassifier.initialize`): an online learner does not
  see future data, and a code that moved would change the meaning of the
  weights already learned.  (Permuted tasks share the value distribution, so
  the choice does not matter there.)
* Class columns of classes that no task has taught yet are *dormant*
  (`DormantColumns`): their L neurons cannot spike, so their resources stay
  exactly at the initial value and they cast no votes until their task starts.
  Without this an untaught column can fire unforced on other classes' inputs,
  be depressed by the anti-Hebbian rule and vote for a class never shown.
* A test pass does not change the training run: the simulator state (neuron
  state, tact counter, random-stream position) is restored after it
  (`frozen_evaluate`), so evaluating after every task leaves the learned
  network exactly as an untested stream would.
* Baselines see the features divided by CoLaNET's saturation level (one
  scalar from the first task), not a per-feature standardisation fitted on
  the first task, which would be wrong for permuted pixels.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .classifier import CoLaNETClassifier, SimulationConfig, balanced_block
from .data.dataset import Dataset
from .model.params import CoLaNETParams
from .provenance import provenance, write_json

__all__ = [
    "PROTOCOLS", "BASELINES", "Task", "ContinualConfig",
    "task_permutations", "permuted_tasks", "split_tasks", "domain_tasks", "make_tasks", "limit_dataset",
    "average_accuracy", "backward_transfer", "forward_transfer", "forgetting", "continual_metrics",
    "DormantColumns", "frozen_evaluate", "colanet_stream", "sklearn_stream", "run_continual", "format_summary",
]

PROTOCOLS = ("permuted", "split", "domain")
#: Online baselines (scikit-learn ``partial_fit``), by name.
BASELINES = ("sgd", "mlp")


@dataclass
class Task:
    """One task of a sequence: its training and test data and the classes it teaches."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple

    def summary(self) -> dict:
        """JSON-ready description."""
        return dict(name=self.name, classes=[int(k) for k in self.classes], n_train=int(len(self.y_train)),
                    n_test=int(len(self.y_test)), n_features=int(self.X_train.shape[1]))


# ---------------------------------------------------------------------------- task sequences
def task_permutations(n_features: int, n_tasks: int, seed: int = 0) -> np.ndarray:
    """``[n_tasks, n_features]`` input permutations: the identity for task 0, random ones after.

    Task ``t`` presents ``X[:, perm[t]]``.
    """
    rng = np.random.default_rng([seed, 16])
    perms = [np.arange(n_features)] + [rng.permutation(n_features) for _ in range(n_tasks - 1)]
    return np.array(perms[:n_tasks])


def permuted_tasks(data: Dataset, n_tasks: int, seed: int = 0) -> list[Task]:
    """Permuted-input tasks (one permutation per task, the same for training and test data)."""
    if n_tasks < 1:
        raise ValueError(f"need at least 1 task, got {n_tasks}")
    classes = tuple(range(len(data.class_names)))
    return [Task(f"permutation {t}", data.X_train[:, p], data.y_train, data.X_test[:, p], data.y_test, classes)
            for t, p in enumerate(task_permutations(data.n_features, n_tasks, seed))]


def split_tasks(data: Dataset, n_tasks: int) -> list[Task]:
    """Class-incremental tasks: the classes in ``n_tasks`` consecutive groups (``array_split``)."""
    n_classes = len(data.class_names)
    if not 1 <= n_tasks <= n_classes:
        raise ValueError(f"split protocol: need 1..{n_classes} tasks for {n_classes} classes, got {n_tasks}")
    tasks = []
    for group in np.array_split(np.arange(n_classes), n_tasks):
        tr, te = np.isin(data.y_train, group), np.isin(data.y_test, group)
        name = "classes " + ",".join(data.class_names[k] for k in group)
        tasks.append(Task(name, data.X_train[tr], data.y_train[tr], data.X_test[te], data.y_test[te],
                          tuple(int(k) for k in group)))
    return tasks


def domain_tasks(datasets: list[Dataset]) -> list[Task]:
    """One task per data set; the classes must match, narrower inputs are zero-padded on the right.

    Zero features never spike (spec §3), so padding leaves a narrower data
    set's code unchanged; the tasks share the first input lines.
    """
    if len(datasets) < 2:
        raise ValueError(f"domain protocol: need at least 2 data sets, got {len(datasets)}")
    names = list(datasets[0].class_names)
    for data in datasets[1:]:
        if list(data.class_names) != names:
            raise ValueError(f"domain protocol: {data.name} has classes {list(data.class_names)}, "
                             f"{datasets[0].name} has {names}")
    width = max(d.n_features for d in datasets)

    def pad(X):
        return np.pad(X, ((0, 0), (0, width - X.shape[1])))

    classes = tuple(range(len(names)))
    return [Task(Path(d.name).stem, pad(d.X_train), d.y_train, pad(d.X_test), d.y_test, classes) for d in datasets]


def _subset(y: np.ndarray, n: int | None, seed: int) -> np.ndarray:
    """Sorted indices of a stratified subset of ``n`` rows (all rows when ``n`` is None or too large)."""
    if n is None or n >= len(y):
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(np.arange(len(y)), train_size=int(n), stratify=y, random_state=seed)
    return np.sort(keep)


def limit_dataset(data: Dataset, max_train: int | None = None, max_test: int | None = None,
                  seed: int = 0) -> Dataset:
    """A stratified subset of at most ``max_train`` training and ``max_test`` test rows."""
    tr, te = _subset(data.y_train, max_train, seed), _subset(data.y_test, max_test, seed)
    meta = dict(data.meta, subset=f"{len(tr)} train / {len(te)} test rows (stratified, seed {seed})")
    return Dataset(data.X_train[tr], data.y_train[tr], data.X_test[te], data.y_test[te], list(data.class_names),
                   data.name, meta)


def make_tasks(protocol: str, datasets: list[Dataset], n_tasks: int | None = None, seed: int = 0) -> list[Task]:
    """The task sequence of a protocol (see the module docstring)."""
    if protocol == "permuted":
        return permuted_tasks(datasets[0], n_tasks or 5, seed)
    if protocol == "split":
        return split_tasks(datasets[0], n_tasks or 5)
    if protocol == "domain":
        return domain_tasks(datasets)
    raise ValueError(f"unknown protocol {protocol!r}; choose one of {PROTOCOLS}")


# ---------------------------------------------------------------------------- metrics
def average_accuracy(R) -> float:
    """Average accuracy over all tasks after the last one: ``ACC = 1/T sum_j R[T-1, j]``.

    Lopez-Paz & Ranzato (2017), Gradient Episodic Memory, eq. 2 (ACC).
    """
    R = np.asarray(R, dtype=float)
    return float(R[-1].mean())


def backward_transfer(R) -> float | None:
    """Influence of later tasks on earlier ones: ``BWT = 1/(T-1) sum_{j<T-1} (R[T-1, j] - R[j, j])``.

    Lopez-Paz & Ranzato (2017), eq. 3; negative values are forgetting.  ``None`` for one task.
    """
    R = np.asarray(R, dtype=float)
    T = R.shape[0]
    return None if T < 2 else float(np.mean([R[-1, j] - R[j, j] for j in range(T - 1)]))


def forward_transfer(R, reference) -> float | None:
    """Influence of earlier tasks on later ones: ``FWT = 1/(T-1) sum_{j>0} (R[j-1, j] - b_j)``.

    Lopez-Paz & Ranzato (2017), eq. 4, where ``b_j`` (``reference``) is the
    test accuracy on task ``j`` before any training.  ``None`` for one task.
    """
    R, b = np.asarray(R, dtype=float), np.asarray(reference, dtype=float)
    T = R.shape[0]
    return None if T < 2 else float(np.mean([R[j - 1, j] - b[j] for j in range(1, T)]))


def task_forgetting(R) -> list[float]:
    """Forgetting of every task but the last: ``f_j = max_{l<T-1} R[l, j] - R[T-1, j]``.

    Chaudhry et al. (2018), Riemannian Walk, eq. 7 (``f_j^k`` at ``k = T-1``):
    the drop from the best accuracy the task ever had before the last task.
    """
    R = np.asarray(R, dtype=float)
    T = R.shape[0]
    return [float(R[:T - 1, j].max() - R[-1, j]) for j in range(T - 1)]


def forgetting(R) -> float | None:
    """Average forgetting ``F = 1/(T-1) sum_{j<T-1} f_j`` (Chaudhry et al. 2018, eq. 8); ``None`` for one task."""
    f = task_forgetting(R)
    return float(np.mean(f)) if f else None


def continual_metrics(R, reference=None) -> dict:
    """Every metric of an accuracy matrix, JSON-ready.

    Parameters
    ----------
    R : array, shape (T, T)
        ``R[i, j]``: test accuracy on task ``j`` after training task ``i``.
    reference : array, shape (T,), optional
        Accuracy on each task before any training (``b`` of `forward_transfer`).

    Returns
    -------
    dict
        ``accuracy_matrix``, ``average_accuracy``, ``forgetting`` (average),
        ``task_forgetting``, ``backward_transfer``, ``forward_transfer``
        (``None`` without ``reference``), ``learning_accuracy`` (mean of the
        diagonal: accuracy on each task right after learning it) and ``reference``.
    """
    R = np.asarray(R, dtype=float)
    if R.ndim != 2 or R.shape[0] != R.shape[1]:
        raise ValueError(f"the accuracy matrix must be square, got shape {R.shape}")
    return dict(accuracy_matrix=R.tolist(), average_accuracy=average_accuracy(R), forgetting=forgetting(R),
                task_forgetting=task_forgetting(R), backward_transfer=backward_transfer(R),
                forward_transfer=None if reference is None else forward_transfer(R, reference),
                learning_accuracy=float(np.mean(np.diag(R))),
                reference=None if reference is None else np.asarray(reference, dtype=float).tolist())


def _mean_metrics(per_copy: list[dict]) -> dict:
    """Mean over copies of every copy's metrics (forgetting is not linear in R: not the metric of the mean R)."""
    out = {}
    for key, value in per_copy[0].items():
        values = [m[key] for m in per_copy]
        out[key] = None if value is None else np.mean(np.asarray(values, dtype=float), axis=0).tolist()
    return out


# ---------------------------------------------------------------------------- CoLaNET
@dataclass
class ContinualConfig(SimulationConfig):
    """Options of a continual-learning run (all recorded in ``results.json``)."""

    dormant: bool = True
    baselines: tuple = BASELINES
    joint: bool = True
    batch_size: int = 32
    figures: bool = True


class DormantColumns:
    """Holds the columns of not-yet-taught classes silent (all copies).

    An L neuron spikes only if ``v >= theta0 + theta_add`` or if its GATE
    forces it; a GATE fires only for its class's label.  Raising ``theta_add``
    of an untaught class's L neurons to `SILENT` therefore keeps them from
    spiking, and with no spike, no dopamine and no free resource to spread,
    no plasticity rule touches their synapses.  `wake` restores the stored
    ``theta_add`` exactly.  The exception is one-factor plasticity
    (``params.a1 != 0``, spec §7.4): it acts on every input arrival, without
    a spike, so it still changes dormant columns (a warning says so).
    """

    #: Threshold excess of a dormant L neuron: out of reach of any potential.
    SILENT = 1e12

    def __init__(self, clf: CoLaNETClassifier, classes):
        self.clf = clf
        self.saved: dict[int, np.ndarray] = {}
        if clf.params_.a1 != 0 and len(classes):
            warnings.warn("one-factor plasticity (a1 != 0) changes the resources of dormant columns too",
                          stacklevel=2)
        self.sleep(classes)

    def neurons(self, k: int) -> np.ndarray:
        """L neuron indices of class ``k``'s column in every copy (neuron ``c*K*M + k*M + m``)."""
        K, M, C = self.clf.n_classes, self.clf.params_.n_microcolumns, self.clf.params_.n_copies
        return ((np.arange(C)[:, None] * K + k) * M + np.arange(M)[None, :]).ravel()

    def _theta(self) -> np.ndarray:
        return self.clf.simulator.engine.get_values(["L.theta_add"])["L.theta_add"]

    def sleep(self, classes):
        """Make the columns of ``classes`` dormant."""
        theta = self._theta()
        for k in classes:
            if int(k) not in self.saved:
                idx = self.neurons(int(k))
                self.saved[int(k)] = theta[idx].copy()
                theta[idx] = self.SILENT
        self.clf.simulator.set_state({"L.theta_add": theta})

    def wake(self, classes):
        """Give the columns of ``classes`` back their threshold (no-op for awake classes)."""
        theta = self._theta()
        for k in classes:
            if int(k) in self.saved:
                theta[self.neurons(int(k))] = self.saved.pop(int(k))
        self.clf.simulator.set_state({"L.theta_add": theta})

    @property
    def classes(self) -> list[int]:
        """Classes now dormant."""
        return sorted(self.saved)


def frozen_evaluate(clf: CoLaNETClassifier, X, y):
    """`CoLaNETClassifier.evaluate`, then restore the simulator state and random-stream position.

    A test pass leaves the learned state alone (plasticity is off) but moves
    neuron state, the tact counter, dense-sequence flags and the block counter
    of the random streams; restoring them keeps the training stream identical
    with and without the tests.
    """
    sim = clf.simulator
    state, block_index = sim.get_state(), sim.block_index
    try:
        return clf.evaluate(X, y)
    finally:
        sim.set_state(state)
        sim.block_index = block_index


def default_block(tasks: list[Task]) -> int:
    """Block size that fits the test sets (standalone test passes pad every block to full size)."""
    n_test = max(len(t.y_test) for t in tasks)
    return balanced_block(min(n_test, min(len(t.y_train) for t in tasks)))


def _order(n: int, seed: int, task: int) -> np.ndarray:
    """Training order of one task (seeded, the same for CoLaNET and the baselines)."""
    return np.random.default_rng([seed, task]).permutation(n)


def _test_all(clf, tasks):
    """Ensemble and per-copy accuracy on every task: ``([T], [C, T])``."""
    evals = [frozen_evaluate(clf, t.X_test, t.y_test) for t in tasks]
    return np.array([e.accuracy for e in evals]), np.array([e.copy_accuracies for e in evals]).T


def colanet_stream(tasks: list[Task], class_names, params: CoLaNETParams, config: ContinualConfig) -> dict:
    """Train one CoLaNET network on the task sequence; test on every task after each task.

    Returns
    -------
    dict
        ``matrix`` [T, T] (ensemble), ``copy_matrices`` [C, T, T],
        ``reference`` [T] and ``copy_reference`` [C, T] (untrained network),
        ``online_accuracy`` [T] (ensemble, during each task's pass),
        ``saturation``, ``sigma``, ``block_frames``, ``dormant_after_task``
        (classes still dormant after each task), timings.
    """
    T = len(tasks)
    block = config.block_frames or default_block(tasks)
    clf = config.classifier(params, block).initialize(tasks[0].X_train, class_names)
    all_classes = set(range(len(class_names)))
    dormant = DormantColumns(clf, sorted(all_classes - set(tasks[0].classes))) if config.dormant else None
    t0 = time.time()
    reference, copy_reference = _test_all(clf, tasks)
    matrix, copies = np.zeros((T, T)), np.zeros((params.n_copies, T, T))
    online, still_dormant, train_s, test_s = [], [], 0.0, time.time() - t0
    for i, task in enumerate(tasks):
        if dormant is not None:
            dormant.wake(task.classes)
        order = _order(len(task.y_train), config.seed, i)
        t0 = time.time()
        clf.partial_fit(task.X_train[order], task.y_train[order])
        train_s += time.time() - t0
        online.append(clf.training.accuracy)
        still_dormant.append(dormant.classes if dormant is not None else [])
        t0 = time.time()
        matrix[i], copies[:, i] = _test_all(clf, tasks)
        test_s += time.time() - t0
    return dict(matrix=matrix, copy_matrices=copies, reference=reference, copy_reference=copy_reference,
                online_accuracy=online, saturation=clf.saturation, sigma=clf.sigma, block_frames=block,
                dormant_after_task=still_dormant, train_seconds=train_s, test_seconds=test_s,
                compile_seconds=clf.simulator.compile_seconds, classifier=clf)


def colanet_joint(tasks: list[Task], class_names, params: CoLaNETParams, config: ContinualConfig,
                  block_frames: int) -> dict:
    """Upper bound: a fresh network, one pass over all tasks' training data shuffled together."""
    X = np.concatenate([t.X_train for t in tasks])
    y = np.concatenate([t.y_train for t in tasks])
    order = _order(len(y), config.seed, len(tasks))
    t0 = time.time()
    clf = config.classifier(params, block_frames).fit(X[order], y[order], class_names)
    train_s = time.time() - t0
    acc, copy_acc = _test_all(clf, tasks)
    return dict(task_accuracy=acc.tolist(), average_accuracy=float(acc.mean()),
                copy_task_accuracy_mean=copy_acc.mean(axis=0).tolist(),
                average_accuracy_single=float(copy_acc.mean()), train_seconds=train_s)


# ---------------------------------------------------------------------------- scikit-learn baselines
def make_baseline(name: str, seed: int = 0):
    """A fresh online scikit-learn model: ``sgd`` (logistic regression by SGD) or ``mlp`` (one hidden layer).

    The MLP takes each ``partial_fit`` call as one minibatch (``batch_size="auto"``).
    """
    from sklearn.linear_model import SGDClassifier
    from sklearn.neural_network import MLPClassifier

    if name == "sgd":
        return SGDClassifier(loss="log_loss", random_state=seed)
    if name == "mlp":
        # Adam at 3e-3: one pass of 32-sample minibatches learns each digits task (0.84-0.89 right after
        # it); the default 1e-3 learns less and so forgets less, 1e-2 learns a little more and forgets more
        return MLPClassifier(hidden_layer_sizes=(100,), batch_size="auto", learning_rate_init=3e-3,
                             random_state=seed)
    raise ValueError(f"unknown baseline {name!r}; choose from {BASELINES}")


def _one_pass(model, X, y, batch_size: int, n_classes: int) -> float:
    """One ``partial_fit`` call per minibatch, in order; returns the seconds spent."""
    t0 = time.time()
    for start in range(0, len(y), batch_size):
        part = slice(start, start + batch_size)
        model.partial_fit(X[part], y[part], classes=np.arange(n_classes))
    return time.time() - t0


def sklearn_stream(name: str, tasks: list[Task], n_classes: int, scale: float, seed: int = 0,
                   batch_size: int = 32) -> dict:
    """The task sequence through an online scikit-learn model: one pass per task, minibatches, no replay.

    Each minibatch is one ``partial_fit`` call (SGD: one epoch over it, MLP:
    one Adam step), in the same training order as CoLaNET.  A model cannot
    predict before its first ``partial_fit``; its reference accuracy (``b``
    of `forward_transfer`) is the chance level ``1/K``.

    Returns
    -------
    dict
        ``matrix`` [T, T], ``reference`` [T], ``train_seconds``.
    """
    T, model = len(tasks), make_baseline(name, seed)
    matrix, train_s = np.zeros((T, T)), 0.0
    for i, task in enumerate(tasks):
        order = _order(len(task.y_train), seed, i)
        train_s += _one_pass(model, task.X_train[order] / scale, task.y_train[order], batch_size, n_classes)
        matrix[i] = [model.score(t.X_test / scale, t.y_test) for t in tasks]
    return dict(matrix=matrix, reference=np.full(T, 1.0 / n_classes), train_seconds=train_s)


def sklearn_joint(name: str, tasks: list[Task], n_classes: int, scale: float, seed: int = 0,
                  batch_size: int = 32) -> dict:
    """Upper bound of a baseline: one pass over all tasks' training data shuffled together."""
    X, y = np.concatenate([t.X_train for t in tasks]), np.concatenate([t.y_train for t in tasks])
    order = _order(len(y), seed, len(tasks))
    model = make_baseline(name, seed)
    _one_pass(model, X[order] / scale, y[order], batch_size, n_classes)
    acc = np.array([model.score(t.X_test / scale, t.y_test) for t in tasks])
    return dict(task_accuracy=acc.tolist(), average_accuracy=float(acc.mean()))


# ---------------------------------------------------------------------------- the whole run
def run_continual(tasks: list[Task], class_names, params: CoLaNETParams, config: ContinualConfig,
                  out_dir=None, protocol: str = "", datasets: list | None = None) -> dict:
    """CoLaNET, the online baselines and the joint upper bounds on one task sequence.

    Writes ``results.json`` (and, with ``config.figures``, the figures under
    ``figures/``) into ``out_dir``.  Top-level keys of the result:
    ``colanet`` (the ensemble), ``colanet_single`` (mean over copies of each
    copy's metrics, ``per_copy`` beside it), one key per baseline in
    ``config.baselines``, each with the keys of `continual_metrics`; ``joint``
    (``{method: task_accuracy, average_accuracy}``); ``tasks``, ``protocol``,
    ``params``, ``config``, ``datasets`` (descriptions given by the caller),
    timing and provenance.  With ``out_dir`` the figure files are listed
    under ``figures`` in the returned dict (not in the file).
    """
    t_start = time.time()
    n_classes = len(class_names)
    stream = colanet_stream(tasks, class_names, params, config)
    per_copy = [continual_metrics(m, r) for m, r in zip(stream["copy_matrices"], stream["copy_reference"],
                                                         strict=True)]
    results = dict(experiment="continual", protocol=protocol, datasets=datasets or [], class_names=list(class_names),
                   tasks=[t.summary() for t in tasks], methods=["colanet", *config.baselines])
    results["colanet"] = dict(continual_metrics(stream["matrix"], stream["reference"]),
                              online_accuracy=stream["online_accuracy"],
                              dormant_after_task=stream["dormant_after_task"])
    results["colanet_single"] = dict(_mean_metrics(per_copy), per_copy=per_copy)
    scale = stream["saturation"]
    timing = dict(colanet_train_seconds=stream["train_seconds"], colanet_test_seconds=stream["test_seconds"],
                  compile_seconds=stream["compile_seconds"])
    for name in config.baselines:
        base = sklearn_stream(name, tasks, n_classes, scale, config.seed, config.batch_size)
        results[name] = continual_metrics(base["matrix"], base["reference"])
        timing[f"{name}_train_seconds"] = base["train_seconds"]
    if config.joint:
        joint = {"colanet": colanet_joint(tasks, class_names, params, config, stream["block_frames"])}
        for name in config.baselines:
            joint[name] = sklearn_joint(name, tasks, n_classes, scale, config.seed, config.batch_size)
        results["joint"] = joint
    timing["total_seconds"] = time.time() - t_start
    results.update(params=params.to_dict(), config=asdict(config), saturation=stream["saturation"],
                   sigma=stream["sigma"], block_frames=stream["block_frames"], timing=timing)
    results.update(provenance())
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / "results.json", results)
        if config.figures:
            from .analysis.continual import draw_continual

            results["figures"] = [str(p) for p in draw_continual(results, out / "figures")]
    return results


def _fmt(value) -> str:
    return "    -" if value is None else f"{value:+.3f}" if value < 0 else f"{value:.3f}"


def format_summary(results: dict) -> str:
    """Human-readable table of a `run_continual` result."""
    T = len(results["tasks"])
    lines = [f"protocol {results['protocol']}: {T} tasks, {len(results['class_names'])} classes", "",
             f"{'method':<24} {'avg acc':>8} {'forgetting':>10} {'BWT':>8} {'FWT':>8} {'learn acc':>9} "
             f"{'joint acc':>9}", "-" * 82]
    joint = results.get("joint", {})
    rows = [("colanet", "CoLaNET ensemble", "colanet"), ("colanet_single", "CoLaNET single (mean)", None)]
    rows += [(name, {"sgd": "SGD (log-loss)", "mlp": "MLP"}.get(name, name), name)
             for name in results["methods"][1:]]
    for key, label, joint_key in rows:
        m = results[key]
        j = joint.get(joint_key, {}).get("average_accuracy") if joint_key else None
        if key == "colanet_single" and "colanet" in joint:
            j = joint["colanet"]["average_accuracy_single"]
        lines.append(f"{label:<24} {m['average_accuracy']:>8.3f} {_fmt(m['forgetting']):>10} "
                     f"{_fmt(m['backward_transfer']):>8} {_fmt(m['forward_transfer']):>8} "
                     f"{m['learning_accuracy']:>9.3f} {_fmt(j):>9}")
    lines += ["", "CoLaNET ensemble accuracy matrix (row: after task i, column: test on task j):"]
    for i, row in enumerate(results["colanet"]["accuracy_matrix"]):
        lines.append(f"  after {i}: " + " ".join(f"{a:.3f}" for a in row))
    tm = results["timing"]
    lines.append(f"\nCoLaNET: train {tm['colanet_train_seconds']:.1f} s, tests {tm['colanet_test_seconds']:.1f} s, "
                 f"compile {tm['compile_seconds']:.1f} s; total wall time {tm['total_seconds']:.1f} s")
    return "\n".join(lines)
