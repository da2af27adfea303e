"""``report.html``: one self-contained page per run, checked as text and in headless Chromium (issue 12)."""

import base64
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from colanet_brian.cli import main


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from sklearn.datasets import load_digits

    d = load_digits()
    rows = np.random.default_rng(1).permutation(len(d.target))[:150]
    data = tmp_path_factory.mktemp("data") / "digits150.npz"
    np.savez(data, X=d.data[rows], y=d.target[rows], class_names=np.array([str(c) for c in d.target_names]))
    out = tmp_path_factory.mktemp("runs") / "run"
    assert main(["-q", "run", "--dataset", str(data), "--out", str(out), "--backend", "numpy", "--copies", "2",
                 "--microcolumns", "2", "--no-progress"]) == 0
    return out


def test_run_writes_a_self_contained_report_with_results_baselines_and_every_figure(run_dir):
    from colanet_brian.analysis.figures import available
    from colanet_brian.analysis.rundata import load_run

    page = (run_dir / "report.html").read_text()
    results = json.loads((run_dir / "results.json").read_text())
    assert f"{results['accuracy']:.4f}" in page and "CoLaNET ensemble" in page
    for name, baseline in results["baselines"].items():
        assert name.replace("_", " ") in page and f"{baseline['accuracy']:.4f}" in page
    assert results["git_revision"] is None or results["git_revision"] in page
    shown = re.search(r"<td>reward</td><td[^>]*>([^<]+)</td>", page).group(1)
    assert float(shown) == pytest.approx(results["params"]["reward"], abs=5e-5)  # the parameters table
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([^"]+)"', page)
    drawable = [name for name, reason in available(load_run(run_dir)).items() if not reason]
    assert len(images) >= len(drawable) > 3  # every figure the run supports (some draw one file per copy)
    for _, data in images:
        png = base64.b64decode(data)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    assert not re.search(r'(src|href)="(https?:|file:|/)', page)  # nothing outside the file


def test_report_command_and_a_directory_that_is_no_run(run_dir, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", str(run_dir), "-o", str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert main(["report", str(tmp_path)]) == 1
    assert "not a run directory" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")
def test_the_report_loads_in_headless_chromium_with_every_image_decoded(run_dir, tmp_path):
    page = run_dir / "report.html"
    n_images = page.read_text().count("<img ")
    dom = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
                          f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.resolve().as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert f'data-images="{n_images}"' in body and f'data-images-decoded="{n_images}"' in body, body
    shot = tmp_path / "shot.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'p2'}",
                    f"--screenshot={shot}", "--window-size=1200,2000", page.resolve().as_uri()],
                   capture_output=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 10000  # the page rendered (not a blank screen)
