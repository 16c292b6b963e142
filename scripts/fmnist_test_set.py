"""The Fashion-MNIST test set as inftop reads it (x/255 in float32, labels int64), for the ONNX
scripts (onnx-roundtrip.py, onnx-torch-import.py)."""
import gzip
import os

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"


def idx(path):
    """An IDX file (gzip) as a uint8 array of its shape."""
    with gzip.open(path) as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(directory=DATA):
    """(images [10000, 28, 28] float32 x/255, labels [10000] int64)."""
    images = idx(os.path.join(directory, "t10k-images-idx3-ubyte.gz")).astype(np.float32) / np.float32(255)
    labels = idx(os.path.join(directory, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    return images, labels
