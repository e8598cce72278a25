"""Training that survives a restart: save what a run needs to go on, and resume it exactly.

A model checkpoint (``deploy.save_checkpoint``) keeps the weights. To go on as if training had never
stopped, a run also needs the optimizer's state (momentum, Adam's running averages: chapter 07 shows that
they change at every step), the scheduler's position, the number of epochs done, and every random number
generator it draws from: the batches' shuffling generator, PyTorch's global one (initialisation, dropout),
Python's and NumPy's, and CUDA's on a GPU. ``save_training_state`` writes all of that atomically, as
tensors and plain data only, so the file loads with ``torch.load(weights_only=True)``;
``resume_training`` puts it back into freshly built objects (chapter 13 shows a resumed run ending
bit-identical to one that never stopped).
"""
from __future__ import annotations

import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ._validate import file_to_write, model_and_path, non_negative_int, optimizer_for, plain_data
from .atomic import atomic_write
from .deploy import CheckpointError, architecture, check_fits, load_weights_only

FORMAT = "course_utils.resume/1"
Scheduler = torch.optim.lr_scheduler.LRScheduler


@dataclass
class TrainingState:
    """What ``resume_training`` put back: the epochs already done, the ``extra`` notes, and a line per part."""

    epoch: int
    extra: dict[str, Any] = field(default_factory=dict)
    restored: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"resumed after epoch {self.epoch}:" + "".join(f"\n  - {line}" for line in self.restored)


def save_training_state(path: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int,
                        scheduler: Scheduler | None = None, generators: Sequence[object] = (),
                        extra: dict[str, Any] | None = None) -> Path:
    """Write everything needed to resume training after ``epoch`` epochs to ``path``, atomically.

    Stored: the weights (on the CPU) and architecture, the optimizer's and scheduler's state_dicts with their
    class names, ``epoch``, the states of PyTorch's global generator, Python's ``random``, NumPy's global
    generator and (on a GPU) CUDA's, and of each generator in ``generators``. Only tensors and plain data,
    so the file loads with ``weights_only=True``.

    Args:
        path: the file to write (not a folder).
        model: the model being trained.
        optimizer: its optimizer (holding the model's parameters).
        epoch: the number of epochs done.
        scheduler: its learning-rate scheduler, if there is one.
        generators: what else the run draws random numbers from: TensorBatches, RandomShift (anything with a
            ``.generator``) or torch.Generator objects, in an order ``resume_training`` will get again.
        extra: notes to keep (plain data, as for ``save_checkpoint``).
    Returns:
        The path written.
    """
    model = model_and_path(model, path, "save_training_state")
    path = file_to_write(path, "training.pt")
    optimizer = optimizer_for(model, optimizer)
    epoch = non_negative_int(epoch, "epoch", "epochs done")
    _check_scheduler(scheduler, optimizer)
    payload = {
        "format": FORMAT, "epoch": epoch, "architecture": architecture(model),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": {"class": type(optimizer).__name__, "state": optimizer.state_dict()},
        "scheduler": None if scheduler is None else {"class": type(scheduler).__name__, "state": scheduler.state_dict()},
        "rng": global_generator_states(),
        "generators": [g.get_state() for g in _generators(generators)],
        "extra": plain_data({} if extra is None else extra),
    }
    return atomic_write(path, lambda f: torch.save(payload, f))


def resume_training(path: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer,
                    scheduler: Scheduler | None = None, generators: Sequence[object] = ()) -> TrainingState:
    """Put a state written by ``save_training_state`` back into freshly built objects; return the epochs done.

    Build the model, optimizer, scheduler and batches as at the start of training, then call this: the
    weights, optimizer and scheduler states and every generator continue where the saved run stopped. Nothing
    is changed unless everything fits (same architecture, optimizer and scheduler classes, parameter groups,
    number of generators).

    Args:
        path: a file written by ``save_training_state``.
        model, optimizer, scheduler, generators: as given to ``save_training_state`` (new objects of the
            same kinds).
    Returns:
        A TrainingState: ``.epoch`` (the epochs done: continue with the next one), ``.extra``, ``.restored``.
    Raises:
        CheckpointError: the file is damaged, is not a training state, or does not fit the objects.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"resume_training takes the path first, then the model: resume_training(path, model, "
                        f"optimizer, ...), got model={type(model).__name__}")
    optimizer = optimizer_for(model, optimizer)
    _check_scheduler(scheduler, optimizer)
    gens = _generators(generators)
    saved = load_weights_only(path, "save_training_state", "training state")
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        model_file = isinstance(saved, dict) and "state_dict" in saved
        raise CheckpointError(f"{path} is not a training state written by save_training_state" + (
            ": it is a model checkpoint, which holds weights but no optimizer state or generators. Fix: load it "
            "with load_checkpoint to use the model; to resume training, save with save_training_state"
            if model_file else "; write one with save_training_state(path, model, optimizer, epoch, ...)"))
    check_fits(model, saved["architecture"], saved["model"], path)
    _check_same(path, "optimizer", saved["optimizer"]["class"], type(optimizer).__name__)
    _check_groups(path, saved["optimizer"]["state"], optimizer)
    stored = saved["scheduler"]
    _check_same(path, "scheduler", None if stored is None else stored["class"],
                None if scheduler is None else type(scheduler).__name__)
    if len(saved["generators"]) != len(gens):
        raise CheckpointError(f"{path} holds {len(saved['generators'])} generator state(s) but generators= gives "
                              f"{len(gens)}. Fix: pass the same generators (e.g. generators=[train_batches]) "
                              "as to save_training_state, in the same order")
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"]["state"])
    restored = [f"model: {len(saved['model'])} tensors ({architecture(model)['class']})",
                f"optimizer: {type(optimizer).__name__}, state of {len(optimizer.state)} parameter(s)"]
    if scheduler is not None:
        scheduler.load_state_dict(stored["state"])
        restored.append(f"scheduler: {type(scheduler).__name__}, learning rate {scheduler.get_last_lr()[0]:.4g}")
    for generator, state in zip(gens, saved["generators"]):
        generator.set_state(state)
    restored.append(f"generators: {len(gens)} of the run's own")
    restored.append("global generators: " + set_global_generator_states(saved["rng"]))
    return TrainingState(saved["epoch"], saved["extra"], restored)

# ---------------------------------------------------------------- plumbing: generator states, checks


def global_generator_states() -> dict[str, Any]:
    """The states of PyTorch's CPU generator, Python's and NumPy's global ones and CUDA's, as plain data and tensors.

    NumPy's state array is stored as a list of ints (a numpy array would need ``weights_only=False``).
    """
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {"torch": torch.get_rng_state(), "python": random.getstate(),
            "numpy": [kind, keys.tolist(), int(pos), int(has_gauss), float(gauss)],
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def set_global_generator_states(states: dict[str, Any]) -> str:
    """Set the global generators from ``global_generator_states()``; returns which were set."""
    torch.set_rng_state(states["torch"])
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    done = "PyTorch CPU, Python random, NumPy"
    cuda = states["cuda"]
    if cuda is not None and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
        done += ", CUDA"
    elif cuda is not None:
        done += " (CUDA's stored state not set: this machine has no matching GPU)"
    return done


def _generators(items: Sequence[object]) -> list[torch.Generator]:
    """The torch.Generator of each item: a generator itself, or an object's ``.generator`` (TensorBatches...)."""
    if isinstance(items, (torch.Generator, str)) or not isinstance(items, Sequence):
        raise TypeError(f"generators must be a list, e.g. generators=[train_batches], got {type(items).__name__}")
    found = []
    for i, item in enumerate(items):
        generator = item if isinstance(item, torch.Generator) else getattr(item, "generator", None)
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generators[{i}] is a {type(item).__name__} without a torch.Generator; pass "
                            "TensorBatches, RandomShift or torch.Generator objects")
        found.append(generator)
    return found


def _check_scheduler(scheduler: object, optimizer: torch.optim.Optimizer) -> None:
    """None, or a learning-rate scheduler of ``optimizer``."""
    if scheduler is None:
        return
    if not hasattr(scheduler, "state_dict") or not hasattr(scheduler, "optimizer"):
        raise TypeError(f"scheduler must be a torch.optim.lr_scheduler object (e.g. StepLR), got "
                        f"{type(scheduler).__name__}")
    if scheduler.optimizer is not optimizer:
        raise ValueError("the scheduler belongs to another optimizer; make it from this one: "
                         "scheduler = torch.optim.lr_scheduler.StepLR(optimizer, ...)")


def _check_same(path: str | os.PathLike, part: str, stored: str | None, given: str | None) -> None:
    """Refuse an optimizer or scheduler of another class than the stored one (or one missing on either side)."""
    if stored == given:
        return
    say = lambda name: "none" if name is None else name  # noqa: E731
    fix = (f"pass {part}= a new {stored}, made as for the saved run" if stored is not None
           else f"leave {part} out, as the saved run did")
    raise CheckpointError(f"{path} was saved with {part} {say(stored)}, but {part}= is {say(given)}. Loading it "
                          f"anyway would go on with another {part} than the saved run. Fix: {fix}.")


def _check_groups(path: str | os.PathLike, stored: dict[str, Any], optimizer: torch.optim.Optimizer) -> None:
    """The optimizer has as many parameter groups, of the same sizes, as the stored state."""
    saved = [len(group["params"]) for group in stored["param_groups"]]
    mine = [len(group["params"]) for group in optimizer.param_groups]
    if saved != mine:
        raise CheckpointError(f"{path} holds an optimizer with parameter groups of {saved} tensors, this one has "
                              f"{mine}. Fix: make the optimizer as for the saved run, e.g. "
                              "torch.optim.Adam(model.parameters(), lr=...)")
