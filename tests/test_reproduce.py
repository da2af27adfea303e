"""Same data + same seed = same numbers in every command; a model remembers its split (issue 12)."""

import json

import numpy as np
import pytest

from colanet_brian.cli import main
from colanet_brian.modeldata import TrainingData, row_fingerprints

#: The spec's rate code (no per-sample mass equalisation), under which a foreign input scale changes the
#: drive and is warned about; with the default equalisation the scale does not matter (test_inputs.py).
SMALL_RUN = ["--backend", "numpy", "--copies", "2", "--microcolumns", "2", "--no-progress",
             "--set", "input_normalization=none"]


@pytest.fixture(scope="module")
def digits_file(tmp_path_factory):
    """200 digits rows as a feature file without a fixed split (readers draw one with their seed)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    rows = np.random.default_rng(0).permutation(len(d.target))[:200]
    path = tmp_path_factory.mktemp("data") / "digits200.npz"
    np.savez(path, X=d.data[rows], y=d.target[rows], class_names=np.array([str(c) for c in d.target_names]))
    return path


@pytest.fixture(scope="module")
def run_dir(digits_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "run"
    assert main(["-q", "run", "--dataset", str(digits_file), "--out", str(out), "--no-baselines", *SMALL_RUN]) == 0
    return out


def _evaluate(capsys, *argv):
    assert main(["evaluate", *argv, "--backend", "numpy", "--no-progress"]) == 0
    captured = capsys.readouterr()
    return float(captured.out.split("ensemble accuracy ")[1].split(";")[0]), captured.err


def test_evaluate_on_the_saved_model_reproduces_results_json(run_dir, digits_file, capsys, tmp_path):
    results = json.loads((run_dir / "results.json").read_text())
    acc, err = _evaluate(capsys, str(run_dir / "model.npz"))  # the model knows its data set and split
    assert acc == round(results["accuracy"], 4) and "warning" not in err
    out = tmp_path / "acc.json"
    acc2, _ = _evaluate(capsys, str(run_dir / "model.npz"), str(digits_file), "--json", str(out))
    saved = json.loads(out.read_text())
    assert saved["accuracy"] == results["accuracy"]  # exactly, not just to 4 digits
    assert saved["accuracy_single"] == results["accuracy_single"]


def test_scoring_training_rows_or_a_foreign_scale_is_warned_about(run_dir, digits_file, capsys, tmp_path):
    _, err = _evaluate(capsys, str(run_dir / "model.npz"), "--seed", "5")  # another split: training rows scored
    assert "were used for training (the model's split seed is 0)" in err
    with np.load(digits_file) as f:
        scaled = tmp_path / "scaled.npz"
        np.savez(scaled, X=f["X"] / 16.0, y=f["y"], class_names=f["class_names"])  # pixels 0..1, model: 0..16
    _, err = _evaluate(capsys, str(run_dir / "model.npz"), str(scaled))
    assert "test input drive" in err and "training drive" in err
    assert "used for training" not in err  # rescaled rows are not training rows


def test_training_data_remembers_rows_and_survives_the_model_file():
    X = np.arange(12.0).reshape(4, 3)
    mem = TrainingData.from_rows(X[:2], np.full((2, 3), 0.1), source=dict(seed=3))
    assert mem.seen_rows(X).tolist() == [True, True, False, False]
    assert row_fingerprints(X[:1])[0] == row_fingerprints(X[:1].astype(np.float32))[0]  # dtype does not matter
    back = TrainingData.from_saved(mem.to_meta(), mem.arrays())
    assert back.seen_rows(X).tolist() == [True, True, False, False] and back.source == {"seed": 3}
    assert back.drive == pytest.approx(0.3)
    assert mem.check_test(X[2:], np.full((2, 3), 0.1)) == []
    notes = mem.check_test(X, np.full((4, 3), 0.01))
    assert len(notes) == 2 and "2 of 4 scored rows" in notes[0] and "0.1x" in notes[1]
