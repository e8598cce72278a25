"""Input checks for course_utils: one rule per kind of argument (private: the notebooks never import it).

Every rule takes the value and the argument's name, raises TypeError or ValueError with a message that
says what was wrong, what was expected and how to fix it, and otherwise returns the value (converted
where that helps, e.g. "cpu" -> torch.device("cpu")). So a public function checks each argument in one
line, ``epochs = positive_int(epochs, "epochs")``, and a learner never gets a stack trace from deep
inside torch for a wrong argument. Counts refuse bools everywhere: ``True`` is not a number of epochs.
The value a rule checks is typed ``object``: whatever the caller passed, since checking it is the rule's job.
"""
from __future__ import annotations

import inspect
import math
import numbers
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

# ---------------------------------------------------------------- numbers


def _not_an_int(value: object) -> str | None:
    """Why ``value`` is not an int, or None when it is one."""
    if isinstance(value, bool):
        return "a bool, not a number"
    return None if isinstance(value, int) else f"a {type(value).__name__}, not a whole number"


def whole_number(value: object, name: str, unit: str = "") -> int:
    """Any int, positive or negative (e.g. a shift in pixels); TypeError otherwise."""
    why = _not_an_int(value)
    if why is not None:
        raise TypeError(f"{name} must be an int (whole numbers{' of ' + unit if unit else ''}), got {value!r} "
                        f"({why}); pass e.g. {name}=1")
    return value


def int_in_range(value: object, name: str, low: int, high: int | None = None, unit: str = "") -> int:
    """An int from ``low`` to ``high`` (no upper end when None); ValueError otherwise, as the course always raised."""
    why = _not_an_int(value)
    if why is None and value >= low and (high is None or value <= high):
        return value
    expected = (f"an int from {low} to {high}" if high is not None
                else {0: "a non-negative int", 1: "a positive int"}.get(low, f"an int >= {low}"))
    raise ValueError(f"{name} must be {expected}{f' ({unit})' if unit else ''}, got {value!r}"
                     f"{f' ({why})' if why else ''}; pass e.g. {name}={low}")


def positive_int(value: object, name: str, unit: str = "") -> int:
    """A count of at least 1: epochs, batch_size, steps, columns."""
    return int_in_range(value, name, 1, None, unit)


def non_negative_int(value: object, name: str, unit: str = "") -> int:
    """An int of at least 0: a seed, a shift of up to so many pixels."""
    return int_in_range(value, name, 0, None, unit)


def number(value: object, name: str, low: float | None = None, high: float | None = None, why: str = "") -> float:
    """A finite real number (bools refused), optionally within [low, high]; returned as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}; pass e.g. {name}=0.5")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = (f"between {low:g} and {high:g}" if low is not None and high is not None
                  else f">= {low:g}" if low is not None else f"<= {high:g}")
        raise ValueError(f"{name} must be {bounds}{f' ({why})' if why else ''}, got {value:g}")
    return float(value)


def learning_rate(value: object, name: str = "lr") -> float:
    """A positive, finite step size."""
    value = number(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be a positive number (the size of each step), got {value:g}; "
                         f"try e.g. {name}=0.01")
    return value


def interval(value: object, name: str) -> tuple[float, float]:
    """A pair (low, high) of numbers with low < high, e.g. the x range of a plot."""
    try:
        low, high = value
    except (TypeError, ValueError):
        low = high = None
    if low is not None:
        low, high = number(low, f"{name}[0]"), number(high, f"{name}[1]")
    if low is None or not low < high:
        raise ValueError(f"{name} must be (low, high) with low < high, got {value!r}; e.g. {name}=(-5, 5)")
    return low, high


def _ints(values: object, low: int) -> tuple[int, ...] | None:
    """``values`` as a tuple when it is an iterable of ints >= ``low`` (bools refused), else None."""
    try:
        values = tuple(values)
    except TypeError:
        return None
    return values if all(_not_an_int(v) is None and v >= low for v in values) else None


def seed_list(seeds: object, name: str = "seeds") -> list[int]:
    """Distinct non-negative ints (bools refused), from any iterable such as range(5)."""
    values = _ints(seeds, 0)
    if not values or len(set(values)) != len(values):
        raise ValueError(f"{name} must be distinct non-negative ints (not bools), e.g. range(5); got {seeds!r}")
    return list(values)


def layer_sizes(sizes: object, name: str = "sizes") -> tuple[int, ...]:
    """At least two positive ints, inputs first and outputs last, e.g. (784, 16, 16, 10)."""
    values = _ints(sizes, 1)
    if values is None or len(values) < 2:
        raise ValueError(f"{name} must be at least two positive ints (inputs ... outputs), e.g. (784, 16, 16, 10); "
                         f"got {sizes!r}")
    return values

# ---------------------------------------------------------------- choices


def boolean(value: object, name: str, meaning: str = "") -> bool:
    """True or False itself (not 0, 1 or a string)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False{f' ({meaning})' if meaning else ''}, got {value!r}")
    return value


def one_of(value: object, name: str, options: Iterable[object]) -> object:
    """One of ``options`` (strings compared by value, anything else, e.g. a class, by identity)."""
    options = list(options)
    if any(value is option or (isinstance(value, str) and value == option) for option in options):
        return value
    show = lambda v: f"nn.{v.__name__}" if isinstance(v, type) and issubclass(v, nn.Module) else repr(v)  # noqa: E731
    listed = ", ".join(map(show, options[:-1])) + f" or {show(options[-1])}" if len(options) > 1 else show(options[0])
    raise ValueError(f"{name} must be one of {listed}, got {show(value)}")

# ---------------------------------------------------------------- devices, models, optimizers


def machine_has(kind: str) -> bool:
    """Whether this machine has a device of this kind: "cuda", "mps" (Apple GPU) or "cpu" (always)."""
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    return kind == "cpu"


def available_device(device: object, name: str = "device", fix: str = "") -> torch.device:
    """``device`` as a torch.device, after checking this machine has it (a clear error instead of torch's).

    ``fix`` replaces the usual advice (use pick_device()) where a caller has a better one.
    """
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"{name}={device!r} is not a device name; use 'cpu', 'cuda' or 'mps', "
                         "or the device pick_device() returns") from None
    if device.type in ("cuda", "mps") and not machine_has(device.type):
        raise ValueError(f"{name}={str(device)!r} is not available on this machine; "
                         + (fix or "use device = pick_device(), which takes the best device there is "
                                   "(on Colab: Runtime > Change runtime type > T4 GPU)"))
    return device


def model_on_device(model: object, device: object) -> torch.device:
    """``device`` as a torch.device, after checking the model's parameters live there (helpers never move a model)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module such as MLP(), got {type(model).__name__}")
    device = available_device(device)
    param = next(model.parameters(), None)
    if param is not None and param.device.type != device.type:
        raise ValueError(f"the model's parameters are on {param.device} but device={device}; "
                         f"move the model first with model.to({str(device)!r}) or pass device={str(param.device)!r}")
    return device


def optimizer_for(model: nn.Module, optimizer: object) -> torch.optim.Optimizer:
    """A torch.optim optimizer holding ``model``'s parameters: one made for another model would change nothing."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim optimizer, got {type(optimizer).__name__}; "
                        "for example torch.optim.SGD(model.parameters(), lr=0.01)")
    mine = {id(p) for p in model.parameters() if p.requires_grad}
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    if mine and mine.isdisjoint(held):
        raise ValueError("the optimizer holds none of this model's parameters, so training would change nothing: "
                         "it was made for another model (often one created before the model was made again). "
                         "Create it after the model: optimizer = torch.optim.SGD(model.parameters(), lr=...)")
    return optimizer


def activation_module(activation: object) -> nn.Module:
    """An activation module from its class (``nn.ReLU``) or an instance of one (``nn.ReLU()``)."""
    if isinstance(activation, nn.Module):
        return activation
    if isinstance(activation, type) and issubclass(activation, nn.Module):
        return activation()
    raise TypeError(f"activation must be a torch.nn activation class such as nn.Sigmoid or nn.ReLU, "
                    f"got {activation!r}; for example MLP(activation=nn.ReLU)")


def activation_class(activation: type[nn.Module], options: Iterable[type[nn.Module]]) -> type[nn.Module]:
    """``activation`` when it is one of the torch.nn classes ``options`` (as fit_seeds and the neuron explorer
    take it). A name such as "relu" is refused with the message MLP gives (``activation_module``),
    any other class or an instance with the list of ``options``."""
    if not isinstance(activation, type):
        activation_module(activation)  # raises for a name: "must be a torch.nn activation class such as ..."
    return one_of(activation, "activation", options)


def submodule(model: nn.Module, name: str) -> nn.Module:
    """The submodule of ``model`` called ``name`` (e.g. "layer1"), or an error listing the names there are."""
    try:
        return model.get_submodule(name)
    except AttributeError:
        names = [n for n, _ in model.named_modules() if n]
        raise ValueError(f"the model has no submodule {name!r}; its submodules are {names}") from None


def submodules(model: nn.Module, names: object, name: str = "modules") -> dict[str, nn.Module]:
    """{name: submodule} for a list of submodule names (a single string is refused: it is not a list)."""
    if isinstance(names, str):
        raise TypeError(f"{name} must be a list of names, e.g. [{names!r}], not a single string")
    return {n: submodule(model, n) for n in names}


def cpu_generator(generator: object, name: str = "generator") -> torch.Generator:
    """A torch.Generator on the CPU (where the course draws its shuffles and shifts)."""
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"{name} must be a torch.Generator, got {type(generator).__name__}; "
                        f"for example {name}=torch.Generator().manual_seed(0)")
    if generator.device.type != "cpu":
        raise ValueError(f"{name} must be a CPU generator, got one on {generator.device}; "
                         f"use {name}=torch.Generator().manual_seed(0)")
    return generator

# ---------------------------------------------------------------- data


def image_batch(x: object, who: str, *, values: int | None = None, channels: int | str | None = None,
                pooled: tuple[int, int] | None = None, floats: bool = True, dtype: torch.dtype | None = None,
                non_empty: bool = False) -> torch.Tensor:
    """A batch of images ``who`` can take: a tensor [B, ...], of floats unless ``floats=False``.

    Args:
        who: the function or model that takes them, named in the messages.
        values: n numbers per image ([B, 1, 28, 28] and [B, 784] both hold 784).
        channels: c: [B, c, H, W]; "any": any number of channels.
        pooled: (k, side): the image must be 28x28, which k halvings take to the side x side maps a CNN's dense
            layer was built for (named in the message).
        floats: False also takes integer images (raw 0-255 pixels).
        dtype: the dtype of the model's weights, which the images must have (see ``same_precision``).
        non_empty: refuse a batch of no images.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{who} takes a torch.Tensor, got {type(x).__name__}; convert with torch.as_tensor(x) "
                        "(and for one image add a batch dimension: x[None])")
    if floats and not x.is_floating_point():
        raise TypeError(f"{who} needs a float tensor but got {x.dtype} values; for raw 0-255 pixels use "
                        "x.float() / 255 (mnist_tensors and ToTensor already give floats in 0-1)")
    if x.dim() < 2:
        raise ValueError(f"{who} takes a batch of images, e.g. [B, 1, 28, 28], got shape {list(x.shape)}; "
                         "for one image add a batch dimension: x[None] or x.unsqueeze(0)")
    if values is not None and math.prod(x.shape[1:]) != values:
        example = "28x28 digits: [B, 1, 28, 28] or [B, 784]" if values == 784 else f"e.g. [B, {values}]"
        raise ValueError(f"{who} takes images of {values} values each ({example}), got shape {list(x.shape)} "
                         f"({math.prod(x.shape[1:])} values each)")
    if channels is not None and (x.dim() != 4 or (channels != "any" and x.shape[1] != channels)):
        raise ValueError(f"{who} takes images as [B, {'C' if channels == 'any' else channels}, H, W] (e.g. "
                         f"[B, 1, 28, 28]), got shape {list(x.shape)}; for flat [B, 784] rows or [B, 28, 28] "
                         "digits use x.view(-1, 1, 28, 28)")
    # exactly 28x28: other sizes from 24 to 31 px pool down to the same maps and would run, on pictures the
    # filters were never trained at the scale of
    if pooled is not None and (x.shape[2] != 28 or x.shape[3] != 28):
        raise ValueError(f"{who} is built for 28x28 images (after {pooled[0]} poolings its dense layer expects "
                         f"{pooled[1]}x{pooled[1]} maps), got {x.shape[2]}x{x.shape[3]}; resize the images to "
                         "28x28, e.g. with course_utils.preprocess.preprocess for a single picture")
    if non_empty and x.shape[0] == 0:  # not len(x), which would fix the batch size of torch.export to one number
        raise ValueError(f"{who} got an empty batch (shape {list(x.shape)}): no images to compute scores for; "
                         "check the slice or the batches that produced it (images[60000:] of 60,000 images is empty)")
    if dtype is not None:
        same_precision(x, dtype, who)
    return x


def same_precision(x: torch.Tensor, dtype: torch.dtype, who: str, name: str = "images") -> torch.Tensor:
    """Float inputs ``x`` in the precision ``dtype`` of the weights of ``who`` (float32 unless converted).

    A model computes in one precision, so float64 or float16 images meet float32 weights in a matrix
    product that torch refuses ("mat1 and mat2 must have the same dtype"). Under autocast (mixed
    precision) torch converts them itself, so nothing is refused there.
    """
    if x.dtype == dtype or not x.is_floating_point() or not dtype.is_floating_point:
        return x
    try:
        if torch.is_autocast_enabled(x.device.type):
            return x
    except (RuntimeError, TypeError):  # a device type autocast does not know
        pass
    convert = CONVERSIONS.get(dtype, f".to({dtype})")
    raise TypeError(f"{who}'s weights are {_short(dtype)} but the {name} are {_short(x.dtype)}; a model computes "
                    f"in one precision, so convert the {name} with {name}{convert}"
                    + (" (mnist_tensors and ToTensor give float32)" if dtype == torch.float32 else ""))


# the method that converts a tensor to each dtype
CONVERSIONS = {torch.float32: ".float()", torch.float64: ".double()", torch.float16: ".half()",
                torch.bfloat16: ".bfloat16()", torch.int64: ".long()", torch.int32: ".int()", torch.bool: ".bool()"}


def _short(dtype: torch.dtype) -> str:
    """"float32" for torch.float32."""
    return str(dtype).removeprefix("torch.")


def weights_dtype(model: nn.Module) -> torch.dtype | None:
    """The dtype of ``model``'s first floating-point parameter (the precision it computes in), or None."""
    for param in model.parameters():
        if param.is_floating_point():
            return param.dtype
    return None


def finite_images(images: torch.Tensor, who: str, name: str = "images") -> torch.Tensor:
    """Images without NaN or infinite values (a model turns them into NaN scores). One pass over all of them."""
    bad = ~torch.isfinite(images)
    if bad.any():
        first = int(bad.reshape(len(images), -1).any(dim=1).nonzero()[0])
        raise ValueError(f"{who}: the {name} hold {int(bad.sum())} NaN or infinite values (the first in image "
                         f"{first}); a model turns them into NaN scores. Find where they came from (a division "
                         f"by zero? a damaged file?) or replace them, e.g. torch.nan_to_num({name}, nan=0.0)")
    return images


def finite_scores(scores: torch.Tensor, who: str) -> torch.Tensor:
    """A model's scores [N, C] without NaN or infinite values, which no probability or prediction can come from."""
    bad = ~torch.isfinite(scores.reshape(len(scores), -1)).all(dim=1)
    if bad.any():
        raise ValueError(f"{who}: the model gave NaN or infinite scores for {int(bad.sum())} of {len(scores)} "
                         f"image(s) (the first is image {int(bad.nonzero()[0])}), so there is no prediction. Its "
                         "weights probably hold NaN after a training run whose loss became NaN (NaN in the data, "
                         "or a learning rate too high): train a new model, or load a saved checkpoint")
    return scores


def score_matrix(scores: object, who: str, name: str = "scores") -> torch.Tensor:
    """A model's raw scores as a float tensor [N, C] (N >= 1, C >= 2), finite: what ``scores_of`` returns."""
    if not isinstance(scores, torch.Tensor):
        raise TypeError(f"{who}: {name} must be a torch.Tensor of raw scores [N, 10], got {type(scores).__name__}; "
                        f"compute them with {name} = scores_of(model, images)")
    if scores.dim() != 2 or len(scores) == 0 or scores.shape[1] < 2 or not scores.is_floating_point():
        raise ValueError(f"{who}: {name} must be raw scores of several images, floats shaped [N, classes] with N >= 1 "
                         f"(e.g. [5000, 10]), got {scores.dtype} of shape {list(scores.shape)}; compute them with "
                         f"{name} = scores_of(model, images) (not the predicted digits, not one image's [10])")
    return finite_scores(scores.detach().float().cpu(), who)


def matching_labels(images: object, labels: object, names: tuple[str, str] = ("images", "labels"), *,
                    optional: bool = False, non_empty: bool = False, one_device: bool = False) -> None:
    """Two tensors with one label per image (both None too, when ``optional``); optionally non-empty, on one device."""
    (a, b), given = names, (images is not None) + (labels is not None)
    if given < 2:
        if optional and given == 0:
            return
        raise ValueError(f"{a} and {b} must be given together (both or neither), got {b if given else a}=None")
    for value, name in ((images, a), (labels, b)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}; "
                            f"convert with torch.as_tensor({name})")
    if len(images) != len(labels):
        raise ValueError(f"{b} must match {a} one to one (the same length), got {len(images)} {a} "
                         f"and {len(labels)} {b}")
    if non_empty and len(images) == 0:
        raise ValueError(f"{a} and {b} are empty; pass at least one labelled image")
    if one_device and images.device != labels.device:
        raise ValueError(f"{a} are on {images.device} but {b} on {labels.device}; move both to one device")


def class_indices(labels: torch.Tensor, scores: torch.Tensor, values: bool = True) -> torch.Tensor:
    """``labels`` as class indices for ``scores`` [B, C]: shape [B], int64, each from 0 to C - 1.

    Args:
        values: also check every label is a class (this reads the values: on a GPU, a wait for it);
            False checks only the shape and dtype, which costs nothing.
    """
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"labels must be a torch.Tensor, got {type(labels).__name__}; "
                        "convert with torch.as_tensor(labels)")
    if labels.dim() == 2 and scores.dim() == 2 and labels.shape == scores.shape:
        raise ValueError(f"labels must be class indices, one int64 per image (shape [{len(scores)}]), got shape "
                         f"{list(labels.shape)} {_short(labels.dtype)}: one-hot labels, one column per class. "
                         "Convert them with labels.argmax(dim=1)")
    if labels.dim() != 1 or len(labels) != len(scores):
        raise ValueError(f"labels must be one class index per image, shape [{len(scores)}], got shape "
                         f"{list(labels.shape)} for scores of shape {list(scores.shape)}")
    if labels.dtype != torch.int64:
        raise ValueError(f"labels must be integer class indices (int64), got {labels.dtype}; "
                         "convert with labels.long()")
    if values and len(labels):
        classes_in_range(labels, scores.shape[1])
    return labels


def classes_in_range(labels: torch.Tensor, num_classes: int, name: str = "labels") -> torch.Tensor:
    """Integer ``labels`` that are all classes 0 to ``num_classes`` - 1 (reads the values once)."""
    low, high = torch.stack(torch.aminmax(labels)).tolist() if len(labels) else (0, 0)  # one read
    if low < 0 or high >= num_classes:
        outside = ((labels < 0) | (labels >= num_classes)).nonzero()[0].item()
        value = labels[outside].item()
        ignored = (" (-100 is the label torch's cross_entropy ignores without a word: those images would "
                   "silently not count)" if value == -100 else "")
        raise ValueError(f"{name} must be classes 0 to {num_classes - 1} for a model with {num_classes} outputs, "
                         f"got values from {low} to {high}: {name}[{outside}] is {value}{ignored}. Fix the "
                         f"{name}, or leave those images out")
    return labels


def loss_function(loss_fn: object, name: str = "loss_fn") -> object:
    """A loss to call as ``loss_fn(scores, labels)``: a function such as F.cross_entropy or a module instance."""
    if isinstance(loss_fn, type):
        shown = f"nn.{loss_fn.__name__}" if loss_fn.__module__.startswith("torch.nn") else loss_fn.__name__
        raise TypeError(f"{name}={shown} is the class, not a loss: pass an instance, {name}={shown}() "
                        "(with the parentheses), or the function F.cross_entropy")
    if not callable(loss_fn):
        raise TypeError(f"{name} must be a loss function such as F.cross_entropy or a loss module such as "
                        f"nn.CrossEntropyLoss(), got {type(loss_fn).__name__} {loss_fn!r}")
    return loss_fn


class NonFiniteLoss(ValueError):
    """Training met a NaN or infinite loss: which value, at which batch (and epoch), and what to do about it."""

    def __init__(self, value: float, batch: int, batches: int, epoch: tuple[int, int] | None = None):
        self.value, self.batch, self.batches, self.epoch = value, batch, batches, epoch
        where = f"batch {batch} of {batches}" + (f" in epoch {epoch[0]} of {epoch[1]}" if epoch else "")
        super().__init__(
            f"training stopped: the loss became {value} at {where}, and nothing can be learnt from a NaN or "
            "infinite loss. Likely causes: NaN or infinite values in the images or labels (look with "
            "torch.isfinite(images).all()), or a learning rate so high that the weights blew up (try one 10x "
            "smaller). The model's weights may now hold NaN too: make the model and its optimizer again "
            "before training again")

    def __reduce__(self) -> tuple[type, tuple[float, int, int, tuple[int, int] | None]]:
        return type(self), (self.value, self.batch, self.batches, self.epoch)


def finite_loss(total: float, batch_losses: list[torch.Tensor]) -> float:
    """An epoch's summed loss ``total`` when finite; else NonFiniteLoss naming the first batch whose loss was not."""
    if math.isfinite(total):
        return total
    finite = torch.isfinite(torch.stack(batch_losses).float()).cpu()
    first = int((~finite).nonzero()[0]) if not finite.all() else len(batch_losses) - 1
    raise NonFiniteLoss(batch_losses[first].item(), first + 1, len(batch_losses))


def batch_pair(images: object, labels: object, index: int, name: str = "batches") -> None:
    """One (images, labels) batch from ``name``: two tensors, of the same, non-zero length (no values read)."""
    for value, what in ((images, "images"), (labels, "labels")):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"batch {index} of {name} holds {what} as a {type(value).__name__}, not a torch.Tensor; "
                            f"convert with torch.as_tensor({what}), or build the batches with TensorBatches")
    if len(images) != len(labels):
        raise ValueError(f"batch {index} of {name} has {len(images)} images but {len(labels)} labels; "
                         "each image needs exactly one label")
    if len(images) == 0:
        raise ValueError(f"batch {index} of {name} is empty (0 images): there is nothing to learn from or measure. "
                         "Check how the batches are made (an empty slice such as images[60000:] of 60,000 "
                         "images, or a loop that cuts past the end of the data)")


def fresh_batches(batches: object, name: str = "batches") -> object:
    """Batches that can still be gone through: not a generator that has already been used up."""
    if not isinstance(batches, Iterable):
        raise TypeError(f"{name} must be (images, labels) batches that a for loop can go through, such as "
                        f"TensorBatches(images, labels) or a DataLoader; got {type(batches).__name__}")
    if inspect.isgenerator(batches) and inspect.getgeneratorstate(batches) == inspect.GEN_CLOSED:
        raise ValueError(f"{name} is a generator that has already been used up: a generator can be gone through "
                         f"only once, so it has no batches left. {_REITERABLE}")
    return batches


def batches_per_epoch(batches: object, epochs: int, name: str = "batches") -> object:
    """Batches that can be gone through ``epochs`` times: a one-pass iterator only when ``epochs`` is 1."""
    fresh_batches(batches, name)
    if epochs > 1 and isinstance(batches, Iterator):
        raise ValueError(f"{name} is a {type(batches).__name__}, which can be gone through only once, but fit "
                         f"goes through it once per epoch ({epochs} epochs): from the second epoch on it would "
                         f"give nothing. {_REITERABLE}")
    return batches


def no_data(batches: object, name: str = "batches") -> ValueError:
    """The error for batches that gave no batch at all, saying why that probably was."""
    if isinstance(batches, Iterator):
        return ValueError(f"{name} produced no data: it is a {type(batches).__name__}, which can be gone through "
                          f"only once, and an earlier loop probably used it up. {_REITERABLE}")
    return ValueError(f"{name} produced no data (0 batches): check the dataset and batch size (with drop_last=True, "
                      "fewer images than one batch give no batch at all)")


_REITERABLE = ("Pass a list or a TensorBatches/DataLoader, which can be iterated once per epoch, "
               "e.g. TensorBatches(images, labels, batch_size=32)")

# ---------------------------------------------------------------- files


def model_and_path(model: object, path: object, call: str) -> nn.Module:
    """The model and the file path of ``call`` (save_checkpoint, export_model), in that order."""
    if isinstance(path, nn.Module) and isinstance(model, (str, os.PathLike)):
        raise TypeError(f"{call} takes the model first, then the path: {call}(model, {str(model)!r}); "
                        "the two arguments are the other way round")
    if not isinstance(model, nn.Module):
        raise TypeError(f"{call} takes a torch.nn.Module such as MLP() first, got {type(model).__name__}; "
                        f"call it as {call}(model, path)")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file name (a str or a Path), got {type(path).__name__}; "
                        f"call it as {call}(model, 'model.pt')")
    return model


def file_to_write(path: str | os.PathLike, example: str) -> Path:
    """``path`` as a Path, when it can become a file: not an existing folder."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder, and a folder cannot be replaced by a file. Give a file name, e.g. "
                         f"{str(path / example)!r} to write into that folder")
    return path


def plain_data(value: object, name: str = "extra") -> Any:
    """``value`` as data that ``torch.load(weights_only=True)`` reads back: str, int, float, bool, None, lists,
    tuples and dicts with string keys. NumPy numbers and arrays (np.float64(0.98), an accuracy computed with
    numpy) become the Python numbers and lists they hold; anything else is refused."""
    if isinstance(value, (np.ndarray, np.generic)):
        return plain_data(value.tolist(), name)  # Python numbers (a list of them for an array)
    for plain in (bool, int, float, str):
        if isinstance(value, plain):
            return plain(value)
    if value is None:
        return None
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"{name} keys must be strings, got {key!r}")
        return {key: plain_data(item, f"{name}[{key!r}]") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        items = [plain_data(item, f"{name}[{i}]") for i, item in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    tensor = (" (for a tensor: .item() gives its one number, .tolist() all of them)"
              if isinstance(value, torch.Tensor) else "")
    raise TypeError(f"{name} is a {type(value).__name__}; a checkpoint's extra information may hold only "
                    f"str, int, float, bool, None, lists and dicts (so it loads with weights_only=True){tensor}")
