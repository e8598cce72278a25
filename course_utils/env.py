"""Where the code runs: device choice, seeding, Colab detection, versions."""
from __future__ import annotations

import os
import platform
import random
import sys

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
    """Seed Python, NumPy and PyTorch (CPU and GPU) so runs repeat; returns a seeded CPU generator."""
    seed = non_negative_int(seed, "seed")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


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
