"""course_utils._explorer: the scaffold the neuron explorer and the network explorer share."""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from course_utils import _explorer  # noqa: E402
from course_utils._explorer import Explorer  # noqa: E402
from course_utils.netviz import NetworkExplorer  # noqa: E402
from course_utils.widgets import NeuronExplorer  # noqa: E402


class Counter(Explorer):
    """The smallest explorer: one slider; the picture is a figure titled with the slider's value."""

    controls_name = "the counter"

    def __init__(self):
        super().__init__()
        self.slider = None

    def update(self, n):
        fig, ax = plt.subplots()
        ax.set_title(f"n = {n}")
        self.show(fig)

    def controls(self, widgets):
        (start,) = self.start
        self.slider = widgets.IntSlider(value=start, min=0, max=9)
        live = widgets.Output()

        def redraw(change):
            with live:
                live.clear_output(wait=True)
                self.update(change["new"])

        self.slider.observe(redraw, names="value")
        return [self.slider], live


def title(fig):
    return fig.axes[0].get_title()


class Handle:
    """What IPython's display(obj, display_id=True) returns: updates the displayed output in place."""

    def __init__(self, obj):
        self.shown = [obj]

    def update(self, obj):
        self.shown.append(obj)


@pytest.fixture
def shown(monkeypatch):
    """Everything the explorer displays, in order, each as the Handle IPython's display would return."""
    displayed = []

    def display(obj):
        displayed.append(Handle(obj))
        return displayed[-1]

    monkeypatch.setattr(_explorer, "_display", display)
    return displayed


@pytest.fixture
def kernel(monkeypatch):
    """A live kernel as the Output widget sees it: `with live:` then captures the callback's messages."""
    from ipywidgets.widgets import widget_output

    parent = {"header": {"msg_id": "control-moved"}}
    fake = type("Kernel", (), {"_parent_header": parent, "get_parent": lambda self, channel="shell": parent})()
    shell = type("Shell", (), {"kernel": fake, "get_parent": lambda self: parent, "set_parent": lambda self, p: None,
                               "showtraceback": lambda self, *args, **kwargs: None})()
    monkeypatch.setattr(widget_output, "get_ipython", lambda: shell)


def test_headless_run_shows_only_the_static_figure(shown):
    counter = Counter()
    counter.launch((3,), interactive=False)
    assert len(shown) == 1 and shown[0] is counter.plot and counter.plot.shown == [counter.static_figure]
    assert counter.figure is counter.static_figure
    assert title(counter.static_figure) == "n = 3" and counter.view is None and counter.start == (3,)
    assert not plt.fignum_exists(counter.static_figure.number)   # displayed once, then closed


def test_live_kernel_shows_one_plot_and_the_controls_redraw_it_in_place(shown, kernel):
    import ipywidgets as widgets

    counter = Counter()
    counter.launch((3,))
    static = counter.static_figure
    assert shown[0] is counter.plot and counter.plot.shown == [static]   # the plot, then the controls below it
    assert len(shown) == 2 and shown[1].shown == [counter.view]
    row, live = counter.view.children
    assert isinstance(counter.view, widgets.VBox) and isinstance(row, widgets.HBox) and isinstance(live, widgets.Output)
    assert row.children == (counter.slider,)
    counter.slider.value = 7                                     # a control redraws the one plot in place
    assert title(counter.figure) == "n = 7" and counter.figure is not static
    assert len(shown) == 2 and counter.plot.shown == [static, counter.figure]
    assert live.msg_id == "" and live.outputs == ()              # the update was sent after `with live:` ended
    counter.slider.value = 2
    assert [title(fig) for fig in counter.plot.shown] == ["n = 3", "n = 7", "n = 2"] and len(shown) == 2
    assert title(counter.static_figure) == "n = 3"               # the static figure stays as drawn


def test_a_call_in_a_cell_shows_its_own_figure_there(shown, kernel):
    counter = Counter()
    counter.launch((3,))
    counter.update(5)                                            # not a control: a new output where it is called
    assert len(shown) == 3 and shown[-1].shown == [counter.figure] and title(counter.figure) == "n = 5"
    assert counter.plot.shown == [counter.static_figure]         # the explorer's plot is untouched


def test_a_button_that_redraws_replaces_the_plot_too(shown, kernel):
    class Stepper(Counter):
        def controls(self, widgets):
            controls, live = super().controls(widgets)
            self.button = widgets.Button(description="step")

            def step(_button):
                with live:
                    self.update(9)

            self.button.on_click(step)
            return controls + [self.button], live

    stepper = Stepper()
    stepper.launch((1,))
    stepper.button.click()
    assert [title(fig) for fig in stepper.plot.shown] == ["n = 1", "n = 9"] and len(shown) == 2


def test_a_failed_redraw_leaves_the_plot_as_it_was(shown, kernel):
    class Fragile(Counter):
        def update(self, n):
            if n == 5:
                raise ValueError("no picture for 5")
            super().update(n)

    fragile = Fragile()
    fragile.launch((1,))
    fragile.slider.value = 5                                     # the error goes to the live area, not the plot
    assert fragile.plot.shown == [fragile.static_figure] and len(shown) == 2
    fragile.slider.value = 6
    assert [title(fig) for fig in fragile.plot.shown] == ["n = 1", "n = 6"]


def test_the_neuron_explorer_redraws_its_one_plot(shown, kernel):
    from course_utils.widgets import neuron_explorer

    explorer = neuron_explorer(w=1.0, b=0.0)
    explorer.weight.value = 3.0
    explorer.choice.label = "tanh"
    assert [fig.axes[0].get_title() for fig in explorer.plot.shown] == [
        "sigmoid(1·x + 0)", "sigmoid(3·x + 0)", "tanh(3·x + 0)"]
    assert len(shown) == 2                                       # the plot and the controls, nothing else


def test_without_ipywidgets_a_note_and_the_static_figure(shown, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)         # makes `import ipywidgets` fail
    counter = Counter()
    counter.launch((1,))
    assert shown == [counter.plot] and counter.plot.shown == [counter.static_figure] and counter.view is None
    assert capsys.readouterr().out == ("ipywidgets is not installed, so only the static figure is shown "
                                       "(pip install ipywidgets for the counter).\n")


def test_the_explorer_itself_displays_nothing(shown):
    counter = Counter()
    counter.launch((0,), interactive=False)
    assert counter._ipython_display_() is None and len(shown) == 1  # launch() displayed all there is


def test_a_subclass_must_draw_and_build_its_controls():
    with pytest.raises(NotImplementedError, match="update"):
        Explorer().launch((0,))
    with pytest.raises(NotImplementedError, match="controls"):
        Explorer().controls(None)


def test_both_course_explorers_use_it():
    assert issubclass(NeuronExplorer, Explorer) and issubclass(NetworkExplorer, Explorer)
    for explorer in (NeuronExplorer, NetworkExplorer):
        assert "launch" not in vars(explorer) and "connect" not in vars(explorer) and "show" not in vars(explorer)
