"""The course's networks."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

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
        self.activation = make_activation(activation)

    @property
    def layers(self) -> list[nn.Linear]:
        return [getattr(self, f"layer{i}") for i in range(1, len(self.sizes))]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, type(self).__name__)
        if x.dim() < 2 or x[0].numel() != self.sizes[0]:
            raise ValueError(f"expected a batch of images with {self.sizes[0]} values each "
                             f"(e.g. [B, 1, 28, 28] or [B, 784]), got shape {list(x.shape)}")
        x = torch.flatten(x, start_dim=1)          # [B, 1, 28, 28] -> [B, 784]
        *hidden, last = self.layers
        for layer in hidden:
            x = self.activation(layer(x))          # [B, n_in] -> [B, n_out]
        return last(x)                             # [B, 16] -> [B, 10] raw scores (logits)


def make_activation(activation) -> nn.Module:
    """An activation module from its class (``nn.ReLU``) or an instance of one (``nn.ReLU()``)."""
    if isinstance(activation, nn.Module):
        return activation
    if isinstance(activation, type) and issubclass(activation, nn.Module):
        return activation()
    raise TypeError(f"activation must be a torch.nn activation class such as nn.Sigmoid or nn.ReLU, "
                    f"got {activation!r}; for example MLP(activation=nn.ReLU)")


def check_input(x, who: str) -> None:
    """A clear error when ``x`` is not a float tensor (``who`` names the model or function it was given to)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{who} takes a torch.Tensor, got {type(x).__name__}; convert with torch.as_tensor(x) "
                        "(and for one image add a batch dimension: x[None])")
    if not x.is_floating_point():
        raise TypeError(f"{who} needs a float tensor but got {x.dtype} values; for raw 0-255 pixels use "
                        "x.float() / 255 (mnist_tensors and ToTensor already give floats in 0-1)")


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Run the block with ``model`` in eval mode, then put back the mode it had (even after an error)."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable numbers in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _check_image_batch(x: torch.Tensor, model: nn.Module, pooled: int, side: int, channels: int = 1) -> None:
    """[B, channels, H, W] float images whose side, halved ``pooled`` times, is what the dense layer expects."""
    name = type(model).__name__
    check_input(x, name)
    if x.dim() != 4 or x.shape[1] != channels:
        raise ValueError(f"a CNN takes images as [B, {channels}, H, W] (e.g. [B, 1, 28, 28]), got shape "
                         f"{list(x.shape)}; for flat [B, 784] rows use x.view(-1, 1, 28, 28)")
    if x.shape[2] >> pooled != side or x.shape[3] >> pooled != side:
        raise ValueError(f"{name} is built for 28x28 images (after {pooled} poolings its dense layer expects "
                         f"{side}x{side} maps), got {x.shape[2]}x{x.shape[3]}; resize the images to 28x28, e.g. with "
                         "course_utils.preprocess.preprocess for a single picture")


class SimpleCNN(nn.Module):
    """The learning guide's CNN: conv 3x3 (1 -> 16), pool, conv 3x3 (16 -> 32), pool, flatten, dense -> 10.

    Padding 1 keeps each conv's output the size of its input, so the two 2x2 max-pools take a
    28x28 image to 14x14, then 7x7; the dense layer sees 32 x 7 x 7 = 1,568 numbers.
    """

    def __init__(self, channels: tuple[int, int] = (16, 32), activation: type[nn.Module] = nn.ReLU):
        super().__init__()
        c1, c2 = channels
        self.conv1 = nn.Conv2d(1, c1, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.activation = make_activation(activation)
        self.fc = nn.Linear(c2 * 7 * 7, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_image_batch(x, self, pooled=2, side=7)
        x = self.pool(self.activation(self.conv1(x)))   # [B, 1, 28, 28] -> [B, 16, 28, 28] -> [B, 16, 14, 14]
        x = self.pool(self.activation(self.conv2(x)))   # -> [B, 32, 14, 14] -> [B, 32, 7, 7]
        x = torch.flatten(x, start_dim=1)               # -> [B, 1568]: flatten only at the end
        return self.fc(x)                               # -> [B, 10]


def conv_block(n_in: int, n_out: int) -> nn.Sequential:
    """3x3 convolution (size-preserving) -> batch normalisation -> ReLU."""
    return nn.Sequential(nn.Conv2d(n_in, n_out, kernel_size=3, padding=1, bias=False),
                         nn.BatchNorm2d(n_out), nn.ReLU())


class AdvancedCNN(nn.Module):
    """A compact, stronger CNN: four conv blocks with batch normalisation, three max-pools, one dense layer.

    28x28 -> block1 -> pool -> 14x14 -> block2 -> block3 -> pool -> 7x7 -> block4 -> pool -> 3x3 ->
    flatten -> dense -> 10 scores. Batch normalisation keeps every layer's outputs at a steady scale,
    which lets it train fast with large learning rates; pooling down to 3x3 before flattening keeps
    the dense layer small (64 x 3 x 3 = 576 inputs).
    """

    def __init__(self, channels: tuple[int, int, int, int] = (16, 32, 32, 64)):
        super().__init__()
        c1, c2, c3, c4 = channels
        self.block1, self.block2 = conv_block(1, c1), conv_block(c1, c2)
        self.block3, self.block4 = conv_block(c2, c3), conv_block(c3, c4)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(c4 * 3 * 3, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_image_batch(x, self, pooled=3, side=3)
        x = self.pool(self.block1(x))                   # [B, 1, 28, 28] -> [B, 16, 14, 14]
        x = self.pool(self.block3(self.block2(x)))      # -> [B, 32, 14, 14] -> [B, 32, 7, 7]
        x = self.pool(self.block4(x))                   # -> [B, 64, 7, 7] -> [B, 64, 3, 3]
        x = torch.flatten(x, start_dim=1)               # -> [B, 576]
        return self.fc(x)                               # -> [B, 10]
