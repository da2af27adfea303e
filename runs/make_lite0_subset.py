"""Fashion-MNIST subset with EfficientNet-Lite0 features and the matching pixel file.

Training rows come from the chunks of the interrupted full extraction
(`colanet features fashion-mnist --encoder efficientnet_lite0`), the first
2,000 official test images are encoded here with the same encoder.
"""
import glob
import time

import numpy as np

from colanet_brian.data_sources import fashion_mnist_images, load_fashion_mnist_arrays
from colanet_brian.features import load_encoder
from colanet_brian.provenance import atomic_save_npz

N_TRAIN, N_TEST = 12000, 2000
Xs, rows = [], []
for path in sorted(glob.glob("/work/main/.colanet_cache/fmnist_lite0.npz.parts/chunk_*.npz")):
    with np.load(path) as d:
        Xs.append(d["X"])
        rows.append(d["rows"])
X_tr, r_tr = np.concatenate(Xs), np.concatenate(rows)
keep = np.argsort(r_tr)[: N_TRAIN]
X_tr, r_tr = X_tr[keep], r_tr[keep]
assert r_tr.max() < 60000 and len(r_tr) == N_TRAIN
images = fashion_mnist_images()
enc = load_encoder("efficientnet_lite0", threads=2)
t = time.time()
X_te = enc.encode([images.load(60000 + k) for k in range(N_TEST)], batch_size=64)
dt = time.time() - t
print(f"encoded {N_TEST} test images in {dt:.0f} s ({N_TEST / dt:.1f} img/s)", flush=True)
y = np.concatenate([images.labels[r_tr], images.labels[60000:60000 + N_TEST]])
split = np.array(["train"] * N_TRAIN + ["test"] * N_TEST)
names = np.array(images.class_names)
atomic_save_npz("/work/main/.colanet_cache/fmnist12k_lite0.npz", X=np.concatenate([X_tr, X_te]), y=y,
                class_names=names, split=split, encoder=np.array("efficientnet_lite0"))
arr = load_fashion_mnist_arrays()
px = np.concatenate([arr["train_images"][r_tr], arr["test_images"][:N_TEST]]).reshape(N_TRAIN + N_TEST, -1)
atomic_save_npz("/work/main/.colanet_cache/fmnist12k_pixels.npz", X=px.astype(np.float32), y=y, class_names=names,
                split=split)
print("written")
