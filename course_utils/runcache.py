"""Run cache for `make test`: an expensive seeded training run is done once per test session.

`make test` executes every notebook and then its student edition, which repeats the same trainings
with the same seeds. When ``$COURSE_RUN_CACHE`` names a folder (`make test` sets a fresh one for each
run), a training helper stores its result under a fingerprint of everything that determines it
(starting weights, data and its order, settings), and an identical later run restores that result
instead of training again. When the variable is unset (always, for learners) nothing is cached.
"""
from __future__ import annotations

import hashlib
import os
import weakref
from pathlib import Path

import torch

from .atomic import atomic_write
from .data import TensorBatches

CACHE_ENV = "COURSE_RUN_CACHE"
_BIG = 1 << 22  # tensors with more elements are fingerprinted by sums instead of every byte


_memo: dict[int, tuple] = {}  # id(tensor) -> (weakref, version, digest) for large tensors


def _big_tensor_digest(t: torch.Tensor) -> str:
    """Sums of a large tensor, remembered until the tensor is modified or freed (training sets are reused)."""
    seen = _memo.get(id(t))
    if seen is not None and seen[0]() is t and seen[1] == t._version:
        return seen[2]
    d = t.detach().double()
    digest = f"{d.sum().item()!r}{d.abs().sum().item()!r}{(d * torch.arange(d.numel()).view(d.shape)).sum().item()!r}"
    _memo[id(t)] = (weakref.ref(t), t._version, digest)
    return digest


def fingerprint(*parts) -> str:
    """A hex digest of ``parts``: tensors (dtype, shape, values), dicts, lists/tuples and anything with a repr."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, torch.Tensor):
            digest.update(f"{part.dtype}{tuple(part.shape)}".encode())
            if part.numel() < _BIG:
                digest.update(part.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
            else:
                digest.update(_big_tensor_digest(part).encode())
        elif isinstance(part, dict):
            for key in sorted(part, key=str):
                digest.update(str(key).encode())
                digest.update(fingerprint(part[key]).encode())
        elif isinstance(part, (list, tuple)):
            digest.update(f"[{len(part)}".encode())
            for item in part:
                digest.update(fingerprint(item).encode())
        else:
            digest.update(repr(part).encode())
    return digest.hexdigest()


def cache_file(kind: str, *parts) -> Path | None:
    """Where a run of ``kind`` determined by ``parts`` is stored, or None when caching is off."""
    folder = os.environ.get(CACHE_ENV)
    if not folder:
        return None
    return Path(folder) / f"{kind}-{fingerprint(kind, *parts)[:32]}.pt"


def store(path: Path, payload: dict) -> None:
    """Save ``payload`` (tensors, numbers, strings, lists, dicts) atomically: a temp name, then rename."""
    atomic_write(path, lambda f: torch.save(payload, f))


def load(path: Path) -> dict:
    """The payload stored at ``path``; says so in the output, since the run was not repeated."""
    payload = torch.load(path, weights_only=True)
    print(f"(identical run found in ${CACHE_ENV}: restored its trained weights and history)")
    return payload


# training.fit's entries: the key covers everything that determines the run; restoring puts every
# generator where the run left it, so what follows a restored fit is the same as after a real one.

def _batches_key(batches):
    if batches is None:
        return None
    if not isinstance(batches, TensorBatches):
        raise TypeError
    return (batches.images, batches.labels, batches.batch_size, batches.shuffle, batches.drop_last,
            batches.generator.get_state())


def _augment_key(augment):
    """What determines an augmentation: its repr and the state of its random generator."""
    if augment is None:
        return None
    generator = getattr(augment, "generator", None)
    if not isinstance(generator, torch.Generator):
        raise TypeError
    return (type(augment).__name__, repr(augment), generator.get_state())


def fit_cache_file(model, train_batches, optimizer, epochs, device, test_batches, scheduler, loss_fn,
                   augment=None, flags=()) -> Path | None:
    """Where ``training.fit`` with these arguments stores its result, or None (no cache, or not reproducible)."""
    try:
        data = (_batches_key(train_batches), _batches_key(test_batches))
        extra = (_augment_key(augment), *flags)
    except TypeError:
        return None  # only TensorBatches (and augmentations with a generator) are reproducible, fingerprintable
    groups = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
    return cache_file("fit", type(model).__name__, repr(model), model.state_dict(),
                               type(optimizer).__name__, groups, optimizer.state_dict()["state"], epochs,
                               torch.device(device).type, data, getattr(loss_fn, "__name__", repr(loss_fn)),
                               None if scheduler is None else (type(scheduler).__name__, scheduler.state_dict()),
                               extra)


def store_fit(path: Path, history: dict, model, train_batches, optimizer, scheduler, augment=None) -> None:
    store(path, {"history": history, "model": model.state_dict(),
                          "optimizer": optimizer.state_dict(),
                          "scheduler": None if scheduler is None else scheduler.state_dict(),
                          "generator": train_batches.generator.get_state(), "global_rng": torch.get_rng_state(),
                          "augment_rng": None if augment is None else augment.generator.get_state()})


def restore_fit(path: Path, model, train_batches, optimizer, scheduler, augment=None) -> dict:
    """Put model, optimizer, scheduler and generators where the stored run left them; returns its history."""
    saved = load(path)
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(saved["scheduler"])
    train_batches.generator.set_state(saved["generator"])
    torch.set_rng_state(saved["global_rng"])
    if augment is not None:
        augment.generator.set_state(saved["augment_rng"])
    return saved["history"]
