import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from IPython.display import Image  # noqa: E402
from matplotlib.patches import Circle  # noqa: E402
from torch import nn  # noqa: E402

from course_utils import _explorer, netviz  # noqa: E402
from course_utils.models import MLP  # noqa: E402


def model_and_images(n=6, seed=0):
    torch.manual_seed(seed)
    return MLP(), torch.rand(n, 1, 28, 28), torch.arange(n) % 10


def test_network_state_matches_a_manual_forward_pass():
    model, images, _ = model_and_images()
    state = netviz.network_state(model, images[0])
    x = images[0].flatten()
    a1 = torch.sigmoid(model.layer1(x))
    a2 = torch.sigmoid(model.layer2(a1))
    assert torch.allclose(state["hidden"][0], a1) and torch.allclose(state["hidden"][1], a2)
    assert torch.allclose(state["probs"], model.layer3(a2).softmax(0))
    assert state["probs"].sum().item() == pytest.approx(1)
    assert [tuple(f.shape) for f in state["flows"]] == [(16, 784), (16, 16), (10, 16)]
    assert torch.allclose(state["flows"][1], model.layer2.weight * a1[None, :])


def test_strongest_picks_the_largest_magnitudes_with_their_sign():
    flow = torch.tensor([[0.1, -3.0, 0.0], [2.0, 0.0, 0.5]])
    assert netviz._strongest(flow, 2) == [(0, 1, -3.0), (1, 0, 2.0)]
    assert len(netviz._strongest(flow, 100)) == 4          # zero flows are not drawn


def test_draw_network_draws_every_neuron_and_leaves_no_hooks():
    model, images, labels = model_and_images()
    ax = netviz.draw_network(model, images[1], label=int(labels[1]), edges=10)
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    assert len(circles) == 16 + 16 + 10 + 1                # neurons + the ring round the prediction
    assert len(ax.collections) == 3 and all(len(c.get_segments()) == 10 for c in ax.collections)
    assert "label 1" in ax.get_title()
    assert all(not m._forward_hooks for m in model.modules())
    plt.close("all")


def test_draw_network_other_depths_and_bad_input():
    torch.manual_seed(0)
    ax = netviz.draw_network(MLP((784, 8, 8, 8, 10)), torch.rand(28, 28), edges=0)
    assert len([p for p in ax.patches if isinstance(p, Circle)]) == 8 * 3 + 10 + 1
    with pytest.raises(ValueError, match="too crowded"):
        netviz.draw_network(MLP((784, 64, 10)), torch.rand(784))
    with pytest.raises(TypeError, match="MLP"):
        netviz.draw_network(nn.Linear(784, 10), torch.rand(784))
    with pytest.raises(ValueError, match="one 28x28 digit"):
        netviz.draw_network(MLP(), torch.rand(2, 1, 28, 28))
    with pytest.raises(ValueError, match="edges"):
        netviz.draw_network(MLP(), torch.rand(784), edges=-1)
    plt.close("all")


def test_explorer_draws_the_static_figure_then_redraws_on_the_slider(monkeypatch):
    shown = []
    monkeypatch.setattr(_explorer, "_display", shown.append)
    model, images, labels = model_and_images()
    explorer = netviz.network_explorer(model, images, labels, index=2)
    assert isinstance(shown[0], Image) and shown[0].data[:4] == b"\x89PNG" and shown[1] is explorer.view
    assert explorer.slider.max == len(images) - 1 and explorer.slider.value == 2
    explorer.slider.value = 4
    assert len(shown) == 3 and isinstance(shown[2], Image)
    assert "#4" in " ".join(t.get_text() for t in explorer.figure.axes[0].texts)
    assert "#2" in " ".join(t.get_text() for t in explorer.static_figure.axes[0].texts)  # the static one stays


def test_next_mistake_wraps_around(monkeypatch):
    monkeypatch.setattr(_explorer, "_display", lambda obj: None)
    model, images, _ = model_and_images()
    predicted = model(images).argmax(1)
    labels = predicted.clone()
    labels[[1, 4]] = (predicted[[1, 4]] + 1) % 10          # images 1 and 4 are the mistakes
    explorer = netviz.network_explorer(model, images, labels)
    assert explorer.next_mistake(0) == 1 and explorer.next_mistake(1) == 4 and explorer.next_mistake(4) == 1
    explorer.button.click()
    assert explorer.slider.value == 1
    assert netviz.network_explorer(model, images, None, interactive=False).next_mistake(0) is None


def test_compact_png_is_smaller_and_keeps_the_picture_size():
    import io

    from PIL import Image as PILImage

    model, images, _ = model_and_images()
    ax = netviz.draw_network(model, images[0])
    full = io.BytesIO()
    ax.figure.savefig(full, format="png", dpi=100, bbox_inches="tight")
    small = netviz.compact_png(ax.figure)
    assert len(small) < len(full.getvalue()) / 2
    assert PILImage.open(io.BytesIO(small)).size == PILImage.open(full).size
    plt.close("all")


def test_explorer_without_widgets_and_bad_arguments(monkeypatch):
    monkeypatch.setattr(_explorer, "_display", lambda obj: None)
    model, images, labels = model_and_images()
    explorer = netviz.network_explorer(model, images, labels, interactive=False)
    assert explorer.view is None and explorer.figure is not None
    with pytest.raises(ValueError, match="index"):
        netviz.network_explorer(model, images, labels, index=len(images))
    with pytest.raises(ValueError, match="labels must match"):
        netviz.network_explorer(model, images, labels[:2])
    with pytest.raises(ValueError, match="28x28"):
        netviz.network_explorer(model, torch.rand(3, 10))
