import os
import zipfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from course_utils import deploy
from course_utils.deploy import (CheckpointError, DigitThreshold, checkpoint_info, export_model, load_checkpoint,
                                 load_exported, predict, save_checkpoint)
from course_utils.mnist_files import MnistUnavailable
from course_utils.data import TensorBatches
from course_utils.models import MLP, FastCNN, SimpleCNN
from course_utils.training import evaluate, train_epoch


def model(seed=0, **kwargs):
    torch.manual_seed(seed)
    return MLP(**kwargs)


def same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def digit(height=120, width=90):
    """A synthetic '0' (an ellipse outline): 1.0 ink on 0.0 background."""
    r, c = np.mgrid[0:height, 0:width]
    d = np.sqrt(((r - height / 2) / (height * 0.35)) ** 2 + ((c - width / 2) / (width * 0.3)) ** 2)
    return (np.abs(d - 1) < 0.15).astype(np.float32)


@pytest.fixture
def saved(tmp_path):
    net = model()
    path = save_checkpoint(net, tmp_path / "net.pt", extra={"val_acc": 0.93, "lr": 1e-2, "note": ["adam", 2]})
    return net, path


def test_round_trip_rebuilds_the_architecture(saved):
    net, path = saved
    again = load_checkpoint(path)
    assert isinstance(again, MLP) and again.sizes == net.sizes and same_weights(net, again)
    relu = model(sizes=(784, 32, 10), activation=nn.ReLU)
    back = load_checkpoint(save_checkpoint(relu, path.parent / "relu.pt"))
    assert isinstance(back.activation, nn.ReLU) and back.sizes == (784, 32, 10) and same_weights(relu, back)


def test_load_into_a_given_model_and_info(saved):
    net, path = saved
    target = model(seed=1)
    assert load_checkpoint(path, model=target) is target and same_weights(net, target)
    info = checkpoint_info(path)
    assert info["architecture"] == {"class": "MLP", "sizes": [784, 16, 16, 10], "activation": "Sigmoid"}
    assert info["extra"] == {"val_acc": 0.93, "lr": 1e-2, "note": ["adam", 2]}
    assert info["shapes"]["layer1.weight"] == [16, 784]


def test_checkpoint_is_a_plain_weights_only_file(saved):
    _, path = saved
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == deploy.FORMAT and set(raw) == {"format", "architecture", "extra", "state_dict"}


def test_save_is_atomic_a_crash_leaves_the_old_file(saved, monkeypatch):
    net, path = saved
    before = path.read_bytes()

    def crash(obj, f):
        f.write(b"PK half a checkpoint")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(deploy.torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(model(seed=5), path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(path.parent)) == ["net.pt"]  # no temporary file left behind


def test_extra_must_be_plain_data(tmp_path):
    with pytest.raises(TypeError, match="extra"):
        save_checkpoint(model(), tmp_path / "x.pt", extra={"optimizer": torch.optim.SGD(model().parameters(), lr=1)})
    assert not (tmp_path / "x.pt").exists()


def test_wrong_architecture_is_explained(saved):
    _, path = saved
    with pytest.raises(CheckpointError, match=r"different architecture.*sizes.*Fix: build MLP\(sizes=\(784, 16, 16, 10\)"):
        load_checkpoint(path, model=model(sizes=(784, 32, 10)))
    with pytest.raises(CheckpointError, match="activation: file 'Sigmoid', your model 'ReLU'"):
        load_checkpoint(path, model=model(activation=nn.ReLU))  # same shapes: load_state_dict would accept it


def test_other_models_are_checked_by_shape(tmp_path):
    path = save_checkpoint(nn.Linear(4, 3), tmp_path / "lin.pt")
    with pytest.raises(CheckpointError, match=r"weight is \[3, 4\] in the file but \[2, 4\]"):
        load_checkpoint(path, model=nn.Linear(4, 2))
    with pytest.raises(CheckpointError, match="cannot rebuild"):
        load_checkpoint(path)
    target = nn.Linear(4, 3)
    load_checkpoint(path, model=target)


def test_bare_state_dict(tmp_path):
    net = model()
    torch.save(net.state_dict(), tmp_path / "bare.pt")
    assert same_weights(net, load_checkpoint(tmp_path / "bare.pt", model=model(seed=3)))
    with pytest.raises(CheckpointError, match="bare state_dict"):
        load_checkpoint(tmp_path / "bare.pt")


@pytest.mark.parametrize("damage", ["truncated", "empty", "junk", "flipped"])
def test_damaged_files_give_a_clear_message(saved, damage):
    _, path = saved
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "empty":
        data = b""
    elif damage == "junk":
        data = b"this is not a checkpoint at all"
    else:
        data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="not a complete checkpoint.*Fix: save it again"):
        load_checkpoint(path)


def test_whole_pickled_model_and_missing_file(tmp_path):
    torch.save(model(), tmp_path / "whole.pt")
    with pytest.raises(CheckpointError, match="weights_only"):
        load_checkpoint(tmp_path / "whole.pt")
    with pytest.raises(FileNotFoundError, match="save_checkpoint"):
        load_checkpoint(tmp_path / "nothing.pt")
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        load_checkpoint(tmp_path / "list.pt")


def test_export_gives_identical_outputs_and_leaves_the_model_alone(tmp_path):
    net = model().train()
    path = export_model(net, tmp_path / "net.pt2")
    assert net.training and path.stat().st_size > 0
    exported = load_exported(path)
    for n in (1, 2, 7, 64):
        x = torch.rand(n, 1, 28, 28)
        with torch.no_grad():
            assert torch.equal(exported(x), net(x))
    assert list(tmp_path.iterdir()) == [path]
    with pytest.raises(ValueError, match="example"):
        export_model(nn.Linear(3, 2), tmp_path / "lin.pt2")
    export_model(nn.Linear(3, 2), tmp_path / "lin.pt2", example=torch.zeros(2, 3))
    with pytest.raises(FileNotFoundError):
        load_exported(tmp_path / "missing.pt2")


def test_the_course_cnns_export_without_an_example_and_predict_as_before(tmp_path):
    torch.manual_seed(0)
    x = torch.rand(5, 1, 28, 28)
    for cnn in (SimpleCNN(), FastCNN().to(memory_format=torch.channels_last)):
        cnn.eval()
        with warnings.catch_warnings():
            warnings.simplefilter("error")              # channels-last weights must not make torch warn on load
            exported = load_exported(export_model(cnn, tmp_path / f"{type(cnn).__name__}.pt2"))
        with torch.no_grad():
            assert torch.allclose(exported(x), cnn(x), atol=1e-5)
        batches = TensorBatches(x, torch.arange(5), batch_size=5, shuffle=False)
        assert evaluate(exported, batches) == pytest.approx(evaluate(cnn, batches))  # eval mode: nothing to switch
        with pytest.raises(TypeError, match="exported model .* cannot be trained; train the original model"):
            train_epoch(exported, batches, torch.optim.SGD(exported.parameters(), lr=0.1))
    with pytest.raises(ValueError, match=r"cannot guess the input shape of a Linear: pass example="):
        export_model(nn.Linear(3, 2), tmp_path / "lin.pt2")


def test_export_holds_no_paths_of_this_machine(tmp_path):
    """The file's bytes must not depend on where the course or Python lives."""
    path = export_model(model(), tmp_path / "a.pt2")
    with zipfile.ZipFile(path) as archive:
        text = b"".join(archive.read(name) for name in archive.namelist())
    for place in (Path(deploy.__file__).resolve().parent.parent, Path(torch.__file__).resolve().parent):
        assert str(place).encode() not in text
    assert b"models.py" not in text and b"linear.py" not in text


def test_predict_explains_and_restores_the_mode():
    net = model().train()
    result = predict(net, digit())
    assert net.training
    assert result.probabilities.shape == (10,) and result.probabilities.sum().item() == pytest.approx(1, abs=1e-5)
    assert result.digit == int(result.probabilities.argmax()) and result.image.shape == (1, 28, 28)
    assert result.steps and f"digit {result.digit}" in str(result)


@pytest.mark.parametrize("name", ["blank", "all ink", "white paper"])
def test_predict_on_an_empty_image_gives_a_message_not_a_prediction(name):
    image = {"blank": np.zeros((28, 28)), "all ink": np.ones((28, 28)),
             "white paper": np.full((112, 112), 255, np.uint8)}[name]
    result = predict(model(), image)
    assert result.probabilities is None and result.digit is None and result.image is None
    assert "No digit found" in result.message and str(result).startswith("No digit found")


def test_predict_on_odd_inputs_agrees_with_the_plain_digit(tmp_path):
    net = model()
    base = predict(net, digit()).probabilities
    d = digit()
    odd = {"tiny 5x5": torch.nn.functional.interpolate(torch.from_numpy(d)[None, None], size=(5, 5),
                                                       mode="area")[0, 0],
           "huge 1000x800": np.kron(digit(80, 100), np.ones((10, 10), np.float32)),
           "rgb uint8": np.repeat((d * 255).astype(np.uint8)[..., None], 3, axis=2),
           "inverted": 1 - d,
           "float 0-255": d * 255.0}
    for name, image in odd.items():
        result = predict(net, image)
        assert result.probabilities is not None and result.image.shape == (1, 28, 28), name
    assert torch.allclose(predict(net, odd["rgb uint8"]).probabilities, base, atol=1e-3)
    assert torch.allclose(predict(net, odd["inverted"]).probabilities, base, atol=1e-3)
    exported = load_exported(export_model(net, tmp_path / "e.pt2"))
    assert torch.equal(predict(exported, d).probabilities, predict(net, d).probabilities)


def test_predict_checks_the_device():
    with pytest.raises(ValueError, match="device"):
        predict(model(), digit(), device="meta")


@pytest.fixture(scope="module")
def mnist():
    from course_utils.data import mnist_tensors

    try:
        return mnist_tensors(train=True), mnist_tensors(train=False)
    except MnistUnavailable as err:
        pytest.skip(f"MNIST not available: {err}")


@pytest.fixture
def one_thread():
    """Tiny networks train far faster on one CPU thread (and do not stall on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_real_mnist_digit_prediction_unchanged_by_preprocessing(mnist, one_thread):
    (x, y), (xt, _) = mnist
    net = model()
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for i in range(0, 10_000, 100):  # a quick model: one pass over 10,000 images
        opt.zero_grad()
        nn.functional.cross_entropy(net(x[i:i + 100]), y[i:i + 100]).backward()
        opt.step()
    with torch.no_grad():
        direct = net(xt[:200]).argmax(1)
    via_predict = torch.tensor([predict(net, xt[i]).digit for i in range(200)])
    assert (via_predict == direct).float().mean() >= 0.97
    assert via_predict[0] == direct[0]


def test_numpy_numbers_in_extra_are_stored_as_python_numbers(tmp_path):
    """Before: saved fine, then load_checkpoint refused it as 'a whole model saved with torch.save(model)?'."""
    net = model()
    extra = {"acc": np.float64(0.98), "epochs": np.int64(5), "best": np.bool_(True), "curve": np.array([0.5, 0.75]),
             "per_class": [np.float32(0.25)], "shape": (np.int64(28), 28)}
    path = save_checkpoint(net, tmp_path / "np.pt", extra=extra)
    assert same_weights(net, load_checkpoint(path))
    stored = checkpoint_info(path)["extra"]
    assert stored == {"acc": 0.98, "epochs": 5, "best": True, "curve": [0.5, 0.75], "per_class": [0.25],
                      "shape": (28, 28)}
    assert [type(stored[k]) for k in ("acc", "epochs", "best")] == [float, int, bool]
    with pytest.raises(TypeError, match=r"extra\['t'\] is a Tensor; .*\.item\(\) gives its one number"):
        save_checkpoint(net, tmp_path / "t.pt", extra={"t": torch.tensor(0.5)})


def test_saving_to_a_folder_is_refused_naming_a_file_to_use(tmp_path):
    for save, example in ((save_checkpoint, "model.pt"), (export_model, "model.pt2")):
        with pytest.raises(ValueError, match=rf"{tmp_path} is a folder, and a folder cannot be replaced by a file\. "
                                             rf"Give a file name, e.g\. '{tmp_path / example}'"):
            save(model(), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_arguments_the_other_way_round_are_explained(tmp_path):
    with pytest.raises(TypeError, match=r"save_checkpoint takes the model first, then the path: "
                                        r"save_checkpoint\(model, '.*net.pt'\)"):
        save_checkpoint(tmp_path / "net.pt", model())
    with pytest.raises(TypeError, match=r"export_model takes the model first, then the path"):
        export_model(str(tmp_path / "net.pt2"), model())
    path = save_checkpoint(model(), tmp_path / "net.pt")
    with pytest.raises(TypeError, match=r"load_checkpoint takes the path first, then the model: "
                                        r"load_checkpoint\(path, model=model\)"):
        load_checkpoint(model(), path)
    assert list(tmp_path.iterdir()) == [path]


def test_loading_onto_a_gpu_the_machine_lacks_suggests_the_cpu(saved, monkeypatch):
    _, path = saved
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"device='cuda' is not available on this machine; load it on the CPU with "
                                         r"load_checkpoint\(path, device='cpu'\)"):
        load_checkpoint(path, device="cuda")
    assert next(load_checkpoint(path, device="cpu").parameters()).device.type == "cpu"


class Hostile:
    def __reduce__(self):
        return (os.system, ("echo this should never run",))


@pytest.mark.parametrize("kind", ["pickle", "checkpoint", "junk", "zip"])
def test_load_exported_refuses_other_files_quietly(tmp_path, kind, capfd):
    import warnings

    path = tmp_path / "model.pt2"
    if kind == "pickle":
        torch.save({"x": Hostile()}, path)
    elif kind == "checkpoint":
        save_checkpoint(model(), path)
    elif kind == "junk":
        path.write_bytes(b"not a model")
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("archive/archive_format", "pt2")         # looks like an export, holds nothing
    capfd.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(CheckpointError, match=rf"{path.name} is not a model written by export_model: .*"
                                                  r"Fix: export the model with export_model\(model, path\)"):
            load_exported(path)
    assert caught == []
    out, err = capfd.readouterr()
    assert out == "" and err == ""                           # no torch log lines either


def test_an_exported_file_loads_whatever_its_name_without_warnings(tmp_path, capfd):
    import warnings

    net = model()
    path = export_model(net, tmp_path / "model.bin")
    capfd.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exported = load_exported(path)
    assert caught == [] and capfd.readouterr().err == ""
    x = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(exported(x), net(x))


def test_predict_refuses_nan_scores():
    """Before: a model whose weights had become NaN gave 'digit 0 (nan% probability)'."""
    net = model()
    with torch.no_grad():
        net.layer1.weight[3, 100] = float("nan")
    with pytest.raises(ValueError, match=r"predict: the model gave NaN or infinite scores for 1 of 1 image\(s\).*"
                                         r"a training run whose loss became NaN"):
        predict(net, digit())


class Fixed(nn.Module):
    """A 'model' that answers every picture with the same ten scores."""

    def __init__(self, scores):
        super().__init__()
        self.register_buffer("scores", torch.tensor(scores, dtype=torch.float32))

    def forward(self, x):
        return self.scores.expand(len(x), -1)


SURE = [8.0] + [0.0] * 9       # confidence 0.9 (e^8 / (e^8 + 9)), energy -8.0011
UNSURE = [1.0] + [0.0] * 9     # confidence 0.232, energy -2.4612


def test_choose_rejects_the_requested_share_of_validation_digits():
    scores = torch.zeros(100, 10)
    scores[:, 0] = torch.arange(100.0) / 10                     # every row a different confidence and energy
    for kind in ("confidence", "energy"):
        rule = DigitThreshold.choose(scores, kind, false_rejection=0.05)
        assert rule.rejects(scores).sum() == 5 and rule.false_rejection == 0.05
        assert rule.rejects(scores)[:5].all(), "the five least digit-like rows are the ones rejected"
        assert DigitThreshold.choose(scores, kind, 0).rejects(scores).sum() == 0
        assert DigitThreshold.choose(scores, kind, 0.999).rejects(scores).sum() == 99
    energy = DigitThreshold.choose(scores, "energy", 0.05)
    assert energy.limit == pytest.approx(-torch.logsumexp(scores[5], 0).item())
    assert str(energy) == f"not a digit when energy above {energy.limit:.2f} (which rejects 5.0% of validation digits)"
    tied = torch.zeros(10, 10)                                  # all alike: nothing can be told apart
    assert DigitThreshold.choose(tied, "confidence", 0.3).false_rejection == 0


def test_predict_says_not_a_digit_below_the_threshold():
    sure, unsure = predict(Fixed(SURE), digit()), predict(Fixed(UNSURE), digit())
    assert sure.digit == unsure.digit == 0 and not unsure.rejected          # without a threshold: an answer
    assert unsure.confidence == pytest.approx(0.2320, abs=1e-4) and unsure.energy == pytest.approx(-2.4612, abs=1e-4)
    rejected = predict(Fixed(UNSURE), digit(), threshold=0.5)
    assert rejected.rejected and rejected.digit is None and rejected.guess == 0
    assert rejected.probabilities is not None and rejected.image.shape == (1, 28, 28)
    assert str(rejected).startswith("Not a digit: its confidence 23.2% is below the limit 50.0%. "
                                    "The model's best guess would be 0 (23.2% probability).")
    assert predict(Fixed(SURE), digit(), threshold=0.5).digit == 0
    energy = DigitThreshold("energy", -5.0, 0.05)
    assert predict(Fixed(SURE), digit(), threshold=energy).digit == 0
    said = str(predict(Fixed(UNSURE), digit(), threshold=energy))
    assert said.startswith("Not a digit: its energy -2.46 is above the limit -5.00 (which rejects 5.0% of validation "
                           "digits). The model's best guess would be 0")
    blank = predict(Fixed(SURE), np.zeros((28, 28)), threshold=0.5)           # no ink: still 'no digit found'
    assert blank.digit is None and not blank.rejected and "No digit found" in blank.message


def test_threshold_arguments_are_checked():
    with pytest.raises(ValueError, match=r"threshold must be between 0 and 1 \(the least confidence to accept"):
        predict(Fixed(SURE), digit(), threshold=90)
    with pytest.raises(TypeError, match="threshold must be a number"):
        predict(Fixed(SURE), digit(), threshold="high")
    with pytest.raises(ValueError, match="kind must be one of 'confidence' or 'energy', got 'softmax'"):
        DigitThreshold("softmax", 0.5)
    with pytest.raises(ValueError, match=r"limit must be between 0 and 1 \(a probability\)"):
        DigitThreshold("confidence", 1.5)
    with pytest.raises(ValueError, match="false_rejection must be below 1"):
        DigitThreshold.choose(torch.zeros(4, 10), "energy", 1)
    with pytest.raises(ValueError, match=r"scores must be raw scores of several images.*got torch.int64 of shape \[4\]"):
        DigitThreshold.choose(torch.tensor([1, 2, 3, 4]), "energy")
    with pytest.raises(TypeError, match=r"scores must be a torch.Tensor.*scores_of\(model, images\)"):
        DigitThreshold.choose([[0.1] * 10], "confidence")
    with pytest.raises(ValueError, match="NaN or infinite scores"):
        DigitThreshold.choose(torch.full((3, 10), float("nan")), "confidence")
