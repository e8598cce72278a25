"""Draw your own digit: a canvas widget (anywidget) whose drawing a model classifies as you draw.

The browser side is an HTML canvas with inline JavaScript (``_esm``) and CSS (``_css``). It sends the
drawing to Python as ``pixels``, a flat row-major list of ``grid`` x ``grid`` grey levels (0 = black
ink, 255 = white paper; empty list = blank), and draws whatever Python puts in ``probabilities``
(10 bars), ``seen`` (the 28x28 image the model was given) and ``message``. With several models
(``live_predictions(canvas, {"dense network": mlp, "CNN": cnn})``) it shows one button per name in ``models``;
a click sets ``model_name`` and the bars switch to that model. Only API present in
anywidget 0.9 (Colab) and 0.11 is used: ``AnyWidget``, an ``_esm`` string with a default export, and
traitlets tagged ``sync=True``. Without a browser (CI, a headless run) the widget is plain Python
state, so a notebook can load a sample drawing and show a static prediction.
"""
from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping

import anywidget
import numpy as np
import torch
import traitlets
from torch import nn

from ._validate import int_in_range
from .deploy import Prediction, predict

EMPTY_MESSAGE = "Draw a digit in the white box (mouse, pen or finger); the bars update as you draw."


def live_predictions(canvas: DigitCanvas, model: nn.Module | Mapping[str, nn.Module],
                     device: torch.device | str = "cpu") -> Callable[[traitlets.Bunch | None], None]:
    """Classify the drawing with ``model`` now and after every change of the pad.

    Args:
        canvas: the pad.
        model: one model, or several by name (``{"dense network": mlp, "CNN": cnn}``): the pad then shows a
            button per name and classifies with the model whose button was clicked last (the first at the start;
            ``canvas.model_name = "CNN"`` switches from Python).
        device: where the models are.

    Returns:
        The handler that runs on every change; ``canvas.unobserve(handler, names=["pixels", "model_name"])``
        stops it.

    Raises:
        TypeError: when canvas is not a DigitCanvas, or a model is not an nn.Module (or its name not a string).
        ValueError: when the mapping of models is empty.
    """
    if not isinstance(canvas, DigitCanvas):
        raise TypeError(f"canvas must be a DigitCanvas, got {type(canvas).__name__}")
    models = dict(model) if isinstance(model, Mapping) else None
    if models is not None:
        if not models:
            raise ValueError("live_predictions got an empty mapping of models; pass one model, or "
                             '{"name": model, ...} with at least one')
        for name, one in models.items():
            if not isinstance(name, str) or not name.strip():
                raise TypeError(f"model names must be non-empty strings (they label the buttons), got {name!r}")
            if not isinstance(one, nn.Module):
                raise TypeError(f"models[{name!r}] must be a model (an nn.Module), got {type(one).__name__}")
        canvas.models = list(models)
        if canvas.model_name not in models:
            canvas.model_name = canvas.models[0]
    elif not isinstance(model, nn.Module):
        raise TypeError(f"model must be a model (an nn.Module) or a dict of them by name, got {type(model).__name__}")
    else:
        canvas.models, canvas.model_name = [], ""

    def update(_change: traitlets.Bunch | None = None) -> None:
        """Show the chosen model's prediction for what is on the pad now."""
        image = canvas.image()
        chosen = model if models is None else models[canvas.model_name]
        canvas.show(None if image is None else predict(chosen, image, device))

    canvas.observe(update, names=["pixels", "model_name"])
    update()
    return update


_ESM = r"""
function el_(tag, cls, parent) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (parent) parent.appendChild(e);
  return e;
}

function render({ model, el }) {
  const grid = model.get("grid");
  const root = el_("div", "dc-root", el);
  const left = el_("div", "dc-col", root);
  const pad = el_("canvas", "dc-pad", left);
  pad.width = pad.height = grid;
  const ctx = pad.getContext("2d", { willReadFrequently: true });
  const clear = el_("button", "dc-button", left);
  clear.textContent = "Clear";
  const right = el_("div", "dc-col", root);
  const choice = el_("div", "dc-models", right);
  const bars = el_("div", "dc-bars", right);
  const rows = [];
  for (let d = 0; d < 10; d++) {
    const row = el_("div", "dc-row", bars);
    el_("span", "dc-digit", row).textContent = String(d);
    const track = el_("div", "dc-track", row);
    const fill = el_("div", "dc-fill", track);
    const value = el_("span", "dc-value", row);
    rows.push({ row, fill, value });
  }
  const seenBox = el_("div", "dc-seen-box", right);
  el_("div", "dc-caption", seenBox).textContent = "what the network sees (28x28):";
  const seen = el_("canvas", "dc-seen", seenBox);
  seen.width = seen.height = 28;
  const message = el_("div", "dc-message", right);

  function paint() {
    const pixels = model.get("pixels");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, grid, grid);
    if (pixels.length !== grid * grid) return;
    const img = ctx.createImageData(grid, grid);
    for (let i = 0; i < pixels.length; i++) {
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = pixels[i];
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  function show() {
    const probs = model.get("probabilities");
    const best = probs.length ? probs.indexOf(Math.max(...probs)) : -1;
    rows.forEach((r, d) => {
      const p = probs.length ? probs[d] : 0;
      r.fill.style.width = (100 * p).toFixed(1) + "%";
      r.value.textContent = probs.length ? (100 * p).toFixed(1) + "%" : "";
      r.row.classList.toggle("dc-best", d === best);
    });
    const values = model.get("seen");
    const sctx = seen.getContext("2d");
    const img = sctx.createImageData(28, 28);
    for (let i = 0; i < 28 * 28; i++) {
      const v = values.length === 28 * 28 ? Math.round(255 * values[i]) : 0;
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
      img.data[4 * i + 3] = 255;
    }
    sctx.putImageData(img, 0, 0);
    message.textContent = model.get("message");
  }

  function choices() {
    const names = model.get("models");
    choice.replaceChildren();
    choice.style.display = names.length > 1 ? "" : "none";
    names.forEach((name) => {
      const button = el_("button", "dc-button dc-model", choice);
      button.textContent = name;
      button.setAttribute("aria-pressed", String(name === model.get("model_name")));
      button.addEventListener("click", () => {
        model.set("model_name", name);
        model.save_changes();
        choices();
      });
    });
  }

  function send() {
    const data = ctx.getImageData(0, 0, grid, grid).data;
    const pixels = new Array(grid * grid);
    for (let i = 0; i < pixels.length; i++) pixels[i] = data[4 * i];
    model.set("pixels", pixels);
    model.save_changes();
  }

  let drawing = false, last = null, lastSent = 0;
  function at(event) {
    const box = pad.getBoundingClientRect();
    return [(event.clientX - box.left) * grid / box.width, (event.clientY - box.top) * grid / box.height];
  }
  function stroke(to) {
    ctx.strokeStyle = "#000000";
    ctx.lineWidth = model.get("brush");
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(last[0], last[1]);
    ctx.lineTo(to[0], to[1]);
    ctx.stroke();
    last = to;
  }
  pad.addEventListener("pointerdown", (event) => {
    drawing = true;
    pad.setPointerCapture(event.pointerId);
    last = at(event);
    ctx.fillStyle = "#000000";
    ctx.beginPath();
    ctx.arc(last[0], last[1], model.get("brush") / 2, 0, 2 * Math.PI);
    ctx.fill();
    event.preventDefault();
  });
  pad.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    stroke(at(event));
    if (Date.now() - lastSent > 250) { lastSent = Date.now(); send(); }
  });
  const finish = () => { if (drawing) { drawing = false; send(); } };
  pad.addEventListener("pointerup", finish);
  pad.addEventListener("pointercancel", finish);
  clear.addEventListener("click", () => {
    model.set("pixels", []);
    model.save_changes();
    paint();
  });

  const onPixels = () => { if (!drawing) paint(); };
  model.on("change:pixels", onPixels);
  model.on("change:probabilities", show);
  model.on("change:seen", show);
  model.on("change:message", show);
  model.on("change:models", choices);
  model.on("change:model_name", choices);
  paint();
  choices();
  show();
  return () => {
    model.off("change:pixels", onPixels);
    model.off("change:probabilities", show);
    model.off("change:seen", show);
    model.off("change:message", show);
    model.off("change:models", choices);
    model.off("change:model_name", choices);
  };
}

export default { render };
"""

_CSS = """
.dc-root { display: flex; gap: 16px; align-items: flex-start; font-family: sans-serif; font-size: 13px;
           color: #222; background: #fff; padding: 8px; }
.dc-col { display: flex; flex-direction: column; gap: 6px; }
.dc-pad { width: 224px; height: 224px; border: 1px solid #888; cursor: crosshair; touch-action: none;
          background: #fff; }
.dc-button { width: 80px; padding: 2px 6px; }
.dc-models { display: flex; gap: 4px; flex-wrap: wrap; }
.dc-model { width: auto; }  .dc-model[aria-pressed="true"] { background: #4878cf; color: #fff; border-color: #4878cf; }
.dc-bars { display: flex; flex-direction: column; gap: 2px; width: 240px; }
.dc-row { display: flex; align-items: center; gap: 6px; }
.dc-digit { width: 12px; text-align: right; }  .dc-value { width: 48px; text-align: right; }
.dc-track { flex: 1; height: 12px; background: #eee; }  .dc-fill { height: 100%; width: 0; background: #4878cf; }
.dc-best .dc-fill { background: #ee854a; }  .dc-best .dc-digit, .dc-best .dc-value { font-weight: bold; }
.dc-seen { width: 84px; height: 84px; image-rendering: pixelated; border: 1px solid #888; }
.dc-caption, .dc-message { max-width: 300px; color: #555; }
"""


class DigitCanvas(anywidget.AnyWidget):
    """A drawing pad for one digit, with bars for the class probabilities and the 28x28 image the model saw.

    Args:
        image: optional starting drawing (any array ``load`` takes), e.g. a sample digit for headless runs.
        grid: the pad's resolution in pixels per side (it is shown at 224x224 screen pixels).
        **kwargs: other settings of the widget, e.g. ``brush=14.0`` (the pen's width in pad pixels).
    """

    _esm = _ESM
    _css = _CSS
    grid = traitlets.Int(112).tag(sync=True)
    brush = traitlets.Float(10.0).tag(sync=True)
    pixels = traitlets.List().tag(sync=True)
    probabilities = traitlets.List().tag(sync=True)
    seen = traitlets.List().tag(sync=True)
    message = traitlets.Unicode(EMPTY_MESSAGE).tag(sync=True)
    models = traitlets.List(traitlets.Unicode()).tag(sync=True)
    model_name = traitlets.Unicode("").tag(sync=True)

    def __init__(self, image: torch.Tensor | np.ndarray | None = None, grid: int = 112, **kwargs: object) -> None:
        grid = int_in_range(grid, "grid", 28, 512, "pixels per side")
        super().__init__(grid=grid, **kwargs)
        if image is not None:
            self.load(image)

    def image(self) -> np.ndarray | None:
        """The drawing as a [grid, grid] uint8 array (black ink 0 on white paper 255), or None when blank."""
        if not self.pixels:
            return None
        return np.clip(np.asarray(self.pixels, dtype=np.int64), 0, 255).astype(np.uint8).reshape(self.grid, self.grid)

    def load(self, image: torch.Tensor | np.ndarray) -> None:
        """Put a picture on the pad: a [H, W] array or tensor, resized to grid x grid.

        Values in 0-1 are read as 0-1 and values in 0-255 as 0-255; anything outside 0-255 (e.g. a digit
        normalised with transforms.Normalize, -0.42 to 2.82) is stretched from its min and max to 0-255.

        Raises:
            TypeError: when the image does not hold numbers.
            ValueError: when it is not one greyscale [H, W] image, or holds NaN or infinite values.
        """
        if isinstance(image, torch.Tensor):
            image = image.detach().cpu()  # a tensor on the GPU or one that needs grad
        array = np.asarray(image)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"load takes an image of numbers (array or tensor of grey levels), got dtype "
                            f"{array.dtype}")
        x = torch.as_tensor(array.astype(np.float32))
        if x.dim() != 2 or min(x.shape) < 1:
            raise ValueError(f"load takes one greyscale image shaped [H, W], got shape {list(x.shape)}")
        if not torch.isfinite(x).all():
            raise ValueError("load: the image contains NaN or infinite values; pass grey levels (0-1 or 0-255)")
        lo, hi = x.min().item(), x.max().item()
        if (lo < 0 or hi > 255) and hi > lo:  # normalised or other units: the pad's range is 0-255
            x = (x - lo) / (hi - lo) * 255
        elif hi <= 1:
            x = x * 255
        x = torch.nn.functional.interpolate(x[None, None], size=(self.grid, self.grid), mode="bilinear",
                                            antialias=True, align_corners=False)[0, 0]
        self.pixels = x.round().clamp(0, 255).to(torch.int64).flatten().tolist()

    def clear(self) -> None:
        """Wipe the pad (as the Clear button does)."""
        self.pixels = []

    def show(self, prediction: Prediction | None) -> None:
        """Show ``prediction`` (bars, the model's view, its message); None shows the empty-pad message."""
        if prediction is None or prediction.probabilities is None:
            self.probabilities, self.seen = [], []
            self.message = EMPTY_MESSAGE if prediction is None else prediction.message
            return
        self.probabilities = [round(p, 4) for p in prediction.probabilities.tolist()]
        self.seen = [round(v, 3) for v in prediction.image.flatten().tolist()]
        who = f"The {self.model_name}" if self.model_name else "The network"
        self.message = f"{who} says {prediction.digit} ({prediction.probabilities.max().item():.1%})."

    @traitlets.validate("model_name")
    def _valid_model_name(self, proposal: traitlets.Bunch) -> str:
        """The proposed ``model_name``, if it is one of ``models`` (or "" when there are none); TraitError otherwise."""
        name = proposal["value"]
        if self.models and name not in self.models:
            raise traitlets.TraitError(f"model_name must be one of the pad's models {self.models}, got {name!r}")
        return name

    @traitlets.validate("pixels")
    def _valid_pixels(self, proposal: traitlets.Bunch) -> list[int | float]:
        """The proposed ``pixels``, if they are grid*grid grey levels from 0 to 255 (or none); TraitError otherwise."""
        pixels = proposal["value"]
        if len(pixels) not in (0, self.grid ** 2):
            raise traitlets.TraitError(f"pixels must hold grid*grid = {self.grid ** 2} grey levels (or none), "
                                       f"got {len(pixels)}; use canvas.load(image) to set a picture")
        for i, value in enumerate(pixels):
            if (type(value) is int or type(value) is float) and 0 <= value <= 255:
                continue  # what the browser and load() send, checked fast (NaN fails the comparison)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 255:  # NaN too
                raise traitlets.TraitError(
                    f"pixels must be grey levels, numbers from 0 (black ink) to 255 (white paper); pixels[{i}] is "
                    f"{value!r} ({type(value).__name__}); use canvas.load(image) to put a picture on the pad (it "
                    "takes any size, 0-1 or 0-255)")
        return pixels
