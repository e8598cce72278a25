"""Looking inside a trained network: what its neurons output, and which inputs make them fire.

``get_activations`` records layer outputs with forward hooks (removed again before it returns);
``find_preferred_inputs`` runs gradient ascent on the input image to find a pattern that drives one
neuron as high as possible. Neither moves the model or changes its weights.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._validate import image_batch, learning_rate, model_on_device, number, positive_int, submodule, submodules
from .models import MLP, eval_mode


@torch.no_grad()
def get_activations(model: nn.Module, images: torch.Tensor, device: torch.device | str = "cpu",
                    modules: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
    """What each layer's neurons output for ``images``, captured with forward hooks.

    For the course's MLP the default result is ``{"layer1": [N, 16], "layer2": [N, 16], "layer3": [N, 10]}``:
    the hidden layers *after* their activation (the values 3Blue1Brown shades his neurons with) and the
    raw scores of the last layer. The MLP applies one shared activation module after every hidden
    layer, so a hook on it fires once per hidden layer, in order.

    Args:
        modules: names of submodules to record instead (e.g. ``["layer1"]`` gives layer1's output
            before the sigmoid). A module that runs several times in one forward pass gets keys
            ``name``, ``name#2``, ``name#3``...

    Returns:
        A dict of CPU tensors [N, neurons], computed in eval mode without gradients. The hooks are
        removed before returning, even when the forward pass fails.
    """
    images = image_batch(images, "get_activations")
    device = model_on_device(model, device)
    if modules is None:
        if not isinstance(model, MLP):
            raise ValueError(f"pass modules=[...] (names of submodules to record) for a {type(model).__name__}; "
                             "only the course's MLP has a default")
        watch = {"activation": model.activation, f"layer{len(model.layers)}": model.layers[-1]}
    else:
        watch = submodules(model, modules)
    with eval_mode(model):
        _, outputs = _record(model, images, watch, device)
    found: dict[str, torch.Tensor] = {}
    for name, outs in outputs.items():
        for i, out in enumerate(outs, start=1):
            found[name if i == 1 else f"{name}#{i}"] = torch.flatten(out, start_dim=1).cpu()
    if modules is None:  # the shared activation's calls belong to layer1, layer2, ... in order
        last = f"layer{len(model.layers)}"
        hidden = {f"layer{i}": value for i, (key, value) in enumerate(found.items(), start=1) if key != last}
        return {**hidden, last: found[last]}
    return found


def find_preferred_inputs(model: nn.Module, layer: str, neurons: Sequence[int], device: torch.device | str = "cpu",
                          steps: int = 200, lr: float = 0.05, l2: float = 0.01,
                          start: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Images that make chosen neurons fire strongly, found by gradient ascent on the input pixels.

    For each neuron an image x (28x28, pixels kept in [0, 1]) climbs the objective
    ``output[neuron] - l2 * sum(x**2)``, where ``output`` is what submodule ``layer`` returns (for the
    MLP's ``"layer1"`` etc. that is z = Wx + b, before the sigmoid: the sigmoid only squashes z, so the
    same image maximises both, and z keeps a useful gradient). The L2 penalty switches off pixels that
    do not help; clamping keeps every pixel a valid grey level.

    Args:
        layer: name of the submodule whose output to maximise, e.g. "layer1" or "layer3" (the scores).
        neurons: which neurons of that layer, one image each (all optimised together as one batch).
        steps: how many Adam steps the pixels take.
        lr: the size of each step.
        l2: strength of the penalty on the image's squared size.
        start: starting images [len(neurons), 1, 28, 28]; by default a plain mid-grey (0.5).

    Returns:
        (images [K, 1, 28, 28] on the CPU, the neurons' final outputs [K]). The model's weights and
        mode are untouched.
    """
    neurons = [int(n) for n in neurons]
    if not neurons:
        raise ValueError("neurons is empty: pass the indices of the neurons to study, e.g. range(10)")
    steps, lr = positive_int(steps, "steps"), learning_rate(lr)
    l2 = number(l2, "l2", low=0, why="it is a penalty")
    device = model_on_device(model, device)
    module = submodule(model, layer)
    if start is None:
        start = torch.full((len(neurons), 1, 28, 28), 0.5)
    elif tuple(start.shape) != (len(neurons), 1, 28, 28):
        raise ValueError(f"start must have shape {[len(neurons), 1, 28, 28]}, got {list(start.shape)}")
    x = start.detach().clone().float().to(device).requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=lr)
    rows = torch.arange(len(neurons), device=device)
    cols = torch.tensor(neurons, device=device)
    weights_grad = [p.requires_grad for p in model.parameters()]
    for p in model.parameters():
        p.requires_grad_(False)           # gradients for the pixels only
    try:
        with eval_mode(model):
            for step in range(steps + 1):
                _, outputs = _record(model, x, {layer: module}, device)
                out = torch.flatten(outputs[layer][0], start_dim=1)       # [K, neurons in layer]
                if cols.max() >= out.shape[1] or cols.min() < 0:
                    raise ValueError(f"{layer} has {out.shape[1]} neurons (0-{out.shape[1] - 1}), got {neurons}")
                value = out[rows, cols]                                    # [K]: each image's own neuron
                if step == steps:
                    break
                objective = value - l2 * x.pow(2).flatten(1).sum(dim=1)
                optimizer.zero_grad()
                (-objective.sum()).backward()  # the optimiser descends, so climb by descending the negative
                optimizer.step()
                with torch.no_grad():
                    x.clamp_(0.0, 1.0)
    finally:
        for p, flag in zip(model.parameters(), weights_grad):
            p.requires_grad_(flag)
    return x.detach().cpu(), value.detach().cpu()


def _record(model: nn.Module, images: torch.Tensor, modules: dict[str, nn.Module],
            device: torch.device) -> tuple[torch.Tensor, dict[str, list[torch.Tensor]]]:
    """Run the model once with a forward hook on each module; returns (model output, outputs per name)."""
    outputs: dict[str, list[torch.Tensor]] = {name: [] for name in modules}
    handles = []
    try:
        for name, module in modules.items():
            # A forward hook is called as hook(module, inputs, output) right after module.forward.
            handles.append(module.register_forward_hook(
                lambda _module, _inputs, output, name=name: outputs[name].append(output)))
        result = model(images.to(device))
    finally:
        for handle in handles:
            handle.remove()
    return result, outputs
