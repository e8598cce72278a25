"""Tests for course_utils.resume: a run saved after some epochs and resumed in new objects ends bit-identical
to one that never stopped, the file holds only what weights_only=True reads, and a state that does not fit
is refused before anything is changed."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.augment import RandomShift
from course_utils.data import TensorBatches
from course_utils.deploy import CheckpointError, save_checkpoint
from course_utils.models import MLP
from course_utils.resume import TrainingState, resume_training, save_training_state
from course_utils.training import train_epoch

IMAGES = torch.rand(96, 1, 28, 28, generator=torch.Generator().manual_seed(1))
LABELS = torch.randint(0, 10, (96,), generator=torch.Generator().manual_seed(2))


def build(seed: int, optimizer: str = "adam", sizes: tuple[int, ...] = (784, 8, 10)):
    """A fresh run: model (initialised from ``seed``), optimizer, scheduler, shuffled batches, a RandomShift."""
    torch.manual_seed(seed), random.seed(seed), np.random.seed(seed)
    model = MLP(sizes=sizes)
    opt = (torch.optim.Adam(model.parameters(), lr=0.01) if optimizer == "adam"
           else torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    batches = TensorBatches(IMAGES, LABELS, batch_size=16, generator=torch.Generator().manual_seed(0))
    shift = RandomShift(max_shift=1, generator=torch.Generator().manual_seed(3))
    return model, opt, scheduler, batches, shift


def train(run, first: int, last: int, path=None) -> None:
    """Epochs first..last-1, drawing from every global generator too, saving after each when ``path`` is set."""
    model, opt, scheduler, batches, shift = run
    for epoch in range(first, last):
        noise = 1e-3 * (torch.rand(()) + random.random() + np.random.rand())  # global generators matter too
        train_epoch(model, batches, opt, augment=lambda x: shift(x) + noise)
        scheduler.step()
        if path is not None:
            save_training_state(path, model, opt, epoch + 1, scheduler=scheduler, generators=[batches, shift])


def same_tensors(a: dict, b: dict) -> bool:
    """Every tensor of two (nested) state dicts equal, bit for bit; other values equal."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_tensors(a[k], b[k]) for k in a)
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    return a == b


@pytest.mark.parametrize("kind", ["adam", "sgd"])
def test_resumed_run_is_bit_identical_to_an_uninterrupted_one(tmp_path, kind):
    whole = build(0, kind)
    train(whole, 0, 4)
    path = tmp_path / "run.pt"
    train(build(0, kind), 0, 2, path)
    fresh = build(123, kind)               # other starting weights, batches at their first order
    torch.manual_seed(5), random.seed(5), np.random.seed(5)
    state = resume_training(path, fresh[0], fresh[1], scheduler=fresh[2], generators=[fresh[3], fresh[4]])
    assert isinstance(state, TrainingState) and state.epoch == 2
    train(fresh, state.epoch, 4)
    assert same_tensors(whole[0].state_dict(), fresh[0].state_dict())
    assert same_tensors(whole[1].state_dict(), fresh[1].state_dict())    # Adam's averages / SGD's momentum
    assert whole[2].state_dict() == fresh[2].state_dict()
    assert torch.equal(whole[3].generator.get_state(), fresh[3].generator.get_state())


def test_without_the_optimizer_state_the_run_differs(tmp_path):
    # what the training state adds: the same weights with a fresh Adam end elsewhere
    whole = build(0)
    train(whole, 0, 4)
    half = build(0)
    train(half, 0, 2)
    save_checkpoint(half[0], tmp_path / "weights.pt")
    fresh = build(0)
    fresh[0].load_state_dict(half[0].state_dict())
    fresh[3].generator.set_state(half[3].generator.get_state())
    fresh[4].generator.set_state(half[4].generator.get_state())
    train(fresh, 2, 4)
    assert not same_tensors(whole[0].state_dict(), fresh[0].state_dict())


def test_each_global_generator_is_restored(tmp_path):
    run = build(0)
    torch.manual_seed(11), random.seed(11), np.random.seed(11)
    save_training_state(tmp_path / "s.pt", run[0], run[1], 0)
    expected = (torch.rand(3), random.random(), np.random.rand())
    torch.manual_seed(0), random.seed(0), np.random.seed(0)
    state = resume_training(tmp_path / "s.pt", run[0], run[1])
    assert torch.equal(torch.rand(3), expected[0]) and random.random() == expected[1] and np.random.rand() == expected[2]
    assert "PyTorch CPU, Python random, NumPy" in str(state)


def test_the_file_holds_only_tensors_and_plain_data(tmp_path):
    run = build(0)
    train(run, 0, 1)
    path = save_training_state(tmp_path / "s.pt", run[0], run[1], 1, scheduler=run[2], generators=[run[3]],
                               extra={"val_acc": np.float64(0.5)})
    saved = torch.load(path, weights_only=True)                  # no pickled code needed
    assert sorted(saved) == ["architecture", "epoch", "extra", "format", "generators", "model", "optimizer", "rng",
                             "scheduler"]
    assert saved["epoch"] == 1 and saved["optimizer"]["class"] == "Adam" and saved["scheduler"]["class"] == "StepLR"
    assert saved["extra"] == {"val_acc": 0.5} and type(saved["extra"]["val_acc"]) is float
    assert all(isinstance(v, torch.Tensor) and v.device.type == "cpu" for v in saved["model"].values())
    assert isinstance(saved["rng"]["numpy"][1], list) and isinstance(saved["rng"]["torch"], torch.Tensor)
    assert (saved["rng"]["cuda"] is None) == (not torch.cuda.is_available())
    assert not list(tmp_path.glob(".*.part"))                    # written under a temporary name, then renamed


def test_an_interrupted_write_keeps_the_previous_state(tmp_path, monkeypatch):
    run = build(0)
    path = save_training_state(tmp_path / "s.pt", run[0], run[1], 1)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        save_training_state(path, run[0], run[1], 2)
    assert path.read_bytes() == before and not list(tmp_path.glob(".*.part"))


def test_what_does_not_fit_is_refused_before_anything_changes(tmp_path):
    run = build(0)
    path = save_training_state(tmp_path / "s.pt", run[0], run[1], 3, scheduler=run[2], generators=[run[3]])
    fresh = build(1)
    weights = {k: v.clone() for k, v in fresh[0].state_dict().items()}
    with pytest.raises(CheckpointError, match=r"saved with optimizer Adam, but optimizer= is SGD.*Fix: pass "
                                              r"optimizer= a new Adam"):
        sgd = build(1, "sgd")
        resume_training(path, sgd[0], sgd[1], scheduler=sgd[2], generators=[sgd[3]])
    with pytest.raises(CheckpointError, match=r"saved with scheduler StepLR, but scheduler= is none"):
        resume_training(path, fresh[0], fresh[1], generators=[fresh[3]])
    with pytest.raises(CheckpointError, match=r"holds 1 generator state\(s\) but generators= gives 0"):
        resume_training(path, fresh[0], fresh[1], scheduler=fresh[2])
    wide = build(1, sizes=(784, 12, 10))
    with pytest.raises(CheckpointError, match=r"different architecture.*Fix: build MLP\(sizes=\(784, 8, 10\)"):
        resume_training(path, wide[0], wide[1], scheduler=wide[2], generators=[wide[3]])
    assert same_tensors(weights, fresh[0].state_dict()) and not fresh[1].state
    split = torch.optim.Adam([{"params": [fresh[0].layer1.weight]},
                              {"params": [p for n, p in fresh[0].named_parameters() if n != "layer1.weight"]}])
    with pytest.raises(CheckpointError, match=r"parameter groups of \[4\] tensors, this one has \[1, 3\]"):
        resume_training(path, fresh[0], split, generators=[fresh[3]])


def test_other_files_and_bad_arguments(tmp_path):
    run = build(0)
    model_file = save_checkpoint(run[0], tmp_path / "model.pt")
    with pytest.raises(CheckpointError, match="it is a model checkpoint.*Fix: load it with load_checkpoint"):
        resume_training(model_file, run[0], run[1])
    with pytest.raises(FileNotFoundError, match="save_training_state"):
        resume_training(tmp_path / "none.pt", run[0], run[1])
    (tmp_path / "cut.pt").write_bytes(model_file.read_bytes()[:500])
    with pytest.raises(CheckpointError, match="not a complete training state.*no zip directory"):
        resume_training(tmp_path / "cut.pt", run[0], run[1])
    with pytest.raises(TypeError, match="takes the model first, then the path"):
        save_training_state(run[0], tmp_path / "s.pt", run[1], 1)
    with pytest.raises(TypeError, match="resume_training takes the path first"):
        resume_training(run[0], tmp_path / "s.pt", run[1])
    with pytest.raises(ValueError, match="epoch must be"):
        save_training_state(tmp_path / "s.pt", run[0], run[1], -1)
    with pytest.raises(ValueError, match="optimizer holds none of this model's parameters"):
        save_training_state(tmp_path / "s.pt", MLP(), run[1], 1)
    with pytest.raises(ValueError, match="scheduler belongs to another optimizer"):
        other = torch.optim.SGD(run[0].parameters(), lr=0.1)
        save_training_state(tmp_path / "s.pt", run[0], other, 1, scheduler=run[2])
    with pytest.raises(TypeError, match=r"generators must be a list, e.g. generators=\[train_batches\]"):
        save_training_state(tmp_path / "s.pt", run[0], run[1], 1, generators=run[3].generator)
    with pytest.raises(TypeError, match=r"generators\[0\] is a Linear without a torch.Generator"):
        save_training_state(tmp_path / "s.pt", run[0], run[1], 1, generators=[nn.Linear(1, 1)])
    with pytest.raises(ValueError, match="is a folder"):
        save_training_state(tmp_path, run[0], run[1], 1)
