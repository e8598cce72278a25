"""Interactive explorers for the notebooks, each drawing a static figure first so a notebook run headless
(CI, GitHub's viewer) still shows a plot.

Only ipywidgets API shared by version 7 (Colab preinstalls 7.7.1) and version 8 is used:
``FloatSlider``, ``HBox``, ``VBox``, ``interactive_output`` and the ``Output`` widget it returns.
"""
from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import torch

from ._validate import interval, number, one_of, positive_int

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
}
SLIDER_RANGE = (-10.0, 10.0)


def neuron_output(x: torch.Tensor, w: float, b: float, activation: str = "sigmoid") -> torch.Tensor:
    """What one neuron with a single input computes: activation(w * x + b), elementwise over ``x``."""
    activation = one_of(activation, "activation", sorted(ACTIVATIONS))
    return ACTIVATIONS[activation](w * torch.as_tensor(x, dtype=torch.float32) + b)


def plot_neuron(w: float, b: float, activation: str = "sigmoid", ax=None,
                x_range: tuple[float, float] = (-6.0, 6.0), points: int = 241):
    """Draw a single-input neuron's output activation(w*x + b) against its input x.

    A dotted line marks the input where w*x + b = 0 (x = -b/w): there the sigmoid gives 0.5, tanh
    gives 0, and ReLU starts to rise.

    Returns:
        The axes drawn on (a new (5, 2.6) figure when ``ax`` is None).
    """
    w, b = number(w, "w"), number(b, "b")
    lo, hi = interval(x_range, "x_range")
    points = positive_int(points, "points")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 2.6))
    x = torch.linspace(lo, hi, points)
    ax.plot(x.numpy(), neuron_output(x, w, b, activation).numpy(), color="tab:blue")
    if w != 0 and lo <= -b / w <= hi:
        ax.axvline(-b / w, color="grey", linestyle=":", linewidth=1)
    if activation == "sigmoid":
        ax.set_ylim(-0.05, 1.05)
    elif activation == "tanh":
        ax.set_ylim(-1.1, 1.1)
    ax.set_xlim(lo, hi)
    ax.set_xlabel("input x")
    ax.set_ylabel("output")
    ax.set_title(f"{activation}({w:g}·x {'+' if b >= 0 else '−'} {abs(b):g})", fontsize=10)
    ax.grid(alpha=0.3)
    return ax


def _display(obj) -> None:
    from IPython.display import display

    display(obj)


class NeuronExplorer:
    """A single-input neuron with weight and bias sliders; made by :func:`neuron_explorer`.

    Attributes:
        static_figure: the figure drawn for the starting weight and bias (always drawn).
        figure: the most recently drawn figure (changes whenever a slider moves).
        weight, bias: the two FloatSlider controls (None when ipywidgets is unavailable).
        view: the widget box holding the sliders and the live plot (None when ipywidgets is unavailable).
    """

    def __init__(self, w: float, b: float, activation: str, x_range: tuple[float, float]):
        self.activation, self.x_range = activation, x_range
        self.figure = None
        self.weight = self.bias = self.view = None
        self.start = (w, b)
        self.static_figure = self.update(w, b)

    def update(self, w: float, b: float):
        """Draw (and display) the neuron's curve for weight ``w`` and bias ``b``; the sliders call this."""
        fig, ax = plt.subplots(figsize=(5, 2.6))
        plot_neuron(w, b, self.activation, ax=ax, x_range=self.x_range)
        fig.tight_layout()
        self.figure = fig
        _display(fig)
        plt.close(fig)   # shown once by the display above, not again at the end of the cell
        return fig

    def connect(self) -> None:
        """Build the sliders and the live plot (ipywidgets 7 or 8) into ``self.view``."""
        import ipywidgets as widgets

        start_w, start_b = self.start
        style = {"description_width": "initial"}
        self.weight = widgets.FloatSlider(value=start_w, min=SLIDER_RANGE[0], max=SLIDER_RANGE[1], step=0.1,
                                          description="weight w", continuous_update=False, style=style)
        self.bias = widgets.FloatSlider(value=start_b, min=SLIDER_RANGE[0], max=SLIDER_RANGE[1], step=0.1,
                                        description="bias b", continuous_update=False, style=style)
        live = widgets.interactive_output(self.update, {"w": self.weight, "b": self.bias})
        self.view = widgets.VBox([widgets.HBox([self.weight, self.bias]), live])

    def __repr__(self) -> str:
        return f"NeuronExplorer(start={self.start}, activation={self.activation!r})"

    def _ipython_display_(self) -> None:
        pass  # neuron_explorer() has already displayed the figure and the sliders


def neuron_explorer(w: float = 1.0, b: float = 0.0, activation: str = "sigmoid",
                    x_range: tuple[float, float] = (-6.0, 6.0), interactive: bool = True) -> NeuronExplorer:
    """Explore one neuron, output = activation(w * x + b), with weight and bias sliders.

    The curve for the starting ``w`` and ``b`` is always drawn first as an ordinary figure, so a
    notebook run without a live kernel (CI, GitHub) still shows it. Then, in a live notebook, two
    sliders and a plot that redraws when they move appear below it.

    Args:
        w, b: starting weight and bias, each between -10 and 10 (the sliders' range).
        activation: "sigmoid", "tanh" or "relu".
        x_range: the inputs x shown on the horizontal axis.
        interactive: False draws only the static figure.
    Returns:
        The NeuronExplorer (its ``update(w, b)`` redraws; ``weight``/``bias`` are the sliders).
    """
    w = number(w, "w", *SLIDER_RANGE, why="the sliders' range")
    b = number(b, "b", *SLIDER_RANGE, why="the sliders' range")
    activation = one_of(activation, "activation", sorted(ACTIVATIONS))
    explorer = NeuronExplorer(w, b, activation, x_range)
    if interactive:
        try:
            explorer.connect()
        except ImportError:
            print("ipywidgets is not installed, so only the static figure is shown "
                  "(pip install ipywidgets for the sliders).")
            return explorer
        _display(explorer.view)
    return explorer
