"""The scaffold every explorer of the course shares (private: notebooks use neuron_explorer and network_explorer).

An explorer shows one plot. It first draws its starting picture as an ordinary figure, so a notebook run
without a live kernel (CI, GitHub's viewer) still shows it. In a live notebook with ipywidgets its controls
follow in one row below that figure, and when a control moves the new picture replaces the figure in place
(the figure is displayed with a display id and the controls send ``update_display_data`` for it): one plot,
which the controls redraw, never a second copy. Without ipywidgets a note says so and the static figure stays.
Only ipywidgets API shared by version 7 (Colab preinstalls 7.7.1) and version 8 is used: ``HBox`` and ``VBox``
here; the controls are each explorer's own.

A subclass (widgets.NeuronExplorer, netviz.NetworkExplorer) writes two methods:

* ``update(*values)``: draw the picture for these control values and hand it to ``self.show`` (it returns
  nothing, so ``explorer.update(...)`` as a cell's last line does not show the figure a second time);
* ``controls(widgets) -> (controls, live)``: build its control widgets, starting at ``self.start``, and an
  ``Output`` widget ``live``; a control redraws by calling ``update`` inside ``with live:``.

and its factory function calls ``explorer.launch(start, interactive)``.

What ``update`` shows inside ``with live:`` (a control moved) is not added to ``live``: it replaces the one
plot once the control's callbacks have run (outside ``live``, which would otherwise capture the update).
``live`` sits below the controls and stays empty unless a redraw fails; then it shows the error. Called
directly, in a cell of its own, ``update`` displays its figure there, as any plot.
"""
from __future__ import annotations

from types import ModuleType
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure


class Explorer:
    """Base class of the explorers: one plot, drawn first for the start values, then redrawn by the controls.

    Attributes:
        start: the control values the static figure was drawn for.
        static_figure: the figure drawn for ``start`` (always drawn; never redrawn).
        figure: the most recently drawn figure (changes whenever a control moves).
        plot: the display handle of the one plot (None outside IPython); the controls update it in place.
        view: the widget box holding the controls and the live area (None without a live kernel's widgets).
    """

    controls_name = "the controls"  # what ipywidgets would add, in the note shown when it is missing

    def __init__(self) -> None:
        self.start: tuple[Any, ...] = ()
        self.static_figure: Figure | None = None
        self.figure: Figure | None = None
        self.plot: Any = None
        self.view: Any = None
        self._live: Any = None
        self._pending: Any = None

    def update(self, *values: Any) -> None:
        """Draw (and display, through ``show``) the picture for these control values; the controls call this."""
        raise NotImplementedError(f"{type(self).__name__} must define update(...)")

    def controls(self, widgets: ModuleType) -> tuple[list[Any], Any]:
        """The control widgets (one row, starting at ``self.start``) and the Output widget they redraw inside."""
        raise NotImplementedError(f"{type(self).__name__} must define controls(widgets)")

    def show(self, fig: Figure, shown: Any = None) -> None:
        """Display ``fig`` once (or ``shown`` in its place, e.g. a compact PNG of it) and keep it as ``figure``.

        The starting picture becomes the one plot; a redraw by a control replaces that plot; any other call
        (``explorer.update(...)`` in a cell) displays the picture where it is called.
        """
        self.figure = fig
        picture = fig if shown is None else shown
        if self._redrawing():
            self._pending = picture                        # shown by _replace_plot, after the callbacks
        elif self.static_figure is None and self.plot is None:
            self.plot = _display(picture)                  # the starting picture: the one plot
        else:
            _display(picture)
        plt.close(fig)   # shown once by the display above, not again at the end of the cell

    def connect(self) -> None:
        """Build the controls and the live area (ipywidgets 7 or 8) into ``self.view``."""
        import ipywidgets as widgets

        controls, live = self.controls(widgets)
        self._live = live
        for control in controls:   # registered after the explorer's own callbacks, so these run after them
            if control.has_trait("value"):
                control.observe(self._replace_plot, names="value")
            if isinstance(control, widgets.Button):
                control.on_click(self._replace_plot)
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

    def _redrawing(self) -> bool:
        """Whether a control is redrawing now: the live area captures output (``with live:``)."""
        return self._live is not None and bool(getattr(self._live, "msg_id", ""))

    def _replace_plot(self, _event: Any = None) -> None:
        """Put the picture a control just drew in place of the one plot, and empty the live area."""
        picture, self._pending = self._pending, None
        if picture is None:
            return
        if self.plot is not None:
            self.plot.update(picture)
        else:
            _display(picture)
        self._live.clear_output()   # a successful redraw removes the error an earlier one may have left

    def _ipython_display_(self) -> None:
        pass  # launch() has already displayed the figure and the controls


def _display(obj: Any) -> Any:
    """IPython's display, with a display id: returns the handle that updates the output in place (None outside IPython)."""
    from IPython.display import display

    return display(obj, display_id=True)
