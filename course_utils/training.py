"""Training and evaluation loops: train_epoch, evaluate, scores_of, confusion_matrix, and fit (which
returns a History for the plots).

Losses are averaged per sample and accuracies are fractions in [0, 1]. The helpers move each batch
to the ``device`` you pass; they never move your model or leave it in a different train/eval mode.
(``scores_of`` gives the raw scores of a batch of images; ``course_utils.deploy.predict`` is the
prediction for one picture of any kind.)
"""
from __future__ import annotations

import contextlib
import copy
import functools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ._validate import (NonFiniteLoss, batch_pair, batches_per_epoch, class_indices, classes_in_range, finite_images,
                        finite_loss, finite_scores, fresh_batches, image_batch, loss_function, model_on_device,
                        no_data, optimizer_for, positive_int, same_precision, weights_dtype)
from .data import TensorBatches
from .models import eval_mode, train_mode

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]  # (images, labels) pairs: a TensorBatches, a DataLoader


@dataclass
class History:
    """Per-epoch results of ``fit``: one value per epoch in each list (test lists stay empty without test data)."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.train_loss)


def train_epoch(model: nn.Module, batches: Batches, optimizer: torch.optim.Optimizer,
                device: torch.device | str = "cpu",
                loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = F.cross_entropy,
                progress: bool = False, desc: str = "train", bar: tqdm | None = None,
                augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
                scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
                scaler: torch.amp.GradScaler | None = None) -> tuple[float, float]:
    """One pass over ``batches`` in train mode, updating the model after every batch.

    The model is put back in the mode it came in afterwards (eval stays eval), even after an error.
    Each batch is checked before the model learns from it (two tensors, not empty, images in the
    model's precision, labels int64 class indices in range), and an epoch whose loss became NaN or
    infinite is refused, naming the first such batch, instead of going on with a broken model.

    Args:
        batches: (images, labels) pairs; each is moved to ``device``.
        loss_fn: ``loss_fn(scores, labels)``, averaged over the batch.
        progress: show a tqdm bar for this epoch.
        desc: the bar's label.
        bar: an open tqdm to advance one step per batch instead (``fit`` uses one bar for all its epochs).
        augment: transforms each batch of images, e.g. ``RandomShift``.
        scheduler: stepped after every batch, e.g. OneCycleLR.
        scaler: a torch.amp.GradScaler; turns on float16 mixed precision (CUDA).
    Returns:
        (average loss per sample, accuracy) over the epoch.
    Raises:
        NonFiniteLoss: (a ValueError) the loss became NaN or infinite in this epoch.
    """
    device = model_on_device(model, device)
    optimizer = optimizer_for(model, optimizer)
    loss_fn, batches = loss_function(loss_fn), fresh_batches(batches)
    dtype = weights_dtype(model)
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.long, device=device)
    seen, batch_losses = 0, []
    with train_mode(model):
        for images, labels in (tqdm(batches, desc=desc, leave=False, disable=not progress) if bar is None
                               else batches):
            if bar is not None:
                bar.update()
            batch_pair(images, labels, len(batch_losses) + 1)
            arrived = labels                   # checked where reading them costs no wait for a GPU
            images, labels = images.to(device), labels.to(device)
            if augment is not None:
                images = augment(images)       # a fresh variation of every training batch
            _check_images(images, dtype, model)
            optimizer.zero_grad()              # 1. forget the previous batch's gradients
            with _autocast(device, scaler):    #    (float16 only when a GradScaler is given)
                scores = model(images)         # 2. forward: [B, ...] -> [B, 10]
                _check_labels(batches, arrived, scores, first=not batch_losses)
                loss = loss_fn(scores, labels)  # 3. how wrong, averaged over the batch
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
            batch_losses.append(loss.detach())  # kept, not read: which batch went wrong, if one did
    if seen == 0:
        raise no_data(batches)
    return finite_loss(total_loss.item(), batch_losses) / seen, correct.item() / seen


@torch.no_grad()
def evaluate(model: nn.Module, batches: Batches, device: torch.device | str = "cpu",
             loss_fn: Callable[..., torch.Tensor] = F.cross_entropy) -> tuple[float, float]:
    """Average loss and accuracy over ``batches``, in eval mode and without gradients.

    Args:
        batches: (images, labels) pairs; each is moved to ``device``.
        loss_fn: called as ``loss_fn(scores, labels, reduction="sum")`` (as torch's loss functions take it);
            a loss module such as ``nn.CrossEntropyLoss()`` is called as a copy of it with reduction "sum".
    Returns:
        (average loss per sample, accuracy). The model is put back in the mode it came in.
    """
    device = model_on_device(model, device)
    loss_fn, batches = _summed(loss_function(loss_fn)), fresh_batches(batches)
    dtype = weights_dtype(model)
    total_loss, correct, seen, index = 0.0, 0, 0, 0
    with eval_mode(model):
        for images, labels in batches:
            index += 1
            batch_pair(images, labels, index)
            images, labels = images.to(device), labels.to(device)
            _check_images(images, dtype, model)
            scores = model(images)
            class_indices(labels, scores)      # this loop reads every batch's results anyway
            total_loss += loss_fn(scores, labels).item()
            correct += (scores.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
    if seen == 0:
        raise no_data(batches)
    return total_loss / seen, correct / seen


@torch.no_grad()
def scores_of(model: nn.Module, images: torch.Tensor, device: torch.device | str = "cpu",
              batch_size: int = 1000) -> torch.Tensor:
    """The raw scores (logits) of a batch of images, computed in eval mode in chunks of ``batch_size``.

    Args:
        images: [N, 1, 28, 28] (or whatever the model takes), on any device; chunks are moved to ``device``.
    Returns:
        Scores [N, 10] on the CPU; ``.argmax(dim=1)`` gives the predicted digits. The model is put back
        in the mode it came in. (For one picture of any kind, with the steps explained, use
        ``course_utils.deploy.predict``.)
    Raises:
        ValueError: the images hold NaN or infinite values, or the model gave NaN or infinite scores.
    """
    device = model_on_device(model, device)
    batch_size = positive_int(batch_size, "batch_size")
    image_batch(images, "scores_of", non_empty=True)
    dtype = weights_dtype(model)
    if dtype is not None:
        same_precision(images, dtype, "the model")
    finite_images(images, "scores_of")
    with eval_mode(model):
        scores = torch.cat([model(images[i:i + batch_size].to(device)).cpu()
                            for i in range(0, len(images), batch_size)])
    return finite_scores(scores, "scores_of")


def confusion_matrix(labels: torch.Tensor, predictions: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Counts [num_classes, num_classes]: row = true class, column = predicted class (int64, on the CPU).

    Args:
        labels: the true classes [N].
        predictions: the predicted classes [N], e.g. ``scores_of(model, images).argmax(dim=1)``.
    """
    num_classes = positive_int(num_classes, "num_classes")
    labels, predictions = torch.as_tensor(labels).cpu().long(), torch.as_tensor(predictions).cpu().long()
    if labels.shape != predictions.shape or labels.dim() != 1:
        raise ValueError(f"labels and predictions must be 1-D and the same length, got shapes "
                         f"{list(labels.shape)} and {list(predictions.shape)}; pass scores.argmax(dim=1) as predictions")
    if len(labels) and (min(labels.min(), predictions.min()) < 0 or max(labels.max(), predictions.max()) >= num_classes):
        raise ValueError(f"classes must be integers from 0 to {num_classes - 1}; raise num_classes if you have more")
    return torch.bincount(labels * num_classes + predictions, minlength=num_classes ** 2).view(num_classes, num_classes)


def fit(model: nn.Module, train_batches: Batches, optimizer: torch.optim.Optimizer, epochs: int,
        device: torch.device | str = "cpu", test_batches: Batches | None = None,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
        loss_fn: Callable[..., torch.Tensor] = F.cross_entropy, progress: bool = True,
        augment: Callable[[torch.Tensor], torch.Tensor] | None = None, step_scheduler_every_batch: bool = False,
        amp: bool = False) -> History:
    """Train for ``epochs`` epochs (``train_epoch``), evaluating on ``test_batches`` after each one when given.

    One tqdm bar counts the batches of all epochs and shows the epoch with its latest loss and accuracy.

    Args:
        train_batches, test_batches: (images, labels) pairs, e.g. TensorBatches; test_batches is optional.
        scheduler: stepped once per epoch, or after every batch with ``step_scheduler_every_batch=True``
            (OneCycleLR and other per-step schedules).
        loss_fn: ``loss_fn(scores, labels)`` in training; with test_batches also
            ``loss_fn(scores, labels, reduction="sum")`` (see ``evaluate``).
        progress: show the bar.
        augment: transforms each training batch, e.g. ``RandomShift``.
        amp: train in float16 mixed precision (CUDA only: pass ``amp=(device.type == "cuda")``).
    Returns:
        A History of the per-epoch losses, accuracies and times.
    Raises:
        NonFiniteLoss: (a ValueError) the loss became NaN or infinite; training stops after that epoch.
    """
    epochs = positive_int(epochs, "epochs")
    device = model_on_device(model, device)
    optimizer = optimizer_for(model, optimizer)
    loss_fn = loss_function(loss_fn)
    train_batches = batches_per_epoch(train_batches, epochs, "train_batches")
    if test_batches is not None:
        test_batches = batches_per_epoch(test_batches, epochs, "test_batches")
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
        try:
            loss, acc = train_epoch(model, train_batches, optimizer, device, loss_fn, bar=bar, augment=augment,
                                    scheduler=batch_scheduler, scaler=scaler)
        except NonFiniteLoss as err:
            bar.close()
            raise NonFiniteLoss(err.value, err.batch, err.batches, (epoch + 1, epochs)) from None
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

# ---------------------------------------------------------------- plumbing: batch checks, mixed precision, sums


def _check_images(images: torch.Tensor, dtype: torch.dtype | None, model: nn.Module) -> None:
    """Float images in the model's precision (metadata only: no value is read)."""
    if not images.is_floating_point():
        image_batch(images, type(model).__name__)  # the course's message for integer pixels
    if dtype is not None:
        same_precision(images, dtype, "the model")


def _check_labels(batches: object, labels: torch.Tensor, scores: torch.Tensor, first: bool) -> None:
    """Labels that are int64 class indices of ``scores``, without waiting for a GPU in every batch.

    Shape and dtype are checked in every batch (they cost nothing). The values are read where that is free,
    labels on the CPU, and otherwise with the first batch only; for TensorBatches every label at once then.
    """
    whole = batches.labels if isinstance(batches, TensorBatches) else None
    class_indices(labels, scores, values=whole is None and (first or labels.device.type == "cpu"))
    if first and whole is not None and scores.dim() == 2:
        classes_in_range(whole, scores.shape[1])


def _summed(loss_fn: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """``loss_fn`` summing over a batch: a loss module as a copy with reduction "sum", a function called so."""
    if isinstance(loss_fn, nn.Module) and getattr(loss_fn, "reduction", None) in ("mean", "sum"):
        summed = copy.copy(loss_fn)
        summed.reduction = "sum"
        return summed
    return functools.partial(loss_fn, reduction="sum")


def _autocast(device: torch.device, scaler: torch.amp.GradScaler | None) -> contextlib.AbstractContextManager:
    """float16 autocast on ``device`` when a GradScaler is given, else a context that does nothing."""
    return torch.autocast(device.type, dtype=torch.float16) if scaler is not None else contextlib.nullcontext()


def _grad_scaler() -> torch.amp.GradScaler:
    """A CUDA GradScaler (torch.amp.GradScaler is torch >= 2.3; older versions have torch.cuda.amp's)."""
    return torch.amp.GradScaler("cuda") if hasattr(torch.amp, "GradScaler") else torch.cuda.amp.GradScaler()
