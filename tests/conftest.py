"""pytest set-up shared by the unit tests and the nbval notebook runs.

Provides ``tiny_mnist``, a small synthetic stand-in for the four MNIST files (for the data tests), and
registers a small reporter that ends the run with one line per executed notebook (cells run, time,
result), so the output of `make test` shows which notebooks and student editions nbval executed.
"""
import hashlib
from collections import defaultdict

import matplotlib
import numpy as np
import pytest

from course_utils import mnist_files as mf

matplotlib.use("Agg")  # unit tests draw figures off-screen


class NotebookReport:
    def __init__(self):
        self.cells = defaultdict(int)
        self.seconds = defaultdict(float)
        self.failed = defaultdict(int)

    def pytest_runtest_logreport(self, report):
        path = report.nodeid.split("::")[0]
        if not path.endswith(".ipynb"):
            return
        self.seconds[path] += report.duration
        if report.when == "call":
            self.cells[path] += 1
            self.failed[path] += report.failed
        elif report.failed:
            self.failed[path] += 1

    def pytest_terminal_summary(self, terminalreporter):
        if not self.cells:
            return
        terminalreporter.section("notebooks executed by nbval")
        for path in sorted(self.cells):
            status = "ok" if not self.failed[path] else f"{self.failed[path]} FAILED"
            terminalreporter.write_line(f"{path:<44} {self.cells[path]:>3} cells {self.seconds[path]:7.1f} s  {status}")
        terminalreporter.write_line(f"{len(self.cells)} notebooks, {sum(self.seconds.values()):.0f} s of cell execution")


def pytest_configure(config):
    if not config.pluginmanager.has_plugin("course-notebook-report"):
        config.pluginmanager.register(NotebookReport(), "course-notebook-report")


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
