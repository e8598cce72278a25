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


def seven(height=60, width=40):
    """A synthetic '7' (a bar on top, a diagonal down to the bottom left): asymmetric, so a turn shows."""
    x = np.zeros((height, width))
    x[6:12, 6:width - 6] = 1.0
    for r in range(12, height - 6):
        c = int(width - 10 - (r - 12) * (width - 22) / (height - 18))
        x[r, c:c + 6] = 1.0
    return x


@pytest.mark.parametrize("suffix", ["png", "jpg"])
def test_exif_orientation_6_is_turned_upright(tmp_path, suffix):
    """A phone stores the sensor's pixels sideways and writes orientation 6; every viewer shows it upright."""
    from PIL import Image

    upright = (255 - seven() * 255).astype(np.uint8)  # dark ink on white paper
    stored = np.ascontiguousarray(np.rot90(upright))  # as the sensor saw it: turned 90 degrees anticlockwise
    exif = Image.Exif()
    exif[0x0112] = 6
    quality = {"quality": 95} if suffix == "jpg" else {}
    Image.fromarray(stored).save(tmp_path / f"photo.{suffix}", exif=exif, **quality)
    reference = preprocess(upright)[0]
    assert similar(preprocess(stored)[0], reference) < 0.8  # the digit really does look different sideways
    for image in (tmp_path / f"photo.{suffix}", Image.open(tmp_path / f"photo.{suffix}")):
        out, steps = preprocess(image)
        assert "turned upright (EXIF orientation 6)" in steps
        if suffix == "png":
            assert torch.allclose(out, reference, atol=1e-6)
        else:
            assert corr(out, reference) > 0.97
    _, steps = preprocess(upright)
    assert not any("EXIF" in s for s in steps)


def test_16_bit_png_is_read_as_16_bit_numbers(tmp_path):
    """A scan saved as a 16-bit PNG (ink 8000, paper 52000): convert('L') would clip both to 255."""
    from PIL import Image

    scan = np.where(ring() > 0.5, 8000, 52000).astype(np.uint16)
    Image.fromarray(scan).save(tmp_path / "scan16.png")
    assert Image.open(tmp_path / "scan16.png").mode == "I;16"
    reference, _ = preprocess(scan / 65535.0)
    out, steps = preprocess(tmp_path / "scan16.png")
    assert torch.allclose(out, reference, atol=1e-6)
    assert any("16-bit" in s and "not converted to 8-bit" in s for s in steps)
    assert "values 8000 to 52000 read as 16-bit (0-65535): divided by 65535" in steps
    for other in (Image.fromarray(scan.astype(np.int32)), Image.fromarray((scan / 65535.0).astype(np.float32)), scan):
        out, steps = preprocess(other)  # PIL mode I (32-bit ints), mode F (floats), a numpy uint16 array
        assert torch.allclose(out, reference, atol=1e-5)
    assert "values 8000 to 52000 read as 16-bit (0-65535): divided by 65535" in steps
    x, _ = as_array(np.array([[0, 100], [200, 255]], dtype=np.uint16))  # uint16 holding 0-255 stays 0-255
    assert x.max() == 1.0


@pytest.mark.parametrize("batch", [np.zeros((2, 28, 28)) + np.eye(28), torch.rand(3, 28, 28), torch.rand(4, 28, 28),
                                   torch.rand(3, 1, 28, 28), np.zeros((5, 28, 28))],
                         ids=["numpy-2", "tensor-3", "tensor-4", "tensor-3x1", "numpy-5"])
def test_a_batch_of_mnist_images_is_refused_not_read_as_colour(batch):
    n = batch.shape[0]
    with pytest.raises(ValueError, match=rf"expected one image.*batch of {n} MNIST images.*images\[i\]") as info:
        preprocess(batch)
    if batch.ndim == 3 and n <= 4:  # how to pass a real 28x28 colour picture
        assert f"[28, 28, {n}]" in str(info.value) and "permute(1, 2, 0)" in str(info.value)


def test_real_colour_pictures_still_work_in_either_layout():
    grey = ring(40, 30)
    reference, _ = preprocess(grey)
    chw = torch.from_numpy(grey).float().expand(3, -1, -1)
    small = torch.from_numpy(ring(28, 28)).float()
    for image in (chw, chw[None], chw.permute(1, 2, 0).numpy()):  # [3, H, W], [1, 3, H, W], [H, W, 3]
        assert similar(preprocess(image)[0], reference) > 0.99
    small_reference, _ = preprocess(small)
    for image in (small.expand(3, -1, -1).permute(1, 2, 0), small.expand(3, -1, -1)[None]):  # [28,28,3], [1,3,28,28]
        out, steps = preprocess(image)
        assert similar(out, small_reference) > 0.99 and any("colour to grey" in s for s in steps)


def test_light_ink_on_transparent_background_is_laid_on_black(tmp_path):
    from PIL import Image

    grey = ring()
    reference, _ = preprocess(grey)
    rgba = np.ones(grey.shape + (4,))
    rgba[..., 3] = grey  # white ink, transparent paper: a sticker or a dark-mode drawing
    la = rgba[..., 2:]  # the same as grey + alpha
    Image.fromarray((rgba * 255).astype(np.uint8)).save(tmp_path / "white_ink.png")
    for image in (rgba, la, tmp_path / "white_ink.png"):
        out, steps = preprocess(image)
        assert similar(out, reference) > 0.99
        assert any("black background" in s and "light" in s for s in steps)
    # a palette GIF whose transparent colour is white, like its ink
    palette = Image.fromarray((grey > 0.5).astype(np.uint8), "P")
    palette.putpalette([255, 255, 255] * 2)
    palette.save(tmp_path / "white_ink.gif", transparency=0)
    out, steps = preprocess(tmp_path / "white_ink.gif")
    assert similar(out, reference) > 0.99 and any("converted to RGBA" in s for s in steps)


def test_opaque_paper_with_transparent_margins_stays_on_white():
    """A scanned card with transparent rounded corners: the opaque pixels are the paper, not the ink."""
    grey = ring()
    card = np.ones(grey.shape + (4,))
    card[..., :3] = 1 - grey[..., None]  # black ink on opaque white paper
    card[:6, :, 3] = card[-6:, :, 3] = card[:, :6, 3] = card[:, -6:, 3] = 0  # transparent margins
    out, steps = preprocess(card)
    assert similar(out, preprocess(grey)[0]) > 0.99 and any("white background" in s for s in steps)
    opaque = card.copy()
    opaque[..., 3] = 1
    out, steps = preprocess(opaque)
    assert similar(out, preprocess(grey)[0]) > 0.99 and any("every pixel is opaque" in s for s in steps)


def test_a_speck_is_not_a_digit():
    dot = np.zeros((28, 28))
    dot[5, 5] = 1.0
    two = np.zeros((28, 28))
    two[10:12, 10:12] = 1.0
    dust = np.full((400, 600), 255, np.uint8)
    dust[100:108, 200:208] = 0  # 8x8 pixels of dirt on a 600x400 scan: under 2 % of 600 = 12 pixels
    for image in (dot, two, dust):
        with pytest.raises(NoDigitFound, match="No digit found: the only ink is a speck.*too small.*crop") as info:
            preprocess(image)
        assert info.value.steps
    assert "a digit needs at least 12 pixels" in str(info.value)


def test_small_real_digits_are_still_digits():
    line = np.zeros((28, 28))
    line[10:13, 14] = 1.0  # 3 pixels: the smallest accepted
    assert preprocess(line)[0].max() == 1
    tiny = torch.nn.functional.interpolate(torch.from_numpy(ring())[None, None].float(), size=(7, 7), mode="area")
    assert max(ink_box(preprocess(tiny[0, 0])[0])) >= 19  # a digit shrunk to 7x7, as in chapter 13
    scan = np.full((400, 600, 3), (245, 235, 210), np.uint8)
    scan[60:360, 350:570] = (245 - ring(300, 220)[..., None] * np.array([200, 170, 40])).astype(np.uint8)
    assert similar(preprocess(scan)[0], preprocess(ring(300, 220))[0]) > 0.99  # a digit on a 600x400 scan


def test_mnist_digits_are_never_specks(mnist_test):
    """All 10,000 test digits are far above the speck bound (contrast stretching only adds ink, so the raw
    bounding boxes are a lower bound of what preprocess measures)."""
    from course_utils.preprocess import INK, MIN_INK_PIXELS

    ink = mnist_test[0][:, 0] > INK                                                # [N, 28, 28]

    def extent(any_ink):                                                           # [N, 28] -> [N]
        return 28 - any_ink.float().flip(1).argmax(1) - any_ink.float().argmax(1)

    longest = torch.maximum(extent(ink.any(2)), extent(ink.any(1)))
    assert ink.any((1, 2)).all() and longest.min() >= 5 * MIN_INK_PIXELS  # measured: 19 pixels at the least


def test_animated_gif_says_which_frame_is_used(tmp_path):
    from PIL import Image

    pictures = (ring(), seven(100, 80), np.zeros((100, 80)))
    frames = [Image.fromarray((picture * 255).astype(np.uint8)) for picture in pictures]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    out, steps = preprocess(tmp_path / "anim.gif")
    assert steps[0] == "read anim.gif" and any(s.startswith("frame 1 of 3 used") for s in steps)
    assert similar(out, preprocess(ring())[0]) > 0.99
    with Image.open(tmp_path / "anim.gif") as picture:
        picture.seek(1)
        out, steps = preprocess(picture)
    assert any(s.startswith("frame 2 of 3 used") for s in steps)
    assert similar(out, preprocess(seven(100, 80))[0]) > 0.99
    _, steps = preprocess(frames[0])
    assert not any("frame" in s for s in steps)  # one picture: nothing to say


def test_a_decompression_bomb_gets_the_course_error(tmp_path, monkeypatch):
    from PIL import Image

    Image.fromarray((ring(50, 60) * 255).astype(np.uint8)).save(tmp_path / "huge.png")  # 3,000 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # PIL refuses above twice this: 2,000
    with pytest.raises(ValueError, match=r"huge\.png is too large to open safely: 3,000 pixels, more than the "
                                         r"limit of 2,000.*MAX_IMAGE_PIXELS") as info:
        preprocess(tmp_path / "huge.png")
    assert type(info.value) is ValueError
