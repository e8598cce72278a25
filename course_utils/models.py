"""The course's networks."""
from __future__ import annotations

import torch
from torch import nn


class MLP(nn.Module):
    """3Blue1Brown's network: 784 pixels -> 16 -> 16 -> 10 digit scores, sigmoid between layers.

    The layers are named as in the learning guide (layer1, layer2, layer3), so its code for peeking
    at ``model.layer1.weight`` works unchanged. ``sizes`` and ``activation`` let later chapters try
    other widths, depths and activations with the same class.
    """

    def __init__(self, sizes: tuple[int, ...] = (784, 16, 16, 10), activation: type[nn.Module] = nn.Sigmoid):
        super().__init__()
        if len(sizes) < 2 or any(not isinstance(n, int) or n < 1 for n in sizes):
            raise ValueError(f"sizes must be at least two positive ints (inputs ... outputs), got {sizes!r}")
        self.sizes = tuple(sizes)
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), start=1):
            self.add_module(f"layer{i}", nn.Linear(n_in, n_out))
        self.activation = activation()

    @property
    def layers(self) -> list[nn.Linear]:
        return [getattr(self, f"layer{i}") for i in range(1, len(self.sizes))]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 2 or x[0].numel() != self.sizes[0]:
            raise ValueError(f"expected a batch of images with {self.sizes[0]} values each "
                             f"(e.g. [B, 1, 28, 28] or [B, 784]), got shape {list(x.shape)}")
        x = torch.flatten(x, start_dim=1)          # [B, 1, 28, 28] -> [B, 784]
        *hidden, last = self.layers
        for layer in hidden:
            x = self.activation(layer(x))          # [B, n_in] -> [B, n_out]
        return last(x)                             # [B, 16] -> [B, 10] raw scores (logits)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable numbers in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
