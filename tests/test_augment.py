import pytest
import torch

from course_utils.augment import RandomShift, shift_images


def test_shift_moves_right_and_down_and_fills_with_zero():
    x = torch.arange(1, 17, dtype=torch.float32).view(1, 1, 4, 4)
    out = shift_images(x, dx=1, dy=2)
    assert out.shape == x.shape and torch.equal(out[0, 0, 2:, 1:], x[0, 0, :2, :3])
    assert out[0, 0, :2].abs().sum() == 0 and out[0, 0, :, 0].abs().sum() == 0
    assert torch.equal(shift_images(out, dx=-1, dy=-2)[0, 0, :2, :3], x[0, 0, :2, :3])
    assert torch.equal(shift_images(x, 0, 0), x)


def test_shift_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"\[B, C, H, W\]"):
        shift_images(torch.rand(28, 28), 1, 1)
    with pytest.raises(TypeError, match="whole numbers"):
        shift_images(torch.rand(1, 1, 4, 4), 1.5, 0)
    with pytest.raises(ValueError, match="out of view"):
        shift_images(torch.rand(1, 1, 4, 4), 4, 0)


def test_random_shift_applies_one_valid_shift_per_image():
    x = torch.rand(64, 2, 8, 8)
    out = RandomShift(2, torch.Generator().manual_seed(1))(x)
    assert out.shape == x.shape
    shifts = [(dx, dy) for dx in range(-2, 3) for dy in range(-2, 3)]
    found = set()
    for i in range(len(x)):
        matches = [s for s in shifts if torch.equal(out[i:i + 1], shift_images(x[i:i + 1], *s))]
        assert len(matches) == 1
        found.add(matches[0])
    assert len(found) > 10  # the offsets really vary from image to image


def test_random_shift_repeats_with_the_same_seed():
    x = torch.rand(16, 1, 28, 28)
    a = RandomShift(2, torch.Generator().manual_seed(0))(x)
    b = RandomShift(2, torch.Generator().manual_seed(0))(x)
    c = RandomShift(2, torch.Generator().manual_seed(1))(x)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(RandomShift(0)(x), x) and repr(RandomShift(3)) == "RandomShift(max_shift=3)"
    with pytest.raises(ValueError, match="max_shift"):
        RandomShift(-1)
