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
        return [self.slider], widgets.interactive_output(self.update, {"n": self.slider})


def title(fig):
    return fig.axes[0].get_title()


@pytest.fixture
def shown(monkeypatch):
    displayed = []
    monkeypatch.setattr(_explorer, "_display", displayed.append)
    return displayed


def test_headless_run_shows_only_the_static_figure(shown):
    counter = Counter()
    counter.launch((3,), interactive=False)
    assert shown == [counter.static_figure] and counter.figure is counter.static_figure
    assert title(counter.static_figure) == "n = 3" and counter.view is None and counter.start == (3,)
    assert not plt.fignum_exists(counter.static_figure.number)   # displayed once, then closed


def test_live_kernel_shows_the_controls_in_a_row_above_the_live_view(shown):
    import ipywidgets as widgets

    counter = Counter()
    counter.launch((3,))
    static = counter.static_figure
    assert shown[0] is static and shown[-1] is counter.view
    row, live = counter.view.children
    assert isinstance(counter.view, widgets.VBox) and isinstance(row, widgets.HBox) and isinstance(live, widgets.Output)
    assert row.children == (counter.slider,)
    counter.slider.value = 7                                     # a control redraws into the live view
    assert title(counter.figure) == "n = 7" and counter.figure is not static
    assert title(counter.static_figure) == "n = 3"               # the static figure stays as drawn


def test_without_ipywidgets_a_note_and_the_static_figure(shown, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)         # makes `import ipywidgets` fail
    counter = Counter()
    counter.launch((1,))
    assert shown == [counter.static_figure] and counter.view is None
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
