import pytest
import torch

from course_utils import env


def test_pick_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert env.pick_device() == torch.device("cpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert env.pick_device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert env.pick_device() == torch.device("cuda")


def test_pick_device_refuses_unknown_or_unavailable(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="not available"):
        env.pick_device("cuda")
    with pytest.raises(ValueError, match="'cuda', 'mps' or 'cpu'"):
        env.pick_device("tpu")
    assert env.pick_device("cpu") == torch.device("cpu")


def test_describe_device_tells_how_to_get_a_gpu():
    text = env.describe_device(torch.device("cpu"))
    assert text.startswith("Using device: cpu")
    assert "Runtime > Change runtime type" in text


def test_seed_everything_repeats_draws():
    gen = env.seed_everything(123)
    a, ga = torch.rand(5), torch.rand(5, generator=gen)
    gen = env.seed_everything(123)
    assert torch.equal(a, torch.rand(5)) and torch.equal(ga, torch.rand(5, generator=gen))


@pytest.mark.parametrize("bad", [-1, 1.5, "7", True])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="non-negative int"):
        env.seed_everything(bad)


def test_in_colab(monkeypatch):
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    assert env.in_colab() is False
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-20261101")
    assert env.in_colab() is True


def test_versions_lists_the_libraries():
    assert {"python", "torch", "torchvision", "numpy", "matplotlib", "tqdm"} <= set(env.versions())


def test_import_runs_nothing(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "import course_utils"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""
    assert list(tmp_path.iterdir()) == []  # no data folder, no files: importing fetches nothing


def test_data_on_a_missing_device_is_refused_before_loading(monkeypatch):
    from course_utils import data

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(data, "ensure_mnist", lambda root=None: pytest.fail("data was loaded"))
    with pytest.raises(ValueError, match="not available"):
        data.mnist_tensors(train=False, device="cuda")
