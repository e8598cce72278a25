"""Writing a file so that nobody ever sees half of it: the data, the checkpoints and exports use it."""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

STALE_SECONDS = 15 * 60  # a temporary file this old belongs to a write that was interrupted


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, flush it to disk, then rename it to ``path``.

    The rename is all-or-nothing, so ``path`` holds the previous complete file (or none) until the new
    one is complete; if ``write`` fails, the temporary file is removed and the error propagates. The new
    file gets the permissions an ordinary ``open(path, "wb")`` would give it (readable by others unless
    the umask says otherwise), and temporary files left beside it by an interrupted earlier write of the
    same file are removed.

    Returns:
        ``path``, as a Path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_leftovers(path.parent, f".{path.name}.*.part")
    # same folder as the target, so the rename never crosses file systems
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it 0600, private to this user
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)  # only still there when the write failed
    return path


def remove_stale_leftovers(folder: Path, pattern: str, older_than: float = STALE_SECONDS) -> list[Path]:
    """Remove what interrupted writes left in ``folder``: the files and folders matching ``pattern``.

    Only leftovers untouched for ``older_than`` seconds are removed, so the temporary file of a write that
    another process is still making is kept.

    Returns:
        The paths removed.
    """
    removed = []
    now = time.time()
    for leftover in Path(folder).glob(pattern):
        with contextlib.suppress(FileNotFoundError):  # another process may clean up at the same moment
            if now - leftover.lstat().st_mtime < older_than:
                continue
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink()
            removed.append(leftover)
    return removed


def _umask() -> int:
    """The process's umask: the permission bits new files do not get."""
    mask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask
