import matplotlib.pyplot as plt
import pytest
import torch

from course_utils import plots


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


def bowl(w1, w2):
    return 0.5 * w1**2 + 2 * w2**2


def test_plot_descent_paths_draws_one_line_per_path_and_keeps_the_window():
    paths = {"small": torch.tensor([[-4.0, 2.0], [-3.9, 1.8], [-3.8, 1.6]]), "big": [[-4.0, 2.0], [-2.0, -2.4]]}
    ax = plots.plot_descent_paths(bowl, paths, xlim=(-5, 5), ylim=(-3, 3), levels=5)
    assert len(ax.lines) == 4                       # each path: its line plus a start marker
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["small", "big"]
    assert ax.get_xlim() == (-5.0, 5.0) and ax.get_ylim() == (-3.0, 3.0)
    plt.close("all")


def test_plot_descent_paths_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\[T, 2\]"):
        plots.plot_descent_paths(bowl, {"flat": torch.zeros(5)})
    with pytest.raises(ValueError, match="one loss per point"):
        plots.plot_descent_paths(lambda w1, w2: (w1 + w2).sum(), {})
    with pytest.raises(ValueError, match="low < high"):
        plots.plot_descent_paths(bowl, {}, xlim=(1, -1))
    plt.close("all")


def test_show_weights_one_picture_per_row_with_a_symmetric_scale():
    weights = torch.zeros(3, 784)
    weights[1, 0], weights[2, 5] = 2.0, -0.5
    axes = plots.show_weights(weights, ncols=2)
    images = [ax.images[0] for ax in axes.ravel()[:3]]
    assert [im.get_clim() for im in images] == [(-1.0, 1.0), (-2.0, 2.0), (-0.5, 0.5)]
    assert not axes.ravel()[3].images
    with pytest.raises(ValueError, match=r"\[N, 784\]"):
        plots.show_weights(torch.zeros(4, 28, 28))
    plt.close("all")


def test_show_predictions_titles_with_confidence_and_colour():
    scores = torch.zeros(3, 10)
    scores[0, 4] = scores[1, 2] = scores[2, 7] = 10.0
    axes = plots.show_predictions(torch.rand(3, 28, 28), [4, 5, 7], scores, ncols=3)
    flat = axes.ravel()
    assert flat[0].get_title() == "4→4\n100%" and flat[0].title.get_color() == "green"
    assert flat[1].get_title().startswith("5→2") and flat[1].title.get_color() == "red"
    with pytest.raises(ValueError, match="one row per image"):
        plots.show_predictions(torch.rand(3, 28, 28), [4, 5, 7], torch.rand(2, 10))
    plt.close("all")


def test_plot_confusion_matrix_writes_every_count():
    matrix = torch.tensor([[1000, 3], [7, 990]])
    ax = plots.plot_confusion_matrix(matrix, title="cm")
    assert [t.get_text() for t in ax.texts] == ["1000", "3", "7", "990"]
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true" and ax.get_title() == "cm"
    assert ax.images[0].get_clim() == (0, 7)  # colours scaled to the largest mistake
    with pytest.raises(ValueError, match="square"):
        plots.plot_confusion_matrix(torch.zeros(2, 3))
    plt.close("all")


def test_show_filters_draws_each_filter_on_a_symmetric_scale():
    weights = torch.randn(16, 1, 3, 3)
    axes = plots.show_filters(weights, ncols=8)
    assert axes.shape == (2, 8)
    image = axes[0, 0].images[0]
    assert image.get_array().shape == (3, 3) and image.get_clim() == (-weights[0].abs().max().item(),
                                                                         weights[0].abs().max().item())
    assert axes[1, 7].get_title() == "15"
    with pytest.raises(ValueError, match="one input channel"):
        plots.show_filters(torch.randn(4, 2, 3, 3))
    plt.close("all")


def test_show_digits_needs_one_label_and_prediction_per_image():
    with pytest.raises(ValueError, match="5 images but 2 labels"):
        plots.show_digits(torch.rand(5, 28, 28), [1, 2])
    with pytest.raises(ValueError, match="5 images but 1 predictions"):
        plots.show_digits(torch.rand(5, 28, 28), [1, 2, 3, 4, 5], [1])
    plt.close("all")
