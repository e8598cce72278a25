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


def test_seed_everything_puts_existing_batches_and_shifts_back_to_their_start():
    """Before: re-running a cell that re-seeds and reuses batches made earlier gave another order."""
    from course_utils.augment import RandomShift
    from course_utils.data import TensorBatches

    x, y = torch.rand(10, 1, 6, 6), torch.arange(10)
    batches = TensorBatches(x, y, 4)                                         # its own generator, seeded with 0
    given = TensorBatches(x, y, 4, generator=torch.Generator().manual_seed(7))
    shift = RandomShift(2, generator=torch.Generator().manual_seed(3))
    order = lambda b: torch.cat([yb for _, yb in b]).tolist()                # noqa: E731
    first, first_given, first_shift = order(batches), order(given), shift(x)
    assert order(batches) != first                                           # a new order every epoch
    env.seed_everything(0)
    assert order(batches) == first and order(given) == first_given and torch.equal(shift(x), first_shift)
    env.seed_everything(5)                                                   # any seed: back to their own start
    assert order(batches) == first and torch.equal(shift(x), first_shift)


def test_seed_everything_leaves_objects_made_after_it_as_they_start():
    from course_utils.data import TensorBatches

    x, y = torch.rand(10, 2), torch.arange(10)
    env.seed_everything(0)
    batches = TensorBatches(x, y, 4, generator=torch.Generator().manual_seed(1))
    expected = torch.randperm(10, generator=torch.Generator().manual_seed(1)).tolist()
    assert torch.cat([yb for _, yb in batches]).tolist() == expected


def test_a_generator_shared_by_two_objects_goes_back_to_where_the_first_found_it():
    from course_utils.augment import RandomShift
    from course_utils.data import TensorBatches

    shared = torch.Generator().manual_seed(2)
    x, y = torch.rand(10, 1, 6, 6), torch.arange(10)
    batches = TensorBatches(x, y, 4, generator=shared)
    start = shared.get_state()
    list(batches)
    RandomShift(1, generator=shared)                                         # made after the generator moved on
    env.seed_everything(0)
    assert torch.equal(shared.get_state(), start)


def test_generators_that_cannot_be_held_weakly_are_noted_through_their_owner():
    """torch.Generator cannot be weakly referenced in some torch versions (2.11, Colab's): note it anyway."""
    from course_utils.env import restartable, seed_everything

    class StrongOnly:  # no __weakref__ slot, like torch._C.Generator there
        __slots__ = ("state",)

        def __init__(self):
            self.state = torch.tensor([1])

        def get_state(self):
            return self.state.clone()

        def set_state(self, state):
            self.state = state

    class Owner:
        pass

    generator, owner = StrongOnly(), Owner()
    assert restartable(generator, owner=owner) is generator
    generator.state = torch.tensor([7])
    seed_everything(0)
    assert generator.state.tolist() == [1]
