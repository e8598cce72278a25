"""Train the course's MLP from several seeds at once: one batched network, the same maths for each model.

``fit_seeds(seeds, images, labels, epochs, lr)`` gives, to float rounding, what this gives for each seed:

    torch.manual_seed(seed)
    model = MLP(sizes, activation)
    batches = TensorBatches(images, labels, batch_size, generator=torch.Generator().manual_seed(seed))
    fit(model, batches, torch.optim.SGD(model.parameters(), lr=lr), epochs)

The S models' weights are stacked into one tensor per layer ([S, out, in]). Every step takes each
model's own next batch ([S, B, 784]) and runs all S models with one batched matrix product
(``torch.baddbmm``). The gradients are backpropagation's chain-rule formulas written out, which is
what ``loss.backward()`` computes for this network, without autograd's bookkeeping (for a network
this small that bookkeeping costs more than the arithmetic). Plain SGD only, as in the guide.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ._validate import (activation_class, available_device, image_batch, layer_sizes, learning_rate,
                        matching_labels, positive_int, seed_list)
from .models import MLP
from .training import History

Activation = Callable[[torch.Tensor], torch.Tensor]
# Each activation class with its function and its derivative written in terms of its output a (what backprop
# has at hand).
ACTIVATIONS: dict[type[nn.Module], tuple[Activation, Activation]] = {
    nn.Sigmoid: (torch.sigmoid, lambda a: a * (1 - a)),
    nn.Tanh: (torch.tanh, lambda a: 1 - a * a),
    nn.ReLU: (torch.relu, lambda a: (a > 0).to(a.dtype)),
}


@dataclass
class SeedRuns:
    """What ``fit_seeds`` measured.

    Per-epoch lists hold one value per model: ``test_acc[epoch][i]`` is model ``seeds[i]`` after
    ``epoch + 1`` epochs. ``states`` are the final weights (MLP layout, CPU). ``activation_name`` is the
    activation class's name ("Sigmoid"), plain data like everything here; ``activation`` is the class.
    """

    seeds: list[int]
    sizes: tuple[int, ...]
    activation_name: str
    train_loss: list[list[float]] = field(default_factory=list)
    train_acc: list[list[float]] = field(default_factory=list)
    test_loss: list[list[float]] = field(default_factory=list)
    test_acc: list[list[float]] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    states: list[dict[str, torch.Tensor]] = field(default_factory=list)

    @property
    def activation(self) -> type[nn.Module]:
        """The torch.nn activation class the models were trained with, e.g. nn.Sigmoid."""
        return getattr(nn, self.activation_name)

    def _index(self, seed: int) -> int:
        if seed not in self.seeds:
            raise ValueError(f"seed {seed!r} was not trained here; the seeds are {self.seeds}")
        return self.seeds.index(seed)

    def model(self, seed: int) -> MLP:
        """A new MLP (on the CPU) holding the final weights trained from ``seed``."""
        i = self._index(seed)
        with torch.random.fork_rng(devices=[]):  # building the MLP draws random weights: keep the caller's RNG
            net = MLP(tuple(self.sizes), self.activation)
        net.load_state_dict(self.states[i])
        return net

    def history(self, seed: int) -> History:
        """The per-epoch results of one seed as a History, for the plotting helpers."""
        i = self._index(seed)
        column = lambda rows: [row[i] for row in rows]  # noqa: E731
        return History(column(self.train_loss), column(self.train_acc), column(self.test_loss),
                       column(self.test_acc), list(self.epoch_seconds))


@torch.no_grad()
def fit_seeds(seeds: Iterable[int], train_images: torch.Tensor, train_labels: torch.Tensor, epochs: int,
              lr: float = 0.01, batch_size: int = 32, test_images: torch.Tensor | None = None,
              test_labels: torch.Tensor | None = None, sizes: tuple[int, ...] = (784, 16, 16, 10),
              activation: type[nn.Module] = nn.Sigmoid, device: torch.device | str = "cpu",
              progress: bool = True) -> SeedRuns:
    """Train one MLP per seed with plain SGD, all at once; see the module docstring for what it equals.

    Args:
        seeds: distinct non-negative ints, e.g. range(5); seed s sets both the starting weights and the
            shuffling order of model s.
        train_images, train_labels: e.g. from ``mnist_tensors``; copied to ``device`` once.
        epochs, lr, batch_size: as for ``fit`` with ``torch.optim.SGD(model.parameters(), lr=lr)``.
        test_images, test_labels: when given, every model is evaluated on them after each epoch.
        sizes: the MLP's layer sizes.
        activation: the torch.nn class nn.Sigmoid, nn.Tanh or nn.ReLU (a name such as "relu" is refused,
            as MLP refuses it).
        progress: show a tqdm bar over the epochs.
    Returns:
        A SeedRuns with per-epoch losses and accuracies of every model and their final weights.
    """
    seeds, sizes = seed_list(seeds), layer_sizes(sizes)
    epochs, batch_size = positive_int(epochs, "epochs"), positive_int(batch_size, "batch_size")
    lr, device = learning_rate(lr), available_device(device)
    activation = activation_class(activation, ACTIVATIONS)
    matching_labels(train_images, train_labels, ("train_images", "train_labels"), non_empty=True)
    matching_labels(test_images, test_labels, ("test_images", "test_labels"), optional=True, non_empty=True)
    image_batch(train_images, "fit_seeds", values=sizes[0])
    if test_images is not None:
        image_batch(test_images, "fit_seeds", values=sizes[0])
    act, derivative = ACTIVATIONS[activation]
    weights, biases = _initial_parameters(seeds, sizes, activation, device)
    x, y = train_images.reshape(len(train_images), -1).to(device), train_labels.to(device)   # [N, 784], [N]
    test = None if test_images is None else (test_images.reshape(len(test_images), -1).to(device),
                                             test_labels.to(device))
    generators = [torch.Generator().manual_seed(seed) for seed in seeds]  # as TensorBatches draws its orders
    eye = torch.eye(sizes[-1], device=device)
    runs = SeedRuns(seeds, tuple(sizes), activation.__name__)
    bar = tqdm(range(epochs), desc=f"{len(seeds)} seeds at once", disable=not progress)
    for _ in bar:
        start = time.perf_counter()
        orders = torch.stack([torch.randperm(len(y), generator=g) for g in generators]).to(device)  # [S, N]
        loss_sum = torch.zeros(len(seeds), device=device)
        hits = torch.zeros(len(seeds), dtype=torch.long, device=device)
        for first in range(0, len(y), batch_size):
            idx = orders[:, first:first + batch_size]                   # [S, B]: each model's own batch
            flat = idx.reshape(-1)                                      # index_select: a fast row gather
            images, labels = x.index_select(0, flat).view(*idx.shape, -1), y.index_select(0, flat).view(idx.shape)
            batch_loss, batch_hits = _sgd_step(weights, biases, images, labels, lr, act, derivative, eye)
            loss_sum += batch_loss
            hits += batch_hits
        runs.train_loss.append([total / len(y) for total in loss_sum.tolist()])
        runs.train_acc.append([count / len(y) for count in hits.tolist()])
        if test is not None:
            test_loss, test_acc = _evaluate(weights, biases, *test, act)
            runs.test_loss.append(test_loss)
            runs.test_acc.append(test_acc)
        runs.epoch_seconds.append(time.perf_counter() - start)
        shown = runs.test_acc[-1] if test is not None else runs.train_acc[-1]
        bar.set_postfix({"mean acc": f"{sum(shown) / len(shown):.2%}"})
    runs.states = [{f"layer{k + 1}.{name}": tensors[k][i].cpu().clone()
                    for k in range(len(weights)) for name, tensors in (("weight", weights), ("bias", biases))}
                   for i in range(len(seeds))]
    return runs


def _sgd_step(weights: list[torch.Tensor], biases: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor, lr: float,
              act: Activation, derivative: Activation, eye: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One SGD step of every model on its own batch x [S, B, 784], y [S, B]. Returns summed losses and hits [S]."""
    outs = _forward(weights, biases, x, act)
    log_probs = torch.log_softmax(outs[-1], dim=-1)                     # [S, B, 10]
    loss_sum = -log_probs.gather(-1, y.unsqueeze(-1)).sum(dim=(1, 2))
    hits = (outs[-1].argmax(dim=-1) == y).sum(dim=1)
    one_hot = eye.index_select(0, y.reshape(-1)).view_as(log_probs)
    grad = (log_probs.exp() - one_hot) / y.shape[1]     # d(mean loss)/d(scores) = (softmax - one-hot) / B
    for k in reversed(range(len(weights))):
        grad_in = torch.bmm(grad, weights[k]) if k else None           # [S, B, out] -> [S, B, in], old weights
        weights[k].baddbmm_(grad.transpose(1, 2), outs[k], alpha=-lr)  # W -= lr * grad^T @ input
        biases[k].sub_(grad.sum(dim=1), alpha=lr)
        if k:
            grad = grad_in * derivative(outs[k])                       # back through the activation
    return loss_sum, hits


def _forward(weights: list[torch.Tensor], biases: list[torch.Tensor], x: torch.Tensor,
             act: Activation) -> list[torch.Tensor]:
    """Every layer's output for each model: x [S, B, 784] -> a list ending with the scores [S, B, 10]."""
    outs = [x]
    for k, (w, b) in enumerate(zip(weights, biases)):
        z = torch.baddbmm(b.unsqueeze(1), outs[-1], w.transpose(1, 2))  # [S, B, in] -> [S, B, out]
        outs.append(z if k == len(weights) - 1 else act(z))
    return outs


def _evaluate(weights: list[torch.Tensor], biases: list[torch.Tensor], images: torch.Tensor, labels: torch.Tensor,
              act: Activation) -> tuple[list[float], list[float]]:
    """Average loss and accuracy of each model over images [N, 784]: two lists of S floats."""
    losses, accuracies = [], []
    for i in range(len(weights[0])):
        h = images
        for k, (w, b) in enumerate(zip(weights, biases)):
            h = torch.addmm(b[i], h, w[i].t())                          # [N, in] -> [N, out]
            h = h if k == len(weights) - 1 else act(h)
        losses.append(F.cross_entropy(h, labels).item())
        accuracies.append((h.argmax(dim=1) == labels).sum().item() / len(labels))
    return losses, accuracies


def _initial_parameters(seeds: list[int], sizes: tuple[int, ...], activation: type[nn.Module],
                        device: torch.device) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Stacked starting weights [S, out, in] and biases [S, out]: model i is MLP() right after seeding seeds[i]."""
    nets = []
    for seed in seeds:
        with torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(seed)  # the CPU generator, as torch.manual_seed(seed) sets it
            nets.append(MLP(tuple(sizes), activation))
    weights = [torch.stack([net.layers[k].weight.detach() for net in nets]).to(device) for k in range(len(sizes) - 1)]
    biases = [torch.stack([net.layers[k].bias.detach() for net in nets]).to(device) for k in range(len(sizes) - 1)]
    return weights, biases
