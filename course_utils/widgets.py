"""The neuron explorer: one neuron with a single input, output = activation(w * x + b), and its curve.

``plot_neuron`` draws the curve for one weight and bias; ``neuron_explorer`` draws it for the starting
values as an ordinary figure (so a notebook run headless, in CI or GitHub's viewer, still shows a plot)
and, in a live notebook, adds weight and bias sliders and an activation menu below it, which redraw that
same plot in place. The activation is a torch.nn class, as everywhere in the course: nn.Sigmoid, nn.Tanh
or nn.ReLU (the menu shows them as "sigmoid", "tanh" and "ReLU"). Only ipywidgets API shared by version 7
(Colab preinstalls 7.7.1) and version 8 is used: ``FloatSlider``, ``Dropdown`` and ``Output`` (the
scaffold around them, shared with netviz's network explorer, is in _explorer).
"""
from __future__ import annotations

from types import ModuleType
from typing import Any

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from torch import nn

from ._explorer import Explorer
from ._validate import activation_class, interval, number, positive_int

# The activations the explorer offers, with the label its menu and its plot titles show.
ACTIVATION_LABELS: dict[type[nn.Module], str] = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.ReLU: "ReLU"}
SLIDER_RANGE = (-10.0, 10.0)


def neuron_output(x: torch.Tensor, w: float, b: float, activation: type[nn.Module] = nn.Sigmoid) -> torch.Tensor:
    """What one neuron with a single input computes: activation(w * x + b), elementwise over ``x``.

    Args:
        x: the inputs (any shape; a list or number is turned into a float32 tensor).
        w, b: the weight and the bias.
        activation: nn.Sigmoid, nn.Tanh or nn.ReLU.
    """
    activation = activation_class(activation, ACTIVATION_LABELS)
    return activation()(w * torch.as_tensor(x, dtype=torch.float32) + b)


def plot_neuron(w: float, b: float, activation: type[nn.Module] = nn.Sigmoid, ax: Axes | None = None,
                x_range: tuple[float, float] = (-6.0, 6.0), points: int = 241) -> Axes:
    """Draw a single-input neuron's output activation(w*x + b) against its input x.

    A dotted line marks the input where w*x + b = 0 (x = -b/w): there the sigmoid gives 0.5, tanh
    gives 0, and ReLU starts to rise.

    Args:
        w, b: the weight and the bias.
        activation: nn.Sigmoid, nn.Tanh or nn.ReLU.
        ax: the axes to draw on; by default a new (5, 2.6) figure.
        x_range: the inputs x shown on the horizontal axis.
        points: how many inputs the curve is computed at.
    Returns:
        The axes drawn on.
    """
    w, b = number(w, "w"), number(b, "b")
    activation = activation_class(activation, ACTIVATION_LABELS)
    lo, hi = interval(x_range, "x_range")
    points = positive_int(points, "points")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 2.6))
    x = torch.linspace(lo, hi, points)
    ax.plot(x.numpy(), neuron_output(x, w, b, activation).numpy(), color="tab:blue")
    if w != 0 and lo <= -b / w <= hi:
        ax.axvline(-b / w, color="grey", linestyle=":", linewidth=1)
    if activation is nn.Sigmoid:
        ax.set_ylim(-0.05, 1.05)
    elif activation is nn.Tanh:
        ax.set_ylim(-1.1, 1.1)
    ax.set_xlim(lo, hi)
    ax.set_xlabel("input x")
    ax.set_ylabel("output")
    ax.set_title(f"{ACTIVATION_LABELS[activation]}({w:g}·x {'+' if b >= 0 else '−'} {abs(b):g})", fontsize=10)
    ax.grid(alpha=0.3)
    return ax


class NeuronExplorer(Explorer):
    """A single-input neuron with weight and bias sliders and an activation menu; made by :func:`neuron_explorer`.

    Attributes:
        static_figure: the figure drawn for the starting weight and bias (always drawn).
        figure: the most recently drawn figure (changes whenever a control moves).
        activation: the activation class drawn (the menu changes it).
        weight, bias, choice: the two FloatSliders and the activation Dropdown (None without ipywidgets).
        plot: the display handle of the one plot, which the controls redraw in place (None outside IPython).
        view: the widget box holding the controls (None without ipywidgets).
    """

    controls_name = "the sliders"

    def __init__(self, activation: type[nn.Module], x_range: tuple[float, float]):
        super().__init__()
        self.activation, self.x_range = activation, x_range
        self.weight = self.bias = self.choice = None

    def update(self, w: float, b: float, activation: type[nn.Module] | None = None) -> None:
        """Draw (and display) the neuron's curve for weight ``w`` and bias ``b``, kept as ``figure``.

        The controls call this; so can you, for any weight and bias.

        Args:
            activation: switch to this activation class first (the menu passes it); by default the current one.
        """
        if activation is not None:
            self.activation = activation_class(activation, ACTIVATION_LABELS)
        fig, ax = plt.subplots(figsize=(5, 2.6))
        plot_neuron(w, b, self.activation, ax=ax, x_range=self.x_range)
        fig.tight_layout()
        self.show(fig)

    def controls(self, widgets: ModuleType) -> tuple[list[Any], Any]:
        """The weight and bias sliders and the activation menu, and the Output widget they redraw inside."""
        start_w, start_b = self.start
        style = {"description_width": "initial"}
        self.weight = widgets.FloatSlider(value=start_w, min=SLIDER_RANGE[0], max=SLIDER_RANGE[1], step=0.1,
                                          description="weight w", continuous_update=False, style=style)
        self.bias = widgets.FloatSlider(value=start_b, min=SLIDER_RANGE[0], max=SLIDER_RANGE[1], step=0.1,
                                        description="bias b", continuous_update=False, style=style)
        self.choice = widgets.Dropdown(options=[(label, cls) for cls, label in ACTIVATION_LABELS.items()],
                                       value=self.activation, description="activation", style=style,
                                       layout=widgets.Layout(width="180px"))
        live = widgets.Output()

        def redraw(_change: dict[str, Any]) -> None:
            with live:
                live.clear_output(wait=True)
                self.update(self.weight.value, self.bias.value, self.choice.value)

        for control in (self.weight, self.bias, self.choice):
            control.observe(redraw, names="value")
        return [self.weight, self.bias, self.choice], live

    def __repr__(self) -> str:
        return f"NeuronExplorer(start={self.start}, activation=nn.{self.activation.__name__})"


def neuron_explorer(w: float = 1.0, b: float = 0.0, activation: type[nn.Module] = nn.Sigmoid,
                    x_range: tuple[float, float] = (-6.0, 6.0), interactive: bool = True) -> NeuronExplorer:
    """Explore one neuron, output = activation(w * x + b), with weight and bias sliders and an activation menu.

    The curve for the starting ``w`` and ``b`` is always drawn first as an ordinary figure, so a
    notebook run without a live kernel (CI, GitHub) still shows it. Then, in a live notebook, the
    controls appear below it, and moving them redraws that plot in place (one plot, never a copy).

    Args:
        w, b: starting weight and bias, each between -10 and 10 (the sliders' range).
        activation: the starting activation: nn.Sigmoid, nn.Tanh or nn.ReLU.
        x_range: the inputs x shown on the horizontal axis.
        interactive: False draws only the static figure.
    Returns:
        The NeuronExplorer (its ``update(w, b)`` redraws; ``weight``/``bias``/``choice`` are the controls).
    """
    w = number(w, "w", *SLIDER_RANGE, why="the sliders' range")
    b = number(b, "b", *SLIDER_RANGE, why="the sliders' range")
    activation = activation_class(activation, ACTIVATION_LABELS)
    explorer = NeuronExplorer(activation, interval(x_range, "x_range"))
    explorer.launch((w, b), interactive)
    return explorer
