"""From a trained model to something you can ship: checkpoints, export, and prediction on any image.

``save_checkpoint``/``load_checkpoint`` keep the weights together with the architecture that produced
them, write atomically and refuse a wrong or damaged file with a message that says what to do.
``export_model`` writes a ``torch.export`` program that runs without this package. ``predict(model,
image)`` brings any picture of a digit into MNIST form (``preprocess``, from course_utils.preprocess),
runs a model on it and returns a Prediction that says what it did; with a ``DigitThreshold`` (chosen on
validation digits) it says "not a digit" for a picture the model reads unlike any digit it was trained on.
(For the raw scores of a batch of MNIST images, use ``course_utils.training.scores_of``.)
"""
from __future__ import annotations

import contextlib
import copy
import logging
import math
import os
import pickle
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from .atomic import atomic_write
from ._validate import (available_device, file_to_write, finite_scores, model_and_path, model_on_device, number,
                        one_of, plain_data, score_matrix)
from .models import MLP, AdvancedCNN, FastCNN, SimpleCNN, eval_mode
from .preprocess import NoDigitFound, preprocess

if TYPE_CHECKING:
    import numpy as np
    import PIL.Image

FORMAT = "course_utils.deploy/1"


class CheckpointError(ValueError):
    """A checkpoint (or exported model) that cannot be loaded: damaged, not one, or made for another architecture."""


def save_checkpoint(model: nn.Module, path: str | os.PathLike, extra: dict[str, Any] | None = None) -> Path:
    """Save the weights (on the CPU), the architecture and ``extra`` notes to ``path`` atomically.

    Args:
        model: the model to save (first; the path comes second).
        path: the file to write (not a folder).
        extra: notes to keep with the weights (epochs, accuracy, ...): str, int, float, bool, None, lists and
            dicts with string keys only, so the file loads with ``weights_only=True``. NumPy numbers and
            arrays are stored as the Python numbers and lists they hold.
    Returns:
        The path written.
    """
    model = model_and_path(model, path, "save_checkpoint")
    path = file_to_write(path, "model.pt")
    extra = plain_data({} if extra is None else extra)
    payload = {"format": FORMAT, "architecture": architecture(model), "extra": extra,
               "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    return atomic_write(path, lambda f: torch.save(payload, f))


def load_checkpoint(path: str | os.PathLike, model: nn.Module | None = None,
                    device: torch.device | str = "cpu") -> nn.Module:
    """Load a checkpoint with ``torch.load(weights_only=True)`` and return the model.

    Args:
        path: a file written by ``save_checkpoint`` (or a bare state_dict, with ``model``).
        model: the model to fill; its architecture must match the stored one. By default a new MLP is
            built from the stored sizes and activation and put on ``device``.
        device: where a newly built model goes (a ``model`` you pass is not moved).
    Returns:
        The model, holding the stored weights.
    Raises:
        CheckpointError: the file is damaged, is not a checkpoint, or does not fit ``model``.
    """
    if isinstance(path, nn.Module):
        raise TypeError("load_checkpoint takes the path first, then the model: load_checkpoint(path, model=model)")
    if model is not None and not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module such as MLP() (or None to rebuild the stored one), got "
                        f"{type(model).__name__}; call it as load_checkpoint(path, model=model)")
    device = available_device(device, fix="load it on the CPU with load_checkpoint(path, device='cpu') (a checkpoint "
                                          "saved on a GPU loads on any machine), or use device = pick_device()")
    saved = _read(path)
    arch, state = saved["architecture"], saved["state_dict"]
    if model is None:
        model = _build(arch, path).to(device)
    else:
        check_fits(model, arch, state, path, "or call load_checkpoint(path) without a model to rebuild it")
    model.load_state_dict(state)
    return model


def checkpoint_info(path: str | os.PathLike) -> dict[str, Any]:
    """The architecture and extra notes stored in a checkpoint, with the shape of each weight tensor."""
    saved = _read(path)
    return {"architecture": saved["architecture"], "extra": saved["extra"],
            "shapes": {k: list(v.shape) for k, v in saved["state_dict"].items()}}


def export_model(model: nn.Module, path: str | os.PathLike, example: torch.Tensor | None = None) -> Path:
    """Export a CPU copy of ``model`` (eval mode, any batch size) with torch.export and save it atomically.

    The file loads with ``load_exported`` (plain torch, no course_utils needed). It records no
    source locations, so it holds no paths of this machine and its bytes do not depend on them.

    Args:
        model: the model to export (first; the path comes second).
        path: the file to write (not a folder), e.g. "model.pt2".
        example: one input batch; for the course's MNIST models (an MLP with 784 inputs, SimpleCNN, AdvancedCNN,
            FastCNN) it defaults to zeros of shape [2, 1, 28, 28].
    Returns:
        The path written.
    """
    model = model_and_path(model, path, "export_model")
    path = file_to_write(path, "model.pt2")
    if example is None:
        if not (isinstance(model, (SimpleCNN, AdvancedCNN, FastCNN)) or isinstance(model, MLP) and model.sizes[0] == 784):
            raise ValueError(f"export_model cannot guess the input shape of a {type(model).__name__}: pass example=, "
                             "a batch of inputs of the shape the model takes (e.g. torch.zeros(2, 1, 28, 28))")
        example = torch.zeros(2, 1, 28, 28)
    frozen = copy.deepcopy(model).cpu().eval()  # the learner's model is neither moved nor switched to eval
    frozen = frozen.to(memory_format=torch.contiguous_format)  # channels-last weights would load with a warning
    program = torch.export.export(frozen, (example.cpu(),), dynamic_shapes=({0: torch.export.Dim("batch")},))
    for node in program.graph_module.graph.nodes:
        # torch.export records the source file and line of every operation, absolute paths of this
        # machine included; a file to ship should not carry them (and its bytes should not depend
        # on where the code lives)
        node.meta.pop("stack_trace", None)
    return atomic_write(path, lambda f: torch.export.save(program, f))


def load_exported(path: str | os.PathLike) -> nn.Module:
    """The callable module inside a file written by ``export_model`` (``torch.export.load(path).module()``).

    A file that is not an exported program (a checkpoint, a pickle, anything else) is refused before torch
    reads it, and quietly: torch's own warnings about it are not shown.

    Raises:
        CheckpointError: the file is not an exported program, or torch.export cannot load it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no exported model at {path.resolve()}; write one with export_model(model, path)")
    wrong = (f"{path} is not a model written by export_model: {{}}. Fix: export the model with "
             "export_model(model, path) and load that file (a checkpoint from save_checkpoint loads with "
             "load_checkpoint instead).")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(wrong.format("it is not a zip archive"))
    with zipfile.ZipFile(path) as archive:
        if not any(name.endswith("/archive_format") for name in archive.namelist()):
            raise CheckpointError(wrong.format("it has no torch.export archive inside (archive_format is missing)"))
    try:
        with _quiet_torch(), open(path, "rb") as f:  # a file object: torch warns about names not ending in .pt2
            return torch.export.load(f).module()
    except Exception as err:  # torch.export raises many kinds of errors for a file it cannot read
        raise CheckpointError(wrong.format(f"torch.export.load failed with {type(err).__name__}")) from err


@dataclass
class Prediction:
    """What ``predict`` found for one picture: class probabilities [10] (None when there was no digit) and how.

    Attributes:
        probabilities: softmax of the model's ten scores, or None when no digit was found.
        steps: what preprocessing did, in order.
        image: [1, 28, 28], what the model saw (None when no digit was found).
        message: why there is no prediction (empty when there is one).
        scores: the model's ten raw scores (None when no digit was found).
        rejected: True when a ``threshold`` said "not a digit": ``digit`` is then None, ``guess`` is what the
            model would have answered.
    """

    probabilities: torch.Tensor | None
    steps: list[str] = field(default_factory=list)
    image: torch.Tensor | None = None  # [1, 28, 28]: what the model saw
    message: str = ""
    scores: torch.Tensor | None = None  # [10]
    rejected: bool = False

    @property
    def digit(self) -> int | None:
        """The predicted digit (the most probable class), or None when no digit was found or it was rejected."""
        return None if self.rejected else self.guess

    @property
    def guess(self) -> int | None:
        """The most probable class, even when a threshold rejected it (None when no digit was found)."""
        return None if self.probabilities is None else int(self.probabilities.argmax())

    @property
    def confidence(self) -> float | None:
        """The largest of the ten probabilities (None when no digit was found)."""
        return None if self.probabilities is None else self.probabilities.max().item()

    @property
    def energy(self) -> float | None:
        """-logsumexp of the ten scores: low for pictures like the training digits (None without scores)."""
        return None if self.scores is None else -torch.logsumexp(self.scores, dim=0).item()

    def __str__(self) -> str:
        head = self.message or f"digit {self.digit} ({self.confidence:.1%} probability)"
        return head + "".join(f"\n  {i}. {s}" for i, s in enumerate(self.steps, 1))


@dataclass(frozen=True)
class DigitThreshold:
    """When ``predict`` says "not a digit": a limit on the confidence or on the energy of the model's scores.

    ``"confidence"`` is the largest softmax probability; a picture whose confidence is below the limit is
    rejected. ``"energy"`` is -logsumexp of the ten scores, lower for pictures like the training digits; a
    picture whose energy is above the limit is rejected. Choose the limit on validation digits with
    ``DigitThreshold.choose``, which also records the share of them it rejects.

    Attributes:
        kind: "confidence" or "energy".
        limit: the value that separates digits from the rest.
        false_rejection: the share of the validation digits the limit rejects (None when not chosen on any).
    """

    kind: str
    limit: float
    false_rejection: float | None = None

    def __post_init__(self) -> None:
        one_of(self.kind, "kind", KINDS)
        high = 1 if self.kind == "confidence" else None
        object.__setattr__(self, "limit", number(self.limit, "limit", 0 if high else None, high,
                                                 "a probability" if high else ""))
        if self.false_rejection is not None:
            object.__setattr__(self, "false_rejection", number(self.false_rejection, "false_rejection", 0, 1))

    @classmethod
    def choose(cls, scores: torch.Tensor, kind: str = "energy", false_rejection: float = 0.05) -> DigitThreshold:
        """The limit that rejects ``false_rejection`` of the validation digits whose scores are given.

        With n digits and k = floor(false_rejection * n), the limit is the (k+1)-th worst value, so the k worst
        digits are rejected (fewer when several share the limit's value).

        Args:
            scores: the raw scores [N, 10] of real digits the model did not train on (a validation set).
            kind: "confidence" or "energy".
            false_rejection: the share of real digits you accept to lose, from 0 up to (not including) 1.
        Returns:
            The DigitThreshold, with the share it rejects of these digits in ``false_rejection``.
        """
        kind = one_of(kind, "kind", KINDS)
        scores = score_matrix(scores, "DigitThreshold.choose")
        rate = number(false_rejection, "false_rejection", 0, 1, "the share of real digits to reject")
        if rate >= 1:
            raise ValueError("false_rejection must be below 1: rejecting every real digit leaves no digit reader; "
                             "pass e.g. false_rejection=0.05")
        k = math.floor(rate * len(scores) + 1e-9)
        values = cls(kind, 0.5).values(scores)                      # [N]
        worst_first = values if kind == "confidence" else -values   # smaller = less like a digit
        limit = worst_first.kthvalue(k + 1).values.item() * (1 if kind == "confidence" else -1)
        rule = cls(kind, limit)
        return cls(kind, limit, rule.rejects(scores).sum().item() / len(scores))

    def values(self, scores: torch.Tensor) -> torch.Tensor:
        """The confidence or energy of each row of scores [N, 10] -> [N] (a single [10] gives a single value)."""
        scores = torch.as_tensor(scores).float()
        if self.kind == "confidence":
            return scores.softmax(dim=-1).amax(dim=-1)
        return -torch.logsumexp(scores, dim=-1)

    def rejects(self, scores: torch.Tensor) -> torch.Tensor:
        """True for each row of scores [N, 10] (or for a single [10]) this threshold calls "not a digit"."""
        values = self.values(scores)
        return values < self.limit if self.kind == "confidence" else values > self.limit

    def explain(self, value: float) -> str:
        """Why a picture whose confidence or energy is ``value`` is rejected, in words."""
        shown = (lambda v: f"{v:.1%}") if self.kind == "confidence" else (lambda v: f"{v:.2f}")  # noqa: E731
        side = "below" if self.kind == "confidence" else "above"
        return f"its {self.kind} {shown(value)} is {side} the limit {shown(self.limit)}{self._chosen()}"

    def _chosen(self) -> str:
        """How the limit was chosen, when it was chosen on validation digits."""
        return "" if self.false_rejection is None else f" (which rejects {self.false_rejection:.1%} of validation digits)"

    def __str__(self) -> str:
        rule = (f"confidence below {self.limit:.1%}" if self.kind == "confidence"
                else f"energy above {self.limit:.2f}")
        return f"not a digit when {rule}{self._chosen()}"


KINDS = ("confidence", "energy")


@torch.no_grad()
def predict(model: nn.Module, image: torch.Tensor | np.ndarray | PIL.Image.Image | str | os.PathLike,
            device: torch.device | str = "cpu", threshold: float | DigitThreshold | None = None) -> Prediction:
    """The prediction for one picture of a digit: preprocess it into MNIST form, run the model, explain.

    Args:
        model: a trained module or one loaded with ``load_exported``; put back in the mode it came in.
        image: one picture of a digit, of any size, as ``preprocess`` takes it: a tensor, numpy array or
            PIL image (0-1 or 0-255, grey or colour, light ink on dark or dark on light), or an image file's path.
        device: where the model's parameters are.
        threshold: when to say "not a digit": a number is the least confidence to accept (0.9: reject a
            picture read with less than 90 % probability); a DigitThreshold (``DigitThreshold.choose`` on
            validation digits) a limit on the confidence or the energy. None accepts every picture with ink.
    Returns:
        A Prediction: ``.digit``, ``.probabilities`` [10], ``.scores`` [10], the ``.steps`` preprocessing took
        and the ``.image`` the model saw; ``print`` shows them. A picture with no digit gives digit None and a
        message, not an error; so does one the threshold rejects (``.rejected`` True, ``.guess`` the model's
        answer). (For the raw scores of a batch of MNIST images use ``training.scores_of``.)
    """
    if threshold is not None and not isinstance(threshold, DigitThreshold):
        threshold = DigitThreshold("confidence", number(threshold, "threshold", 0, 1, "the least confidence to "
                                                        "accept, e.g. threshold=0.9, or a DigitThreshold"))
    try:
        x, steps = preprocess(image)
    except NoDigitFound as err:
        return Prediction(None, err.steps, None, str(err))
    device = model_on_device(model, device)
    exported = isinstance(model, torch.fx.GraphModule)  # exported programs are always in eval mode
    with contextlib.nullcontext() if exported else eval_mode(model):
        scores = model(x[None].to(device))[0].float().cpu()  # [1, 1, 28, 28] -> [10]
    finite_scores(scores[None], "predict")
    result = Prediction(torch.softmax(scores, dim=0), steps, x, scores=scores)
    if threshold is not None and threshold.rejects(scores):
        result.rejected = True
        result.message = (f"Not a digit: {threshold.explain(threshold.values(scores).item())}. The model's best "
                          f"guess would be {result.guess} ({result.confidence:.1%} probability).")
    return result

# ---------------------------------------------------------------- plumbing: what a checkpoint holds, reading one


def architecture(model: nn.Module) -> dict[str, Any]:
    """What is needed to rebuild ``model``: its class, and for an MLP its sizes and activation.

    Plain data, so a checkpoint loads with ``weights_only=True``: the activation is its nn class's name
    ("Sigmoid"), turned back into the class (nn.Sigmoid) when the MLP is rebuilt.
    """
    arch = {"class": type(model).__name__}
    if isinstance(model, MLP):
        arch.update(sizes=list(model.sizes), activation=type(model.activation).__name__)
    return arch


@contextlib.contextmanager
def _quiet_torch() -> Iterator[None]:
    """No Python warnings and no torch.export log warnings inside the block (the levels are put back after)."""
    loggers = [logging.getLogger(name) for name in ("torch.export", "torch._export")]
    levels = [logger.level for logger in loggers]
    try:
        for logger in loggers:
            logger.setLevel(logging.ERROR + 10)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def check_fits(model: nn.Module, arch: dict[str, Any] | None, state: dict[str, torch.Tensor],
               path: str | os.PathLike, rebuild: str = "") -> None:
    """Refuse (CheckpointError) a stored architecture or state_dict that ``model`` cannot take, saying what differs."""
    if arch is not None and architecture(model) != arch:
        differ = [f"{k}: file {arch.get(k)!r}, your model {architecture(model).get(k)!r}"
                  for k in sorted(set(arch) | set(architecture(model))) if arch.get(k) != architecture(model).get(k)]
        fix = (f"build MLP(sizes={tuple(arch['sizes'])}, activation=nn.{arch['activation']}){', ' + rebuild if rebuild else ''}"
               if arch.get("class") == "MLP" else "build the model the file was saved from")
        raise CheckpointError(f"{path} was saved from a different architecture ({'; '.join(differ)}). Fix: {fix}.")
    mine = model.state_dict()
    problems = [f"{k} missing from the file" for k in mine if k not in state]
    problems += [f"{k} in the file but not in the model" for k in state if k not in mine]
    problems += [f"{k} is {list(state[k].shape)} in the file but {list(mine[k].shape)} in the model"
                 for k in state if k in mine and state[k].shape != mine[k].shape]
    if problems:
        raise CheckpointError(f"{path} does not fit this model: " + "; ".join(problems[:4])
                              + ". Fix: build the model with the architecture the file was saved from.")


def load_weights_only(path: str | os.PathLike, writer: str = "save_checkpoint", what: str = "checkpoint",
                      fix: str = "") -> Any:
    """What a file written by torch.save holds, read with ``weights_only=True`` after its zip checksums pass.

    Args:
        writer: the function that writes such files, named in the messages.
        what: what such a file is called in the messages.
        fix: what to do when the file is damaged (by default: write it again with ``writer``).
    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError: the file is damaged, or holds Python objects other than tensors and plain data.
    """
    path = Path(path)
    fix = fix or f"write it again with {writer}, or copy the file again"
    if not path.is_file():
        raise FileNotFoundError(f"no file at {path.resolve()}; write one with {writer}(...)")
    damaged = f"{path} is not a complete {what}: {{}}. Expected a file written by {writer} (a zip archive). Fix: {fix}."
    if not zipfile.is_zipfile(path):
        raise CheckpointError(damaged.format(f"it is {path.stat().st_size:,} bytes and has no zip directory "
                                             "(truncated, or not a PyTorch file)"))
    with zipfile.ZipFile(path) as archive:
        bad = archive.testzip()
    if bad is not None:
        raise CheckpointError(damaged.format(f"the part {bad!r} fails its CRC checksum (bytes changed on disk)"))
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(f"{path} holds Python objects, not just tensors and plain data (a whole model saved "
                              "with torch.save(model)?); weights_only=True refuses to run code from a file. Fix: "
                              f"save with {writer}, which stores state_dicts.") from err
    except (RuntimeError, OSError, EOFError, KeyError, ValueError) as err:
        raise CheckpointError(damaged.format(f"torch.load failed with {type(err).__name__}: {err}")) from err


def _read(path: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint's contents (format, architecture, extra, state_dict), or an error that says what to do."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path.resolve()}; write one with save_checkpoint(model, {str(path)!r})")
    saved = load_weights_only(path, "save_checkpoint", "checkpoint",
                              "save it again from the trained model, or copy the file again")
    if isinstance(saved, dict) and saved.get("format") == FORMAT:
        return saved
    if isinstance(saved, dict) and saved and all(isinstance(v, torch.Tensor) for v in saved.values()):
        return {"format": None, "architecture": None, "extra": {}, "state_dict": saved}  # a bare state_dict
    raise CheckpointError(f"{path} is a PyTorch file but not a checkpoint: expected a state_dict or a file "
                          f"written by save_checkpoint, got a {type(saved).__name__}.")


def _build(arch: dict[str, Any] | None, path: str | os.PathLike) -> nn.Module:
    """A new model from a stored architecture (an MLP), or an error saying to pass the model."""
    if arch is None:
        raise CheckpointError(f"{path} is a bare state_dict with no architecture stored, so it cannot be rebuilt. "
                              "Fix: pass the model to load into, e.g. load_checkpoint(path, model=MLP()).")
    activation = getattr(nn, str(arch.get("activation")), None)
    if arch.get("class") != "MLP" or not (isinstance(activation, type) and issubclass(activation, nn.Module)):
        raise CheckpointError(f"{path} was saved from {arch}, which load_checkpoint cannot rebuild by itself. "
                              "Fix: build that model yourself and pass it: load_checkpoint(path, model=...).")
    return MLP(tuple(arch["sizes"]), activation=activation)
