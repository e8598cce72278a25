import pytest
import torch

from course_utils import runcache


def test_fingerprint_sees_values_shapes_and_structure():
    a = torch.arange(6.0)
    assert runcache.fingerprint(a) == runcache.fingerprint(a.clone())
    assert runcache.fingerprint(a) != runcache.fingerprint(a.view(2, 3))
    assert runcache.fingerprint(a) != runcache.fingerprint(a + 1e-6)
    assert runcache.fingerprint({"x": 1, "y": [1, 2]}) == runcache.fingerprint({"y": [1, 2], "x": 1})
    assert runcache.fingerprint([1, 2], 3) != runcache.fingerprint([1], 2, 3)
    big = torch.zeros(1 << 22)
    assert runcache.fingerprint(big) != runcache.fingerprint(big + 1)


def test_cache_is_off_without_the_variable(monkeypatch):
    monkeypatch.delenv(runcache.CACHE_ENV, raising=False)
    assert runcache.cache_file("fit", 1, 2) is None


def test_store_then_load_round_trip(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(runcache.CACHE_ENV, str(tmp_path / "cache"))
    path = runcache.cache_file("demo", torch.ones(3), 0.5)
    assert path.name.startswith("demo-") and path != runcache.cache_file("demo", torch.ones(3), 0.25)
    runcache.store(path, {"weights": torch.ones(2, 2), "loss": [2.3, 1.1], "name": "x"})
    assert path.exists() and not list(path.parent.glob("*.part"))
    saved = runcache.load(path)
    assert "identical run found" in capsys.readouterr().out
    assert torch.equal(saved["weights"], torch.ones(2, 2)) and saved["loss"] == [2.3, 1.1]


def test_large_tensor_fingerprint_is_remembered_until_the_tensor_changes(monkeypatch):
    from course_utils import runcache

    monkeypatch.setattr(runcache, "_BIG", 10)
    t = torch.arange(100.0)
    first = runcache.fingerprint(t)
    assert runcache.fingerprint(t) == first and id(t) in runcache._memo
    t[5] = 7.0  # in-place change bumps the version: fingerprint is recomputed
    assert runcache.fingerprint(t) != first
    swapped = torch.arange(100.0)
    swapped[[3, 4]] = swapped[[4, 3]]  # same sums, different order: position-weighted sum differs
    assert runcache.fingerprint(swapped) != runcache.fingerprint(torch.arange(100.0))


def test_fingerprint_takes_zero_dim_tensors():
    # BatchNorm keeps a 0-dim int64 counter (num_batches_tracked) in its state_dict
    state = torch.nn.BatchNorm2d(3).state_dict()
    assert runcache.fingerprint(state) == runcache.fingerprint(torch.nn.BatchNorm2d(3).state_dict())
    assert runcache.fingerprint(torch.tensor(1)) != runcache.fingerprint(torch.tensor(2))


# training.fit's cache key: an identical run is a hit; changing any one thing that determines the run is a miss.

def fit_small(*, seed=0, order_seed=0, epochs=2, lr=0.1, momentum=0.0):
    """A tiny training run: MLP on 48 synthetic images, batches of 16, plain SGD."""
    from course_utils import training
    from course_utils.data import TensorBatches
    from course_utils.models import MLP

    data = torch.Generator().manual_seed(123)  # the same images and labels for every run
    images, labels = torch.rand(48, 1, 28, 28, generator=data), torch.randint(0, 10, (48,), generator=data)
    torch.manual_seed(seed)  # the starting weights
    model = MLP()
    batches = TensorBatches(images, labels, 16, generator=torch.Generator().manual_seed(order_seed))  # batch order
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    return training.fit(model, batches, optimizer, epochs, progress=False)


def cached_runs(folder):
    return sorted(p.name for p in folder.glob("fit-*.pt"))


@pytest.mark.parametrize("change", [{"epochs": 3}, {"order_seed": 1}, {"seed": 1}, {"lr": 0.05}, {"momentum": 0.9}],
                         ids=["epochs", "batch order", "starting weights", "lr", "momentum"])
def test_fit_cache_hits_an_identical_run_and_misses_a_different_one(change, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(runcache.CACHE_ENV, str(tmp_path))
    first = fit_small()
    assert len(cached_runs(tmp_path)) == 1 and "identical run found" not in capsys.readouterr().out

    assert fit_small() == first  # identical: restored, nothing new stored
    assert len(cached_runs(tmp_path)) == 1 and "identical run found" in capsys.readouterr().out

    other = fit_small(**change)  # one thing changed: trained (not restored) and stored under a key of its own
    assert "identical run found" not in capsys.readouterr().out
    assert len(cached_runs(tmp_path)) == 2 and len(other) == change.get("epochs", 2)
    assert other.train_loss != first.train_loss
