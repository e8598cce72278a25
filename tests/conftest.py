"""pytest set-up for the unit tests.

Provides ``tiny_mnist``, a small synthetic stand-in for the four MNIST files (for the data tests). The
nbval set-up (chapter groups for pytest-xdist, the table of executed notebooks) is in the repository's
root conftest.py, which pytest also loads when it runs only notebooks/ and student/.
"""
import hashlib

import matplotlib
import numpy as np
import pytest

from course_utils import mnist_files as mf

matplotlib.use("Agg")  # unit tests draw figures off-screen


def copy_source(files):
    def from_memory(raw):
        """Test source: copies known bytes."""
        for name, blob in files.items():
            mf.install_verified(blob, raw / name)
    return from_memory


def synthetic_split(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8), rng.integers(0, 10, size=n, dtype=np.uint8)


@pytest.fixture
def tiny_mnist(monkeypatch):
    """Small synthetic 'MNIST': the four idx files' bytes, with MNIST_MD5 patched to match them."""
    (tr_x, tr_y), (te_x, te_y) = synthetic_split(50, 0), synthetic_split(20, 1)
    files = {"train-images-idx3-ubyte": mf.idx_bytes(tr_x), "train-labels-idx1-ubyte": mf.idx_bytes(tr_y),
             "t10k-images-idx3-ubyte": mf.idx_bytes(te_x), "t10k-labels-idx1-ubyte": mf.idx_bytes(te_y)}
    monkeypatch.setattr(mf, "MNIST_MD5", {k: hashlib.md5(v).hexdigest() for k, v in files.items()})
    return {"files": files, "train": (tr_x, tr_y), "test": (te_x, te_y), "source": copy_source(files)}
