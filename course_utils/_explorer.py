"""The scaffold every explorer of the course shares (private: notebooks use neuron_explorer and network_explorer).

An explorer first draws its starting picture as an ordinary figure, so a notebook run without a live kernel
(CI, GitHub's viewer) still shows it. Then, in a live notebook with ipywidgets, its controls follow in one
row above an output area, where the picture is redrawn whenever a control changes. Without ipywidgets a
note says so and the static figure stays. Only ipywidgets API shared by version 7 (Colab preinstalls
7.7.1) and version 8 is used: ``HBox`` and ``VBox`` here; the controls are each explorer's own.

A subclass (widgets.NeuronExplorer, netviz.NetworkExplorer) writes two methods:

* ``update(*values)``: draw the picture for these control values and hand it to ``self.show`` (it returns
  nothing, so ``explorer.update(...)`` as a cell's last line does not show the figure a second time);
* ``controls(widgets) -> (controls, live)``: build its control widgets, starting at ``self.start``, and
  the output widget they redraw into;

and its factory function calls ``explorer.launch(start, interactive)``.
"""
from __future__ import annotations

from types import ModuleType
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure


class Explorer:
    """Base class of the explorers: a static figure first, then (in a live kernel) controls above a live view.

    Attributes:
        start: the control values the static figure was drawn for.
        static_figure: the figure drawn for ``start`` (always drawn; never redrawn).
        figure: the most recently drawn figure (changes whenever a control moves).
        view: the widget box holding the controls and the live view (None without a live kernel's widgets).
    """

    controls_name = "the controls"  # what ipywidgets would add, in the note shown when it is missing

    def __init__(self) -> None:
        self.start: tuple[Any, ...] = ()
        self.static_figure: Figure | None = None
        self.figure: Figure | None = None
        self.view: Any = None

    def update(self, *values: Any) -> None:
        """Draw (and display, through ``show``) the picture for these control values; the controls call this."""
        raise NotImplementedError(f"{type(self).__name__} must define update(...)")

    def controls(self, widgets: ModuleType) -> tuple[list[Any], Any]:
        """The control widgets (one row, starting at ``self.start``) and the output widget they redraw into."""
        raise NotImplementedError(f"{type(self).__name__} must define controls(widgets)")

    def show(self, fig: Figure, shown: Any = None) -> None:
        """Display ``fig`` once (or ``shown`` in its place, e.g. a compact PNG of it) and keep it as ``figure``."""
        self.figure = fig
        _display(fig if shown is None else shown)
        plt.close(fig)   # shown once by the display above, not again at the end of the cell

    def connect(self) -> None:
        """Build the controls and the live view (ipywidgets 7 or 8) into ``self.view``."""
        import ipywidgets as widgets

        controls, live = self.controls(widgets)
        self.view = widgets.VBox([widgets.HBox(controls), live])

    def launch(self, start: tuple[Any, ...], interactive: bool = True) -> None:
        """Draw the static figure for the control values ``start``; then, if ``interactive``, show the controls.

        Without ipywidgets a note says that only the static figure is shown; nothing fails.
        """
        self.start = tuple(start)
        self.update(*self.start)
        self.static_figure = self.figure
        if not interactive:
            return
        try:
            self.connect()
        except ImportError:
            print("ipywidgets is not installed, so only the static figure is shown "
                  f"(pip install ipywidgets for {self.controls_name}).")
            return
        _display(self.view)

    def _ipython_display_(self) -> None:
        pass  # launch() has already displayed the figure and the controls


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)
