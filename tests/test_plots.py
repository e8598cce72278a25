import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils import plots  # noqa: E402


def test_show_digits_titles_and_colours():
    axes = plots.show_digits(torch.rand(5, 1, 28, 28), labels=[1, 2, 3, 4, 5], predictions=[1, 2, 0, 4, 0], ncols=3)
    flat = axes.ravel()
    assert len(flat) == 6 and flat[2].get_title() == "3→0"
    assert flat[0].title.get_color() == "green" and flat[2].title.get_color() == "red"
    plt.close("all")


def test_show_digits_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"\[N, 28, 28\]"):
        plots.show_digits(torch.rand(28, 28))


def test_bar_chart_and_curves_return_their_axes():
    _, ax = plt.subplots()
    assert plots.bar_chart(torch.arange(10), ax=ax, highlight=3) is ax
    assert len(ax.patches) == 10
    ax2 = plots.plot_curves({"train": [3, 2, 1], "test": [3, 2.5, 2]})
    assert len(ax2.lines) == 2 and ax2.get_xlabel() == "epoch"
    plt.close("all")
