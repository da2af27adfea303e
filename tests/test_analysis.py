"""Figures of a real (small) run: every plotting function, `draw_all`, `colanet figures` and the scripts.

The run is a short real experiment (digits, 200 training and 100 test
samples, 2 copies, numpy runtime backend) that records every population in
its raster frames and takes weight snapshots.
"""

import json
import runpy
import shutil
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from colanet_brian.analysis import (  # noqa: E402
    confusion_matrix,
    ga_history,
    load_run,
    microcolumn_usage,
    online_accuracy,
    plot_confusion_matrix,
    plot_ensemble_size,
    plot_frame_raster,
    plot_ga_fitness,
    plot_learning_curve,
    plot_microcolumn_usage,
    plot_receptive_field_evolution,
    plot_receptive_fields,
    plot_state_evolution,
    plot_state_histogram,
    plot_weight_matrix,
    read_ga_log,
)
from colanet_brian.analysis.figures import FIGURES, available, draw, draw_all  # noqa: E402
from colanet_brian.analysis.raster import raster_rows  # noqa: E402
from colanet_brian.model.readout import ensemble_predictions  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
N_TRAIN, N_TEST, COPIES, M, SNAPSHOTS, RASTER = 200, 100, 2, 10, 4, 3

BASIC_FIGURES = {"learning_curve", "confusion_test", "ensemble_size", "microcolumn_usage_train",
                 "microcolumn_usage_test", "raster_train_start", "raster_train_end", "raster_test",
                 "receptive_fields", "weight_distributions"}
GA_RECORDS = [dict(generation=g, index=k, fitness=f) for g, fits in enumerate([[0.5, 0.6, 0.55], [0.62, 0.58, 0.7],
                                                                                [0.66, float("nan"), 0.71]])
              for k, f in enumerate(fits)]


def _axes():
    return Figure().subplots()


def _n_points(axes):
    return sum(len(c.get_offsets()) for c in axes.collections)


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def full_run(tmp_path_factory):
    """Output directory of a real `run_experiment` on a digits subset, plus a GA log."""
    from colanet_brian.data.dataset import Dataset
    from colanet_brian.data.datasets import load_dataset
    from colanet_brian.experiment import ExperimentConfig, run_experiment
    from colanet_brian.model.params import CoLaNETParams

    d = load_dataset("digits", seed=0)
    data = Dataset(d.X_train[:N_TRAIN], d.y_train[:N_TRAIN], d.X_test[:N_TEST], d.y_test[:N_TEST], d.class_names,
                   d.name, d.meta)
    out = tmp_path_factory.mktemp("run")
    config = ExperimentConfig(backend="numpy", progress=False, snapshots=SNAPSHOTS, raster_frames=RASTER)
    run_experiment(data, CoLaNETParams(n_copies=COPIES, n_microcolumns=M), config, out)
    lines = [json.dumps(r) for r in GA_RECORDS]
    (out / "evaluations.jsonl").write_text("\n".join(lines) + "\n" + '{"generation": 3, "fit')  # torn last line
    return out


@pytest.fixture(scope="session")
def small_run(full_run, tmp_path_factory):
    """The same run without the raster recordings, snapshots and GA log (what older runs hold)."""
    out = tmp_path_factory.mktemp("small")
    for name in ("results.json", "model.npz"):
        shutil.copy(full_run / name, out / name)
    with np.load(full_run / "run_data.npz") as data:
        keep = {k: data[k] for k in data.files
                if not k.startswith("snapshot_") and "_raster_" not in k
                and not any(k.startswith(f"{ph}_{pop}_") for ph in ("train", "test") for pop in ("R", "GATE", "Target"))}
    np.savez(out / "run_data.npz", **keep)
    return out


@pytest.fixture(scope="session")
def recorded(full_run):
    """The run's recordings: spikes per phase, raster windows, snapshots."""
    run = load_run(full_run)
    return dict(run=run, train=run.spikes("train"), test=run.spikes("test"), snap=run.snapshots())


# ----------------------------------------------------------------------------- raster
def _in_window(spikes, frames, T=15):
    return {pop: (i[(t >= frames[0] * T) & (t < frames[1] * T)], t[(t >= frames[0] * T) & (t < frames[1] * T)])
            for pop, (i, t) in spikes.items()}


def test_raster_windows_are_the_recorded_frames(recorded):
    run = recorded["run"]
    assert run.raster_windows("train") == [(0, RASTER), (N_TRAIN - RASTER, N_TRAIN)]
    assert run.raster_windows("test") == [(0, RASTER)]
    assert set(recorded["train"]) == {"R", "L", "OUT", "GATE", "Target"}


def test_raster_shows_every_spike_of_the_window(recorded):
    run, spikes = recorded["run"], recorded["train"]
    frames = run.raster_windows("train")[0]
    expected = sum(len(i) for i, _ in _in_window(spikes, frames).values())
    ax = plot_frame_raster(spikes, frames, 10, M, n_inputs=64, labels=run.labels("train")[slice(*frames)],
                           copies=None, axes=_axes())
    assert expected > 0 and _n_points(ax) == expected
    assert [c.get_label() for c in ax.collections] == ["R", "L", "OUT", "GATE", "Target"]
    assert sum(t.get_text().startswith("label") for t in ax.texts) == frames[1] - frames[0]
    assert ax.get_xlabel() and ax.get_ylabel()


def test_raster_copy_selection(recorded):
    run = recorded["run"]
    frames = run.raster_windows("train")[-1]
    w = _in_window(recorded["train"], frames)
    km = 10 * M
    expected = len(w["R"][0]) + len(w["Target"][0]) + int(np.sum(w["L"][0] < km)) + \
        int(np.sum(w["OUT"][0] < 10)) + int(np.sum(w["GATE"][0] < 10))
    ax = plot_frame_raster(recorded["train"], frames, 10, M, n_inputs=64, copies=(1,), axes=_axes())
    assert _n_points(ax) == len(w["R"][0]) + len(w["Target"][0]) + int(np.sum(w["L"][0] >= km)) + \
        int(np.sum(w["OUT"][0] >= 10)) + int(np.sum(w["GATE"][0] >= 10))
    ax = plot_frame_raster(recorded["train"], frames, 10, M, n_inputs=64, copies=(0,), axes=_axes())
    assert _n_points(ax) == expected
    # each Target spike (one per training frame, the label) is drawn at its tact, in the row of its class
    target = ax.collections[-1].get_offsets()
    first = raster_rows(["R", "L", "OUT", "GATE", "Target"], 10, M, 64, [0])["Target"][0]
    assert np.array_equal(target[:, 0], w["Target"][1])
    assert np.array_equal(target[:, 1] - first, run.labels("train")[slice(*frames)])


def test_raster_input_subset(recorded):
    frames = recorded["run"].raster_windows("test")[0]
    spikes = {"R": recorded["test"]["R"]}
    shown = np.arange(0, 64, 5)
    ax = plot_frame_raster(spikes, frames, 10, M, n_inputs=64, inputs=shown, axes=_axes())
    i, _ = _in_window(spikes, frames)["R"]
    assert _n_points(ax) == int(np.isin(i, shown).sum()) > 0
    assert np.array_equal(np.sort(ax.collections[0].get_offsets()[:, 1]),
                          np.sort(np.searchsorted(shown, i[np.isin(i, shown)])))


def test_raster_of_run_data_with_pyplot_default_axes(small_run):
    import matplotlib.pyplot as plt

    run = load_run(small_run)
    spikes = run.spikes("test")
    assert set(spikes) == {"L", "OUT"}
    plt.figure()
    ax = plot_frame_raster(spikes, (0, 5), run.n_classes, run.n_microcolumns, copies=None)
    assert ax is plt.gca()
    in_window = sum(int(np.sum(t < 75)) for _, t in spikes.values())
    assert _n_points(ax) == in_window
    plt.close("all")


# ----------------------------------------------------------------------------- weights
def test_receptive_fields_one_image_per_microcolumn(small_run):
    run = load_run(small_run)
    w = run.copy_weights(1)
    ax = plot_receptive_fields(w, (8, 8), M, class_names=run.class_names, axes=_axes())
    assert len(ax.images) == 10 * M
    k, m = 3, 7  # image k*M + m is microcolumn m of class k
    assert np.array_equal(ax.images[k * M + m].get_array(), w[:, k * M + m].reshape(8, 8))
    flat = run.learned_state["R_L.w"].reshape(64, COPIES * 10 * M)
    assert np.array_equal(w, flat[:, 10 * M:])
    assert ax.get_xlabel() and ax.get_ylabel()


def test_weight_matrix_and_histograms(small_run):
    run = load_run(small_run)
    w = run.copy_weights(0)
    ax = plot_weight_matrix(w, M, axes=_axes())
    assert ax.images[0].get_array().shape == (10 * M, 64)
    state = run.learned_state
    for name, quantity in (("R_L.w", "w"), ("R_L.r", "r"), ("L.s", "s")):
        ax = plot_state_histogram(state[name], quantity, bins=20, histtype="bar", axes=_axes())
        assert sum(p.get_height() for p in ax.patches) == state[name].size
        assert "(" in ax.get_xlabel() and ax.get_ylabel().endswith("(count)")
    lo, hi = run.weight_bounds
    assert lo <= state["R_L.w"].min() and state["R_L.w"].max() < hi


def test_snapshots(recorded):
    run, snap = recorded["run"], recorded["snap"]
    # the initial state, then one snapshot after every block
    assert list(snap["sample"]) == [0] + [N_TRAIN // SNAPSHOTS * (k + 1) for k in range(SNAPSHOTS)]
    assert snap["w"].shape == (SNAPSHOTS + 1, 64, 10 * M) and snap["s"].shape == (SNAPSHOTS + 1, 10 * M)
    assert np.all(snap["w"][0] == 0.0)  # w_init
    # the last snapshot is the trained state of copy 0
    assert np.allclose(snap["w"][-1], run.copy_weights(0), atol=1e-6)
    assert np.allclose(snap["s"][-1], run.learned_state["L.s"][:10 * M], atol=1e-6)


def test_state_evolution_and_receptive_field_evolution(recorded):
    snap = recorded["snap"]
    ax = plot_state_evolution(snap["sample"], snap["w"], "w", axes=_axes())
    (median,) = ax.lines
    assert np.array_equal(median.get_xdata(), snap["sample"])
    assert np.allclose(median.get_ydata(), np.median(snap["w"].reshape(SNAPSHOTS + 1, -1), axis=1))
    neurons = [0, 15, 42]
    ax = plot_receptive_field_evolution(snap["sample"], snap["w"], (8, 8), neurons, axes=_axes())
    n_snap = SNAPSHOTS + 1  # the initial state and one per block
    assert len(ax.images) == len(neurons) * n_snap
    assert np.array_equal(ax.images[n_snap + 2].get_array(), snap["w"][2, :, 15].reshape(8, 8))


# ----------------------------------------------------------------------------- accuracy
def test_learning_curve(small_run):
    run = load_run(small_run)
    counts, y = run.counts("train"), run.labels("train")
    readout = run.readout("train")  # the run's own tie and silent-frame rules
    ax = plot_learning_curve(counts, y, window=25, n_classes=10, readout=readout, axes=_axes())
    ens, single = ax.lines[0], ax.lines[1]
    assert len(ens.get_xdata()) == len(single.get_ydata()) == N_TRAIN - 25 + 1
    assert ens.get_xdata()[-1] == N_TRAIN
    # one window over the whole pass is the online accuracy that the runner reports
    _, whole, whole_single = online_accuracy(counts, y, N_TRAIN, readout)
    assert whole[0] == pytest.approx(run.results["training"]["online_accuracy"])
    assert whole_single[0] == pytest.approx(run.results["training"]["online_accuracy_single_mean"])


def test_confusion_matrix(small_run):
    run = load_run(small_run)
    y, pred = run.labels("test"), ensemble_predictions(run.counts("test"), **run.readout("test"))
    cm = confusion_matrix(y, pred, 10)
    assert cm.sum() == N_TEST
    assert np.trace(cm) / N_TEST == pytest.approx(run.results["accuracy"])
    ax = plot_confusion_matrix(y, pred, run.class_names, normalize=False, axes=_axes())
    shown = ax.images[0].get_array()
    assert shown.sum() == N_TEST and sum(int(t.get_text()) for t in ax.texts) == N_TEST
    ax = plot_confusion_matrix(y, pred, run.class_names, axes=_axes())
    assert np.allclose(ax.images[0].get_array().sum(axis=1), 1)


def test_ensemble_size(small_run):
    run = load_run(small_run)
    ax = plot_ensemble_size(run.counts("test"), run.labels("test"), baselines={"logreg": 0.9},
                            readout=run.readout("test"), axes=_axes())
    mean = ax.lines[0]
    assert list(mean.get_xdata()) == list(range(1, COPIES + 1))
    assert mean.get_ydata()[-1] == pytest.approx(run.results["accuracy"])
    singles = ax.collections[-1].get_offsets()[:, 1]
    assert np.allclose(np.sort(singles), np.sort(run.results["accuracy_single"]))


def test_microcolumn_usage(small_run):
    run = load_run(small_run)
    i = run.spikes("test")["L"][0]
    usage = microcolumn_usage(i, 10, M, COPIES)
    assert usage.shape == (10, M) and usage.sum() == len(i)
    assert microcolumn_usage(i, 10, M, COPIES, copies=[1]).sum() == int(np.sum(i >= 10 * M))
    ax = plot_microcolumn_usage(usage, run.class_names, axes=_axes())
    rows = ax.images[0].get_array().sum(axis=1)
    assert np.allclose(rows[usage.sum(axis=1) > 0], 1)


# ----------------------------------------------------------------------------- GA
def test_ga_history_from_individuals_and_summary(tmp_path):
    log = tmp_path / "evaluations.jsonl"
    log.write_text("\n".join(json.dumps(r) for r in GA_RECORDS) + "\nnot json\n")
    history = ga_history(read_ga_log(log))
    assert list(history["generation"]) == [0, 1, 2]
    assert np.allclose(history["best"], [0.6, 0.7, 0.71])
    assert np.allclose(history["mean"], [0.55, 0.6333333, 0.685])  # the NaN evaluation is ignored
    summary = dict(generation=[0, 1, 2, 3], best=[0.6, 0.72, 0.71, 0.8], mean=[0.5, 0.6, 0.6, 0.7])
    history = ga_history(read_ga_log(log), summary)
    assert np.allclose(history["best"], summary["best"]) and len(history["individuals"][1]) == 8
    ax = plot_ga_fitness({"generation": [0, 1, 2], "best": [0.5, 0.7, 0.6], "mean": [0.4, 0.5, 0.55]}, axes=_axes())
    best, mean = ax.lines[0], ax.lines[-1]
    assert len(best.get_xdata()) == len(mean.get_xdata()) == 3
    assert ax.get_xlabel() and ax.get_ylabel()


# ----------------------------------------------------------------------------- draw_all, CLI, scripts
def _names(paths, suffix=".png"):
    return {p.stem for p in paths if p.suffix == suffix}


def test_draw_all_skips_absent_data(small_run, tmp_path):
    skipped = []
    files = draw_all(small_run, tmp_path, skipped=skipped)
    assert _names(files) == BASIC_FIGURES and all(p.is_file() and p.stat().st_size > 0 for p in files)
    assert {name for name, _ in skipped} == {s.name for s in FIGURES} - BASIC_FIGURES
    assert all(reason for _, reason in skipped)


def test_draw_all_features_mode(small_run, tmp_path):
    run_dir = tmp_path / "features"
    shutil.copytree(small_run, run_dir)
    results = json.loads((run_dir / "results.json").read_text())
    results["dataset"]["features"] = "efficientnet_b3 embeddings"
    results["dataset"].pop("image_shape", None)
    (run_dir / "results.json").write_text(json.dumps(results))
    run = load_run(run_dir)
    assert run.image_shape is None
    status = available(run)
    assert status["weight_matrix"] is None and status["receptive_fields"]
    assert [p.name for p in draw(run, "weight_matrix", tmp_path / "wm")] == ["wm.png"]
    assert load_run(run_dir, image_shape=(8, 8)).image_shape == (8, 8)


def test_cli_figures_full_run(full_run, tmp_path, capsys):
    from colanet_brian.cli import main

    out = tmp_path / "figs"
    assert main(["figures", str(full_run), "-o", str(out), "--pdf"]) == 0
    printed = capsys.readouterr().out
    expected = {s.name for s in FIGURES} - {"weight_matrix"}
    assert {p.stem for p in out.glob("*.png")} == expected and {p.stem for p in out.glob("*.pdf")} == expected
    listed = [Path(line) for line in printed.splitlines() if line.startswith(str(out))]
    assert sorted(listed) == sorted(out.iterdir())
    assert "skipped weight_matrix" in printed and "skipped ga_fitness" not in printed


def test_cli_figures_errors(tmp_path, capsys):
    from colanet_brian.cli import main

    assert main(["figures", str(tmp_path / "absent")]) == 1
    assert main(["figures", str(tmp_path)]) == 1  # empty directory: nothing to draw
    assert "no figure" in capsys.readouterr().err


@pytest.mark.parametrize("script", sorted(p.name for p in (REPO / "analysis").glob("fig_*.py")))
def test_figure_scripts(script, full_run, tmp_path, monkeypatch, capsys):
    path = REPO / "analysis" / script
    doc = runpy.run_path(str(path))["__doc__"]
    assert "Data: ``colanet " in doc
    out = tmp_path / "fig.pdf"
    monkeypatch.setattr(sys, "argv", [script, str(full_run), "-o", str(out)])
    if script == "fig_weight_matrix.py":  # pixel run: the weight matrix is for feature inputs
        with pytest.raises(ValueError, match="inputs are pixels"):
            runpy.run_path(str(path), run_name="__main__")
        return
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(path), run_name="__main__")
    assert exit_info.value.code == 0 and out.is_file() and out.stat().st_size > 0
    assert capsys.readouterr().out.strip() == str(out)
