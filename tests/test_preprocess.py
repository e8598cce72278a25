import numpy as np
import pytest
import torch

from course_utils.mnist_files import MnistUnavailable
from course_utils.preprocess import NoDigitFound, as_array, center_of_mass, preprocess, to_grey


def ring(height=100, width=80, thickness=0.12):
    """A synthetic '0': an ellipse outline, 1.0 ink on 0.0 background, float64 [height, width]."""
    r, c = np.mgrid[0:height, 0:width]
    d = np.sqrt(((r - height * 0.5) / (height * 0.35)) ** 2 + ((c - width * 0.45) / (width * 0.25)) ** 2)
    return (np.abs(d - 1) < thickness).astype(np.float64)


def corr(a, b):
    return float(np.corrcoef(np.asarray(a).ravel(), np.asarray(b).ravel())[0, 1])


def similar(a, b):
    """Correlation allowing a shift of up to one pixel (centring rounds to whole pixels)."""
    a, b = np.asarray(a).reshape(28, 28), np.asarray(b).reshape(28, 28)
    return max(corr(np.roll(a, (dr, dc), axis=(0, 1)), b) for dr in (-1, 0, 1) for dc in (-1, 0, 1))


def ink_box(out):
    rows, cols = np.nonzero(out[0].numpy() > 0.1)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


@pytest.fixture(scope="module")
def mnist_test():
    from course_utils.data import mnist_tensors

    try:
        return mnist_tensors(train=False)
    except MnistUnavailable as err:
        pytest.skip(f"MNIST not available: {err}")


def test_output_is_mnist_shaped_centred_and_fits_20x20():
    out, steps = preprocess(ring())
    assert out.shape == (1, 28, 28) and out.dtype == torch.float32
    assert 0 <= out.min() and out.max() <= 1 and out.max() > 0.99
    assert max(ink_box(out)) in (19, 20, 21)
    row, col = center_of_mass(out[0].numpy())
    assert abs(row - 14) <= 0.6 and abs(col - 14) <= 0.6
    assert any("cropped" in s for s in steps) and any("centre of mass" in s for s in steps)


@pytest.mark.parametrize("blank", [np.zeros((28, 28)), np.ones((28, 28)), np.full((50, 40), 255, np.uint8),
                                   torch.full((3, 64, 64), 0.5)], ids=["black", "all-ink", "white-uint8", "grey"])
def test_blank_or_uniform_image_raises_a_friendly_no_digit(blank):
    with pytest.raises(NoDigitFound, match="No digit found") as info:
        preprocess(blank)
    assert info.value.steps  # what was done before finding out
    assert isinstance(info.value, ValueError)


def test_tiny_image_is_scaled_up():
    tiny = np.zeros((5, 5))
    tiny[2, :] = tiny[:, 2] = 1.0  # a plus sign
    out, steps = preprocess(tiny)
    assert out.shape == (1, 28, 28) and max(ink_box(out)) >= 19
    assert any("scaled by 4" in s for s in steps)


def test_huge_image_1000x800_is_scaled_down_and_matches_a_small_one():
    huge, small = preprocess(ring(800, 1000))[0], preprocess(ring(200, 250))[0]
    assert similar(huge, small) > 0.9


def test_colour_layouts_and_ranges_give_the_same_result():
    grey = ring()
    reference, _ = preprocess(grey)
    rgb_hwc = np.repeat((grey * 255).astype(np.uint8)[..., None], 3, axis=2)       # numpy, [H, W, 3], 0-255
    rgb_chw = torch.from_numpy(grey).float().expand(3, -1, -1)                     # tensor, [3, H, W], 0-1
    float255 = grey * 255.0                                                        # float, 0-255
    batch = torch.from_numpy(grey)[None, None]                                     # [1, 1, H, W]
    normalised = (grey - 0.1307) / 0.3081                                          # negative values
    for image in (rgb_hwc, rgb_chw, float255, batch, normalised, grey > 0.5):
        out, _ = preprocess(image)
        assert similar(out, reference) > 0.99


def test_rgb_steps_mention_colour_and_rgba_lies_on_white():
    grey = ring()
    rgba = np.zeros(grey.shape + (4,))
    rgba[..., 3] = grey  # black ink, transparent paper: as a PNG from a web page
    out, steps = preprocess(rgba)
    assert similar(out, preprocess(grey)[0]) > 0.99
    assert any("white background" in s for s in steps) and any("inverted" in s for s in steps)
    _, steps = preprocess(np.repeat(grey[..., None], 3, axis=2))
    assert any("colour to grey" in s for s in steps)


def test_inverted_colours_black_ink_on_white_paper():
    grey = ring()
    paper = 30 + 200 * (1 - grey)  # dark grey ink (30) on light grey paper (230), 0-255 floats
    out, steps = preprocess(paper)
    assert similar(out, preprocess(grey)[0]) > 0.99
    assert any("inverted" in s for s in steps) and any("contrast stretched" in s for s in steps)


def test_pil_images_are_accepted():
    from PIL import Image

    grey = (ring() * 255).astype(np.uint8)
    for image in (Image.fromarray(grey), Image.fromarray(255 - grey).convert("RGB"), Image.fromarray(grey).convert("P")):
        out, steps = preprocess(image)
        assert similar(out, preprocess(grey)[0]) > 0.99 and steps[0].startswith("PIL image")


@pytest.mark.parametrize("bad, error", [(np.array([["a", "b"]]), TypeError), (np.zeros((5, 28, 28)), ValueError),
                                        (np.zeros((0, 28)), ValueError), (np.full((28, 28), np.nan), ValueError),
                                        (np.zeros((28, 28, 7)), ValueError)])
def test_bad_inputs_say_what_was_expected(bad, error):
    with pytest.raises(error, match="expected|NaN"):
        preprocess(bad)


def test_as_array_and_to_grey_report_their_steps():
    x, steps = as_array(np.array([[0, 128], [255, 0]], dtype=np.uint8))
    assert x.max() == 1.0 and "divided by 255" in steps[-1]
    grey, steps = to_grey(np.full((10, 10), 200, np.uint8) - np.eye(10, dtype=np.uint8) * 150)
    assert grey.shape == (10, 10) and grey.max() == pytest.approx(1) and any("inverted" in s for s in steps)


def test_center_of_mass():
    x = np.zeros((5, 7))
    x[1, 2], x[3, 6] = 1.0, 1.0
    assert center_of_mass(x) == pytest.approx((2.0, 4.0))


def test_real_mnist_digits_stay_the_same(mnist_test):
    images, _ = mnist_test
    scores = [corr(preprocess(images[i])[0], images[i]) for i in range(200)]
    assert np.median(scores) > 0.99 and np.mean(np.array(scores) > 0.95) > 0.95


def test_a_file_path_is_read_as_a_picture(tmp_path):
    from PIL import Image

    picture = (255 - ring() * 255).astype(np.uint8)  # dark ink on white paper, as a scan would be
    Image.fromarray(picture).convert("RGB").save(tmp_path / "zero.png")
    from_file, steps = preprocess(tmp_path / "zero.png")
    from_array, _ = preprocess(picture)
    assert steps[0] == "read zero.png" and torch.allclose(from_file, from_array, atol=1e-6)
    assert torch.equal(preprocess(str(tmp_path / "zero.png"))[0], from_file)


def test_a_missing_or_broken_file_gets_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no image file at"):
        preprocess(tmp_path / "missing.png")
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(ValueError, match="not a picture PIL can read"):
        preprocess(tmp_path / "notes.png")


def test_placement_does_not_depend_on_the_last_bit_of_the_centre_of_mass():
    from course_utils.preprocess import _nearest

    # 9.5 on one machine is 9.499999999999998 on another: both must give the same pixel
    assert _nearest(14 - 9.5) == _nearest(14 - 9.499999999999998) == 5
    assert _nearest(2.5) == 3 and _nearest(-0.5) == 0 and _nearest(3.4999) == 3 and _nearest(3.6) == 4
