"""course_utils._validate: one rule per kind of argument, and the public functions that use them."""
import numpy as np
import pytest
import torch
from torch import nn

from course_utils import _validate as v
from course_utils.models import MLP

BOOL = r"got True \(a bool, not a number\)"


def toy_data(n=64):
    return torch.rand(n, 1, 28, 28), torch.arange(n) % 10


# ---------------------------------------------------------------- True is not a count, anywhere


def _fit(**kw):
    from course_utils.data import TensorBatches
    from course_utils.training import fit

    model = MLP()
    x, y = toy_data()
    args = dict(epochs=1, progress=False) | kw
    fit(model, TensorBatches(x, y, 32), torch.optim.SGD(model.parameters(), lr=0.1), **args)


def _fit_seeds(**kw):
    from course_utils.multiseed import fit_seeds

    x, y = toy_data(10)
    fit_seeds(**{"seeds": [0], "train_images": x, "train_labels": y, "epochs": 1, "progress": False, **kw})


def _tensor_batches(**kw):
    from course_utils.data import TensorBatches

    TensorBatches(*toy_data(10), **kw)


def _scores_of(**kw):
    from course_utils.training import scores_of

    scores_of(MLP(), toy_data(10)[0], **kw)


def _confusion(**kw):
    from course_utils.training import confusion_matrix

    confusion_matrix(torch.tensor([0, 0]), torch.tensor([0, 0]), **kw)


def _seed(seed):
    from course_utils.env import seed_everything

    seed_everything(seed)


def _shift(max_shift):
    from course_utils.augment import RandomShift

    RandomShift(max_shift)


def _preferred(**kw):
    from course_utils.insight import find_preferred_inputs

    find_preferred_inputs(MLP(), "layer3", [0], **kw)


def _draw(**kw):
    from course_utils.netviz import draw_network

    draw_network(MLP(), torch.rand(784), **kw)


def _explorer(**kw):
    from course_utils.netviz import network_explorer

    network_explorer(MLP(), toy_data(3)[0], interactive=False, **kw)


def _canvas(**kw):
    from course_utils.canvas import DigitCanvas

    DigitCanvas(**kw)


def _digits(**kw):
    from course_utils.plots import show_digits

    show_digits(toy_data(3)[0], **kw)


@pytest.mark.parametrize("call, message", [
    (lambda: _fit(epochs=True), "epochs must be a positive int, " + BOOL),
    (lambda: _tensor_batches(batch_size=True), "batch_size must be a positive int, " + BOOL),
    (lambda: _seed(True), "seed must be a non-negative int, " + BOOL),
    (lambda: _shift(True), r"max_shift must be a non-negative int \(pixels\), " + BOOL),
    (lambda: _fit_seeds(epochs=True), "epochs must be a positive int, " + BOOL),
    (lambda: _fit_seeds(batch_size=True), "batch_size must be a positive int, " + BOOL),
    (lambda: _fit_seeds(seeds=[True]), r"seeds must be distinct non-negative ints \(not bools\)"),
    (lambda: _scores_of(batch_size=True), "batch_size must be a positive int, " + BOOL),
    (lambda: _confusion(num_classes=True), "num_classes must be a positive int, " + BOOL),
    (lambda: _preferred(steps=True), "steps must be a positive int, " + BOOL),
    (lambda: _draw(edges=True), "edges must be a non-negative int .*" + BOOL),
    (lambda: _explorer(index=True), "index must be an int from 0 to 2, " + BOOL),
    (lambda: _canvas(grid=True), "grid must be an int from 28 to 512 .*" + BOOL),
    (lambda: MLP((784, True, 10)), "sizes must be at least two positive ints"),
    (lambda: _digits(ncols=True), "ncols must be a positive int, " + BOOL),
], ids=["fit-epochs", "TensorBatches-batch_size", "seed_everything", "RandomShift", "fit_seeds-epochs",
        "fit_seeds-batch_size", "fit_seeds-seeds", "scores_of-batch_size", "confusion_matrix-num_classes",
        "find_preferred_inputs-steps", "draw_network-edges", "network_explorer-index", "DigitCanvas-grid",
        "MLP-sizes", "show_digits-ncols"])
def test_a_bool_is_not_a_count(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_train_epoch_counts_are_checked_by_its_callers():
    """train_epoch itself takes no count: its batches come from TensorBatches, whose batch_size is checked."""
    with pytest.raises(ValueError, match="pass e.g. batch_size=1"):
        _tensor_batches(batch_size=0)


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize("bad, why", [(0, "got 0;"), (-3, "got -3;"), (2.5, r"\(a float, not a whole number\)"),
                                      ("3", r"\(a str, not a whole number\)"), (None, "NoneType"), (False, "a bool")])
def test_positive_int(bad, why):
    assert v.positive_int(3, "epochs") == 3
    with pytest.raises(ValueError, match=f"epochs must be a positive int, .*{why}.*pass e.g. epochs=1"):
        v.positive_int(bad, "epochs")


def test_non_negative_int_and_int_in_range():
    assert v.non_negative_int(0, "seed") == 0
    with pytest.raises(ValueError, match=r"max_shift must be a non-negative int \(pixels\), got -1"):
        v.non_negative_int(-1, "max_shift", "pixels")
    assert v.int_in_range(28, "grid", 28, 512) == 28 and v.int_in_range(512, "grid", 28, 512) == 512
    with pytest.raises(ValueError, match=r"grid must be an int from 28 to 512 \(pixels per side\), got 513"):
        v.int_in_range(513, "grid", 28, 512, "pixels per side")
    with pytest.raises(ValueError, match="an int >= 5"):
        v.int_in_range(4, "n", 5)


def test_whole_number_takes_any_int_and_raises_type_error():
    assert v.whole_number(-3, "dx") == -3
    for bad in (1.5, True, "1"):
        with pytest.raises(TypeError, match=r"dx must be an int \(whole numbers of pixels\)"):
            v.whole_number(bad, "dx", "pixels")


def test_number():
    assert v.number(1, "w") == 1.0 and isinstance(v.number(1, "w"), float)
    assert v.number(np.float32(0.5), "w") == 0.5
    for bad in (True, "1", None, torch.tensor(1.0)):
        with pytest.raises(TypeError, match="w must be a number"):
            v.number(bad, "w")
    with pytest.raises(ValueError, match="finite"):
        v.number(float("inf"), "w")
    with pytest.raises(ValueError, match=r"w must be between -10 and 10 \(the sliders' range\), got 12"):
        v.number(12, "w", -10, 10, why="the sliders' range")
    with pytest.raises(ValueError, match=r"l2 must be >= 0 \(it is a penalty\), got -1"):
        v.number(-1.0, "l2", low=0, why="it is a penalty")
    with pytest.raises(ValueError, match="x must be <= 1"):
        v.number(2, "x", high=1)


def test_learning_rate():
    assert v.learning_rate(0.01) == 0.01
    for bad in (0, -0.1):
        with pytest.raises(ValueError, match=r"lr must be a positive number .*lr=0.01"):
            v.learning_rate(bad)
    with pytest.raises(TypeError, match="lr must be a number"):
        v.learning_rate("0.1")
    with pytest.raises(ValueError, match="lr must be a positive number"):
        _fit_seeds(lr=0)


def test_interval():
    assert v.interval((-5, 5), "xlim") == (-5.0, 5.0)
    for bad in ((3, -3), (1, 1), (1,), 5, None):
        with pytest.raises(ValueError, match=r"xlim must be \(low, high\) with low < high"):
            v.interval(bad, "xlim")
    with pytest.raises(TypeError, match=r"xlim\[0\] must be a number"):
        v.interval(("a", 1), "xlim")


def test_seed_list_and_layer_sizes():
    assert v.seed_list(range(3)) == [0, 1, 2]
    for bad in ([], [1, 1], [-1], [True], [1.0], 5):
        with pytest.raises(ValueError, match="seeds must be distinct non-negative ints"):
            v.seed_list(bad)
    assert v.layer_sizes([784, 16, 10]) == (784, 16, 10)
    for bad in ((784,), (784, 0, 10), (784, 16.0, 10), 784, None):
        with pytest.raises(ValueError, match=r"sizes must be at least two positive ints .*e.g. \(784, 16, 16, 10\)"):
            v.layer_sizes(bad)


# ---------------------------------------------------------------- choices


def test_boolean():
    assert v.boolean(False, "train") is False
    for bad in (1, "test", None):
        with pytest.raises(TypeError, match=r"train must be True or False \(True: the 60,000"):
            v.boolean(bad, "train", "True: the 60,000 training images, False: the 10,000 test images")


def test_one_of():
    assert v.one_of("cpu", "prefer", ("cuda", "mps", "cpu")) == "cpu"
    with pytest.raises(ValueError, match="prefer must be one of 'cuda', 'mps' or 'cpu', got 'tpu'"):
        v.one_of("tpu", "prefer", ("cuda", "mps", "cpu"))
    classes = [nn.Sigmoid, nn.Tanh, nn.ReLU]
    assert v.one_of(nn.ReLU, "activation", classes) is nn.ReLU
    with pytest.raises(ValueError, match="one of nn.Sigmoid, nn.Tanh or nn.ReLU, got nn.GELU"):
        v.one_of(nn.GELU, "activation", classes)
    with pytest.raises(ValueError, match=r"got ReLU\(\)"):  # an instance is not the class
        v.one_of(nn.ReLU(), "activation", classes)


# ---------------------------------------------------------------- devices, models, optimizers


def test_available_device_checks_the_machine_has_it(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert v.available_device("cpu") == torch.device("cpu") == v.available_device(torch.device("cpu"))
    assert v.available_device("meta") == torch.device("meta")
    assert [v.machine_has(k) for k in ("cuda", "mps", "cpu", "tpu")] == [False, False, True, False]
    with pytest.raises(ValueError, match="device='cuda' is not available on this machine.*pick_device"):
        v.available_device("cuda")
    with pytest.raises(ValueError, match="device='mps' is not available"):
        v.available_device("mps")
    with pytest.raises(ValueError, match="not a device name"):
        v.available_device("gpu")
    with pytest.raises(ValueError, match="not a device name"):
        v.available_device(3.5)


def test_model_on_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert v.model_on_device(nn.Linear(2, 2), "cpu") == torch.device("cpu")
    assert v.model_on_device(nn.ReLU(), "meta") == torch.device("meta")  # no parameters: nothing to compare
    with pytest.raises(ValueError, match="not available"):
        v.model_on_device(nn.Linear(2, 2), "cuda")
    with pytest.raises(ValueError, match=r"move the model first with model.to\('meta'\) or pass device='cpu'"):
        v.model_on_device(nn.Linear(2, 2), "meta")
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        v.model_on_device(lambda x: x, "cpu")


def test_optimizer_for():
    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    assert v.optimizer_for(model, opt) is opt
    assert v.optimizer_for(model, torch.optim.SGD(model.layer3.parameters(), lr=0.1))  # part of the model is fine
    with pytest.raises(ValueError, match="holds none of this model's parameters"):
        v.optimizer_for(model, torch.optim.SGD(MLP().parameters(), lr=0.1))
    with pytest.raises(TypeError, match="torch.optim optimizer"):
        v.optimizer_for(model, 0.1)


def test_activation_module():
    relu = nn.ReLU()
    assert v.activation_module(relu) is relu and isinstance(v.activation_module(nn.Tanh), nn.Tanh)
    for bad in ("relu", None, torch.relu):
        with pytest.raises(TypeError, match=r"must be a torch.nn activation class .*MLP\(activation=nn.ReLU\)"):
            v.activation_module(bad)


def test_submodules():
    model = MLP()
    assert v.submodule(model, "layer2") is model.layer2
    assert v.submodules(model, ["layer1", "activation"]) == {"layer1": model.layer1, "activation": model.activation}
    with pytest.raises(ValueError, match=r"no submodule 'layer9'; its submodules are \['layer1'"):
        v.submodule(model, "layer9")
    with pytest.raises(TypeError, match=r"modules must be a list of names, e.g. \['layer1'\]"):
        v.submodules(model, "layer1")


def test_cpu_generator():
    gen = torch.Generator().manual_seed(1)
    assert v.cpu_generator(gen) is gen
    for bad in (0, "seed", torch.manual_seed):
        with pytest.raises(TypeError, match=r"generator must be a torch.Generator.*Generator\(\).manual_seed\(0\)"):
            v.cpu_generator(bad)
    with pytest.raises(TypeError, match="generator must be a torch.Generator, got int"):
        _tensor_batches(generator=0)
    if torch.cuda.is_available():
        with pytest.raises(ValueError, match="CPU generator"):
            v.cpu_generator(torch.Generator(device="cuda"))


# ---------------------------------------------------------------- data


def test_image_batch_accepts_what_each_caller_takes():
    flat, square = torch.rand(2, 784), torch.rand(2, 1, 28, 28)
    assert v.image_batch(flat, "MLP", values=784) is flat and v.image_batch(square, "MLP", values=784) is square
    assert v.image_batch(torch.rand(0, 784), "MLP", values=784).shape == (0, 784)
    assert v.image_batch(square, "SimpleCNN", channels=1, pooled=(2, 7)) is square
    ints = torch.zeros(2, 3, 8, 8, dtype=torch.uint8)
    assert v.image_batch(ints, "shift_images", channels="any", floats=False) is ints


@pytest.mark.parametrize("x, kwargs, error, message", [
    (np.zeros((2, 784)), {}, TypeError, r"MLP takes a torch.Tensor, got ndarray; convert with torch.as_tensor"),
    (torch.zeros(2, 784, dtype=torch.uint8), {}, TypeError,
     r"MLP needs a float tensor but got torch.uint8.*x.float\(\) / 255"),
    (torch.rand(784), {}, ValueError, r"MLP takes a batch of images.*got shape \[784\].*x.unsqueeze\(0\)"),
    (torch.rand(3, 10), {"values": 784}, ValueError,
     r"784 values each \(28x28 digits.*got shape \[3, 10\] \(10 values"),
    (torch.rand(3, 784), {"values": 100}, ValueError, r"100 values each \(e.g. \[B, 100\]\)"),
    (torch.rand(3, 784), {"channels": 1}, ValueError, r"MLP takes images as \[B, 1, H, W\].*x.view\(-1, 1, 28, 28\)"),
    (torch.rand(3, 28, 28), {"channels": "any"}, ValueError, r"takes images as \[B, C, H, W\]"),
    (torch.rand(3, 2, 28, 28), {"channels": 1}, ValueError, r"\[B, 1, H, W\].*got shape \[3, 2, 28, 28\]"),
    (torch.rand(3, 1, 32, 32), {"channels": 1, "pooled": (2, 7)}, ValueError,
     r"MLP is built for 28x28 images \(after 2 poolings its dense layer expects 7x7 maps\), got 32x32"),
])
def test_image_batch_messages(x, kwargs, error, message):
    with pytest.raises(error, match=message):
        v.image_batch(x, "MLP", **kwargs)


def test_every_image_taker_gives_the_same_float_message():
    from course_utils.augment import shift_images
    from course_utils.insight import get_activations
    from course_utils.models import SimpleCNN
    from course_utils.netviz import network_explorer

    ints = torch.zeros(2, 1, 28, 28, dtype=torch.long)
    takers = {"MLP": MLP(), "SimpleCNN": SimpleCNN(), "get_activations": lambda x: get_activations(MLP(), x),
              "network_explorer": lambda x: network_explorer(MLP(), x, interactive=False),
              "fit_seeds": lambda x: _fit_seeds(train_images=x, train_labels=torch.zeros(2, dtype=torch.long))}
    for who, call in takers.items():
        with pytest.raises(TypeError, match=rf"^{who} needs a float tensor but got torch.int64.*x.float\(\) / 255"):
            call(ints)
    assert shift_images(ints, 1, 0).dtype == torch.long  # shifting needs no floats


def test_matching_labels():
    x, y = toy_data(3)
    assert v.matching_labels(x, y) is None and v.matching_labels(None, None, optional=True) is None
    with pytest.raises(ValueError, match=r"labels must match images one to one \(the same length\), got 3 images"):
        v.matching_labels(x, y[:2])
    with pytest.raises(ValueError, match="test_images and test_labels must be given together.*got test_labels=None"):
        v.matching_labels(x, None, ("test_images", "test_labels"), optional=True)
    with pytest.raises(ValueError, match="must be given together"):
        v.matching_labels(None, None)
    with pytest.raises(TypeError, match=r"labels must be a torch.Tensor, got list; .*torch.as_tensor\(labels\)"):
        v.matching_labels(x, [0, 1, 2])
    with pytest.raises(ValueError, match="empty"):
        v.matching_labels(x[:0], y[:0], non_empty=True)
    with pytest.raises(ValueError, match="images are on cpu but labels on meta; move both to one device"):
        v.matching_labels(x, y.to("meta"), one_device=True)


def test_class_indices():
    scores = torch.zeros(4, 10)
    labels = torch.tensor([0, 3, 9, 1])
    assert v.class_indices(labels, scores) is labels
    with pytest.raises(ValueError, match=r"integer class indices \(int64\), got torch.float32; .*labels.long\(\)"):
        v.class_indices(labels.float(), scores)
    with pytest.raises(ValueError, match="classes 0 to 9 for a model with 10 outputs, got values from 0 to 10"):
        v.class_indices(labels + labels.eq(9).long(), scores)
    with pytest.raises(ValueError, match=r"one class index per image, shape \[4\], got shape \[4, 1\]"):
        v.class_indices(labels[:, None], scores)


def test_bad_labels_in_training_are_refused_before_the_loss_and_other_loss_errors_keep_theirs():
    from course_utils.data import TensorBatches
    from course_utils.training import train_epoch

    x, y = toy_data()
    model = MLP()
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ValueError, match="integer class indices"):
        train_epoch(model, TensorBatches(x, y.float(), 64), torch.optim.SGD(model.parameters(), lr=0.1))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # refused before any step

    def broken_loss(scores, labels):
        raise RuntimeError("not the labels")

    with pytest.raises(RuntimeError, match="not the labels"):  # a loss failing for another reason keeps its error
        train_epoch(model, TensorBatches(x, y, 64), torch.optim.SGD(model.parameters(), lr=0.1), loss_fn=broken_loss)


def test_activation_class_takes_classes_and_refuses_names_as_mlp_does():
    from course_utils._validate import activation_class
    from course_utils.models import MLP

    options = [nn.Sigmoid, nn.Tanh, nn.ReLU]
    assert activation_class(nn.Tanh, options) is nn.Tanh
    with pytest.raises(TypeError) as from_mlp:
        MLP(activation="relu")
    with pytest.raises(TypeError) as from_rule:
        activation_class("relu", options)
    assert str(from_rule.value) == str(from_mlp.value)            # the same friendly message, word for word
    with pytest.raises(ValueError, match="one of nn.Sigmoid, nn.Tanh or nn.ReLU, got nn.GELU"):
        activation_class(nn.GELU, options)


def test_score_matrix():
    scores = torch.randn(3, 10, dtype=torch.float64)
    assert v.score_matrix(scores, "f").dtype == torch.float32 and v.score_matrix(scores, "f").shape == (3, 10)
    with pytest.raises(TypeError, match=r"f: scores must be a torch.Tensor .*scores = scores_of\(model, images\)"):
        v.score_matrix([[0.0] * 10], "f")
    for bad in (torch.zeros(10), torch.zeros(0, 10), torch.zeros(4, 1), torch.zeros(4, 10, dtype=torch.long)):
        with pytest.raises(ValueError, match=r"f: scores must be raw scores of several images, floats shaped"):
            v.score_matrix(bad, "f")
    with pytest.raises(ValueError, match="NaN or infinite scores for 1 of 2"):
        v.score_matrix(torch.tensor([[0.0, 1.0], [float("inf"), 0.0]]), "f")
