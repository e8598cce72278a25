"""Training and evaluation loops: train_epoch, evaluate, predict, confusion_matrix, and fit (which
returns a History for the plots).

Losses are averaged per sample and accuracies are fractions in [0, 1]. The helpers move each batch
to the ``device`` you pass; they never move your model or leave it in a different train/eval mode.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ._validate import class_indices, model_on_device, optimizer_for, positive_int
from .models import eval_mode


@dataclass
class History:
    """Per-epoch results of ``fit``."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.train_loss)


def train_epoch(model: nn.Module, batches, optimizer: torch.optim.Optimizer, device: torch.device | str = "cpu",
                loss_fn=F.cross_entropy, progress: bool = False, desc: str = "train", bar=None,
                augment=None, scheduler=None, scaler=None) -> tuple[float, float]:
    """One pass over ``batches``, updating the model after every batch. Returns (average loss, accuracy).

    ``progress=True`` shows a tqdm bar for this epoch; ``bar`` (an open tqdm) is advanced instead, one
    step per batch (``fit`` uses one bar for all its epochs).

    Optional: ``augment`` transforms each batch of images (e.g. RandomShift); ``scheduler`` is stepped
    after every batch (e.g. OneCycleLR); a ``scaler`` (torch.amp.GradScaler) turns on float16 on CUDA.
    """
    device = model_on_device(model, device)
    optimizer = optimizer_for(model, optimizer)
    model.train()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.long, device=device)
    seen = 0
    for images, labels in (tqdm(batches, desc=desc, leave=False, disable=not progress) if bar is None else batches):
        if bar is not None:
            bar.update()
        images, labels = images.to(device), labels.to(device)
        if augment is not None:
            images = augment(images)       # a fresh variation of every training batch
        optimizer.zero_grad()              # 1. forget the previous batch's gradients
        with _autocast(device, scaler):    #    (float16 only when a GradScaler is given)
            scores = model(images)         # 2. forward: [B, ...] -> [B, 10]
            loss = _loss(loss_fn, scores, labels)  # 3. how wrong, averaged over the batch
        if scaler is None:
            loss.backward()                # 4. backprop: fill every parameter's .grad
            optimizer.step()               # 5. move every parameter against its gradient
        else:                              # 4-5 in float16: scale the loss up so tiny gradients survive
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        if scheduler is not None:
            scheduler.step()
        total_loss += loss.detach() * len(labels)
        correct += (scores.argmax(dim=1) == labels).sum()
        seen += len(labels)
    if seen == 0:
        raise ValueError("batches produced no data: check the dataset and batch size")
    return total_loss.item() / seen, correct.item() / seen


def _autocast(device: torch.device, scaler):
    return torch.autocast(device.type, dtype=torch.float16) if scaler is not None else contextlib.nullcontext()


def _grad_scaler():  # torch.amp.GradScaler is torch >= 2.3
    return torch.amp.GradScaler("cuda") if hasattr(torch.amp, "GradScaler") else torch.cuda.amp.GradScaler()


@torch.no_grad()
def evaluate(model: nn.Module, batches, device: torch.device | str = "cpu",
             loss_fn=F.cross_entropy) -> tuple[float, float]:
    """Average loss and accuracy over ``batches`` in eval mode without gradients; restores the model's mode."""
    device = model_on_device(model, device)
    total_loss, correct, seen = 0.0, 0, 0
    with eval_mode(model):
        for images, labels in batches:
            images, labels = images.to(device), labels.to(device)
            scores = model(images)
            total_loss += _loss(loss_fn, scores, labels, reduction="sum").item()
            correct += (scores.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
    if seen == 0:
        raise ValueError("batches produced no data: check the dataset and batch size")
    return total_loss / seen, correct / seen


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, device: torch.device | str = "cpu",
            batch_size: int = 1000) -> torch.Tensor:
    """Raw scores [N, 10] for ``images`` (on the CPU), computed in eval mode in chunks."""
    device = model_on_device(model, device)
    batch_size = positive_int(batch_size, "batch_size")
    with eval_mode(model):
        return torch.cat([model(images[i:i + batch_size].to(device)).cpu() for i in range(0, len(images), batch_size)])


def confusion_matrix(labels: torch.Tensor, predictions: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Counts [num_classes, num_classes]: row = true class, column = predicted class (int64, on the CPU)."""
    num_classes = positive_int(num_classes, "num_classes")
    labels, predictions = torch.as_tensor(labels).cpu().long(), torch.as_tensor(predictions).cpu().long()
    if labels.shape != predictions.shape or labels.dim() != 1:
        raise ValueError(f"labels and predictions must be 1-D and the same length, got shapes "
                         f"{list(labels.shape)} and {list(predictions.shape)}; pass scores.argmax(dim=1) as predictions")
    if len(labels) and (min(labels.min(), predictions.min()) < 0 or max(labels.max(), predictions.max()) >= num_classes):
        raise ValueError(f"classes must be integers from 0 to {num_classes - 1}; raise num_classes if you have more")
    return torch.bincount(labels * num_classes + predictions, minlength=num_classes ** 2).view(num_classes, num_classes)


def fit(model: nn.Module, train_batches, optimizer: torch.optim.Optimizer, epochs: int,
        device: torch.device | str = "cpu", test_batches=None, scheduler=None, loss_fn=F.cross_entropy,
        progress: bool = True, augment=None, step_scheduler_every_batch: bool = False,
        amp: bool = False) -> History:
    """Train for ``epochs`` epochs, evaluating on ``test_batches`` after each one when given.

    ``scheduler`` (optional) is stepped once per epoch, or after every batch with
    ``step_scheduler_every_batch=True`` (OneCycleLR and other per-step schedules). ``augment`` (optional)
    transforms each training batch, e.g. ``RandomShift``. ``amp=True`` trains in float16 mixed precision
    (CUDA only: pass ``amp=(device.type == "cuda")``). One tqdm bar counts the batches of all epochs
    and shows the epoch with its latest loss and accuracy.
    """
    epochs = positive_int(epochs, "epochs")
    device = model_on_device(model, device)
    optimizer = optimizer_for(model, optimizer)
    if step_scheduler_every_batch and scheduler is None:
        raise ValueError("step_scheduler_every_batch=True needs a scheduler; pass scheduler=...")
    if amp and device.type != "cuda":
        raise ValueError(f"amp=True (float16 mixed precision) needs a CUDA device, got device={str(device)!r}; "
                         "pass amp=(device.type == 'cuda')")
    scaler = _grad_scaler() if amp else None
    batch_scheduler = scheduler if step_scheduler_every_batch else None
    history = History()
    total = epochs * len(train_batches) if hasattr(train_batches, "__len__") else None
    # at most one refresh a second: nbval drops a cell's output beyond ~1,000 queued messages
    bar = tqdm(total=total, desc="training", unit="batch", disable=not progress, mininterval=1.0)
    for epoch in range(epochs):
        start = time.perf_counter()
        loss, acc = train_epoch(model, train_batches, optimizer, device, loss_fn, bar=bar, augment=augment,
                                scheduler=batch_scheduler, scaler=scaler)
        history.epoch_seconds.append(time.perf_counter() - start)
        history.train_loss.append(loss)
        history.train_acc.append(acc)
        shown = {"epoch": f"{epoch + 1}/{epochs}", "loss": f"{loss:.4f}", "acc": f"{acc:.2%}"}
        if test_batches is not None:
            test_loss, test_acc = evaluate(model, test_batches, device, loss_fn)
            history.test_loss.append(test_loss)
            history.test_acc.append(test_acc)
            shown["test acc"] = f"{test_acc:.2%}"
        if scheduler is not None and not step_scheduler_every_batch:
            scheduler.step()
        bar.set_postfix(shown)
    bar.close()
    return history


def _loss(loss_fn, scores: torch.Tensor, labels: torch.Tensor, **kwargs) -> torch.Tensor:
    """``loss_fn(scores, labels)``; when it fails on labels that are not class indices, a clear error instead."""
    try:
        return loss_fn(scores, labels, **kwargs)
    except (RuntimeError, IndexError, ValueError) as err:
        try:
            class_indices(labels, scores)
        except ValueError as clear:
            raise clear from err
        raise
