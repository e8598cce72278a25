"""Small matplotlib helpers. Each takes an ``ax`` (or a grid of axes) and returns it."""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch


def show_digits(images: torch.Tensor, labels: Sequence[int] | torch.Tensor | None = None,
                predictions: Sequence[int] | torch.Tensor | None = None, ncols: int = 8, axes=None,
                size: float = 1.2):
    """Draw digits in a grid, titled with their labels; with ``predictions``, green when right, red when wrong.

    Args:
        images: [N, 28, 28] or [N, 1, 28, 28], any real values (shown in grey, black = 0).
        labels: the true digits, shown as titles.
        predictions: the model's digits; the title becomes "label→prediction".
        axes: an existing array of at least N axes; by default a new figure is made.
    Returns:
        The array of axes.
    """
    images = torch.as_tensor(images).detach().cpu()
    if images.dim() == 4:
        images = images[:, 0]
    if images.dim() != 3:
        raise ValueError(f"images must be [N, 28, 28] or [N, 1, 28, 28], got shape {list(images.shape)}")
    n = len(images)
    if axes is None:
        nrows = -(-n // ncols)
        _, axes = plt.subplots(nrows, min(ncols, n), figsize=(size * min(ncols, n), size * 1.15 * nrows),
                               squeeze=False)
    flat = np.asarray(axes).ravel()
    if len(flat) < n:
        raise ValueError(f"got {len(flat)} axes for {n} images")
    for i, ax in enumerate(flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i].numpy(), cmap="gray")
        if labels is not None:
            label = int(labels[i])
            if predictions is None:
                ax.set_title(str(label), fontsize=9)
            else:
                pred = int(predictions[i])
                ax.set_title(f"{label}→{pred}", fontsize=9, color="green" if pred == label else "red")
    return axes


def bar_chart(values: Sequence[float] | torch.Tensor, ax=None, labels: Sequence[str] | None = None,
              title: str = "", ylabel: str = "", highlight: int | None = None, fmt: str = "{:,.0f}"):
    """A bar per value (digits 0-9 by default) with the value printed on each bar."""
    values = [float(v) for v in torch.as_tensor(values).detach().cpu().flatten()]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 2.8))
    labels = labels or [str(i) for i in range(len(values))]
    colors = ["tab:orange" if i == highlight else "tab:blue" for i in range(len(values))]
    bars = ax.bar(labels, values, color=colors)
    ax.bar_label(bars, labels=[fmt.format(v) for v in values], fontsize=7)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.margins(y=0.15)
    return ax


def plot_curves(curves: dict[str, Sequence[float]], ax=None, xlabel: str = "epoch", ylabel: str = "",
                title: str = "", logy: bool = False):
    """One line per named series (e.g. {"train loss": [...], "test loss": [...]}), x starting at 1."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    for name, ys in curves.items():
        ys = [float(y) for y in ys]
        ax.plot(range(1, len(ys) + 1), ys, marker="o" if len(ys) <= 30 else None, markersize=3, label=name)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if len(curves) > 1:
        ax.legend()
    return ax
