import pytest
import torch
from torch import nn

from course_utils.models import MLP, count_parameters


def test_mlp_shape_and_parameter_count():
    model = MLP()
    assert count_parameters(model) == 13_002
    assert [tuple(l.weight.shape) for l in model.layers] == [(16, 784), (16, 16), (10, 16)]
    assert model(torch.rand(5, 1, 28, 28)).shape == (5, 10)
    assert model(torch.rand(5, 784)).shape == (5, 10)


def test_mlp_other_sizes_and_activation():
    model = MLP((784, 32, 32, 16, 10), activation=nn.ReLU)
    assert len(model.layers) == 4 and isinstance(model.activation, nn.ReLU)
    assert model(torch.rand(2, 784)).shape == (2, 10)


def test_mlp_rejects_bad_sizes_and_inputs():
    with pytest.raises(ValueError, match="positive ints"):
        MLP((784,))
    with pytest.raises(ValueError, match="784 values"):
        MLP()(torch.rand(3, 28, 27))
