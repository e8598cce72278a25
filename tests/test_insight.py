import pytest
import torch
from torch import nn

from course_utils.insight import find_preferred_inputs, get_activations
from course_utils.models import MLP


def no_hooks_left(model):
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def small_mlp(seed=0, sizes=(784, 5, 4, 3)):
    torch.manual_seed(seed)
    return MLP(sizes)


def test_default_activations_are_the_neuron_outputs_after_the_sigmoid():
    model = small_mlp()
    x = torch.rand(6, 1, 28, 28)
    acts = get_activations(model, x)
    assert list(acts) == ["layer1", "layer2", "layer3"]
    a1 = torch.sigmoid(model.layer1(x.flatten(1)))
    a2 = torch.sigmoid(model.layer2(a1))
    assert torch.allclose(acts["layer1"], a1) and torch.allclose(acts["layer2"], a2)
    assert torch.allclose(acts["layer3"], model(x))
    assert all(not a.requires_grad and a.device.type == "cpu" for a in acts.values())


def test_hooks_are_removed_and_mode_restored():
    model = small_mlp()
    model.train()
    get_activations(model, torch.rand(2, 784))
    assert no_hooks_left(model) and model.training
    get_activations(model, torch.rand(2, 784), modules=["layer2", "activation"])
    assert no_hooks_left(model)


def test_hooks_are_removed_even_when_the_forward_pass_fails():
    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer1 = nn.Linear(4, 3)

        def forward(self, x):
            self.layer1(x)
            raise RuntimeError("boom")

    model = Broken()
    with pytest.raises(RuntimeError, match="boom"):
        get_activations(model, torch.rand(2, 4), modules=["layer1"])
    assert no_hooks_left(model)


def test_named_modules_and_repeated_calls():
    model = small_mlp()
    x = torch.rand(3, 784)
    acts = get_activations(model, x, modules=["layer1", "activation"])
    assert list(acts) == ["layer1", "activation", "activation#2"]
    assert torch.allclose(acts["layer1"], model.layer1(x))                     # z, before the sigmoid
    assert torch.allclose(acts["activation"], torch.sigmoid(acts["layer1"]))


def test_clear_errors():
    model = small_mlp()
    with pytest.raises(ValueError, match="no submodule 'layer9'"):
        get_activations(model, torch.rand(1, 784), modules=["layer9"])
    with pytest.raises(TypeError, match="list of names"):
        get_activations(model, torch.rand(1, 784), modules="layer1")
    with pytest.raises(TypeError, match="float tensor"):
        get_activations(model, torch.zeros(1, 784, dtype=torch.long))
    with pytest.raises(ValueError, match="unsqueeze"):
        get_activations(model, torch.rand(784))
    with pytest.raises(ValueError, match="modules="):
        get_activations(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), torch.rand(1, 784))
    with pytest.raises(ValueError, match="move the model first"):
        get_activations(model, torch.rand(1, 784), device="meta")


def test_preferred_input_of_a_first_layer_neuron_matches_the_formula():
    # For z = w.x + b the best image under the penalty l2*|x|^2 is x = clamp(w / (2*l2), 0, 1), pixel by pixel.
    model = small_mlp()
    l2 = 0.05
    images, values = find_preferred_inputs(model, "layer1", [0, 3], steps=400, lr=0.02, l2=l2)
    assert images.shape == (2, 1, 28, 28) and values.shape == (2,)
    expected = (model.layer1.weight[[0, 3]] / (2 * l2)).clamp(0, 1).detach().view(2, 1, 28, 28)
    assert (images - expected).abs().max() < 0.03
    assert torch.allclose(values, model.layer1(images.flatten(1))[[0, 1], [0, 3]].detach(), atol=1e-5)


def test_gradient_ascent_raises_the_neuron_and_leaves_the_model_alone():
    model = small_mlp()
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    start = torch.full((3, 1, 28, 28), 0.5)
    start_scores = model(start)[[0, 1, 2], [0, 1, 2]]
    images, values = find_preferred_inputs(model, "layer3", range(3), steps=50, l2=0.0)
    assert (values > start_scores).all()
    assert images.min() >= 0 and images.max() <= 1
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.requires_grad and p.grad is None for p in model.parameters())
    assert model.training and no_hooks_left(model)


def test_preferred_inputs_bad_arguments():
    model = small_mlp()
    with pytest.raises(ValueError, match="has 3 neurons"):
        find_preferred_inputs(model, "layer3", [3], steps=1)
    with pytest.raises(ValueError, match="empty"):
        find_preferred_inputs(model, "layer3", [])
    with pytest.raises(ValueError, match="start must have shape"):
        find_preferred_inputs(model, "layer3", [0, 1], start=torch.zeros(1, 1, 28, 28))
    with pytest.raises(ValueError, match="l2"):
        find_preferred_inputs(model, "layer3", [0], l2=-1.0)
    with pytest.raises(ValueError, match="no submodule"):
        find_preferred_inputs(model, "layer7", [0])
    assert no_hooks_left(model) and all(p.requires_grad for p in model.parameters())
