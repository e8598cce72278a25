"""Any picture of one digit -> an MNIST-style [1, 28, 28] tensor, with a list of what was done to it.

MNIST digits are light ink on a black background, scaled so the digit fits a 20x20 box (aspect ratio
kept) and placed in a 28x28 field with their centre of mass at the centre. A network trained on MNIST
expects exactly that, so a photo, a scan or a drawing has to be brought into the same form first.
Only numpy and torch are used (PIL images are accepted, not required; a file path is opened with PIL).
"""
from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    import PIL.Image

INK = 0.1           # a pixel brighter than this (after stretching to 0-1) counts as ink when cropping
MIN_CONTRAST = 0.15  # less difference than this between ink and background: no digit
# Ink whose bounding box is smaller than this on its longer side is a speck, not a digit: at least
# MIN_INK_PIXELS pixels, and at least MIN_INK_SHARE of the picture's longer side. Measured: the smallest
# of the 70,000 MNIST digits spans 18 pixels, an MNIST digit shrunk to 7x7 keeps 4 or more, one stroke of
# the 112x112 drawing pad is 10 pixels wide and a digit on a 600x400 scan hundreds of pixels high. So the
# bound (3 pixels up to a 150-pixel picture, 12 on a 600-pixel one) only catches dots, dust and noise; a
# real digit under 2 % of a big photo's side is better cropped first anyway (the message says so).
MIN_INK_PIXELS = 3
MIN_INK_SHARE = 0.02
ORIENTATION = 0x0112  # the EXIF tag a phone writes instead of turning the pixels: 1 = upright, 2-8 = turn/mirror
_MNIST = (28, 28)


class NoDigitFound(ValueError):
    """The image has nothing to classify (blank or uniform). ``steps`` lists what was done before that."""

    def __init__(self, message: str, steps: list[str]) -> None:
        super().__init__(message)
        self.steps = steps


def preprocess(image: torch.Tensor | np.ndarray | PIL.Image.Image | str | os.PathLike, box: int = 20,
               size: int = 28) -> tuple[torch.Tensor, list[str]]:
    """MNIST-style preprocessing of any image of one digit.

    Accepts a tensor, numpy array or PIL image of any size (or the path of a picture file), in 0-1 or
    0-255, grey, RGB or RGBA, light ink on dark or dark ink on light. Steps: grey 0-1 light-on-dark
    (``to_grey``), crop to the ink, scale so the longer side is ``box`` (aspect ratio kept), place in
    ``size`` x ``size`` with the centre of mass in the middle.

    Args:
        image: the picture of one digit.
        box: the side of the square the digit is scaled to fit (MNIST: 20).
        size: the side of the result (MNIST: 28).

    Returns:
        ([1, size, size] float32 in 0-1, the steps taken, one sentence each).

    Raises:
        NoDigitFound: for a blank or uniform image, or one whose only ink is a speck too small to be a
            digit (see MIN_INK_PIXELS).
    """
    x, steps = to_grey(image)
    rows, cols = np.nonzero((x > INK).any(axis=1))[0], np.nonzero((x > INK).any(axis=0))[0]
    ink_h, ink_w = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    need = max(MIN_INK_PIXELS, math.ceil(MIN_INK_SHARE * max(x.shape)))
    if max(ink_h, ink_w) < need:
        raise NoDigitFound(f"No digit found: the only ink is a speck of {ink_w}x{ink_h} pixels (rows "
                           f"{rows[0]}-{rows[-1]}, columns {cols[0]}-{cols[-1]}) in a "
                           f"{x.shape[1]}x{x.shape[0]} picture, too small to be a digit: a digit needs at least "
                           f"{need} pixels on its longer side ({MIN_INK_PIXELS} pixels, and "
                           f"{MIN_INK_SHARE:.0%} of the picture's longer side). If it is a digit, crop the picture "
                           "closer to it or draw it larger.", steps)
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


def to_grey(image: torch.Tensor | np.ndarray | PIL.Image.Image | str | os.PathLike) -> tuple[np.ndarray, list[str]]:
    """Any image as a [H, W] float array in 0-1 with light ink on a dark background, plus the steps.

    Raises:
        NoDigitFound: when the picture is uniform (blank, or ink everywhere).
    """
    x, steps = as_array(image)
    if x.ndim == 3:
        if x.shape[-1] in (2, 4):  # the last channel is alpha: lay the picture on a backdrop
            colour, alpha = x[..., :-1], x[..., -1:]
            if alpha.min() >= 1:
                x = colour
                steps.append("transparency channel dropped: every pixel is opaque")
            else:
                backdrop, why = _backdrop(colour, alpha[..., 0])
                x = colour * alpha + backdrop * (1 - alpha)
                steps.append(f"transparent parts laid on a {'white' if backdrop else 'black'} background ({why})")
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


def as_array(image: torch.Tensor | np.ndarray | PIL.Image.Image | str | os.PathLike) -> tuple[np.ndarray, list[str]]:
    """Any image as a float64 array in 0-1, [H, W] or [H, W, C] (C = 1-4), plus the steps taken.

    Tensors are read channels-first ([C, H, W]) and numpy arrays channels-last ([H, W, C]) when the
    shape allows both; a leading batch dimension of 1 is dropped, and a batch of several MNIST images
    ([N, 28, 28] or [N, 1, 28, 28]) is refused. Integers and floats above 1 are read as 0-255, 16-bit
    data (PIL 16-bit images, uint16 arrays) above 255 as 0-65535; anything else outside 0-255 (e.g.
    normalised values) is rescaled from its min and max. PIL images and files are turned upright as
    their EXIF orientation says, and only their first frame is used (a step says so).

    Raises:
        TypeError: when the image does not hold numbers.
        ValueError: when it is not one image (a batch, more than 4 channels, no pixels), holds NaN or
            infinite values, or is a file that PIL cannot read.
        FileNotFoundError: when it is a path with no file there.
    """
    steps, channels_first, sixteen = [], isinstance(image, torch.Tensor), False
    if isinstance(image, (str, os.PathLike)):
        image = open_image(image)
        steps.append(f"read {Path(image.filename).name}")
    if type(image).__module__.startswith("PIL."):
        image, sixteen = _pil_numbers(image, steps)
    if channels_first:
        image = image.detach().cpu().numpy()
    image = np.asarray(image)
    if image.dtype.kind not in "biuf":
        raise TypeError(f"expected an image of numbers (tensor, numpy array or PIL image), got {type(image).__name__} "
                        f"with dtype {image.dtype}")
    batch = _batch_message(list(image.shape))  # before dropping a leading 1: [1, 3, 28, 28] is one colour image
    if batch is not None:
        raise ValueError(batch)
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
    sixteen = sixteen or (kind == "u" and image.dtype.itemsize == 2)
    image = image.astype(np.float64)
    if kind == "b":
        steps.append("booleans read as 0 and 1")
    elif lo >= 0 and hi <= 255 and (kind in "iu" or hi > 1):
        image /= 255
        steps.append(f"values {lo:g} to {hi:g} read as 0-255: divided by 255")
    elif sixteen and lo >= 0 and hi <= 65535:
        image /= 65535
        steps.append(f"values {lo:g} to {hi:g} read as 16-bit (0-65535): divided by 65535")
    elif lo < 0 or hi > 1:
        image = (image - lo) / (hi - lo)
        steps.append(f"values {lo:.3g} to {hi:.3g} rescaled to 0-1")
    else:
        steps.append("values already in 0-1")
    return image, steps


def open_image(path: str | os.PathLike) -> PIL.Image.Image:
    """The picture file at ``path`` as a PIL image (PNG, JPEG, ...), with a clear error when it is not one.

    The image is returned as stored (``as_array`` turns it upright as its EXIF orientation says); of a
    file with several frames (an animated GIF), the first is loaded.

    Raises:
        FileNotFoundError: when there is no file at ``path``.
        ValueError: when the file is not a picture PIL can read, or too large to open safely.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no image file at {path.resolve()}; pass the path of a PNG or JPEG file, "
                                "or the image itself (tensor, numpy array or PIL image)")
    try:
        with Image.open(path) as picture:
            _frame_count(picture)  # counted while the file is open (PIL remembers it), before frame 1 is loaded
            picture.load()
            return picture
    except Image.DecompressionBombError as err:
        found = re.search(r"\((\d+) pixels\) exceeds limit of (\d+) pixels", str(err))
        size = (f"{int(found[1]):,} pixels, more than the limit of {int(found[2]):,}" if found
                else f"more pixels than the limit ({err})")
        raise ValueError(f"{path.name} is too large to open safely: {size} (twice PIL.Image.MAX_IMAGE_PIXELS; a "
                         "picture this size may be a decompression bomb). A digit needs far fewer pixels: save a "
                         "smaller copy (e.g. under 4000x4000) and pass that; if you trust the file, raise "
                         "PIL.Image.MAX_IMAGE_PIXELS first") from None
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(f"{path.name} is not a picture PIL can read ({err}); use a PNG or JPEG file") from None


def _pil_numbers(picture: PIL.Image.Image, steps: list[str]) -> tuple[np.ndarray, bool]:
    """A PIL image as a numpy array, upright, of the first frame, with its own bit depth; True when 16-bit.

    Modes L, LA, RGB and RGBA are kept; palettes and other modes with transparency become RGBA (so the
    transparency is not lost), 16-bit (I;16...), 32-bit integer (I) and float (F) images are read as
    numbers (``convert("L")`` would clip them to 0-255), anything else becomes greyscale (mode L).
    """
    from PIL import ImageOps

    mode = picture.mode
    steps.append(f"PIL image, mode {mode}")
    frames = _frame_count(picture)
    if frames > 1:
        steps.append(f"frame {picture.tell() + 1} of {frames} used (the file holds {frames} pictures; for "
                     "another, open it with PIL.Image.open, call .seek(k) and pass the image)")
    try:
        orientation = picture.getexif().get(ORIENTATION, 1)
    except Exception:  # a damaged EXIF block: say so instead of failing on metadata
        orientation = 1
        steps.append("EXIF data unreadable: orientation not checked")
    if orientation in range(2, 9):
        picture = ImageOps.exif_transpose(picture)
        steps.append(f"turned upright (EXIF orientation {orientation})")
    sixteen = False
    if mode.startswith("I;16") or mode in ("I", "F"):
        kind = {"I": "32-bit integers", "F": "32-bit floats"}.get(mode, "16-bit integers")
        steps.append(f"PIL mode {mode} ({kind}) read as numbers, not converted to 8-bit")
        sixteen = mode != "F"
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        transparent = "A" in mode or "a" in mode or "transparency" in picture.info
        target = "RGBA" if transparent else "L"
        try:
            picture = picture.convert(target)
        except ValueError as err:
            raise ValueError(f"cannot read a PIL image of mode {mode} ({err}); convert it to RGB first: "
                             "image.convert('RGB')") from None
        steps.append(f"PIL mode {mode} with transparency converted to RGBA (colour + transparency)" if transparent
                     else f"PIL mode {mode} converted to greyscale (mode L)")
    return np.asarray(picture), sixteen


def _frame_count(picture: PIL.Image.Image) -> int:
    """How many pictures (frames) a PIL image's file holds: GIF animations, multi-page TIFFs, phone MPOs."""
    try:
        return int(getattr(picture, "n_frames", 1))
    except Exception:  # a closed file or a damaged later frame: only the loaded frame is known
        return 1


def _batch_message(shape: list[int]) -> str | None:
    """What to say when ``shape`` is a batch of images rather than one ([N, 28, 28], [N, C, H, W]); else None."""
    if not shape:
        return None
    n = shape[0]
    if len(shape) == 4 and n > 1:
        what = "MNIST images" if shape[1:] == [1, *_MNIST] else "images"
        return (f"expected one image, got shape {shape}: that looks like a batch of {n} {what}. Predict them one "
                f"at a time, e.g. for i in range({n}): predict(model, images[i]) (or preprocess(images[i]))")
    if len(shape) == 3 and n > 1 and tuple(shape[1:]) == _MNIST:
        colour = (f". If it really is one 28x28 picture with {n} colour channels first, pass it channels-last, "
                  f"shaped [28, 28, {n}]: image.permute(1, 2, 0) for a tensor, np.moveaxis(image, 0, -1) for a "
                  "numpy array") if n <= 4 else ""
        return (f"expected one image, got shape {shape}: that looks like a batch of {n} MNIST images, not one "
                f"picture. Predict them one at a time, e.g. for i in range({n}): predict(model, images[i]) "
                f"(or preprocess(images[i])){colour}")
    return None


def _backdrop(colour: np.ndarray, alpha: np.ndarray) -> tuple[float, str]:
    """The grey level (0 or 1) to lay the transparent parts of a picture on, and why.

    When the visible (mostly opaque) pixels cover at most half the picture they are the ink itself (a digit
    drawn on a transparent layer): the backdrop must contrast with them, black under light ink and white
    under dark ink. When they cover more, they are a sheet of paper with ink on it and the transparency is
    only a margin (rounded corners, a border): the backdrop matches that paper.
    """
    grey = colour[..., 0] if colour.shape[-1] == 1 else colour @ np.array([0.299, 0.587, 0.114])
    seen = alpha >= 0.5
    if not seen.any():
        seen = alpha > 0
    if not seen.any():
        return 1.0, "nothing is visible"
    light = float(np.median(grey[seen])) > 0.5
    if seen.mean() > 0.5:
        return (1.0 if light else 0.0), f"the same as the opaque {'light' if light else 'dark'} paper around the ink"
    return (0.0 if light else 1.0), f"to contrast with the visible ink, which is {'light' if light else 'dark'}"


def _border_median(x: np.ndarray) -> float:
    """The median of the pixels along the picture's four edges: its background level."""
    return float(np.median(np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]])))


def _nearest(value: float) -> int:
    """``value`` rounded to the nearest integer, halves up, after dropping float noise below 1e-6.

    A centre of mass at exactly 9.5 on one machine is 9.499999999999998 on another, and must land on the
    same pixel.
    """
    return int(np.floor(round(value, 6) + 0.5))
