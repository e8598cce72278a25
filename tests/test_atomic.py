"""course_utils.atomic: a file is either the old complete one or the new complete one."""
import pytest

from course_utils.atomic import atomic_write


def test_writes_the_file_and_creates_its_folder(tmp_path):
    path = atomic_write(tmp_path / "a" / "b.bin", lambda f: f.write(b"hello"))
    assert path.read_bytes() == b"hello" and list(path.parent.iterdir()) == [path]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_debris(tmp_path):
    path = atomic_write(tmp_path / "b.bin", lambda f: f.write(b"old"))

    def crash(f):
        f.write(b"half of the new")
        raise KeyboardInterrupt("power cut")

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, crash)
    assert path.read_bytes() == b"old" and list(tmp_path.iterdir()) == [path]


def test_a_failed_first_write_leaves_nothing(tmp_path, monkeypatch):
    import os

    def full(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(tmp_path / "c.bin", lambda f: f.write(b"data"))
    assert list(tmp_path.iterdir()) == []


def test_the_file_gets_ordinary_permissions_not_the_temporary_files(tmp_path):
    import os

    previous = os.umask(0o022)
    try:
        path = atomic_write(tmp_path / "shared.bin", lambda f: f.write(b"x"))
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o644  # like open(path, "wb"): others can read a shared course folder


def test_leftovers_of_an_interrupted_write_go_on_the_next_write_but_not_a_running_one(tmp_path):
    import os
    import time

    stale, running = tmp_path / ".model.pt.abc123.part", tmp_path / ".model.pt.def456.part"
    stale.write_bytes(b"half" * 1000)
    running.write_bytes(b"being written by another process")
    hour_ago = time.time() - 3600
    os.utime(stale, (hour_ago, hour_ago))
    (tmp_path / ".other.pt.xyz.part").write_bytes(b"another file's")
    os.utime(tmp_path / ".other.pt.xyz.part", (hour_ago, hour_ago))
    atomic_write(tmp_path / "model.pt", lambda f: f.write(b"new"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".model.pt.def456.part", ".other.pt.xyz.part", "model.pt"]
