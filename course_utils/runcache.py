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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.part")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load(path: Path) -> dict:
    """The payload stored at ``path``; says so in the output, since the run was not repeated."""
    payload = torch.load(path, weights_only=True)
    print(f"(identical run found in ${CACHE_ENV}: restored its trained weights and history)")
    return payload
