"""Any picture of one digit -> an MNIST-style [1, 28, 28] tensor, with a list of what was done to it.

MNIST digits are light ink on a black background, scaled so the digit fits a 20x20 box (aspect ratio
kept) and placed in a 28x28 field with their centre of mass at the centre. A network trained on MNIST
expects exactly that, so a photo, a scan or a drawing has to be brought into the same form first.
Only numpy and torch are used (PIL images are accepted, not required; a file path is opened with PIL).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

INK = 0.1           # a pixel brighter than this (after stretching to 0-1) counts as ink when cropping
MIN_CONTRAST = 0.15  # less difference than this between ink and background: no digit


class NoDigitFound(ValueError):
    """The image has nothing to classify (blank or uniform). ``steps`` lists what was done before that."""

    def __init__(self, message: str, steps: list[str]):
        super().__init__(message)
        self.steps = steps


def as_array(image) -> tuple[np.ndarray, list[str]]:
    """Any image as a float64 array in 0-1, [H, W] or [H, W, C] (C = 1-4), plus the steps taken.

    Tensors are read channels-first ([C, H, W]) and numpy arrays channels-last ([H, W, C]) when the
    shape allows both; a leading batch dimension of 1 is dropped. Integers and floats above 1 are
    read as 0-255; anything outside 0-255 (e.g. normalised values) is rescaled from its min and max.
    """
    steps, channels_first = [], isinstance(image, torch.Tensor)
    if isinstance(image, (str, os.PathLike)):
        image = open_image(image)
        steps.append(f"read {Path(image.filename).name}")
    if type(image).__module__.startswith("PIL."):
        steps.append(f"PIL image, mode {image.mode}")
        if image.mode not in ("L", "LA", "RGB", "RGBA"):
            steps.append(f"PIL mode {image.mode} converted to greyscale (mode L)")
            image = image.convert("L")
    if channels_first:
        image = image.detach().cpu().numpy()
    image = np.asarray(image)
    if image.dtype.kind not in "biuf":
        raise TypeError(f"expected an image of numbers (tensor, numpy array or PIL image), got {type(image).__name__} "
                        f"with dtype {image.dtype}")
    while image.ndim > 3 and image.shape[0] == 1:
        image = image[0]  # [1, C, H, W] -> [C, H, W]
    if image.ndim == 3 and image.shape[0] <= 4 and (channels_first or image.shape[-1] > 4):
        image = np.moveaxis(image, 0, -1)  # [C, H, W] -> [H, W, C]
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[-1] <= 4)) or image.size == 0:
        raise ValueError(f"expected one image, shaped [H, W], [H, W, C] or [C, H, W] with 1-4 channels, got shape "
                         f"{list(image.shape)}; for a batch, call this once per image")
    channels = image.shape[2] if image.ndim == 3 else 1
    steps.append(f"{image.shape[1]}x{image.shape[0]} pixels, {channels} channel{'s' * (channels > 1)}, {image.dtype}")
    kind, lo, hi = image.dtype.kind, float(image.min()), float(image.max())
    if not np.isfinite([lo, hi]).all():
        raise ValueError("the image contains NaN or infinite values")
    image = image.astype(np.float64)
    if kind == "b":
        steps.append("booleans read as 0 and 1")
    elif lo >= 0 and hi <= 255 and (kind in "iu" or hi > 1):
        image /= 255
        steps.append(f"values {lo:g} to {hi:g} read as 0-255: divided by 255")
    elif lo < 0 or hi > 1:
        image = (image - lo) / (hi - lo)
        steps.append(f"values {lo:.3g} to {hi:.3g} rescaled to 0-1")
    else:
        steps.append("values already in 0-1")
    return image, steps


def open_image(path: str | os.PathLike):
    """The picture file at ``path`` as a PIL image (PNG, JPEG, ...), with a clear error when it is not one."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no image file at {path.resolve()}; pass the path of a PNG or JPEG file, "
                                "or the image itself (tensor, numpy array or PIL image)")
    try:
        with Image.open(path) as picture:
            picture.load()
            return picture
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(f"{path.name} is not a picture PIL can read ({err}); use a PNG or JPEG file") from None


def _border_median(x: np.ndarray) -> float:
    return float(np.median(np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]])))


def to_grey(image) -> tuple[np.ndarray, list[str]]:
    """Any image as a [H, W] float array in 0-1 with light ink on a dark background, plus the steps.

    Raises NoDigitFound when the picture is uniform (blank, or ink everywhere).
    """
    x, steps = as_array(image)
    if x.ndim == 3:
        if x.shape[-1] in (2, 4):  # the last channel is alpha: lay the picture on white paper
            x = x[..., :-1] * x[..., -1:] + (1 - x[..., -1:])
            steps.append("transparent parts laid on a white background")
        if x.shape[-1] == 3:
            x = x @ np.array([0.299, 0.587, 0.114])
            steps.append("colour to grey: 0.299 R + 0.587 G + 0.114 B")
        else:
            x = x[..., 0]
    if x.max() - x.min() < MIN_CONTRAST:
        raise NoDigitFound(f"No digit found: the image is uniform (every pixel between {x.min():.2f} and "
                           f"{x.max():.2f}, on a 0-1 scale). Draw or pass an image with a digit on it.", steps)
    if _border_median(x) > 0.5:
        steps.append(f"light background (edge pixels' median {_border_median(x):.2f}): inverted to light ink on dark")
        x = 1 - x
    background, peak = _border_median(x), float(x.max())
    if peak - background < MIN_CONTRAST:
        raise NoDigitFound(f"No digit found: nothing stands out from the background ({background:.2f}).", steps)
    if background > 0.02 or peak < 0.98:
        x = np.clip((x - background) / (peak - background), 0, 1)
        steps.append(f"contrast stretched: background {background:.2f} -> 0, strongest ink {peak:.2f} -> 1")
    return x, steps


def center_of_mass(x: np.ndarray) -> tuple[float, float]:
    """(row, column) of the brightness-weighted mean position of a [H, W] array."""
    mass = x.sum()
    return float(x.sum(1) @ np.arange(x.shape[0]) / mass), float(x.sum(0) @ np.arange(x.shape[1]) / mass)


def _nearest(value: float) -> int:
    """``value`` rounded to the nearest integer, halves up, after dropping float noise below 1e-6: a centre
    of mass at exactly 9.5 on one machine is 9.499999999999998 on another, and must land on the same pixel."""
    return int(np.floor(round(value, 6) + 0.5))


def preprocess(image, box: int = 20, size: int = 28) -> tuple[torch.Tensor, list[str]]:
    """MNIST-style preprocessing of any image of one digit. Returns ([1, size, size] float32 in 0-1, steps).

    Accepts a tensor, numpy array or PIL image of any size, in 0-1 or 0-255, grey, RGB or RGBA, light ink
    on dark or dark ink on light. Steps: grey 0-1 light-on-dark (``to_grey``), crop to the ink, scale so
    the longer side is ``box`` (aspect ratio kept), place in ``size`` x ``size`` with the centre of mass
    in the middle. Raises NoDigitFound for a blank or uniform image.
    """
    x, steps = to_grey(image)
    rows, cols = np.nonzero((x > INK).any(axis=1))[0], np.nonzero((x > INK).any(axis=0))[0]
    x = x[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    steps.append(f"cropped to the ink: {x.shape[1]}x{x.shape[0]} (rows {rows[0]}-{rows[-1]}, "
                 f"columns {cols[0]}-{cols[-1]})")
    scale = box / max(x.shape)
    h, w = max(1, round(x.shape[0] * scale)), max(1, round(x.shape[1] * scale))
    if (h, w) != x.shape:
        t = torch.from_numpy(x)[None, None]  # [H, W] -> [1, 1, H, W], as interpolate wants
        x = torch.nn.functional.interpolate(t, size=(h, w), mode="bilinear", antialias=True,
                                            align_corners=False)[0, 0].clamp(0, 1).numpy()
        steps.append(f"scaled by {scale:.3g} to {w}x{h} (longer side {box}, aspect ratio kept)")
        if x.max() < 0.9:  # thin strokes fade when shrunk; MNIST strokes have a full-white core
            steps.append(f"brightened: strongest ink {x.max():.2f} -> 1")
            x = x / x.max()
    row, col = center_of_mass(x)
    top = int(np.clip(_nearest(size / 2 - row), 0, size - h))
    left = int(np.clip(_nearest(size / 2 - col), 0, size - w))
    out = torch.zeros(1, size, size)
    out[0, top:top + h, left:left + w] = torch.from_numpy(x).float()
    steps.append(f"placed in {size}x{size} with its centre of mass near the middle (row {top + row:.1f}, "
                 f"column {left + col:.1f})")
    return out, steps
