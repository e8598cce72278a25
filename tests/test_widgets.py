import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from course_utils import widgets  # noqa: E402


def curve(fig):
    """(x, y) of the neuron curve in a figure drawn by the explorer."""
    line = fig.axes[0].lines[0]
    return np.asarray(line.get_xdata()), np.asarray(line.get_ydata())


def test_neuron_output_is_activation_of_w_x_plus_b():
    x = torch.tensor([-1.0, 0.0, 2.0])
    assert torch.allclose(widgets.neuron_output(x, 2.0, 1.0), torch.sigmoid(torch.tensor([-1.0, 1.0, 5.0])))
    assert torch.equal(widgets.neuron_output(x, 1.0, -1.0, nn.ReLU), torch.tensor([0.0, 0.0, 1.0]))
    assert torch.equal(widgets.neuron_output(x, 1.0, 0.0, nn.Tanh), torch.tanh(x))


def test_plot_neuron_draws_the_curve_and_the_switch_point():
    ax = widgets.plot_neuron(2.0, -3.0, x_range=(-4, 4), points=81)
    x, y = np.asarray(ax.lines[0].get_xdata()), np.asarray(ax.lines[0].get_ydata())
    assert len(x) == 81 and np.allclose(y, 1 / (1 + np.exp(-(2 * x - 3))), atol=1e-6)
    assert ax.lines[1].get_xdata()[0] == pytest.approx(1.5)      # w*x + b = 0 at x = 1.5
    assert ax.get_title() == "sigmoid(2·x − 3)"
    plt.close("all")


def test_static_figure_is_drawn_for_the_given_weight_and_bias():
    explorer = widgets.neuron_explorer(w=-2.0, b=1.0, activation=nn.Tanh, interactive=False)
    x, y = curve(explorer.static_figure)
    assert np.allclose(y, np.tanh(-2 * x + 1), atol=1e-6)
    assert explorer.view is None and explorer.figure is explorer.static_figure


def test_sliders_redraw_the_plot():
    explorer = widgets.neuron_explorer(w=1.0, b=0.0)
    assert explorer.view is not None and explorer.weight.value == 1.0 and explorer.bias.value == 0.0
    before = explorer.figure
    assert explorer.update(w=4.0, b=-2.0) is None                 # the callback the sliders call: it displays
    fig = explorer.figure                                         # the figure (returning it would show it twice)
    assert fig is not before
    x, y = curve(fig)
    assert np.allclose(y, 1 / (1 + np.exp(-(4 * x - 2))), atol=1e-6)
    explorer.weight.value = 3.0                                   # moving a slider redraws
    x, y = curve(explorer.figure)
    assert np.allclose(y, 1 / (1 + np.exp(-3 * x)), atol=1e-6)
    x, y = curve(explorer.static_figure)                          # the static default is untouched
    assert np.allclose(y, 1 / (1 + np.exp(-x)), atol=1e-6)


def test_the_activation_menu_shows_labels_and_passes_classes():
    explorer = widgets.neuron_explorer(w=1.0, b=0.0)
    assert tuple(explorer.choice.options) == (("sigmoid", nn.Sigmoid), ("tanh", nn.Tanh), ("ReLU", nn.ReLU))
    assert explorer.choice.value is nn.Sigmoid and explorer.choice.label == "sigmoid"
    assert explorer.choice in explorer.view.children[0].children  # in the row of controls
    explorer.choice.label = "ReLU"                                # choosing in the menu redraws with nn.ReLU
    assert explorer.activation is nn.ReLU and explorer.figure.axes[0].get_title() == "ReLU(1·x + 0)"
    x, y = curve(explorer.figure)
    assert np.allclose(y, np.maximum(x, 0), atol=1e-6)
    explorer.update(2.0, 0.0)                                     # update keeps the chosen activation
    assert explorer.figure.axes[0].get_title() == "ReLU(2·x + 0)"
    assert repr(explorer) == "NeuronExplorer(start=(1.0, 0.0), activation=nn.ReLU)"


def test_without_ipywidgets_the_static_figure_still_appears(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)          # makes `import ipywidgets` fail
    explorer = widgets.neuron_explorer(w=0.5, b=0.5)
    assert explorer.view is None and explorer.static_figure is not None
    assert "only the static figure" in capsys.readouterr().out


@pytest.mark.parametrize("kwargs, error, message", [
    ({"activation": "tanh"}, TypeError, r"must be a torch.nn activation class such as nn.Sigmoid or nn.ReLU, "
                                        r"got 'tanh'; for example MLP\(activation=nn.ReLU\)"),
    ({"activation": nn.GELU}, ValueError, "one of nn.Sigmoid, nn.Tanh or nn.ReLU, got nn.GELU"),
    ({"w": 12.0}, ValueError, "between -10 and 10"),
    ({"b": "1"}, TypeError, "must be a number"),
    ({"w": float("nan")}, ValueError, "finite"),
    ({"x_range": (3, -3)}, ValueError, "low < high"),
])
def test_bad_arguments_are_explained(kwargs, error, message):
    with pytest.raises(error, match=message):
        widgets.neuron_explorer(interactive=False, **kwargs)


@pytest.mark.parametrize("call", [lambda a: widgets.neuron_output(torch.zeros(3), 1.0, 0.0, a),
                                  lambda a: widgets.plot_neuron(1.0, 0.0, a)])
def test_an_activation_name_gets_the_message_mlp_gives(call):
    with pytest.raises(TypeError, match="must be a torch.nn activation class such as nn.Sigmoid"):
        call("sigmoid")
    plt.close("all")
