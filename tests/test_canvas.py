import shutil
import subprocess

import numpy as np
import pytest
import torch
import traitlets

from course_utils.canvas import EMPTY_MESSAGE, DigitCanvas, live_predictions
from course_utils.deploy import predict
from course_utils.models import MLP, SimpleCNN


def paper_digit(size=112):
    """A dark '0' drawn on white paper, as the pad sends it: uint8, ink 0, paper 255."""
    r, c = np.mgrid[0:size, 0:size]
    d = np.sqrt(((r - size / 2) / (size * 0.3)) ** 2 + ((c - size / 2) / (size * 0.2)) ** 2)
    return np.where(np.abs(d - 1) < 0.15, 0, 255).astype(np.uint8)


def net():
    torch.manual_seed(0)
    return MLP()


def test_a_new_canvas_is_blank_and_synced_traits_are_tagged():
    canvas = DigitCanvas()
    assert canvas.image() is None and canvas.message == EMPTY_MESSAGE
    for name in ("pixels", "probabilities", "seen", "message", "grid", "brush", "_esm", "_css"):
        assert canvas.trait_metadata(name, "sync"), name


def test_load_resizes_to_the_grid_and_image_reads_it_back():
    canvas = DigitCanvas(paper_digit(300), grid=56)
    image = canvas.image()
    assert image.shape == (56, 56) and image.dtype == np.uint8 and image.min() < 50 and image.max() == 255
    canvas.load(np.zeros((28, 28)) + np.eye(28))  # floats in 0-1 are read as 0-1
    assert canvas.image().max() > 100
    canvas.clear()
    assert canvas.image() is None


def test_bad_pixels_and_grid_are_refused_with_a_reason():
    canvas = DigitCanvas()
    with pytest.raises(traitlets.TraitError, match="12544"):
        canvas.pixels = [0] * 100
    with pytest.raises(ValueError, match="grid"):
        DigitCanvas(grid=10)
    with pytest.raises(ValueError, match=r"\[H, W\]"):
        canvas.load(np.zeros((3, 28, 28)))


def test_live_predictions_follow_the_drawing():
    canvas = DigitCanvas(paper_digit())
    model = net()
    handler = live_predictions(canvas, model)
    expected = predict(model, paper_digit())
    assert canvas.probabilities == pytest.approx(expected.probabilities.tolist(), abs=1e-4)
    assert len(canvas.seen) == 784 and f"says {expected.digit}" in canvas.message
    canvas.clear()  # the Clear button: bars go, the friendly message comes back
    assert canvas.probabilities == [] and canvas.seen == [] and canvas.message == EMPTY_MESSAGE
    canvas.pixels = [255] * canvas.grid ** 2  # a white page: no digit, no prediction
    assert canvas.probabilities == [] and canvas.message.startswith("No digit found")
    canvas.unobserve(handler, names="pixels")
    canvas.load(paper_digit())
    assert canvas.probabilities == []


def test_live_predictions_wants_a_canvas():
    with pytest.raises(TypeError, match="DigitCanvas"):
        live_predictions(object(), net())


def test_several_models_get_a_button_each_and_the_chosen_one_classifies():
    torch.manual_seed(1)
    dense, cnn = net(), SimpleCNN()
    canvas = DigitCanvas(paper_digit())
    handler = live_predictions(canvas, {"dense network": dense, "CNN": cnn})
    assert canvas.models == ["dense network", "CNN"] and canvas.model_name == "dense network"
    for name, model in (("dense network", dense), ("CNN", cnn)):
        canvas.model_name = name                      # what a click on the button sends
        expected = predict(model, paper_digit())
        assert canvas.probabilities == pytest.approx(expected.probabilities.tolist(), abs=1e-4)
        assert canvas.message.startswith(f"The {name} says {expected.digit} (")
    with pytest.raises(traitlets.TraitError, match=r"one of the pad's models \['dense network', 'CNN'\]"):
        canvas.model_name = "MLP"
    canvas.unobserve(handler, names=["pixels", "model_name"])
    live_predictions(canvas, dense)                   # one model again: no buttons, "the network"
    assert canvas.models == [] and canvas.model_name == "" and canvas.message.startswith("The network says")
    assert canvas.trait_metadata("models", "sync") and canvas.trait_metadata("model_name", "sync")


@pytest.mark.parametrize("models, error, match", [
    ({}, ValueError, "empty mapping"),
    ({"CNN": "weights.pt"}, TypeError, r"models\['CNN'\] must be a model"),
    ({"": MLP()}, TypeError, "non-empty strings"),
    ("model.pt", TypeError, "nn.Module"),
])
def test_bad_models_are_refused_with_a_reason(models, error, match):
    with pytest.raises(error, match=match):
        live_predictions(DigitCanvas(), models)


def test_front_end_code_uses_the_default_export_and_parses():
    esm = DigitCanvas._esm if isinstance(DigitCanvas._esm, str) else str(DigitCanvas._esm)
    assert "export default { render }" in esm and "export function" not in esm
    for name in ("pixels", "probabilities", "seen", "message", "grid", "brush"):
        assert f'"{name}"' in esm or f'"change:{name}"' in esm
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: JavaScript syntax not checked")
    result = subprocess.run([node, "--input-type=module", "--check"], input=esm, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("bad", ["128", float("nan"), float("inf"), None, True, 300, -1, [0]],
                         ids=["string", "nan", "inf", "none", "bool", "300", "negative", "list"])
def test_pixels_must_be_grey_levels_0_to_255(bad):
    canvas = DigitCanvas(paper_digit(28), grid=28)
    before = list(canvas.pixels)
    pixels = [255] * 28 ** 2
    pixels[5] = bad
    with pytest.raises(traitlets.TraitError, match=r"grey levels, numbers from 0 .* to 255 .*pixels\[5\].*load"):
        canvas.pixels = pixels
    assert canvas.pixels == before  # refused at assignment: nothing stored, nothing fails later
    canvas.pixels = [0.0, np.uint8(7), np.float32(254.5)] + [255] * (28 ** 2 - 3)  # any real numbers in range
    assert canvas.image()[0, :3].tolist() == [0, 7, 254]


def test_load_stretches_a_normalised_digit_to_the_pad_range():
    digit = paper_digit(28) / 255.0                      # 0-1
    normalised = (digit - 0.1307) / 0.3081               # as transforms.Normalize gives: -0.42 to 2.82
    assert normalised.min() < 0 and normalised.max() > 2
    canvas = DigitCanvas(grid=28)
    canvas.load(digit)
    expected = canvas.image()
    canvas.load(normalised)
    assert canvas.image().min() == 0 and canvas.image().max() == 255  # not a black pad
    assert np.abs(canvas.image().astype(int) - expected).max() <= 1
    canvas.load(torch.tensor(normalised, requires_grad=True))  # a tensor that needs grad is fine too
    assert np.abs(canvas.image().astype(int) - expected).max() <= 1
    with pytest.raises(ValueError, match="NaN"):
        canvas.load(np.full((28, 28), np.nan))
    with pytest.raises(TypeError, match="numbers"):
        canvas.load(np.array([["a", "b"], ["c", "d"]]))
