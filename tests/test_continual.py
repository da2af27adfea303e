"""Continual learning: task sequences, forgetting metrics, dormant columns, baselines, CLI and figures."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from colanet_brian import continual as cl
from colanet_brian.classifier import CoLaNETClassifier
from colanet_brian.data.dataset import Dataset
from colanet_brian.model.params import CoLaNETParams

#: The network shape of tests/test_backends.py (2 copies, 4 microcolumns, 60-frame blocks, spikes
#: recorded): one compiled binary serves both files in a test session.
SMALL = dict(n_copies=2, n_microcolumns=4, saturation=16.0)
BLOCK = 60


# ---------------------------------------------------------------------------- metrics
#: Task 0 peaks after task 1 (0.9), then drops to 0.6: forgetting (0.3) differs from -BWT (-0.1).
R3 = np.array([[0.5, 0.1, 0.2],
               [0.9, 0.8, 0.3],
               [0.6, 0.5, 0.95]])


def test_metrics_of_a_hand_written_matrix():
    m = cl.continual_metrics(R3, reference=[0.1, 0.1, 0.1])
    assert m["average_accuracy"] == pytest.approx((0.6 + 0.5 + 0.95) / 3)
    assert m["backward_transfer"] == pytest.approx(((0.6 - 0.5) + (0.5 - 0.8)) / 2)  # -0.1
    assert m["task_forgetting"] == pytest.approx([0.9 - 0.6, 0.8 - 0.5])
    assert m["forgetting"] == pytest.approx(0.3)
    assert m["forward_transfer"] == pytest.approx(((0.1 - 0.1) + (0.3 - 0.1)) / 2)
    assert m["learning_accuracy"] == pytest.approx((0.5 + 0.8 + 0.95) / 3)
    assert m["accuracy_matrix"] == R3.tolist()
    json.dumps(m)  # JSON-ready


def test_forgetting_is_negative_when_accuracy_only_rises():
    # Chaudhry et al. do not clip: a task that improved later has negative forgetting
    rising = np.array([[0.5, 0.0], [0.7, 0.9]])
    assert cl.forgetting(rising) == pytest.approx(-0.2)
    assert cl.backward_transfer(rising) == pytest.approx(0.2)


def test_metrics_of_one_task_and_bad_shapes():
    m = cl.continual_metrics([[0.7]])
    assert m["average_accuracy"] == pytest.approx(0.7)
    assert m["forgetting"] is None and m["backward_transfer"] is None and m["forward_transfer"] is None
    with pytest.raises(ValueError, match="square"):
        cl.continual_metrics(np.zeros((2, 3)))


def test_mean_over_copies_averages_each_copy_metric():
    a, b = np.array([[1.0, 0], [0.0, 1]]), np.array([[1.0, 0], [1.0, 1]])
    mean = cl._mean_metrics([cl.continual_metrics(a), cl.continual_metrics(b)])
    assert mean["forgetting"] == pytest.approx(0.5)  # copy a forgot task 0 completely, copy b not at all
    assert mean["average_accuracy"] == pytest.approx(0.75)
    assert mean["accuracy_matrix"] == [[1.0, 0.0], [0.5, 1.0]]


# ---------------------------------------------------------------------------- task sequences
def _coded_dataset(n_train=6, n_test=4, n_features=12, n_classes=3):
    """Features that name their column: X[n, d] = d + 100 n (train) or d + 0.5 + 100 n (test)."""
    cols = np.arange(n_features)
    X_train = cols[None, :] + 100.0 * np.arange(n_train)[:, None]
    X_test = cols[None, :] + 0.5 + 100.0 * np.arange(n_test)[:, None]
    y_train, y_test = np.arange(n_train) % n_classes, np.arange(n_test) % n_classes
    return Dataset(X_train, y_train, X_test, y_test, [f"c{k}" for k in range(n_classes)], "coded")


def test_permutations_are_bijections_and_task_0_is_the_identity():
    perms = cl.task_permutations(50, 4, seed=1)
    assert perms.shape == (4, 50)
    np.testing.assert_array_equal(perms[0], np.arange(50))
    for p in perms:
        np.testing.assert_array_equal(np.sort(p), np.arange(50))
    assert len({tuple(p) for p in perms}) == 4
    np.testing.assert_array_equal(perms, cl.task_permutations(50, 4, seed=1))  # fixed by the seed
    assert not np.array_equal(perms[1], cl.task_permutations(50, 4, seed=2)[1])


def test_permuted_tasks_apply_one_permutation_to_train_and_test():
    data = _coded_dataset()
    tasks = cl.permuted_tasks(data, 3, seed=0)
    for t, task in enumerate(tasks):
        from_train = np.rint(task.X_train[0]).astype(int)       # row 0: X = column index
        from_test = np.rint(task.X_test[0] - 0.5).astype(int)
        np.testing.assert_array_equal(from_train, from_test)
        np.testing.assert_array_equal(np.sort(from_train), np.arange(12))
        np.testing.assert_array_equal(task.X_train[3] - task.X_train[0], 300.0)  # rows stay rows
        np.testing.assert_array_equal(task.y_train, data.y_train)
        assert task.classes == (0, 1, 2)
        assert (t == 0) == np.array_equal(from_train, np.arange(12))


def test_split_tasks_partition_the_classes_and_samples():
    rng = np.random.default_rng(0)
    y_train, y_test = rng.integers(0, 10, 200), rng.integers(0, 10, 80)
    data = Dataset(rng.random((200, 5)), y_train, rng.random((80, 5)), y_test, [str(k) for k in range(10)], "r")
    tasks = cl.split_tasks(data, 5)
    assert [t.classes for t in tasks] == [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
    for task in tasks:
        assert set(task.y_train) <= set(task.classes) and set(task.y_test) <= set(task.classes)
    assert sum(len(t.y_train) for t in tasks) == 200 and sum(len(t.y_test) for t in tasks) == 80
    with pytest.raises(ValueError, match="1..10 tasks"):
        cl.split_tasks(data, 11)


def test_domain_tasks_pad_inputs_and_require_the_same_classes():
    a, b = _coded_dataset(n_features=3), _coded_dataset(n_features=5)
    tasks = cl.domain_tasks([a, b])
    assert [t.X_train.shape[1] for t in tasks] == [5, 5]
    np.testing.assert_array_equal(tasks[0].X_train[:, :3], a.X_train)
    assert not tasks[0].X_train[:, 3:].any() and not tasks[0].X_test[:, 3:].any()
    np.testing.assert_array_equal(tasks[1].X_test, b.X_test)
    other = _coded_dataset(n_classes=4)
    with pytest.raises(ValueError, match="classes"):
        cl.domain_tasks([a, other])
    with pytest.raises(ValueError, match="at least 2"):
        cl.domain_tasks([a])


def test_limit_dataset_is_stratified_and_bounded():
    data = _coded_dataset(n_train=60, n_test=30)
    small = cl.limit_dataset(data, max_train=30, max_test=12, seed=0)
    assert len(small.y_train) == 30 and len(small.y_test) == 12
    assert np.bincount(small.y_train).tolist() == [10, 10, 10]
    assert cl.limit_dataset(data).X_train.shape == data.X_train.shape


def test_dormant_neurons_are_the_column_of_the_class_in_every_copy():
    fake = SimpleNamespace(n_classes=3, params_=SimpleNamespace(n_microcolumns=2, n_copies=2))
    dormant = cl.DormantColumns.__new__(cl.DormantColumns)
    dormant.clf = fake
    # neuron c*K*M + k*M + m with K=3, M=2: copy 0 -> 2, 3; copy 1 -> 8, 9
    assert dormant.neurons(1).tolist() == [2, 3, 8, 9]


class _FakeSimulator:
    """Just the L.theta_add state a `DormantColumns` reads and writes."""

    def __init__(self, theta):
        self.theta = np.array(theta, dtype=float)
        self.engine = self

    def get_values(self, names):
        return {"L.theta_add": self.theta.copy()}

    def set_state(self, state):
        self.theta = np.array(state["L.theta_add"])


def test_dormant_columns_sleep_and_wake_restore_thresholds_exactly():
    theta = np.linspace(0.1, 1.3, 12)  # K=3, M=2, C=2
    fake = SimpleNamespace(n_classes=3, params_=SimpleNamespace(n_microcolumns=2, n_copies=2, a1=0.0),
                           simulator=_FakeSimulator(theta))
    dormant = cl.DormantColumns(fake, [1, 2])
    assert dormant.classes == [1, 2]
    assert (fake.simulator.theta[[2, 3, 4, 5, 8, 9, 10, 11]] == cl.DormantColumns.SILENT).all()
    np.testing.assert_array_equal(fake.simulator.theta[[0, 1, 6, 7]], theta[[0, 1, 6, 7]])
    dormant.wake([1])
    dormant.wake([1])  # waking an awake class changes nothing
    np.testing.assert_array_equal(fake.simulator.theta[[2, 3, 8, 9]], theta[[2, 3, 8, 9]])
    dormant.wake([2])
    np.testing.assert_array_equal(fake.simulator.theta, theta)
    fake.params_.a1 = -1e-4
    with pytest.warns(UserWarning, match="one-factor"):
        cl.DormantColumns(fake, [2])


# ---------------------------------------------------------------------------- baselines
def test_online_baselines_give_square_matrices_and_forget_in_class_incremental_order(digits_small):
    Xtr, ytr, Xte, yte, names = digits_small
    tasks = cl.split_tasks(Dataset(Xtr, ytr, Xte, yte, names, "digits"), 5)
    for name in cl.BASELINES:
        out = cl.sklearn_stream(name, tasks, 10, scale=16.0, seed=0, batch_size=8)
        R = out["matrix"]
        assert R.shape == (5, 5) and ((R >= 0) & (R <= 1)).all()
        np.testing.assert_allclose(out["reference"], 0.1)
        # no replay: the first classes are lost once only later classes are shown
        assert R[-1, 0] < R[0, 0]
    joint = cl.sklearn_joint("sgd", tasks, 10, scale=16.0)
    assert len(joint["task_accuracy"]) == 5
    with pytest.raises(ValueError, match="unknown baseline"):
        cl.make_baseline("svm")


# ---------------------------------------------------------------------------- CoLaNET
def _small_classifier(cache, seed=0):
    return CoLaNETClassifier(CoLaNETParams(**SMALL), backend="cpp", seed=seed, block_frames=BLOCK, cache_dir=cache,
                             record_spikes=True, progress=False)


def _two_class_groups(digits_small):
    Xtr, ytr, Xte, yte, names = digits_small
    return cl.split_tasks(Dataset(Xtr, ytr, Xte, yte, names, "digits"), 2), names  # classes 0-4, then 5-9


def test_split_protocol_leaves_later_columns_untouched_until_their_task(digits_small, build_cache):
    tasks, names = _two_class_groups(digits_small)
    clf = _small_classifier(build_cache).initialize(tasks[0].X_train, names)
    initial = clf.learned_state()
    dormant = cl.DormantColumns(clf, tasks[1].classes)
    later = np.concatenate([dormant.neurons(k) for k in tasks[1].classes])
    first = np.concatenate([dormant.neurons(k) for k in tasks[0].classes])
    clf.partial_fit(tasks[0].X_train, tasks[0].y_train)
    after = clf.learned_state()
    n_in = clf.n_inputs
    for var in ("R_L.r", "R_L.w"):
        before_syn, after_syn = initial[var].reshape(n_in, -1), after[var].reshape(n_in, -1)
        np.testing.assert_array_equal(after_syn[:, later], before_syn[:, later], err_msg=var)
        assert not np.array_equal(after_syn[:, first], before_syn[:, first])  # the taught columns learned
    for var in ("L.s", "L.F"):
        np.testing.assert_array_equal(after[var][later], initial[var][later], err_msg=var)
    assert not np.isin(clf.training.spikes["L_spikes"][0], later).any()  # not one spike of a dormant neuron
    test = cl.frozen_evaluate(clf, tasks[1].X_test, tasks[1].y_test)
    assert test.counts[:, :, 5:].sum() == 0  # no votes for classes not yet taught
    dormant.wake(tasks[1].classes)
    np.testing.assert_array_equal(clf.learned_state()["L.theta_add"][later], initial["L.theta_add"][later])
    assert dormant.classes == []
    clf.partial_fit(tasks[1].X_train, tasks[1].y_train)
    learned = clf.learned_state()["R_L.w"].reshape(n_in, -1)
    assert not np.array_equal(learned[:, later], initial["R_L.w"].reshape(n_in, -1)[:, later])


def test_partial_fit_continues_the_network_and_tests_do_not_disturb_it(digits_small, build_cache):
    tasks, names = _two_class_groups(digits_small)
    tested, untested = _small_classifier(build_cache), _small_classifier(build_cache)
    for clf in (tested, untested):
        clf.initialize(tasks[0].X_train, names).partial_fit(tasks[0].X_train, tasks[0].y_train)
    saturation = tested.saturation
    for task in tasks:
        cl.frozen_evaluate(tested, task.X_test, task.y_test)
    for clf in (tested, untested):
        clf.partial_fit(tasks[1].X_train, tasks[1].y_train)
    a, b = tested.learned_state(), untested.learned_state()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert tested.saturation == saturation  # the rate code stays that of the first task
    with pytest.raises(ValueError, match="features"):
        tested.partial_fit(tasks[1].X_train[:, :10], tasks[1].y_train)
    with pytest.raises(NotFittedError, match="classes="):
        CoLaNETClassifier().partial_fit(tasks[1].X_train, tasks[1].y_train)


def test_run_continual_writes_every_metric_for_colanet_and_baselines(digits_small, build_cache, tmp_path):
    Xtr, ytr, Xte, yte, names = digits_small
    tasks = cl.permuted_tasks(Dataset(Xtr, ytr, Xte, yte, names, "digits"), 2, seed=0)
    config = cl.ContinualConfig(backend="cpp", block_frames=BLOCK, cache_dir=build_cache, progress=False,
                                record_spikes=True, batch_size=16)
    results = cl.run_continual(tasks, names, CoLaNETParams(**SMALL), config, out_dir=tmp_path, protocol="permuted")
    saved = json.loads((tmp_path / "results.json").read_text())
    for method in ("colanet", "colanet_single", "sgd", "mlp"):
        for key in ("accuracy_matrix", "average_accuracy", "forgetting", "backward_transfer", "forward_transfer"):
            assert key in saved[method], (method, key)
        assert np.shape(saved[method]["accuracy_matrix"]) == (2, 2)
    R = np.array(saved["colanet"]["accuracy_matrix"])
    assert saved["colanet"]["average_accuracy"] == pytest.approx(R[-1].mean())
    assert R[0, 0] > 0.3  # learned the first task (chance 0.1)
    assert len(saved["colanet_single"]["per_copy"]) == 2
    assert set(saved["joint"]) == {"colanet", "sgd", "mlp"}
    assert saved["experiment"] == "continual" and saved["git_revision"] == results["git_revision"]
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["continual_curves.png",
                                                                        "continual_matrices.png"]


# ---------------------------------------------------------------------------- figures and CLI
def _fake_results(T=3):
    R = np.tril(np.full((T, T), 0.8)) + np.triu(np.full((T, T), 0.1), 1)
    m = cl.continual_metrics(R, np.full(T, 0.1))
    return dict(experiment="continual", protocol="permuted", methods=["colanet", "sgd"], class_names=list("ab"),
                tasks=[dict(name=f"task {t}") for t in range(T)], colanet=m, colanet_single=m, sgd=m,
                joint=dict(colanet=dict(average_accuracy=0.85, average_accuracy_single=0.8),
                           sgd=dict(average_accuracy=0.9)))


def test_plot_functions_take_and_return_axes():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from colanet_brian.analysis.continual import plot_accuracy_matrix, plot_task_accuracy

    ax = Figure().subplots()
    assert plot_accuracy_matrix(R3, axes=ax) is ax
    assert len(ax.texts) == 9  # annotated cells
    ax = Figure().subplots()
    assert plot_task_accuracy(R3, joint=0.9, axes=ax) is ax
    assert len(ax.lines) == 2 * 3 + 2  # two segments per task, the running mean, the joint line


def test_colanet_figures_draws_a_continual_run(tmp_path, capsys):
    from colanet_brian.cli import main

    (tmp_path / "results.json").write_text(json.dumps(_fake_results()))
    assert main(["figures", str(tmp_path), "-o", str(tmp_path / "figs")]) == 0
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["continual_curves.png", "continual_matrices.png"]
    assert "continual_matrices.png" in capsys.readouterr().out


def test_continual_cli_rejects_bad_options_before_any_work(tmp_path, capsys):
    from colanet_brian.cli import main

    assert main(["continual", "--protocol", "domain", "--out", str(tmp_path / "a")]) == 1
    assert "two or more --dataset" in capsys.readouterr().err
    assert main(["continual", "--baselines", "sgd,svm", "--out", str(tmp_path / "b")]) == 1
    assert "svm" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.slow
def test_continual_cli_permuted_digits(tmp_path, build_cache):
    """The issue's command, made small: results.json with every metric and both figures."""
    from colanet_brian.cli import main

    out = tmp_path / "D"
    args = ["continual", "--protocol", "permuted", "--dataset", "digits", "--tasks", "3", "--copies", "3",
            "--max-train", "300", "--max-test", "100", "--backend", "cpp", "--cache-dir", build_cache,
            "--no-progress", "--out", str(out)]
    assert main(args) == 0
    results = json.loads((out / "results.json").read_text())
    for method in ("colanet", "sgd", "mlp"):
        assert {"accuracy_matrix", "average_accuracy", "forgetting", "backward_transfer"} <= set(results[method])
    assert (out / "figures" / "continual_matrices.png").is_file()
    assert (out / "figures" / "continual_curves.png").is_file()
