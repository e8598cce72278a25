"""Where the code runs: device choice, seeding, Colab detection, versions."""
from __future__ import annotations

import os
import platform
import random
import sys
import weakref

import numpy as np
import torch

from ._validate import available_device, machine_has, non_negative_int, one_of

GPU_HINT = (
    "No GPU found, so this notebook runs on the CPU (it is sized to finish there).\n"
    "On Colab you can switch one on: Runtime > Change runtime type > T4 GPU, then run all cells again."
)


def in_colab() -> bool:
    """True when running inside a Google Colab runtime."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def pick_device(prefer: str | None = None) -> torch.device:
    """Choose the fastest available device: cuda, then mps, then cpu.

    Args:
        prefer: force a device ("cuda", "mps" or "cpu") instead of the fastest.

    Raises:
        ValueError: when ``prefer`` is none of these, or a device this machine does not have.
    """
    if prefer is not None:
        return available_device(one_of(prefer, "prefer", ("cuda", "mps", "cpu")), "prefer")
    for name in ("cuda", "mps", "cpu"):
        if machine_has(name):
            return torch.device(name)
    raise AssertionError("unreachable: cpu is always available")


def describe_device(device: torch.device) -> str:
    """One line naming the device, plus how to get a GPU when there is none."""
    if device.type == "cuda":
        return f"Using device: cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "Using device: mps (Apple GPU)"
    return f"Using device: cpu ({torch.get_num_threads()} threads)\n{GPU_HINT}"


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and GPU) so runs repeat; returns a seeded CPU generator.

    It also puts every TensorBatches and RandomShift that already exists back to the start of its own random
    sequence: their generators return to the state they had when the object was made (a generator shared by
    several of them, to the state it had when the first was made). So a cell that calls seed_everything and
    then trains again on batches made in an earlier cell gets the same batch order as the first time it ran.
    Objects made after the call are not touched: they start where their generator was seeded anyway.
    """
    seed = non_negative_int(seed, "seed")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    for generator, state in list(_STARTS.values()):
        generator.set_state(state)
    return torch.Generator().manual_seed(seed)


def restartable(generator: torch.Generator, owner: object) -> torch.Generator:
    """``generator``, noted with its current state so that ``seed_everything`` can put it back there.

    TensorBatches and RandomShift call this on the generator they draw from when they are made; a generator
    another living object noted before keeps the state it had then. The note lives as long as ``owner`` (the
    object that draws from the generator): owners are held weakly, so noting never keeps anything alive
    (a torch.Generator itself cannot be held weakly in every torch version).

    Returns:
        ``generator`` itself.
    """
    earlier = next((state for noted, state in list(_STARTS.values()) if noted is generator), None)
    _STARTS[owner] = (generator, generator.get_state() if earlier is None else earlier)
    return generator


# owner -> (the generator it draws from, that generator's state when first noted); an entry goes with its owner
_STARTS: weakref.WeakKeyDictionary[object, tuple[torch.Generator, torch.Tensor]] = weakref.WeakKeyDictionary()


def versions() -> dict[str, str]:
    """Versions of Python and the libraries the course relies on."""
    import matplotlib
    import torchvision
    import tqdm

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": np.__version__,
        "matplotlib": matplotlib.__version__,
        "tqdm": tqdm.__version__,
    }
