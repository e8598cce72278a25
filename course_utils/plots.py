"""Small matplotlib helpers. Each takes an ``ax`` (or a grid of axes) and returns it."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import torch

from ._validate import interval, positive_int

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def show_digits(images: torch.Tensor, labels: Sequence[int] | torch.Tensor | None = None,
                predictions: Sequence[int] | torch.Tensor | None = None, ncols: int = 8,
                axes: np.ndarray | Sequence[Axes] | None = None, size: float = 1.2) -> np.ndarray | Sequence[Axes]:
    """Draw digits in a grid, titled with their labels; with ``predictions``, green when right, red when wrong.

    Args:
        images: [N, 28, 28] or [N, 1, 28, 28], any real values (shown in grey, black = 0).
        labels: the true digits, shown as titles.
        predictions: the model's digits; the title becomes "label→prediction".
        ncols: images per row of the new figure.
        axes: an existing array of at least N axes; by default a new figure is made.
        size: inches per image in the new figure.

    Returns:
        The array of axes.
    """
    images = torch.as_tensor(images).detach().cpu()
    if images.dim() == 4:
        images = images[:, 0]
    if images.dim() != 3:
        raise ValueError(f"images must be [N, 28, 28] or [N, 1, 28, 28], got shape {list(images.shape)}")
    n = len(images)
    for name, given in (("labels", labels), ("predictions", predictions)):
        if given is not None and len(given) != n:
            raise ValueError(f"{name} must give one digit per image: {n} images but {len(given)} {name}")
    axes, flat = _grid(n, ncols, axes, size, "images")
    for i, ax in enumerate(flat[:n]):
        ax.imshow(images[i].numpy(), cmap="gray")
        if labels is not None:
            label = int(labels[i])
            if predictions is None:
                ax.set_title(str(label), fontsize=9)
            else:
                pred = int(predictions[i])
                ax.set_title(f"{label}→{pred}", fontsize=9, color="green" if pred == label else "red")
    return axes


def bar_chart(values: Sequence[float] | torch.Tensor, ax: Axes | None = None, labels: Sequence[str] | None = None,
              title: str = "", ylabel: str = "", highlight: int | None = None, fmt: str = "{:,.0f}") -> Axes:
    """A bar per value (digits 0-9 by default) with the value printed on each bar.

    Args:
        values: the bar heights.
        ax: where to draw; by default a new figure is made.
        labels: one label per bar; by default 0, 1, 2, ...
        highlight: the index of a bar drawn in orange instead of blue.
        fmt: how each value is written on its bar, as for ``fmt.format(value)``.

    Returns:
        The axes.
    """
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


def plot_curves(curves: dict[str, Sequence[float]], ax: Axes | None = None, xlabel: str = "epoch", ylabel: str = "",
                title: str = "", logy: bool = False) -> Axes:
    """One line per named series (e.g. {"train loss": [...], "test loss": [...]}), x starting at 1.

    Args:
        curves: name -> values, one per epoch (or step); the names go into the legend.
        ax: where to draw; by default a new figure is made.
        logy: a logarithmic y axis, for losses that shrink by factors.

    Returns:
        The axes.
    """
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


def plot_descent_paths(loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                       paths: dict[str, Sequence[Sequence[float]] | torch.Tensor], ax: Axes | None = None,
                       xlim: tuple[float, float] = (-5.0, 5.0), ylim: tuple[float, float] = (-3.0, 3.0),
                       levels: int | Sequence[float] = 15, resolution: int = 200, title: str = "") -> Axes:
    """Contour lines of a loss of two weights, with one gradient-descent path per name drawn on top.

    Args:
        loss_fn: ``loss_fn(w1, w2)`` -> loss, elementwise on two tensors of the same shape (it is called
            once on a grid of points, so write it with tensor arithmetic, e.g. ``0.5 * w1**2 + 2 * w2**2``).
        paths: name -> positions visited, shape [T, 2] (start first). Points outside the limits are cut off.
        ax: where to draw; by default a new figure is made.
        xlim: the range of w1 shown.
        ylim: the range of w2 shown.
        levels: number of contour lines, or their loss values.
        resolution: grid points per side at which ``loss_fn`` is evaluated.

    Returns:
        The axes.
    """
    xlim, ylim = interval(xlim, "xlim"), interval(ylim, "ylim")
    resolution = positive_int(resolution, "resolution")
    grid = torch.linspace(0.0, 1.0, resolution)
    w1, w2 = torch.meshgrid(xlim[0] + (xlim[1] - xlim[0]) * grid, ylim[0] + (ylim[1] - ylim[0]) * grid,
                            indexing="xy")                                      # [R, R] each
    with torch.no_grad():
        z = torch.as_tensor(loss_fn(w1, w2))
    if tuple(z.shape) != tuple(w1.shape):
        raise ValueError(f"loss_fn(w1, w2) must return one loss per point, shape {list(w1.shape)}, got shape "
                         f"{list(z.shape)}; write it elementwise, e.g. 0.5 * w1**2 + 2 * w2**2")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    contours = ax.contour(w1.numpy(), w2.numpy(), z.detach().cpu().numpy(), levels=levels, colors="0.6",
                          linewidths=0.7)
    ax.clabel(contours, fontsize=7, fmt="%g")
    for name, path in paths.items():
        path = torch.as_tensor(path).detach().cpu().float()
        if path.dim() != 2 or path.shape[1] != 2 or len(path) == 0:
            raise ValueError(f"path {name!r} must have shape [T, 2] (one (w1, w2) row per step), "
                             f"got shape {list(path.shape)}")
        line, = ax.plot(path[:, 0].numpy(), path[:, 1].numpy(), marker="o", markersize=2.5, linewidth=1, label=name)
        ax.plot(path[0, 0].item(), path[0, 1].item(), marker="s", markersize=6, color=line.get_color())
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("w1")
    ax.set_ylabel("w2")
    ax.set_title(title)
    if paths:
        ax.legend(fontsize=8, loc="upper right")
    return ax


def show_weights(weights: torch.Tensor, ncols: int = 8, axes: np.ndarray | Sequence[Axes] | None = None,
                 size: float = 1.1, titles: Sequence[str] | None = None) -> np.ndarray | Sequence[Axes]:
    """Draw each row of a [N, 784] weight matrix (e.g. ``model.layer1.weight``) as a 28x28 picture.

    Blue pixels have positive weights (ink there pushes the neuron up), red negative ones, white
    zero; each picture gets its own symmetric colour scale.

    Args:
        weights: one row of 784 weights per neuron, [N, 784].
        ncols: pictures per row of the new figure.
        axes: an existing array of at least N axes; by default a new figure is made.
        size: inches per picture in the new figure.
        titles: one title per picture; by default the neuron's index.

    Returns:
        The array of axes.
    """
    weights = torch.as_tensor(weights).detach().cpu().float()
    if weights.dim() != 2 or weights.shape[1] != 784:
        raise ValueError(f"weights must be [N, 784] (one row per neuron, e.g. model.layer1.weight), "
                         f"got shape {list(weights.shape)}")
    n = len(weights)
    axes, flat = _grid(n, ncols, axes, size, "weight pictures")
    for i, ax in enumerate(flat[:n]):
        limit = weights[i].abs().max().item() or 1.0
        ax.imshow(weights[i].view(28, 28).numpy(), cmap="RdBu", vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_title(titles[i] if titles is not None else str(i), fontsize=9)
    return axes


def show_predictions(images: torch.Tensor, labels: Sequence[int] | torch.Tensor, scores: torch.Tensor,
                     ncols: int = 8, axes: np.ndarray | Sequence[Axes] | None = None,
                     size: float = 1.2) -> np.ndarray | Sequence[Axes]:
    """A grid of digits titled "label→prediction" and the model's confidence, green when right, red when wrong.

    Args:
        images: [N, 28, 28] or [N, 1, 28, 28].
        labels: the true digits.
        scores: the model's raw scores [N, 10]; the prediction is the argmax and the confidence its softmax
            probability.
        ncols: images per row of the new figure.
        axes: an existing array of at least N axes; by default a new figure is made.
        size: inches per image in the new figure.

    Returns:
        The array of axes.
    """
    scores = torch.as_tensor(scores).detach().cpu().float()
    if scores.dim() != 2 or len(scores) != len(images):
        raise ValueError(f"scores must be [N, classes] with one row per image ({len(images)}), "
                         f"got shape {list(scores.shape)}; pass the model's output for these images")
    confidence, predictions = scores.softmax(dim=1).max(dim=1)
    axes = show_digits(images, labels, predictions, ncols=ncols, axes=axes, size=size)
    for ax, p in zip(np.asarray(axes).ravel(), confidence.tolist()):
        ax.set_title(f"{ax.get_title()}\n{p:.0%}", fontsize=8, color=ax.title.get_color())
    return axes


def plot_confusion_matrix(matrix: torch.Tensor, ax: Axes | None = None, title: str = "",
                          class_names: Sequence[str] | None = None) -> Axes:
    """Counts of (true class, predicted class) as a grid: rows true, columns predicted, every count written.

    The colour scale stops at the largest off-diagonal count, so the mistakes stay visible next to the
    much larger diagonal (the correct predictions).

    Args:
        matrix: [classes, classes] counts, e.g. from ``course_utils.training.confusion_matrix``.
        ax: where to draw; by default a new figure is made.
        class_names: the tick labels; by default 0, 1, 2, ...

    Returns:
        The axes.
    """
    matrix = torch.as_tensor(matrix).detach().cpu()
    if matrix.dim() != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"matrix must be square [classes, classes], got shape {list(matrix.shape)}; "
                         "build it with course_utils.training.confusion_matrix(labels, predictions)")
    n = len(matrix)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.6, 4.2))
    off = matrix.clone().fill_diagonal_(0)
    vmax = max(int(off.max()), 1)
    ax.imshow(matrix.numpy(), cmap="Blues", vmin=0, vmax=vmax)
    for i in range(n):
        for j in range(n):
            value = int(matrix[i, j])
            ax.text(j, i, f"{value}", ha="center", va="center", fontsize=6 if value >= 1000 else 7,
                    color="white" if value > vmax / 2 else "black")
    names = list(class_names) if class_names is not None else [str(i) for i in range(n)]
    ax.set_xticks(range(n), names)
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    return ax


def show_filters(weights: torch.Tensor, ncols: int = 8, size: float = 0.9,
                 titles: Sequence[str] | None = None) -> np.ndarray:
    """Draw small convolution filters ([N, 1, k, k] or [N, k, k], e.g. ``model.conv1.weight``) in a grid.

    Blue is positive, red negative, white zero, each filter on its own symmetric scale (as in
    ``show_weights``).

    Returns:
        The array of axes of the new figure.
    """
    weights = torch.as_tensor(weights).detach().cpu().float()
    if weights.dim() == 4 and weights.shape[1] == 1:
        weights = weights[:, 0]
    if weights.dim() != 3:
        raise ValueError(f"weights must be [N, 1, k, k] or [N, k, k] (one input channel), got {list(weights.shape)}")
    n, ncols = len(weights), positive_int(ncols, "ncols")
    nrows = -(-n // ncols)
    _, axes = plt.subplots(nrows, min(ncols, n), figsize=(size * min(ncols, n), size * 1.2 * nrows), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < n:
            limit = weights[i].abs().max().item() or 1.0
            ax.imshow(weights[i].numpy(), cmap="RdBu", vmin=-limit, vmax=limit, interpolation="nearest")
            ax.set_title(titles[i] if titles is not None else str(i), fontsize=8)
    return axes


def _grid(n: int, ncols: int, axes: np.ndarray | Sequence[Axes] | None, size: float,
          what: str) -> tuple[np.ndarray | Sequence[Axes], np.ndarray]:
    """(axes, flat): the given axes or a new grid of ``ncols`` columns, and all of them in a flat array, turned off."""
    ncols = positive_int(ncols, "ncols")
    if axes is None:
        nrows = -(-n // ncols)
        _, axes = plt.subplots(nrows, min(ncols, n), figsize=(size * min(ncols, n), size * 1.15 * nrows),
                               squeeze=False)
    flat = np.asarray(axes).ravel()
    if len(flat) < n:
        raise ValueError(f"got {len(flat)} axes for {n} {what}")
    for ax in flat:
        ax.axis("off")
    return axes, flat
