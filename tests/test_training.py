import pytest
import torch
from torch import nn

from course_utils import training
from course_utils.data import TensorBatches
from course_utils.models import MLP


def toy_data(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 28, 28, generator=g)
    y = (x.view(n, -1)[:, :10].argmax(dim=1))  # a learnable rule
    return x, y


def run(seed=0, epochs=3, lr=0.5):
    torch.manual_seed(seed)
    model = MLP()
    x, y = toy_data()
    batches = TensorBatches(x, y, 32, generator=torch.Generator().manual_seed(seed))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    return model, training.fit(model, batches, opt, epochs, test_batches=TensorBatches(x, y, 64, shuffle=False),
                               progress=False)


def test_same_seed_gives_exactly_the_same_loss_history():
    (m1, h1), (m2, h2) = run(), run()
    assert h1.train_loss == h2.train_loss and h1.test_acc == h2.test_acc
    assert all(torch.equal(a, b) for a, b in zip(m1.state_dict().values(), m2.state_dict().values()))
    _, h3 = run(seed=1)
    assert h3.train_loss != h1.train_loss


def test_history_is_per_sample_and_fractions():
    _, h = run(epochs=4)
    assert len(h) == 4 and len(h.test_acc) == 4 and len(h.epoch_seconds) == 4
    assert all(0.0 <= a <= 1.0 for a in h.train_acc + h.test_acc)
    assert h.train_loss[-1] < h.train_loss[0]


def test_train_epoch_averages_loss_per_sample():
    model = nn.Linear(2, 3)
    with torch.no_grad():
        model.weight.zero_(), model.bias.zero_()
    x, y = torch.zeros(5, 2), torch.tensor([0, 1, 2, 0, 1])
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    loss, acc = training.train_epoch(model, TensorBatches(x, y, batch_size=2, shuffle=False), opt)
    assert loss == pytest.approx(torch.log(torch.tensor(3.0)).item())  # uniform scores: ln 3 for every sample
    assert acc == pytest.approx(2 / 5)  # argmax of equal scores is class 0


class GradModeRecorder(nn.Module):
    """Flatten, dropout, linear; each forward records whether autograd was on (a graph being built)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(784, 10))
        self.grad_enabled = []

    def forward(self, x):
        self.grad_enabled.append(torch.is_grad_enabled())
        return self.net(x)


def test_evaluate_restores_mode_and_uses_no_grad():
    model = GradModeRecorder()
    x, y = toy_data(64)
    model.train()
    loss1, acc1 = training.evaluate(model, TensorBatches(x, y, 16, shuffle=False))
    loss2, _ = training.evaluate(model, TensorBatches(x, y, 16, shuffle=False))
    assert model.training and loss1 == loss2  # eval mode: dropout off, so deterministic
    assert model.grad_enabled == [False] * 8  # 2 calls x 4 batches, every forward without autograd
    assert torch.is_grad_enabled()  # and autograd is back on afterwards
    assert all(p.grad is None for p in model.parameters())
    model.eval()
    training.evaluate(model, TensorBatches(x, y, 16, shuffle=False))
    assert not model.training


def batch_norm_and_dropout():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.BatchNorm1d(784), nn.Dropout(0.5), nn.Linear(784, 10))


@pytest.mark.parametrize("came_in", ["eval", "train"])
def test_train_epoch_and_fit_train_in_train_mode_and_restore_the_mode_the_model_came_in(came_in):
    x, y = toy_data(64)
    for train in (lambda m: training.train_epoch(m, TensorBatches(x, y, 16), torch.optim.SGD(m.parameters(), lr=0.1)),
                  lambda m: training.fit(m, TensorBatches(x, y, 16), torch.optim.SGD(m.parameters(), lr=0.1), 2,
                                         test_batches=TensorBatches(x, y, 32), progress=False)):
        model = batch_norm_and_dropout().train(came_in == "train")
        batch_norm = model[1]
        train(model)
        assert batch_norm.num_batches_tracked.item() > 0      # it did train in train mode (batch statistics)
        assert [m.training for m in model.modules()] == [came_in == "train"] * 5


def test_train_epoch_restores_the_mode_after_an_error():
    model = batch_norm_and_dropout().eval()
    x = torch.rand(8, 1, 28, 28)
    bad = [(x, torch.full((8,), 10))]                          # class 10 of a 10-class model
    with pytest.raises(ValueError, match="classes 0 to 9"):
        training.train_epoch(model, bad, torch.optim.SGD(model.parameters(), lr=0.1))
    assert not any(m.training for m in model.modules())


class ScoresOnAccelerator(torch.Tensor):
    """Stands for scores a model left on a GPU, on a machine without one: torch operations (torch.cat included)
    keep this type; only moving the tensor to the CPU gives a plain tensor back."""

    def cpu(self, *args, **kwargs):
        return self.as_subclass(torch.Tensor)

    def to(self, *args, **kwargs):
        plain = self.as_subclass(torch.Tensor).to(*args, **kwargs)
        target = kwargs.get("device", args[0] if args else None)
        if isinstance(target, (str, torch.device)) and torch.device(target).type == "cpu":
            return plain
        return plain.as_subclass(ScoresOnAccelerator)


class AcceleratorModel(GradModeRecorder):
    """GradModeRecorder whose scores come back as ScoresOnAccelerator."""

    def forward(self, x):
        return super().forward(x).as_subclass(ScoresOnAccelerator)


def test_scores_of_returns_scores_on_cpu():
    model = AcceleratorModel()
    images = torch.rand(2500, 1, 28, 28)
    model.train()
    scores = training.scores_of(model, images, batch_size=1000)
    assert type(scores) is torch.Tensor and scores.device.type == "cpu"  # every chunk was moved to the CPU
    assert model.training and model.grad_enabled == [False] * 3 and not scores.requires_grad
    with torch.no_grad():  # the model's own scores, in eval mode (dropout off), every image once, in order
        expected = model.eval().net(images)
    torch.testing.assert_close(scores, expected, rtol=0, atol=1e-6)


def test_scores_of_a_real_model():
    model = MLP()
    images = torch.rand(2500, 1, 28, 28)
    scores = training.scores_of(model, images, batch_size=1000)
    with torch.no_grad():
        expected = model(images)
    assert type(scores) is torch.Tensor and scores.device.type == "cpu" and model.training
    torch.testing.assert_close(scores, expected, rtol=0, atol=1e-6)


def test_device_mismatch_is_explained():
    model = MLP()
    with pytest.raises(ValueError, match="move the model first"):
        training.evaluate(model, [(torch.rand(2, 784), torch.tensor([0, 1]))], device="meta")


@pytest.mark.parametrize("epochs", [0, -1, 2.5])
def test_fit_rejects_bad_epochs(epochs):
    model = MLP()
    with pytest.raises(ValueError, match="epochs"):
        training.fit(model, [], torch.optim.SGD(model.parameters(), lr=0.1), epochs)


def test_empty_batches_are_an_error():
    model = MLP()
    with pytest.raises(ValueError, match="no data"):
        training.train_epoch(model, [], torch.optim.SGD(model.parameters(), lr=0.1))


def test_confusion_matrix_counts_rows_true_columns_predicted():
    labels = torch.tensor([0, 0, 1, 2, 2, 2])
    preds = torch.tensor([0, 1, 1, 2, 0, 2])
    cm = training.confusion_matrix(labels, preds, num_classes=3)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]] and cm.dtype == torch.int64
    assert cm.sum().item() == 6 and cm.diag().sum().item() == 4


def test_confusion_matrix_rejects_bad_input():
    with pytest.raises(ValueError, match="same length"):
        training.confusion_matrix(torch.tensor([0, 1]), torch.rand(2, 10))
    with pytest.raises(ValueError, match="from 0 to 2"):
        training.confusion_matrix(torch.tensor([0, 3]), torch.tensor([0, 1]), num_classes=3)


def test_fit_shows_one_bar_counting_every_batch(monkeypatch):
    bars = []
    real = training.tqdm

    def recording_tqdm(*args, **kwargs):
        bars.append(real(*args, **kwargs))
        return bars[-1]

    monkeypatch.setattr(training, "tqdm", recording_tqdm)
    model = MLP()
    x, y = toy_data(100)
    training.fit(model, TensorBatches(x, y, 32), torch.optim.SGD(model.parameters(), lr=0.1), 3, progress=True)
    assert len(bars) == 1 and bars[0].total == 12 and bars[0].n == 12  # 3 epochs x 4 batches


def test_fit_steps_a_per_batch_scheduler_and_applies_augment():
    torch.manual_seed(0)
    model = MLP()
    x, y = toy_data(96)
    batches = TensorBatches(x, y, 32, generator=torch.Generator().manual_seed(0))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=2 * len(batches))
    seen = []
    training.fit(model, batches, opt, 2, scheduler=sched, step_scheduler_every_batch=True,
                 augment=lambda images: seen.append(len(images)) or images * 0, progress=False)
    assert sched.last_epoch == 6 and seen == [32] * 6  # one scheduler step and one augmentation per batch
    with pytest.raises(ValueError, match="needs a scheduler"):
        training.fit(model, batches, opt, 1, step_scheduler_every_batch=True)
    with pytest.raises(ValueError, match="needs a CUDA device"):
        training.fit(model, batches, opt, 1, amp=True)


@pytest.mark.parametrize("labels, message", [
    (lambda y: y.float(), r"integer class indices \(int64\).*labels.long\(\)"),
    (lambda y: y + 5, "classes 0 to 9 for a model with 10 outputs, got values from 5 to 14"),
    (lambda y: y[:, None], r"one class index per image, shape \[64\]"),
])
def test_wrong_labels_get_a_clear_error_in_training_and_evaluation(labels, message):
    x, y = toy_data()
    model = MLP()
    bad = TensorBatches(x, labels(y), 64, shuffle=False)
    with pytest.raises(ValueError, match=message):
        training.train_epoch(model, bad, torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match=message):
        training.evaluate(model, bad)


def test_an_optimizer_of_another_model_is_refused():
    x, y = toy_data()
    model = MLP()
    stale = torch.optim.SGD(MLP().parameters(), lr=0.1)  # made for a model that was then replaced
    with pytest.raises(ValueError, match="holds none of this model's parameters"):
        training.fit(model, TensorBatches(x, y, 64), stale, 1, progress=False)
    with pytest.raises(TypeError, match="torch.optim optimizer"):
        training.fit(model, TensorBatches(x, y, 64), 0.1, 1, progress=False)
    frozen_first = torch.optim.SGD(model.layer3.parameters(), lr=0.1)  # training part of a model is fine
    training.fit(model, TensorBatches(x, y, 64), frozen_first, 1, progress=False)


def one_hot_run(epochs=1):
    torch.manual_seed(0)
    model = MLP()
    x, y = toy_data(60)
    one_hot = nn.functional.one_hot(y, 10).float()               # [60, 10] floats, one column per class
    batches = TensorBatches(x, one_hot, 10, shuffle=False)
    return training.fit(model, batches, torch.optim.SGD(model.parameters(), lr=0.1), epochs, progress=False)


def test_one_hot_labels_are_refused_with_argmax():
    """Before: a batch of 10 one-hot labels matched scores [10, 10], trained, and reported 0.0 % accuracy."""
    with pytest.raises(ValueError, match=r"labels must be class indices, one int64 per image \(shape \[10\]\), got "
                                         r"shape \[10, 10\] float32: one-hot.*labels.argmax\(dim=1\)"):
        one_hot_run()
    model = MLP()
    x, y = toy_data(10)
    with pytest.raises(ValueError, match=r"labels.argmax\(dim=1\)"):
        training.evaluate(model, [(x, nn.functional.one_hot(y, 10).float())])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16])
def test_images_in_another_precision_are_refused_for_any_model(dtype):
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))      # not a course model: the loop checks
    x, y = toy_data(8)
    message = rf"the model's weights are float32 but the images are {str(dtype)[6:]}; .*images.float\(\)"
    with pytest.raises(TypeError, match=message):
        training.train_epoch(model, [(x.to(dtype), y)], torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(TypeError, match=message):
        training.evaluate(model, [(x.to(dtype), y)])
    with pytest.raises(TypeError, match=message):
        training.scores_of(model, x.to(dtype))


def test_int32_labels_are_refused_with_long():
    model = MLP()
    x, y = toy_data(8)
    message = r"labels must be integer class indices \(int64\), got torch.int32; convert with labels.long\(\)"
    with pytest.raises(ValueError, match=message):
        training.train_epoch(model, [(x, y.int())], torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match=message):
        training.evaluate(model, [(x, y.int())])


def test_labels_outside_the_classes_are_refused_naming_the_value_and_the_range():
    """-100 was skipped by cross_entropy without a word (a batch of them gave a NaN loss)."""
    x, y = toy_data(64)
    bad = y.clone()
    bad[40] = -100                                              # in the second batch of 32
    message = r"labels must be classes 0 to 9 for a model with 10 outputs, got values from -100 to 9: labels\[{}\] " \
              r"is -100 \(-100 is the label torch's cross_entropy ignores"
    model = MLP()
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=message.format(40)):  # TensorBatches: all labels checked with the first batch
        training.train_epoch(model, TensorBatches(x, bad, 32, shuffle=False), torch.optim.SGD(model.parameters(), lr=1))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    with pytest.raises(ValueError, match=message.format(8)):   # other batches on the CPU: each batch's own
        training.train_epoch(model, [(x[:32], y[:32]), (x[32:], bad[32:])], torch.optim.SGD(model.parameters(), lr=1))
    with pytest.raises(ValueError, match=message.format(8)):
        training.evaluate(model, [(x[:32], y[:32]), (x[32:], bad[32:])])
    with pytest.raises(ValueError, match=r"got values from 0 to 12: labels\[3\] is 12. Fix the labels"):
        training.evaluate(model, [(x[:4], torch.tensor([0, 1, 2, 12]))])


def test_a_loss_class_is_refused_and_a_loss_module_works_in_training_and_evaluation():
    model = MLP()
    x, y = toy_data(64)
    batches = TensorBatches(x, y, 32)
    message = r"loss_fn=nn.CrossEntropyLoss is the class, not a loss: pass an instance, loss_fn=nn.CrossEntropyLoss\(\)"
    for call in (lambda: training.fit(model, batches, torch.optim.SGD(model.parameters(), lr=0.1), 1,
                                      loss_fn=nn.CrossEntropyLoss, progress=False),
                 lambda: training.train_epoch(model, batches, torch.optim.SGD(model.parameters(), lr=0.1),
                                              loss_fn=nn.CrossEntropyLoss),
                 lambda: training.evaluate(model, batches, loss_fn=nn.CrossEntropyLoss)):
        with pytest.raises(TypeError, match=message):
            call()
    history = training.fit(model, batches, torch.optim.SGD(model.parameters(), lr=0.1), 1, test_batches=batches,
                           loss_fn=nn.CrossEntropyLoss(), progress=False)
    assert history.test_loss == [pytest.approx(training.evaluate(model, batches)[0])]  # summed, then per image


def nan_batches():
    x, y = toy_data(128)
    x[70, 0, 3, 3] = float("nan")                               # in the third batch of 32
    return TensorBatches(x, y, 32, shuffle=False)


def test_a_nan_loss_stops_fit_naming_the_batch_the_epoch_and_the_causes():
    """Before: fit ran every epoch on NaN and predict then said 'digit 0 (nan% probability)'."""
    model = MLP()
    epochs_run = []
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: epochs_run.append(epoch) or 1.0)
    with pytest.raises(ValueError, match=r"training stopped: the loss became nan at batch 3 of 4 in epoch 1 of 5.*"
                                         r"NaN or infinite values in the images.*a learning rate so high"):
        training.fit(model, nan_batches(), optimizer, 5, scheduler=scheduler, progress=False)
    assert epochs_run == [0]                                    # no epoch stepped after the first
    model = MLP()
    with pytest.raises(ValueError, match="the loss became nan at batch 3 of 4, and nothing can be learnt"):
        training.train_epoch(model, nan_batches(), torch.optim.SGD(model.parameters(), lr=0.1))


def test_a_loss_that_blows_up_with_a_huge_learning_rate_is_stopped_too():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    x, y = toy_data(256)
    with pytest.raises(ValueError, match=r"the loss became (nan|inf) at batch 2 of 8 in epoch 1 of 3"):
        training.fit(model, TensorBatches(x, y, 32), torch.optim.SGD(model.parameters(), lr=1e38), 3, progress=False)


def test_scores_of_refuses_nan_images_nan_scores_and_no_images():
    model = MLP()
    x, _ = toy_data(20)
    x[7, 0, 0, 0] = float("inf")
    with pytest.raises(ValueError, match=r"scores_of: the images hold 1 NaN or infinite values \(the first in image 7\)"
                                         r".*torch.nan_to_num"):
        training.scores_of(model, x)
    with torch.no_grad():
        model.layer2.weight[0, 0] = float("nan")                  # what a training run that blew up leaves
    with pytest.raises(ValueError, match=r"scores_of: the model gave NaN or infinite scores for 20 of 20 image\(s\).*"
                                         "train a new model"):
        training.scores_of(model, toy_data(20)[0])
    with pytest.raises(ValueError, match=r"scores_of got an empty batch \(shape \[0, 1, 28, 28\]\)"):
        training.scores_of(MLP(), toy_data(20)[0][:0])


def test_an_empty_batch_is_refused_naming_it():
    model = MLP()
    x, y = toy_data(8)
    batches = [(x, y), (x[:0], y[:0])]
    for call in (lambda: training.train_epoch(model, batches, torch.optim.SGD(model.parameters(), lr=0.1)),
                 lambda: training.evaluate(model, batches)):
        with pytest.raises(ValueError, match=r"batch 2 of batches is empty \(0 images\)"):
            call()


def test_a_used_up_generator_is_named_as_such():
    """Before: 'batches produced no data: check the dataset and batch size'."""
    model = MLP()
    x, y = toy_data(64)
    batches = ((x[i:i + 32], y[i:i + 32]) for i in range(0, 64, 32))
    training.train_epoch(model, batches, torch.optim.SGD(model.parameters(), lr=0.1))
    fix = r"Pass a list or a TensorBatches/DataLoader, which can be iterated once per epoch"
    with pytest.raises(ValueError, match=r"batches is a generator that has already been used up.*" + fix):
        training.train_epoch(model, batches, torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match=r"batches is a generator that has already been used up.*" + fix):
        training.evaluate(model, batches)
    used = iter([(x, y)])
    list(used)
    with pytest.raises(ValueError, match=r"batches produced no data: it is a list_iterator.*used it up.*" + fix):
        training.evaluate(model, used)
    with pytest.raises(ValueError, match=r"produced no data \(0 batches\): check the dataset and batch size"):
        training.evaluate(model, [])


def test_fit_refuses_a_generator_it_would_need_more_than_once():
    model = MLP()
    x, y = toy_data(64)
    make = lambda: ((x[i:i + 32], y[i:i + 32]) for i in range(0, 64, 32))  # noqa: E731
    with pytest.raises(ValueError, match=r"train_batches is a generator, which can be gone through only once, but fit "
                                         r"goes through it once per epoch \(3 epochs\).*TensorBatches/DataLoader"):
        training.fit(model, make(), torch.optim.SGD(model.parameters(), lr=0.1), 3, progress=False)
    with pytest.raises(ValueError, match=r"test_batches is a generator"):
        training.fit(model, TensorBatches(x, y), torch.optim.SGD(model.parameters(), lr=0.1), 2, test_batches=make(),
                     progress=False)
    assert len(training.fit(model, make(), torch.optim.SGD(model.parameters(), lr=0.1), 1, progress=False)) == 1
