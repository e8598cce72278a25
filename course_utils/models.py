"""The course's networks: MLP (3Blue1Brown's 784-16-16-10), SimpleCNN (the guide's), AdvancedCNN and FastCNN.

An activation is always named by its torch.nn class, ``activation=nn.Sigmoid`` (or ``nn.Tanh``,
``nn.ReLU``), here as in ``fit_seeds`` and the neuron explorer. At the bottom: ``eval_mode`` and
``train_mode``, the context managers the training helpers use to put a model back in the mode it
came in.
"""
from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator

import torch
from torch import nn

from ._validate import activation_module, boolean, image_batch, layer_sizes


class MLP(nn.Module):
    """3Blue1Brown's network: 784 pixels -> 16 -> 16 -> 10 digit scores, sigmoid between layers.

    The layers are named as in the learning guide (layer1, layer2, layer3), so its code for peeking
    at ``model.layer1.weight`` works unchanged. ``sizes`` and ``activation`` let later chapters try
    other widths, depths and activations with the same class.

    Args:
        sizes: the number of neurons per layer, inputs first and the 10 scores last.
        activation: a torch.nn activation class such as nn.Sigmoid, nn.Tanh or nn.ReLU (or an instance
            of one), used after every layer but the last.
    """

    def __init__(self, sizes: tuple[int, ...] = (784, 16, 16, 10),
                 activation: type[nn.Module] | nn.Module = nn.Sigmoid):
        super().__init__()
        self.sizes = sizes = layer_sizes(sizes)
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), start=1):
            self.add_module(f"layer{i}", nn.Linear(n_in, n_out))
        self.activation = activation_module(activation)

    @property
    def layers(self) -> list[nn.Linear]:
        """The linear layers in order: layer1, layer2, ..."""
        return [getattr(self, f"layer{i}") for i in range(1, len(self.sizes))]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores [B, 10] for a batch of images [B, 1, 28, 28] (or flat [B, 784])."""
        image_batch(x, type(self).__name__, values=self.sizes[0], dtype=self.layer1.weight.dtype, non_empty=True)
        x = torch.flatten(x, start_dim=1)          # [B, 1, 28, 28] -> [B, 784]
        *hidden, last = self.layers
        for layer in hidden:
            x = self.activation(layer(x))          # [B, n_in] -> [B, n_out]
        return last(x)                             # [B, 16] -> [B, 10] raw scores (logits)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable numbers in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class SimpleCNN(nn.Module):
    """The learning guide's CNN: conv 3x3 (1 -> 16), pool, conv 3x3 (16 -> 32), pool, flatten, dense -> 10.

    Padding 1 keeps each conv's output the size of its input, so the two 2x2 max-pools take a
    28x28 image to 14x14, then 7x7; the dense layer sees 32 x 7 x 7 = 1,568 numbers.

    Args:
        channels: the number of filters of the two convolutions.
        activation: a torch.nn activation class (or an instance of one), used after each convolution.
    """

    def __init__(self, channels: tuple[int, int] = (16, 32), activation: type[nn.Module] | nn.Module = nn.ReLU):
        super().__init__()
        c1, c2 = channels
        self.conv1 = nn.Conv2d(1, c1, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.activation = activation_module(activation)
        self.fc = nn.Linear(c2 * 7 * 7, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores [B, 10] for a batch of 28x28 images [B, 1, 28, 28]."""
        image_batch(x, type(self).__name__, channels=1, pooled=(2, 7), dtype=self.conv1.weight.dtype, non_empty=True)
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

    Args:
        channels: the number of filters of the four conv blocks.
    """

    def __init__(self, channels: tuple[int, int, int, int] = (16, 32, 32, 64)):
        super().__init__()
        c1, c2, c3, c4 = channels
        self.block1, self.block2 = conv_block(1, c1), conv_block(c1, c2)
        self.block3, self.block4 = conv_block(c2, c3), conv_block(c3, c4)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(c4 * 3 * 3, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores [B, 10] for a batch of 28x28 images [B, 1, 28, 28]."""
        image_batch(x, type(self).__name__, channels=1, pooled=(3, 3), dtype=self.fc.weight.dtype, non_empty=True)
        x = self.pool(self.block1(x))                   # [B, 1, 28, 28] -> [B, 16, 14, 14]
        x = self.pool(self.block3(self.block2(x)))      # -> [B, 32, 14, 14] -> [B, 32, 7, 7]
        x = self.pool(self.block4(x))                   # -> [B, 64, 7, 7] -> [B, 64, 3, 3]
        x = torch.flatten(x, start_dim=1)               # -> [B, 576]
        return self.fc(x)                               # -> [B, 10]


def fast_block(n_in: int, n_out: int, pool: bool, batch_norm: bool = True) -> nn.Sequential:
    """3x3 convolution (size-preserving) -> 2x2 max-pool (when ``pool``) -> batch normalisation -> ReLU.

    Pooling straight after the convolution lets batch normalisation and ReLU work on maps a quarter of
    the size. The parts are named (``block.conv``, ``block.norm``); without batch normalisation ``norm``
    is an ``nn.Identity`` and the convolution gets its bias back.
    """
    parts = [("conv", nn.Conv2d(n_in, n_out, kernel_size=3, padding=1, bias=not batch_norm))]
    if pool:
        parts.append(("pool", nn.MaxPool2d(2)))
    parts += [("norm", nn.BatchNorm2d(n_out) if batch_norm else nn.Identity()), ("relu", nn.ReLU())]
    return nn.Sequential(OrderedDict(parts))


class FastCNN(nn.Module):
    """A CNN shaped to train fast on a CPU: pool early, convolve more where the maps are small.

    28x28 -> block1 (pool) -> 14x14 -> block2 (pool) -> 7x7 -> block3 -> block4 (pool) -> 3x3 -> block5 ->
    flatten -> dense -> 10 scores. A 3x3 convolution costs in proportion to the number of positions it
    visits, so this network spends one cheap convolution on the 28x28 image and puts its other four on
    14x14, 7x7 and 3x3 maps; each block pools right after its convolution (``fast_block``), so batch
    normalisation and ReLU run on the smaller maps too. Chapter 09 trains it with a one-cycle schedule,
    label smoothing and random shifts.

    Args:
        channels: the number of filters (c1, c2, c3): c1 in block1, c2 in blocks 2 and 3, c3 in blocks 4 and 5.
        batch_norm: False builds the same network without batch normalisation (every convolution then has
            a bias), to measure what batch normalisation does.
    """

    def __init__(self, channels: tuple[int, int, int] = (16, 32, 64), batch_norm: bool = True):
        super().__init__()
        sizes = layer_sizes(channels, "channels")
        if len(sizes) != 3:
            raise ValueError(f"channels must be three positive ints (c1, c2, c3), e.g. (16, 32, 64); got {channels!r}")
        c1, c2, c3 = sizes
        self.batch_norm = boolean(batch_norm, "batch_norm", "with or without batch normalisation")
        self.block1 = fast_block(1, c1, pool=True, batch_norm=batch_norm)
        self.block2 = fast_block(c1, c2, pool=True, batch_norm=batch_norm)
        self.block3 = fast_block(c2, c2, pool=False, batch_norm=batch_norm)
        self.block4 = fast_block(c2, c3, pool=True, batch_norm=batch_norm)
        self.block5 = fast_block(c3, c3, pool=False, batch_norm=batch_norm)
        self.fc = nn.Linear(c3 * 3 * 3, 10)

    @property
    def blocks(self) -> list[nn.Sequential]:
        """The five conv blocks in order."""
        return [self.block1, self.block2, self.block3, self.block4, self.block5]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores [B, 10] for a batch of 28x28 images [B, 1, 28, 28]."""
        image_batch(x, type(self).__name__, channels=1, pooled=(3, 3), dtype=self.fc.weight.dtype, non_empty=True)
        x = self.block1(x)                              # [B, 1, 28, 28] -> conv [B, 16, 28, 28] -> pool [B, 16, 14, 14]
        x = self.block3(self.block2(x))                 # -> [B, 32, 7, 7] -> [B, 32, 7, 7]
        x = self.block5(self.block4(x))                 # -> [B, 64, 3, 3] -> [B, 64, 3, 3]
        x = torch.flatten(x, start_dim=1)               # -> [B, 576]
        return self.fc(x)                               # -> [B, 10]

# ---------------------------------------------------------------- plumbing: train/eval mode, activation classes


def eval_mode(model: nn.Module) -> contextlib.AbstractContextManager[nn.Module]:
    """Run the block with ``model`` in eval mode, then put back the mode it had (even after an error)."""
    return _mode(model, training=False)


def train_mode(model: nn.Module) -> contextlib.AbstractContextManager[nn.Module]:
    """Run the block with ``model`` in train mode, then put back the mode it had (even after an error)."""
    return _mode(model, training=True)


@contextlib.contextmanager
def _mode(model: nn.Module, training: bool) -> Iterator[nn.Module]:
    was_training = model.training
    try:
        model.train(training)
    except NotImplementedError:  # a program loaded with load_exported: frozen in eval mode, no train() at all
        if training:
            raise TypeError("an exported model (load_exported) is a frozen program in eval mode and cannot be "
                            "trained; train the original model, then export it again") from None
        yield model
        return
    try:
        yield model
    finally:
        model.train(was_training)
