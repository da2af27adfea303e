"""Tests of the genetic search (`colanet_brian.search`, ``colanet evolve``).

All searches run a tiny CoLaNET (2 copies, 4 microcolumns) on a 300-sample
digits subset with ``--backend cpp``; they share one standalone build, kept in
the build cache (``$COLANET_TEST_CACHE`` or the default cache), so only the
very first run of this module compiles.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from colanet_brian.data.datasets import load_dataset
from colanet_brian.engine.cache import default_cache_dir
from colanet_brian.model.params import CoLaNETParams, ParameterError, load_params
from colanet_brian.search.config import SearchConfig
from colanet_brian.search.data import search_block_frames, search_split
from colanet_brian.search.evolve import Evolution
from colanet_brian.search.genes import Gene, available_genes, gene_table, parse_range

GENES = ["reward", "d_h", "s_stoch"]
SMALL = dict(n_copies=2, n_microcolumns=4)


class Killed(Exception):
    """Stands in for a kill of the search process."""


@pytest.fixture(scope="module")
def cache_dir():
    return str(os.environ.get("COLANET_TEST_CACHE") or default_cache_dir())


@pytest.fixture(scope="module")
def data():
    return search_split(load_dataset("digits", seed=0), val_size=0.2, seed=0, max_train=300)


@pytest.fixture(scope="module")
def base():
    return CoLaNETParams(**SMALL).validate()


def make_config(base, **changes):
    kw = dict(genes=gene_table(GENES, base=base), population=4, generations=2, seed=3, mutation_probability=0.5)
    kw.update(changes)
    return SearchConfig(**kw)


def run_search(run_dir, config, data, base, cache_dir, **options):
    search = Evolution.create(run_dir, config, data, base, cache_dir=cache_dir, progress=False, **options)
    return search, search.run()


def read_log(run_dir):
    return [json.loads(line) for line in (Path(run_dir) / "evaluations.jsonl").read_text().splitlines()]


def final_state(run_dir) -> dict:
    """Everything a search ends with, except wall-clock times, paths and compile counts (cache-dependent)."""
    run_dir = Path(run_dir)
    ckpt = json.loads((run_dir / "checkpoint.json").read_text())
    best_file = json.loads((run_dir / "best_params.json").read_text())
    best_file["_evolve"].pop("run_dir")
    log = read_log(run_dir)
    return dict(population=ckpt["population"], fitness=ckpt["fitness"], rng=ckpt["rng"], best=ckpt["best"],
                generation=ckpt["generation"],
                history={k: v for k, v in ckpt["history"].items() if k not in ("wall_time", "compiles")},
                best_params=best_file,
                evaluated=sorted(json.dumps(r["values"], sort_keys=True) for r in log),
                fitness_by_values={json.dumps(r["values"], sort_keys=True): r["fitness"] for r in log})


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, data, base, cache_dir):
    """A complete tiny search (population 4, 2 generations): the reference run."""
    run_dir = tmp_path_factory.mktemp("evolve") / "uninterrupted"
    _, summary = run_search(run_dir, make_config(base), data, base, cache_dir)
    return run_dir, summary


# ---------------------------------------------------------------------------
# genes and ranges
# ---------------------------------------------------------------------------
def test_gene_maps_integers_uniformly_and_logs_in_log_space():
    g = Gene("T_dop", 5, 20, integer=True)
    values = [g.value(u) for u in np.linspace(0, 1, 16001)]
    counts = np.bincount(values)[5:21]
    assert set(values) == set(range(5, 21)) and counts.max() - counts.min() <= 2
    assert all(g.value(g.encode(v)) == v for v in range(5, 21))
    r = Gene("reward", 0.01, 1.0, log=True)
    assert r.value(0) == 0.01 and r.value(1) == 1.0 and r.value(0.5) == pytest.approx(0.1)
    assert r.value(r.encode(0.3)) == pytest.approx(0.3)
    d = Gene("d_h", -0.6, 0.0)
    assert d.value(d.encode(-0.177)) == -0.177 and d.value(-3) == -0.6 and d.value(7) == 0.0


def test_gene_table_follows_spec_ranges_and_metadata():
    spec = available_genes()
    assert spec["n_microcolumns"] == Gene("n_microcolumns", 3, 40, integer=True)
    assert spec["w_max"].log and spec["reward"].log and not spec["d_h"].log
    genes = gene_table(["reward", "T_dop"], [("reward", 0.05, 0.8)])
    assert [(g.name, g.low, g.high, g.integer) for g in genes] == [("reward", 0.05, 0.8, False), ("T_dop", 5, 20, True)]
    names = [g.name for g in gene_table()]
    assert "a1" not in names and "gate_weight" not in names and "n_microcolumns" in names


@pytest.mark.parametrize("names, ranges, message", [
    (["reward"], [("reward", 0.5, 0.1)], "low < high"),
    (["reward"], [("reward", 0.3, 0.3)], "low < high"),
    (["rewrad"], None, "unknown gene 'rewrad'"),
    (["d_h"], [("d_h", -0.5, 0.2)], "d_h must be <= 0"),
    (["w_max"], [("w_max", -1.0, 2.0)], "log space"),
    (["n_microcolumns"], [("n_microcolumns", 0, 10)], "n_microcolumns must be >= 1"),
    (["T_dop"], [("T_dop", 2.5, 9)], "integer bounds"),
    (["theta0"], None, "no GA range"),
    (["wta_exact"], None, "not numeric"),
    (["reward"], [("d_h", -0.3, 0.0)], "not among the searched genes"),
    (["reward", "reward"], None, "listed twice"),
])
def test_invalid_gene_ranges_raise_clear_errors(names, ranges, message):
    with pytest.raises(ParameterError, match=message):
        gene_table(names, ranges)


def test_parse_range():
    assert parse_range("reward=0.05:0.8") == ("reward", 0.05, 0.8)
    assert parse_range("d_h=-0.5:-0.01") == ("d_h", -0.5, -0.01)
    with pytest.raises(ParameterError, match="NAME=LOW:HIGH"):
        parse_range("reward=0.05")


def test_invalid_search_settings(base):
    with pytest.raises(ValueError, match="elitism"):
        make_config(base, elitism=4).validate()
    with pytest.raises(ValueError, match="selection"):
        make_config(base, selection="best").validate()


def test_cli_rejects_bad_range_before_anything_runs(tmp_path, capsys):
    from colanet_brian.cli import main

    out = tmp_path / "run"
    rc = main(["evolve", "--genes", "reward,d_h", "--range", "d_h=-0.3:0.4", "--out", str(out), "--no-progress"])
    assert rc == 1 and not out.exists()
    assert "gene d_h" in capsys.readouterr().err


def test_search_split_never_touches_the_test_split():
    ds = load_dataset("digits", seed=0)
    sd = search_split(ds, val_size=0.2, seed=0)
    assert len(sd.y_fit) + len(sd.y_val) == len(ds.y_train)
    train_rows = {row.tobytes() for row in ds.X_train}
    assert all(row.tobytes() in train_rows for row in np.concatenate([sd.X_fit, sd.X_val]))
    assert set(np.unique(sd.y_val)) == set(range(10))  # stratified
    assert search_block_frames(1149, 288) == 288


# ---------------------------------------------------------------------------
# searches
# ---------------------------------------------------------------------------
def test_tiny_search_logs_every_individual_and_reuses_the_build(uninterrupted, base):
    run_dir, summary = uninterrupted
    for key in ("generation", "best", "mean", "wall_time"):
        assert len(summary[key]) == 3
    assert summary["generation"] == [0, 1, 2] and summary["complete"]
    assert all(0 <= f <= 1 for f in summary["best"]) and summary["best_so_far"][-1] == max(summary["best"])
    log = read_log(run_dir)
    for r in log:
        assert {"genes", "params", "fitness", "seed", "wall_time", "compiled", "generation"} <= set(r)
        assert r["seed"] == 3 and r["generation"] in (0, 1, 2) and r["params"]["n_copies"] == 2
    assert len(log) == summary["n_evaluations"] == sum(summary["evaluations"])
    assert len([r for r in log if r["generation"] == 0]) == 4
    # every individual of the final population was evaluated (and logged) exactly once
    ckpt = json.loads((run_dir / "checkpoint.json").read_text())
    by_genes = {json.dumps(r["genes"], sort_keys=True): r for r in log}
    keys = [json.dumps(r["values"], sort_keys=True) for r in log]
    assert len(keys) == len(set(keys))
    for genes, fitness in zip(ckpt["population"], ckpt["fitness"], strict=True):
        record = by_genes[json.dumps(dict(zip(GENES, genes, strict=True)), sort_keys=True)]
        assert record["fitness"] == fitness
    # shape-preserving genes: at most the very first evaluation compiled
    assert summary["n_compiles"] == sum(r["compiled"] for r in log) <= 1
    assert not any(r["compiled"] for r in log[1:])
    # the best parameters are a loadable parameter file with the model's copies
    best = load_params(run_dir / "best_params.json")
    assert best.n_copies == base.n_copies
    assert {g: getattr(best, g) for g in GENES} == summary["best_individual"]["values"]


def test_resume_after_a_kill_in_generation_2_equals_an_uninterrupted_run(uninterrupted, tmp_path, data, base,
                                                                          cache_dir):
    ref_dir, ref = uninterrupted
    target = max(g for g, n in zip(ref["generation"], ref["evaluations"], strict=True) if n > 0)
    assert target >= 1

    def kill(record):
        if record["generation"] == target:
            raise Killed

    run_dir = tmp_path / "killed"
    with pytest.raises(Killed):
        run_search(run_dir, make_config(base), data, base, cache_dir, on_evaluated=kill)
    assert json.loads((run_dir / "checkpoint.json").read_text())["generation"] == target - 1
    n_before = len(read_log(run_dir))
    with open(run_dir / "evaluations.jsonl", "a") as handle:  # torn line of a kill while writing
        handle.write('{"evaluation": 99, "generation": 2, "ge')
    resumed = Evolution.resume(run_dir, data, cache_dir=cache_dir, progress=False)
    summary = resumed.run()
    assert summary["complete"]
    assert final_state(run_dir) == final_state(ref_dir)
    # nothing evaluated twice: the resumed run only evaluated what the killed one had not finished
    assert len(read_log(run_dir)) == len(read_log(ref_dir)) and n_before < len(read_log(ref_dir))


def test_resume_extends_a_finished_search_like_a_longer_run(uninterrupted, tmp_path, data, base, cache_dir):
    ref_dir, _ = uninterrupted
    extended = tmp_path / "extended"
    shutil.copytree(ref_dir, extended)
    Evolution.resume(extended, data, generations=3, cache_dir=cache_dir, progress=False).run()
    longer = tmp_path / "longer"
    run_search(longer, make_config(base, generations=3), data, base, cache_dir)
    assert final_state(extended) == final_state(longer)
    with pytest.raises(ValueError, match="already finished 3"):
        Evolution.resume(extended, data, generations=2, cache_dir=cache_dir)


def test_dask_local_cluster_gives_the_local_fitnesses(uninterrupted, tmp_path, data, base, cache_dir):
    from dask.distributed import LocalCluster

    ref = final_state(uninterrupted[0])["fitness_by_values"]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        _, summary = run_search(tmp_path / "dask", make_config(base, generations=1), data, base, cache_dir,
                                scheduler=cluster.scheduler_address)
    got = final_state(tmp_path / "dask")["fitness_by_values"]
    assert summary["n_evaluations"] >= 4 and got and all(ref[k] == v for k, v in got.items())


def test_local_worker_processes_give_the_serial_fitnesses(uninterrupted, tmp_path, data, base, cache_dir):
    ref = final_state(uninterrupted[0])["fitness_by_values"]
    run_search(tmp_path / "pool", make_config(base, generations=1), data, base, cache_dir, workers=2)
    got = final_state(tmp_path / "pool")["fitness_by_values"]
    assert got and all(ref[k] == v for k, v in got.items())
    assert len({r["worker"] for r in read_log(tmp_path / "pool")}) >= 1


def test_fitness_is_averaged_over_fitness_seeds(tmp_path, data, base, cache_dir):
    from colanet_brian.search.pools import evaluate_params

    config = make_config(base, population=3, elitism=1, generations=1, fitness_seeds=2)
    run_search(tmp_path / "seeds", config, data, base, cache_dir)
    record = read_log(tmp_path / "seeds")[0]
    assert record["seeds"] == [3, 4] and len(record["fitness_per_seed"]) == 2
    single = [evaluate_params(record["params"], data, seed=s, cache_dir=cache_dir)["fitness"] for s in (3, 4)]
    assert record["fitness_per_seed"] == single and record["fitness"] == pytest.approx(np.mean(single))


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------
def cli_args(out, cache_dir, *extra):
    return ["evolve", "--max-train", "300", "--copies", "2", "--microcolumns", "4", "--genes", ",".join(GENES),
            "--population", "4", "--mutation-probability", "0.5", "--seed", "3", "--workers", "1",
            "--cache-dir", cache_dir, "--out", str(out), "--no-progress", *extra]


def test_cli_runs_resumes_and_saves_the_model(tmp_path, cache_dir, monkeypatch, capsys):
    import colanet_brian
    from colanet_brian.cli import main

    monkeypatch.setattr(colanet_brian, "MODELS_DIR", tmp_path / "models")
    out = tmp_path / "run"
    assert main(cli_args(out, cache_dir, "--generations", "1", "--save-model", "evolved_test")) == 0
    printed = capsys.readouterr().out
    assert "generation" in printed and "best parameters" in printed
    assert load_params(tmp_path / "models" / "evolved_test.json").n_copies == 2
    assert main(["evolve", "--resume", str(out), "--population", "6"]) == 1
    assert "do not give --population" in capsys.readouterr().err
    assert main(["evolve", "--resume", str(out), "--generations", "2", "--no-progress", "--cache-dir", cache_dir]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["generation"] == [0, 1, 2] and summary["complete"]
    assert main(cli_args(out, cache_dir, "--generations", "1")) == 1  # no silent overwrite of a run
    assert "--resume" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_killed_with_sigkill_resumes_to_the_uninterrupted_result(tmp_path, cache_dir):
    colanet = [sys.executable, "-c", "import sys; from colanet_brian.cli import main; sys.exit(main())"]
    extra = ["--population", "8", "--generations", "6"]
    subprocess.run(colanet + cli_args(tmp_path / "ref", cache_dir, *extra), check=True, capture_output=True)
    args = cli_args(tmp_path / "killed", cache_dir, *extra)
    proc = subprocess.Popen(colanet + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt = tmp_path / "killed" / "checkpoint.json"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if ckpt.exists() and json.loads(ckpt.read_text())["generation"] >= 1:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "the search finished before it could be killed"
    assert json.loads(ckpt.read_text())["generation"] < 6
    subprocess.run(colanet + ["evolve", "--resume", str(tmp_path / "killed"), "--no-progress", "--cache-dir",
                              cache_dir], check=True, capture_output=True)
    assert final_state(tmp_path / "killed") == final_state(tmp_path / "ref")


@pytest.mark.slow
def test_shape_genes_compile_once_per_shape(tmp_path, data, base, cache_dir):
    genes = gene_table(["n_microcolumns", "reward"], [("n_microcolumns", 4, 5)], base=base)
    _, summary = run_search(tmp_path / "shape", make_config(base, genes=genes, generations=1), data, base, cache_dir)
    log = read_log(tmp_path / "shape")
    compiled_m = [r["values"]["n_microcolumns"] for r in log if r["compiled"]]
    assert len(compiled_m) == len(set(compiled_m)) and summary["n_compiles"] == len(compiled_m) <= 2
