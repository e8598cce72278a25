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
