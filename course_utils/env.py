"""Where the code runs: device choice, seeding, Colab detection, versions."""
from __future__ import annotations

import os
import platform
import random
import sys

import numpy as np
import torch

GPU_HINT = (
    "No GPU found, so this notebook runs on the CPU (it is sized to finish there).\n"
    "On Colab you can switch one on: Runtime > Change runtime type > T4 GPU, then run all cells again."
)


def in_colab() -> bool:
    """True when running inside a Google Colab runtime."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def _available() -> dict[str, bool]:
    return {
        "cuda": torch.cuda.is_available(),
        "mps": getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available(),
        "cpu": True,
    }


def pick_device(prefer: str | None = None) -> torch.device:
    """Choose the fastest available device: cuda, then mps, then cpu.

    Args:
        prefer: force a device ("cuda", "mps" or "cpu"); an unavailable choice raises ValueError.
    """
    available = _available()
    if prefer is not None:
        if prefer not in available:
            raise ValueError(f"prefer={prefer!r} is not a device this course knows; use 'cuda', 'mps' or 'cpu'.")
        if not available[prefer]:
            raise ValueError(f"prefer={prefer!r} was asked for but is not available here; use pick_device() "
                             "to take the best device this machine has.")
        return torch.device(prefer)
    for name in ("cuda", "mps", "cpu"):
        if available[name]:
            return torch.device(name)
    raise AssertionError("unreachable: cpu is always available")


def as_device(device: torch.device | str) -> torch.device:
    """``device`` as a torch.device, after checking this machine has it (a clear error instead of torch's)."""
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device={device!r} is not a device name; use 'cpu', 'cuda' or 'mps', "
                         "or the device pick_device() returns") from None
    if device.type in ("cuda", "mps") and not _available()[device.type]:
        raise ValueError(f"device={str(device)!r} is not available on this machine; use device = pick_device(), "
                         "which takes the best device there is (on Colab: Runtime > Change runtime type > T4 GPU)")
    return device


def check_model_device(model: torch.nn.Module, device: torch.device | str) -> torch.device:
    """``device`` as a torch.device, after checking the model's parameters live there (helpers never move a model)."""
    device = as_device(device)
    param = next(model.parameters(), None)
    if param is not None and param.device.type != device.type:
        raise ValueError(f"the model's parameters are on {param.device} but device={device}; "
                         f"move the model first with model.to({str(device)!r}) or pass device={str(param.device)!r}")
    return device


def describe_device(device: torch.device) -> str:
    """One line naming the device, plus how to get a GPU when there is none."""
    if device.type == "cuda":
        return f"Using device: cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "Using device: mps (Apple GPU)"
    return f"Using device: cpu ({torch.get_num_threads()} threads)\n{GPU_HINT}"


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and GPU) so runs repeat; returns a seeded CPU generator."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}.")
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
