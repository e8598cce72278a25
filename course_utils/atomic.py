"""Writing a file so that nobody ever sees half of it: the data, the checkpoints and the run cache use it."""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, flush it to disk, then rename it to ``path``.

    The rename is all-or-nothing, so ``path`` holds the previous complete file (or none) until the new
    one is complete; if ``write`` fails, the temporary file is removed and the error propagates.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # same folder as the target, so the rename never crosses file systems
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)  # only still there when the write failed
    return path
