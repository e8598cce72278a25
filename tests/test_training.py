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
