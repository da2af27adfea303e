"""Files of a search run directory: the evaluation log (JSON lines), records, random-generator states, the run lock."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import random
from pathlib import Path

import numpy as np


# ---------------------------------------------------------------------------
# Files of a run directory
# ---------------------------------------------------------------------------
def _append_jsonl(path: Path, record: dict) -> None:
    line = json.dumps(record, default=_json_default) + "\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj)}")


def _read_jsonl(path: Path) -> list[dict]:
    """Records of an evaluation log; a torn last line (killed while writing) is cut off."""
    if not path.is_file():
        return []
    raw = path.read_bytes()
    records, good = [], 0
    for line in raw.splitlines(keepends=True):
        try:
            if not line.endswith(b"\n"):
                raise ValueError("unterminated line")
            records.append(json.loads(line))
        except ValueError:
            if good + len(line) < len(raw):
                raise ValueError(f"{path} is corrupt after {len(records)} records") from None
            with open(path, "r+b") as handle:  # torn last line: drop it
                handle.truncate(good)
            break
        good += len(line)
    return records


def _read_json_record(path: Path, keys) -> dict:
    """A JSON object with ``keys``; a garbled or truncated file is a one-line `ValueError` naming it."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is unreadable or truncated ({err}); restore it or start a new search") from None
    missing = [k for k in keys if k not in record] if isinstance(record, dict) else list(keys)
    if missing:
        raise ValueError(f"{path} is damaged: {', '.join(missing)} missing; restore it or start a new search")
    return record


def _values_key(values: dict) -> str:
    return json.dumps(values, sort_keys=True)


def _generation_seed(seed: int, generation: int) -> int:
    """Seed of pygad's random generators for the operators that follow generation ``generation``."""
    return int(np.random.SeedSequence([int(seed), int(generation), 0xC01A]).generate_state(1)[0])


def _rng_state(numpy_rng: np.random.RandomState, python_rng: random.Random) -> dict:
    name, keys, pos, has_gauss, cached = numpy_rng.get_state()
    version, internal, gauss_next = python_rng.getstate()
    return dict(numpy=[name, keys.tolist(), int(pos), int(has_gauss), float(cached)],
                python=[version, list(internal), gauss_next])


def _set_rng_state(ga, state: dict) -> None:
    name, keys, pos, has_gauss, cached = state["numpy"]
    ga.numpy_random_generator.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    version, internal, gauss_next = state["python"]
    ga.python_random_generator.setstate((version, tuple(internal), gauss_next))


@contextlib.contextmanager
def _exclusive(run_dir: Path):
    """Hold ``run_dir/.lock`` so that two searches never write one run directory."""
    handle = open(run_dir / ".lock", "w")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another `colanet evolve` is running in {run_dir}") from None
        yield
    finally:
        handle.close()
