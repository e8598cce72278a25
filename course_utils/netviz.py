"""The whole network lighting up for one digit, drawn in the style of 3Blue1Brown's videos.

``draw_network`` draws the input image, every neuron as a circle shaded by its activation, and the
connections that carry the most signal for this image. ``network_explorer`` draws it for one test
image as an ordinary figure, then (in a live notebook) adds a slider and a "next mistake" button to
pick the test image, using only ipywidgets API shared by version 7 (Colab preinstalls 7.7.1) and
version 8: ``IntSlider``, ``Button``, ``Output`` (the scaffold around them, shared with the neuron
explorer of course_utils.widgets, is in _explorer).
"""
from __future__ import annotations

import io
from types import ModuleType
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Circle
from PIL import Image as PILImage

from ._explorer import Explorer
from ._validate import image_batch, int_in_range, matching_labels, non_negative_int
from .insight import get_activations
from .models import MLP

BACKGROUND, POSITIVE, NEGATIVE, HIGHLIGHT = "#111111", "#4aa3ff", "#ff6b4a", "#ffd700"
MAX_DRAWN_NEURONS = 32
HEIGHT, IMAGE_SIZE, LAYER_GAP = 10.0, 6.0, 3.4   # drawing units: the image is IMAGE_SIZE wide


def network_state(model: MLP, image: torch.Tensor, device: torch.device | str = "cpu") -> dict[str, Any]:
    """Everything ``draw_network`` shows for one image, as plain CPU tensors.

    Args:
        model: the course's MLP taking 784 inputs, no layer wider than 32 neurons.
        image: one digit, [1, 28, 28], [28, 28] or [784], pixels in 0-1.
    Returns:
        ``{"input": [784], "hidden": [a1, a2, ...], "probs": [10], "flows": [[out, in] per layer]}``,
        where a flow is weight x incoming activation: how much each connection pushes its target
        neuron up (positive) or down (negative) for this image.
    """
    if not isinstance(model, MLP):
        raise TypeError(f"draw_network draws the course's MLP (course_utils.models.MLP), got {type(model).__name__}")
    if model.sizes[0] != 784:
        raise ValueError(f"the model must take 784 inputs (a 28x28 image), its sizes are {model.sizes}")
    if any(n > MAX_DRAWN_NEURONS for n in model.sizes[1:]):
        raise ValueError(f"layers wider than {MAX_DRAWN_NEURONS} neurons are too crowded to draw; "
                         f"this model's sizes are {model.sizes}")
    image = torch.as_tensor(image).detach()
    if image.numel() != 784:
        raise ValueError(f"image must be one 28x28 digit ([1, 28, 28], [28, 28] or [784]), "
                         f"got shape {list(image.shape)}")
    x = image.reshape(1, 1, 28, 28).float()
    acts = get_activations(model, x, device=device)                 # {"layer1": [1, 16], ...}
    values = [x.flatten().cpu()] + [a[0] for a in acts.values()]   # inputs, hidden..., scores
    flows = [layer.weight.detach().cpu() * values[i][None, :]     # [out, in]: weight x incoming activation
             for i, layer in enumerate(model.layers)]
    return {"input": values[0], "hidden": values[1:-1], "probs": values[-1].softmax(dim=0), "flows": flows}


def draw_network(model: MLP, image: torch.Tensor, device: torch.device | str = "cpu", label: int | None = None,
                 ax: Axes | None = None, edges: int = 40) -> Axes:
    """Draw the MLP working on one image: pixels, neurons shaded by activation, strongest connections.

    Each neuron is a circle, black for activation 0 and white for 1 (the outputs are shaded by their
    softmax probability). For every layer the ``edges`` connections with the largest
    |weight x incoming activation| are drawn, blue when they push the next neuron up and red when
    they push it down, thicker for more. The predicted digit's circle is ringed in gold.

    Args:
        model: the course's MLP taking 784 inputs, no layer wider than 32 neurons.
        image: one digit, [1, 28, 28], [28, 28] or [784], pixels in 0-1.
        device: where the model's parameters are.
        label: the true digit, shown in the title when given.
        ax: axes to draw on; by default a new (8, 4.6) figure.
        edges: how many connections to draw per layer (the strongest ones).
    Returns:
        The axes.
    """
    edges = non_negative_int(edges, "edges", "connections drawn per layer")
    state = network_state(model, image, device)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.6))
        ax.figure.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.93)
    ax.set_facecolor(BACKGROUND)
    ax.figure.set_facecolor(BACKGROUND)
    lo = HEIGHT / 2 - IMAGE_SIZE / 2
    ax.imshow(state["input"].view(28, 28).numpy(), cmap="gray", vmin=0, vmax=1,
              extent=(0, IMAGE_SIZE, lo, lo + IMAGE_SIZE), zorder=1)
    columns = [_pixel_positions()] + [_positions(n, IMAGE_SIZE + LAYER_GAP * (i + 1))
                                      for i, n in enumerate(model.sizes[1:])]
    for layer, (flow, sources, targets) in enumerate(zip(state["flows"], columns, columns[1:])):
        chosen = _strongest(flow, edges)
        if not chosen:
            continue
        biggest = max(abs(v) for _, _, v in chosen)
        segments = [(sources[s], targets[t]) for t, s, _ in chosen]
        strength = np.array([abs(v) / biggest for _, _, v in chosen])
        colors = [(POSITIVE if v > 0 else NEGATIVE) for _, _, v in chosen]
        ax.add_collection(LineCollection(segments, colors=colors, linewidths=0.3 + 2.2 * strength,
                                         alpha=0.6 if layer == 0 else 0.85, zorder=2))
    predicted = int(state["probs"].argmax())
    radius = 0.27
    for column, shade in zip(columns[1:], state["hidden"] + [state["probs"]]):
        for (cx, cy), a in zip(column, shade.clamp(0, 1).tolist()):
            ax.add_patch(Circle((cx, cy), radius, facecolor=str(a), edgecolor="#bbbbbb", linewidth=0.8, zorder=3))
    for digit, ((cx, cy), p) in enumerate(zip(columns[-1], state["probs"].tolist())):
        if digit == predicted:
            ax.add_patch(Circle((cx, cy), radius * 1.35, fill=False, edgecolor=HIGHLIGHT, linewidth=2, zorder=4))
        ax.text(cx + 0.5, cy, f"{digit}  {p:.0%}", color=HIGHLIGHT if digit == predicted else "white",
                va="center", fontsize=8)
    names = ["input image"] + [f"layer{i}" for i in range(1, len(model.sizes) - 1)] + ["output"]
    for name, column in zip(names, [np.array([[IMAGE_SIZE / 2, 0]])] + columns[1:]):
        ax.text(column[0, 0], -0.55, name, color="#bbbbbb", ha="center", fontsize=8)
    title = f"predicted {predicted} ({state['probs'][predicted]:.1%})"
    ax.set_title(title if label is None else f"label {int(label)}, {title}", color="white", fontsize=10)
    ax.set_xlim(-0.3, columns[-1][0, 0] + 1.6)
    ax.set_ylim(-1.0, HEIGHT + 0.4)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


class NetworkExplorer(Explorer):
    """The network drawing for a chosen image, with a slider and a "next mistake" button.

    Made by :func:`network_explorer`. ``update(index)`` draws image ``index``; ``slider``, ``button``
    and ``output`` are the widgets and ``view`` holds them (None until the controls are built, or when
    ipywidgets is missing). ``static_figure`` is the drawing of the starting image, ``figure`` the latest.
    """

    controls_name = "the slider"

    def __init__(self, model: MLP, images: torch.Tensor, labels: torch.Tensor | None,
                 device: torch.device | str, edges: int):
        super().__init__()
        self.model, self.images, self.labels, self.device, self.edges = model, images, labels, device, edges
        self.slider = self.button = self.output = None
        self._wrong: list[int] | None = None

    def update(self, index: int) -> None:
        """Draw the network for image ``index`` and display it (as a compact PNG); kept as ``self.figure``."""
        from IPython.display import Image

        label = None if self.labels is None else int(self.labels[index])
        ax = draw_network(self.model, self.images[index], self.device, label=label, edges=self.edges)
        ax.text(0, HEIGHT + 0.2, f"test image #{index}", color="#bbbbbb", fontsize=8)
        self.show(ax.figure, Image(data=compact_png(ax.figure)))

    def next_mistake(self, after: int) -> int | None:
        """Index of the first misclassified image after ``after`` (wrapping around), or None."""
        if self.labels is None:
            return None
        if self._wrong is None:
            scores = list(get_activations(self.model, self.images, device=self.device).values())[-1]
            self._wrong = torch.nonzero(scores.argmax(dim=1) != self.labels.cpu()).flatten().tolist()
        later = [i for i in self._wrong if i > after]
        return (later or self._wrong or [None])[0]

    def controls(self, widgets: ModuleType) -> tuple[list[Any], Any]:
        """The image slider and the "next mistake" button, and the output area the drawing is redrawn in."""
        (index,) = self.start
        self.slider = widgets.IntSlider(value=index, min=0, max=len(self.images) - 1, description="test image",
                                        continuous_update=False)
        self.button = widgets.Button(description="next mistake", disabled=self.labels is None)
        self.output = widgets.Output()

        def redraw(change: dict[str, Any]) -> None:
            with self.output:
                self.output.clear_output(wait=True)
                self.update(change["new"])

        def jump(_button: Any) -> None:
            found = self.next_mistake(self.slider.value)
            if found is not None:
                self.slider.value = found

        self.slider.observe(redraw, names="value")
        self.button.on_click(jump)
        return [self.slider, self.button], self.output

    def __repr__(self) -> str:
        return f"NetworkExplorer({len(self.images)} images, sizes={self.model.sizes})"


def network_explorer(model: MLP, images: torch.Tensor, labels: torch.Tensor | None = None,
                     device: torch.device | str = "cpu", index: int = 0, edges: int = 40,
                     interactive: bool = True) -> NetworkExplorer:
    """Show the network lighting up for ``images[index]``, then (in a live notebook) a picker for the others.

    The drawing for ``index`` is always made first as an ordinary figure, so a notebook run
    headless (CI, GitHub's viewer) shows it. With ``interactive`` and ipywidgets installed, a slider
    and a "next mistake" button follow, and they redraw that one drawing in place for the picked image.

    Args:
        model: the course's MLP taking 784 inputs, no layer wider than 32 neurons.
        images: [N, 1, 28, 28] test images.
        labels: their digits (optional; the "next mistake" button needs them).
        device: where the model's parameters are.
        index: the image drawn first.
        edges: how many connections to draw per layer.
        interactive: False draws only the static figure.
    Returns:
        The NetworkExplorer (``update(i)`` redraws; ``slider`` and ``button`` are the controls).
    """
    image_batch(images, "network_explorer", values=784)
    if labels is not None:
        matching_labels(images, labels)
    index = int_in_range(index, "index", 0, len(images) - 1)
    explorer = NetworkExplorer(model, images, labels, device, edges)
    explorer.launch((index,), interactive)
    return explorer

# ---------------------------------------------------------------- plumbing: compact PNGs, where things are drawn


def compact_png(fig: Figure, colors: int = 128) -> bytes:
    """The figure as a PNG with at most ``colors`` colours: the same look at about a fifth of the bytes
    (hundreds of antialiased lines make an ordinary PNG of this drawing large)."""
    raw = io.BytesIO()
    fig.savefig(raw, format="png", dpi=100, bbox_inches="tight", facecolor=fig.get_facecolor())
    small = PILImage.open(raw).convert("RGB").quantize(colors, method=PILImage.Quantize.FASTOCTREE,
                                                       dither=PILImage.Dither.NONE)
    out = io.BytesIO()
    small.save(out, format="png", optimize=True)
    return out.getvalue()


def _positions(n: int, x: float) -> np.ndarray:
    """[n, 2] centres of n neurons stacked in a column at ``x``, centred vertically."""
    gap = min(HEIGHT / max(n, 1), 0.9)
    ys = HEIGHT / 2 + (np.arange(n)[::-1] - (n - 1) / 2) * gap
    return np.stack([np.full(n, x), ys], axis=1)


def _pixel_positions() -> np.ndarray:
    """[784, 2] centres of the input pixels in the drawn image (row by row, like the flattened input)."""
    step, top = IMAGE_SIZE / 28, HEIGHT / 2 + IMAGE_SIZE / 2
    rows, cols = np.divmod(np.arange(784), 28)
    return np.stack([(cols + 0.5) * step, top - (rows + 0.5) * step], axis=1)


def _strongest(flow: torch.Tensor, k: int) -> list[tuple[int, int, float]]:
    """The k edges (target, source, signed value) with the largest |flow| from an [out, in] tensor."""
    values, flat = flow.abs().flatten().topk(min(k, flow.numel()))
    return [(int(i) // flow.shape[1], int(i) % flow.shape[1], float(flow.flatten()[i])) for i in flat[values > 0]]
