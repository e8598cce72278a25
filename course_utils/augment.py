"""Moving digits around: a fixed shift (to test a model) and random shifts (to train one)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ._validate import cpu_generator, image_batch, non_negative_int, whole_number
from .env import restartable


def shift_images(images: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """Move every image ``dx`` pixels right and ``dy`` pixels down (negative: left, up), filling with 0.

    Pixels pushed past the border are lost; the new border strip is background (0).

    Returns:
        A new tensor of the same shape ([B, C, H, W]), dtype and device.

    Raises:
        ValueError: when the shift is as large as the image, which would leave nothing in view.
    """
    images = image_batch(images, "shift_images", channels="any", floats=False)
    dx, dy = whole_number(dx, "dx", "pixels"), whole_number(dy, "dy", "pixels")
    height, width = images.shape[-2:]
    if abs(dx) >= width or abs(dy) >= height:
        raise ValueError(f"a shift of dx={dx}, dy={dy} would move a {height}x{width} image out of view; "
                         f"use |dx| < {width} and |dy| < {height}")
    out = torch.zeros_like(images)
    src_rows, dst_rows = slice(max(0, -dy), height - max(0, dy)), slice(max(0, dy), height - max(0, -dy))
    src_cols, dst_cols = slice(max(0, -dx), width - max(0, dx)), slice(max(0, dx), width - max(0, -dx))
    out[..., dst_rows, dst_cols] = images[..., src_rows, src_cols]
    return out


class RandomShift:
    """Training-time augmentation: move each image by its own random offset of up to ``max_shift`` pixels.

    Each image gets an independent (dx, dy) with -max_shift <= dx, dy <= max_shift, drawn from
    ``generator`` (a CPU torch.Generator), so a seeded run repeats exactly; ``seed_everything`` puts
    the generator back to where it was when the RandomShift was made. Works on a whole batch at once on
    any device: pad by ``max_shift`` with zeros, then crop a window at each image's offset.
    """

    def __init__(self, max_shift: int = 2, generator: torch.Generator | None = None) -> None:
        self.max_shift = non_negative_int(max_shift, "max_shift", "pixels")
        self.generator = restartable(torch.Generator().manual_seed(0) if generator is None
                                     else cpu_generator(generator), owner=self)

    def __repr__(self) -> str:
        return f"RandomShift(max_shift={self.max_shift})"

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """A randomly shifted copy of a batch [B, C, H, W] (the batch itself when ``max_shift`` is 0)."""
        image_batch(images, "RandomShift", channels="any", floats=False)
        s, (n, _, height, width) = self.max_shift, images.shape
        if s == 0:
            return images
        offsets = torch.randint(0, 2 * s + 1, (2, n), generator=self.generator).to(images.device)
        padded = F.pad(images, (s, s, s, s))                                   # [B, C, H, W] -> [B, C, H+2s, W+2s]
        rows = offsets[0, :, None] + torch.arange(height, device=images.device)  # [B, H]: rows each image keeps
        cols = offsets[1, :, None] + torch.arange(width, device=images.device)   # [B, W]
        batch = torch.arange(n, device=images.device)[:, None, None]
        cropped = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # [B, H, W, C]
        return cropped.permute(0, 3, 1, 2).contiguous(memory_format=_memory_format(images))


def _memory_format(images: torch.Tensor) -> torch.memory_format:
    """channels_last when ``images`` use it (so the shifted batch keeps the layout), else the usual one."""
    channels_last = images.shape[1] > 1 and images.is_contiguous(memory_format=torch.channels_last)
    return torch.channels_last if channels_last else torch.contiguous_format
