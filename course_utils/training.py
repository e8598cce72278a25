"""Training and evaluation loops: train_epoch, evaluate, fit (which returns a History for the plots).

Losses are averaged per sample and accuracies are fractions in [0, 1]. The helpers move each batch
to the ``device`` you pass; they never move your model or leave it in a different train/eval mode.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .data import TensorBatches

CACHE_ENV = "COURSE_RUN_CACHE"


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


def _check_model_device(model: nn.Module, device: torch.device | str) -> torch.device:
    device = torch.device(device)
    param = next(model.parameters(), None)
    if param is not None and param.device.type != device.type:
        raise ValueError(f"the model's parameters are on {param.device} but device={device}; "
                         f"move the model first with model.to({str(device)!r}) or pass device={str(param.device)!r}")
    return device


def train_epoch(model: nn.Module, batches, optimizer: torch.optim.Optimizer, device: torch.device | str = "cpu",
                loss_fn=F.cross_entropy, progress: bool = False, desc: str = "train") -> tuple[float, float]:
    """One pass over ``batches``, updating the model after every batch. Returns (average loss, accuracy)."""
    device = _check_model_device(model, device)
    model.train()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.long, device=device)
    seen = 0
    for images, labels in tqdm(batches, desc=desc, leave=False, disable=not progress):
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()              # 1. forget the previous batch's gradients
        scores = model(images)             # 2. forward: [B, ...] -> [B, 10]
        loss = loss_fn(scores, labels)     # 3. how wrong, averaged over the batch
        loss.backward()                    # 4. backprop: fill every parameter's .grad
        optimizer.step()                   # 5. move every parameter against its gradient
        total_loss += loss.detach() * len(labels)
        correct += (scores.argmax(dim=1) == labels).sum()
        seen += len(labels)
    if seen == 0:
        raise ValueError("batches produced no data: check the dataset and batch size")
    return total_loss.item() / seen, correct.item() / seen


@torch.no_grad()
def evaluate(model: nn.Module, batches, device: torch.device | str = "cpu",
             loss_fn=F.cross_entropy) -> tuple[float, float]:
    """Average loss and accuracy over ``batches`` in eval mode without gradients; restores the model's mode."""
    device = _check_model_device(model, device)
    was_training = model.training
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    try:
        for images, labels in batches:
            images, labels = images.to(device), labels.to(device)
            scores = model(images)
            total_loss += loss_fn(scores, labels, reduction="sum").item()
            correct += (scores.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
    finally:
        model.train(was_training)
    if seen == 0:
        raise ValueError("batches produced no data: check the dataset and batch size")
    return total_loss / seen, correct / seen


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, device: torch.device | str = "cpu",
            batch_size: int = 1000) -> torch.Tensor:
    """Raw scores [N, 10] for ``images`` (on the CPU), computed in eval mode in chunks."""
    device = _check_model_device(model, device)
    was_training = model.training
    model.eval()
    try:
        return torch.cat([model(images[i:i + batch_size].to(device)).cpu() for i in range(0, len(images), batch_size)])
    finally:
        model.train(was_training)


def fit(model: nn.Module, train_batches, optimizer: torch.optim.Optimizer, epochs: int,
        device: torch.device | str = "cpu", test_batches=None, scheduler=None, loss_fn=F.cross_entropy,
        progress: bool = True) -> History:
    """Train for ``epochs`` epochs, evaluating on ``test_batches`` after each one when given.

    ``scheduler`` (optional) is stepped once per epoch. A tqdm bar shows the epochs with the latest
    loss and accuracy.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    _check_model_device(model, device)
    cache = _cache_file(model, train_batches, optimizer, epochs, device, test_batches, scheduler, loss_fn)
    if cache is not None and cache.exists():
        return _restore(cache, model, train_batches, optimizer, scheduler)
    history = History()
    bar = tqdm(range(epochs), desc="epochs", disable=not progress)
    for _ in bar:
        start = time.perf_counter()
        loss, acc = train_epoch(model, train_batches, optimizer, device, loss_fn, progress=progress)
        history.epoch_seconds.append(time.perf_counter() - start)
        history.train_loss.append(loss)
        history.train_acc.append(acc)
        shown = {"loss": f"{loss:.4f}", "acc": f"{acc:.2%}"}
        if test_batches is not None:
            test_loss, test_acc = evaluate(model, test_batches, device, loss_fn)
            history.test_loss.append(test_loss)
            history.test_acc.append(test_acc)
            shown["test acc"] = f"{test_acc:.2%}"
        if scheduler is not None:
            scheduler.step()
        bar.set_postfix(shown)
    if cache is not None:
        _store(cache, history, model, train_batches, optimizer, scheduler)
    return history


# Run cache. When $COURSE_RUN_CACHE names a folder (`make test` sets one for its own run), a fit whose
# starting weights, optimizer, data order and settings are identical to an earlier fit in the same
# folder restores that result instead of training again. Off unless the variable is set.

def _fingerprint(*parts) -> str:
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, torch.Tensor):
            t = part.detach().cpu().contiguous()
            digest.update(f"{t.dtype}{tuple(t.shape)}".encode())
            digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() < 1 << 22
                          else f"{t.double().sum().item()!r}{t.double().abs().sum().item()!r}".encode())
        elif isinstance(part, dict):
            for key in sorted(part, key=str):
                digest.update(str(key).encode())
                digest.update(_fingerprint(part[key]).encode())
        elif isinstance(part, (list, tuple)):
            for item in part:
                digest.update(_fingerprint(item).encode())
        else:
            digest.update(repr(part).encode())
    return digest.hexdigest()


def _batches_key(batches):
    if batches is None:
        return None
    if not isinstance(batches, TensorBatches):
        raise TypeError
    return (batches.images, batches.labels, batches.batch_size, batches.shuffle, batches.drop_last,
            batches.generator.get_state())


def _cache_file(model, train_batches, optimizer, epochs, device, test_batches, scheduler, loss_fn) -> Path | None:
    folder = os.environ.get(CACHE_ENV)
    if not folder:
        return None
    try:
        data = (_batches_key(train_batches), _batches_key(test_batches))
    except TypeError:
        return None  # only TensorBatches have a reproducible, fingerprintable order
    groups = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
    key = _fingerprint(type(model).__name__, repr(model), model.state_dict(), type(optimizer).__name__, groups,
                       optimizer.state_dict()["state"], epochs, torch.device(device).type, data,
                       getattr(loss_fn, "__name__", repr(loss_fn)),
                       None if scheduler is None else (type(scheduler).__name__, scheduler.state_dict()))
    return Path(folder) / f"fit-{key[:32]}.pt"


def _store(path: Path, history, model, train_batches, optimizer, scheduler) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.part")
    torch.save({"history": asdict(history), "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": None if scheduler is None else scheduler.state_dict(),
                "generator": train_batches.generator.get_state(), "global_rng": torch.get_rng_state()}, tmp)
    os.replace(tmp, path)


def _restore(path: Path, model, train_batches, optimizer, scheduler) -> History:
    saved = torch.load(path, weights_only=True)
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(saved["scheduler"])
    train_batches.generator.set_state(saved["generator"])
    torch.set_rng_state(saved["global_rng"])
    print(f"(identical run found in ${CACHE_ENV}: restored its trained weights and history)")
    return History(**saved["history"])
