"""One self-contained ``report.html`` per run: results with baselines, parameters, provenance and every figure.

Figures are drawn from the run directory (`analysis.figures.draw_all`) into a
temporary folder and embedded as base64 PNG, so the page can be mailed or
archived alone.  Reads a ``colanet run`` directory (``results.json``) or a
``colanet evolve`` directory (``summary.json``).
"""

from __future__ import annotations

import base64
import html
import json
import tempfile
import time
from pathlib import Path

from .provenance import atomic_write_text

__all__ = ["write_report", "render_report"]

#: Marks the page once loaded with how many images decoded (a headless browser check reads it from the DOM).
_CHECK_SCRIPT = ("<script>window.addEventListener('load', function () { var im = document.images, ok = 0;"
                 " for (var k = 0; k < im.length; k++) { if (im[k].complete && im[k].naturalWidth > 0) ok++; }"
                 " document.body.setAttribute('data-images', im.length);"
                 " document.body.setAttribute('data-images-decoded', ok); });</script>")
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; } td, th { padding: .2em .8em; border-bottom: 1px solid #eee; }
th { text-align: left; background: #f6f6f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { display: inline-block; margin: .5em; vertical-align: top; } figure img { max-width: 520px; }
figcaption { font-size: .85em; color: #555; } .note { color: #a60; } code { font-size: .9em; }
"""


def _esc(value) -> str:
    return html.escape(str(value))


def _table(rows, header=None, numeric=()) -> str:
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join(f"<th>{_esc(h)}</th>" for h in header) + "</tr>")
    for row in rows:
        cells = []
        for k, cell in enumerate(row):
            if isinstance(cell, float):
                cells.append(f'<td class="num">{cell:.4f}</td>')
            else:
                cells.append(f'<td{" class=num" if k in numeric else ""}>{_esc(cell)}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "\n".join(out + ["</table>"])


def _results_section(results: dict) -> str:
    rows = [("CoLaNET ensemble", results["accuracy"], f"{len(results.get('accuracy_single', []))} copies"),
            ("CoLaNET single copy (mean)", results["accuracy_single_mean"],
             f"min {results['accuracy_single_min']:.3f}, max {results['accuracy_single_max']:.3f}")]
    for name, b in (results.get("baselines") or {}).items():
        rows.append((name.replace("_", " "), float(b["accuracy"]), f"{b.get('wall_time', 0):.1f} s"))
    parts = ["<h2>Results</h2>", _table(rows, ("classifier", "test accuracy", "notes"))]
    training = results.get("training") or {}
    if training:
        parts.append(_table([(k.replace("_", " "), float(v) if isinstance(v, float) else v)
                             for k, v in training.items()], ("training pass", "value")))
    timing = results.get("timing") or {}
    if timing:
        parts.append(_table([(k.replace("_", " "), float(v) if isinstance(v, float) else v)
                             for k, v in timing.items()], ("timing", "value")))
    return "\n".join(parts)


def _evolve_section(summary: dict) -> str:
    keys = [k for k in summary if not isinstance(summary[k], (dict, list))]
    parts = ["<h2>Genetic search</h2>", _table([(k, summary[k]) for k in keys], ("summary", "value"))]
    best = summary.get("best") or {}
    if isinstance(best, dict) and best.get("values"):
        parts.append(_table(sorted(best["values"].items()), ("best gene", "value")))
    return "\n".join(parts)


def _dict_section(title: str, data: dict) -> str:
    if not data:
        return ""
    rows = [(k, json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in data.items()]
    return f"<h2>{_esc(title)}</h2>\n" + _table(rows, ("name", "value"))


def _figures_section(run_dir: Path) -> tuple[str, int]:
    from .analysis.figures import draw_all

    skipped = []
    with tempfile.TemporaryDirectory(prefix="colanet-report-") as tmp:
        try:
            files = draw_all(run_dir, Path(tmp), skipped=skipped)
        except (OSError, ValueError, RuntimeError) as err:  # no figure data: the report still has the tables
            return f'<h2>Figures</h2><p class="note">no figures: {_esc(err)}</p>', 0
        figures = []
        for path in sorted(p for p in files if p.suffix == ".png"):
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            figures.append(f'<figure><img alt="{_esc(path.stem)}" src="data:image/png;base64,{data}">'
                           f"<figcaption>{_esc(path.stem.replace('_', ' '))}</figcaption></figure>")
    notes = "".join(f'<li class="note">{_esc(name)}: {_esc(reason)}</li>' for name, reason in skipped)
    return "<h2>Figures</h2>\n" + "\n".join(figures) + (f"<ul>{notes}</ul>" if notes else ""), len(figures)


def render_report(run_dir) -> tuple[str, int]:
    """The HTML text of the report of ``run_dir`` and the number of figures in it.

    Raises
    ------
    FileNotFoundError
        If ``run_dir`` holds neither ``results.json`` nor ``summary.json``.
    """
    run_dir = Path(run_dir)
    results_path, summary_path = run_dir / "results.json", run_dir / "summary.json"
    if results_path.is_file():
        record = json.loads(results_path.read_text())
        body = [_results_section(record), _dict_section("Data set", record.get("dataset") or {})]
        title = f"colanet run: {(record.get('dataset') or {}).get('name', run_dir.name)}"
    elif summary_path.is_file():
        record = json.loads(summary_path.read_text())
        config_path = run_dir / "config.json"
        config = json.loads(config_path.read_text()) if config_path.is_file() else {}
        record.update({k: v for k, v in config.items() if k in ("versions", "git_revision", "command", "platform")})
        record.setdefault("params", config.get("base_params") or {})
        body = [_evolve_section(record)]
        title = f"colanet evolve: {run_dir.name}"
    else:
        raise FileNotFoundError(f"{run_dir} holds no results.json or summary.json: not a run directory")
    body.append(_dict_section("Parameters", record.get("params") or {}))
    prov = {k: record.get(k) for k in ("git_revision", "command", "platform", "cpu_count", "seed", "backend")
            if record.get(k) is not None}
    prov.update({f"version {k}": v for k, v in (record.get("versions") or {}).items() if v})
    body.append(_dict_section("Provenance", prov))
    figures, n_figures = _figures_section(run_dir)
    body.append(figures)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    page = (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{_esc(title)}</title>"
            f"<style>{_STYLE}</style>{_CHECK_SCRIPT}</head><body>\n<h1>{_esc(title)}</h1>\n"
            f"<p>{_esc(run_dir.resolve())}, report written {stamp}</p>\n" + "\n".join(body) + "\n</body></html>\n")
    return page, n_figures


def write_report(run_dir, out=None) -> Path:
    """Write ``report.html`` (default ``run_dir/report.html``) atomically; return its path."""
    page, _ = render_report(run_dir)
    return atomic_write_text(Path(out) if out else Path(run_dir) / "report.html", page)
