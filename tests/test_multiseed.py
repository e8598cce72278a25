import pytest
import torch
from torch import nn

from course_utils import multiseed
from course_utils.data import TensorBatches
from course_utils.models import MLP
from course_utils.training import fit


def toy_data(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 28, 28, generator=g)
    return x, x.view(n, -1)[:, :10].argmax(dim=1)  # a learnable rule


def separate(seed, x, y, tx, ty, epochs, lr, batch_size, activation=nn.Sigmoid):
    """The reference: one ordinary training run per seed."""
    torch.manual_seed(seed)
    model = MLP(activation=activation)
    batches = TensorBatches(x, y, batch_size, generator=torch.Generator().manual_seed(seed))
    history = fit(model, batches, torch.optim.SGD(model.parameters(), lr=lr), epochs,
                  test_batches=TensorBatches(tx, ty, 100, shuffle=False), progress=False)
    return model, history


@pytest.mark.parametrize("activation", [nn.Sigmoid, nn.Tanh, nn.ReLU])
def test_each_model_matches_separate_training(activation):
    (x, y), (tx, ty) = toy_data(250), toy_data(120, seed=1)  # 250 = 7 batches of 32 + one of 26
    seeds = [0, 3, 7]
    runs = multiseed.fit_seeds(seeds, x, y, epochs=3, lr=0.2, batch_size=32, test_images=tx, test_labels=ty,
                               activation=activation, progress=False)
    assert len(runs.train_loss) == 3 and all(len(row) == 3 for row in runs.test_acc)
    for seed in seeds:
        model, history = separate(seed, x, y, tx, ty, 3, 0.2, 32, activation)
        mine = runs.history(seed)
        assert mine.train_loss == pytest.approx(history.train_loss, rel=1e-5)
        assert mine.test_loss == pytest.approx(history.test_loss, rel=1e-5)
        assert mine.train_acc == history.train_acc and mine.test_acc == history.test_acc
        assert history.train_loss[-1] < history.train_loss[0]  # it did learn something
        for name, value in model.state_dict().items():
            torch.testing.assert_close(runs.model(seed).state_dict()[name], value, rtol=1e-5, atol=1e-6)


def test_callers_random_state_is_left_alone():
    x, y = toy_data(64)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    runs = multiseed.fit_seeds([1, 2], x, y, epochs=1, progress=False)
    runs.model(2)
    assert torch.equal(torch.get_rng_state(), before)
    assert runs.test_acc == [] and len(runs.train_acc[0]) == 2


def test_model_and_history_of_an_unknown_seed_are_explained():
    x, y = toy_data(64)
    runs = multiseed.fit_seeds([5], x, y, epochs=1, progress=False)
    assert isinstance(runs.model(5), MLP) and len(runs.history(5)) == 1
    assert runs.activation is nn.Sigmoid and runs.activation_name == "Sigmoid"  # the class; plain data inside
    assert isinstance(runs.model(5).activation, nn.Sigmoid)
    with pytest.raises(ValueError, match="seeds are"):
        runs.model(0)


def test_an_activation_name_gets_the_message_mlp_gives():
    x, y = toy_data(10)
    for name in ("Sigmoid", "relu"):
        with pytest.raises(TypeError, match=f"must be a torch.nn activation class such as nn.Sigmoid or nn.ReLU, "
                                            f"got '{name}'"):
            multiseed.fit_seeds([0], x, y, epochs=1, activation=name, progress=False)


@pytest.mark.parametrize("kwargs, match", [
    ({"seeds": []}, "distinct"), ({"seeds": [1, 1]}, "distinct"), ({"seeds": [-1]}, "distinct"),
    ({"epochs": 0}, "epochs"), ({"batch_size": 2.5}, "batch_size"),
    ({"activation": nn.GELU}, "activation must be one of nn.Sigmoid, nn.Tanh or nn.ReLU, got nn.GELU"),
    ({"activation": nn.ReLU()}, r"activation must be one of nn.Sigmoid, nn.Tanh or nn.ReLU, got ReLU\(\)"),
    ({"train_labels": torch.zeros(3, dtype=torch.long)}, "same length"),
    ({"test_images": torch.rand(4, 784)}, "together"),
    ({"train_images": torch.rand(10, 1, 14, 14)}, "784 values"),
])
def test_bad_input_is_explained(kwargs, match):
    x, y = toy_data(10)
    args = {"seeds": [0], "train_images": x, "train_labels": y, "epochs": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        multiseed.fit_seeds(**args)
