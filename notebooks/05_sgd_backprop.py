# %% [markdown]
# # 05 · Gradients, backprop and SGD
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/nn-from-pixels/mnist-course/blob/main/notebooks/05_sgd_backprop.ipynb)
#
# *Runs in about 15 seconds on a 2-core CPU (measured; INSTRUCTORS.md lists every chapter). A GPU would not speed it up much, so it asks Colab for none.*
#
# The loss (chapter 04) says how wrong the network is. Its *gradient* says, for each of the
# network's 13,002 weights and biases, which way and how steeply the loss changes when that
# number moves.
# Learning is then one rule, repeated: move every weight a small step against its gradient.
# In this chapter you watch `backward()` fill in the gradients, confirm that `optimizer.step()`
# is exactly the learning guide's formula, see what forgetting `zero_grad()` does, check
# backpropagation against brute-force slopes, pick learning rates on a loss you can draw, and
# measure how noisy the gradient of a mini-batch is: the "stochastic" in stochastic gradient
# descent.

# %% tags=["colab-setup"]
# Colab only: install course_utils, the course's helpers, as they were when this notebook was written,
# and any of their dependencies this runtime lacks; nothing Colab ships is upgraded or replaced.
# Anywhere else (a local clone after `make venv`) this cell does nothing.
import sys


def install_course_utils():
    import json
    import subprocess
    from importlib import invalidate_caches, metadata

    commit = "fa13e05efe2f8c4ac86c2b6105159c0f35842542"  # the exact version this notebook was written for
    url = "git+https://github.com/nn-from-pixels/mnist-course@" + commit
    needs = {  # course_utils' dependencies, all preinstalled on Colab
        "torch": ">=2.0",
        "torchvision": ">=0.15",
        "numpy": ">=1.24",
        "matplotlib": ">=3.7",
        "tqdm": ">=4.60",
        "ipywidgets": ">=7.6",
        "anywidget": ">=0.9",
    }

    def installed(name):
        try:
            return metadata.distribution(name)
        except metadata.PackageNotFoundError:
            return None

    def pip_install(*args):
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *args], check=True)
        invalidate_caches()

    course = installed("course-utils")
    origin = json.loads(course and course.read_text("direct_url.json") or "{}")
    if origin.get("vcs_info", {}).get("commit_id") != commit:
        if "course_utils" in sys.modules:
            raise RuntimeError("This session already imported another version of course_utils. Restart it "
                               "(Runtime > Restart session), then run this notebook again from the top.")
        print(f"Installing course_utils {commit[:7]} from GitHub")
        pip_install("--no-deps", "--force-reinstall", url)
    missing = [name + version for name, version in needs.items() if installed(name) is None]
    if missing:
        print("Installing what this runtime lacks:", ", ".join(missing))
        pip_install(*missing)


if "google.colab" in sys.modules:
    install_course_utils()

# %% tags=["nbval-ignore-output"]
import copy
import itertools
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from course_utils.data import TensorBatches, mnist_tensors
from course_utils.env import describe_device, pick_device, seed_everything
from course_utils.exercises import check_function
from course_utils.models import MLP, count_parameters
from course_utils.plots import plot_descent_paths
from course_utils.training import evaluate, train_epoch

seed_everything(0)
device = pick_device()
print(describe_device(device))

# %% [markdown]
# Every experiment here is small, so this chapter runs on the CPU whatever device you have, and
# your numbers will match the printed ones.
#
# ## Where backward() puts the gradients
#
# Take an untrained network and one mini-batch of 32 real training images. Before any
# `backward()`, no parameter has a gradient: `.grad` is `None`.

# %%
train_images, train_labels = mnist_tensors(train=True)
test_images, test_labels = mnist_tensors(train=False)
model = MLP()
print(f"the network has {count_parameters(model):,} parameters (weights and biases)")
images, labels = train_images[:32], train_labels[:32]       # one mini-batch of 32 real training images
print("before backward(): model.layer1.weight.grad =", model.layer1.weight.grad)
loss = F.cross_entropy(model(images), labels)
returned = loss.backward()
print(f"loss = {loss.item():.4f}; loss.backward() returned {returned}")
for name, w in model.named_parameters():
    print(f"{name:14} shape {str(list(w.shape)):10} .grad shape {str(list(w.grad.shape)):10}"
          f" largest |gradient| {w.grad.abs().max().item():.5f}")
largest = [layer.weight.grad.abs().max().item() for layer in model.layers]
assert largest[0] < largest[1] < largest[2]

# %% [markdown]
# `backward()` returns nothing, as the guide says: its work is a side effect. It runs
# *backpropagation*, the chain rule applied from the loss back through `layer3`, `layer2` and
# `layer1` (chapter 06 writes it out by hand), and stores in each parameter's `.grad` one number
# per weight or bias: the slope $\partial \text{loss} / \partial w$. So `.grad` always has the
# same shape as its parameter.
#
# Look at the last column too: the largest gradient shrinks from `layer3` back to `layer1`,
# so the weights nearest the pixels get the weakest push. That is no accident of this batch;
# chapter 06 derives backpropagation by hand and measures why.
#
# ## One optimizer step is the guide's formula
#
# The guide says `optimizer.step()` applies `new_weight = old_weight - learning_rate × gradient`
# to every parameter. Test it on two identical copies of the network: each computes the
# gradient of the same batch, then one is updated by hand and the other by `torch.optim.SGD`.

# %%
def copy_with_gradient(model, images, labels):
    """A copy of ``model`` whose .grad holds the gradient of the batch's average loss."""
    twin = copy.deepcopy(model)                  # a copy of the weights (copies start without .grad)
    F.cross_entropy(twin(images), labels).backward()
    return twin


lr = 0.01                                        # the guide's learning rate
by_hand = copy_with_gradient(model, images, labels)
by_optimizer = copy_with_gradient(model, images, labels)
print("both copies got identical gradients:",
      all(torch.equal(a.grad, b.grad) for a, b in zip(by_hand.parameters(), by_optimizer.parameters())))

with torch.no_grad():                            # the update itself must not become part of the graph
    for w in by_hand.parameters():
        w -= lr * w.grad                         # new_weight = old_weight - lr * gradient
torch.optim.SGD(by_optimizer.parameters(), lr=lr).step()

# %% tags=["nbval-ignore-output"]
max_ulps = 0.0
for a, b in zip(by_hand.parameters(), by_optimizer.parameters()):
    gap = torch.nextafter(b.abs(), torch.tensor(float("inf"))) - b.abs()    # spacing of float32 numbers at b
    max_ulps = max(max_ulps, ((a - b).abs() / gap).max().item())
differ = sum((a != b).sum().item() for a, b in zip(by_hand.parameters(), by_optimizer.parameters()))
print(f"by hand vs optimizer.step(): {differ} of 13,002 numbers differ, by at most {max_ulps:.0f} unit "
      "in the last float32 bit")
assert max_ulps <= 1, "by hand and by optimizer should agree to the last bit"

# %% [markdown]
# > **Aside: the last bit.** Depending on your processor, a handful of the 13,002 numbers may
# > differ by one unit in the last of float32's 24 binary digits (the assert accepts 0 or 1).
# > That is rounding, not maths: `step()` runs `w.add_(w.grad, alpha=-lr)`, which CPUs with
# > fused multiply-add round once, while `w -= lr * w.grad` rounds the product first and the
# > difference second. Written the optimizer's way, the update matches `step()` exactly:

# %%
same_way = copy_with_gradient(model, images, labels)
with torch.no_grad():
    for w in same_way.parameters():
        w.add_(w.grad, alpha=-lr)                # w + (-lr) * w.grad in one operation, like SGD
print("w.add_(w.grad, alpha=-lr) vs optimizer.step(), torch.equal on every tensor:",
      all(torch.equal(a, b) for a, b in zip(same_way.parameters(), by_optimizer.parameters())))

# %% [markdown]
# So plain SGD is nothing more than the guide's formula. Did the step help? The gradient points
# uphill, the step goes the other way, so the loss on this batch should go down:

# %%
with torch.no_grad():
    print(f"loss on the batch before the step: {F.cross_entropy(model(images), labels).item():.4f}")
    print(f"loss on the batch after the step:  {F.cross_entropy(by_optimizer(images), labels).item():.4f}")

# %% [markdown]
# A small step (lr = 0.01) gives a small improvement; training repeats it thousands of times.
#
# ## Forgetting zero_grad()
#
# `backward()` does not overwrite `.grad`, it **adds** to it. Call it twice on the same batch
# without clearing and every gradient is exactly doubled:

# %%
twice = copy_with_gradient(model, images, labels)
first = [w.grad.clone() for w in twice.parameters()]
F.cross_entropy(twice(images), labels).backward()     # the same batch again, no zero_grad() in between
for (name, w), g in zip(twice.named_parameters(), first):
    print(f"{name:14} torch.equal(grad, 2 × first grad): {torch.equal(w.grad, 2 * g)}"
          f"   largest difference: {(w.grad - 2 * g).abs().max().item()}")
optimizer = torch.optim.SGD(twice.parameters(), lr=lr)
optimizer.zero_grad()
print("after optimizer.zero_grad(): layer1.weight.grad =", twice.layer1.weight.grad)

# %% [markdown]
# Adding up is deliberate: it lets you sum gradients over several batches before one step. But
# in a training loop that forgets `zero_grad()`, the gradient used at step 100 is the sum of all
# 100 gradients so far: steps that keep growing and keep pointing at old batches. (In current
# PyTorch, `zero_grad()` sets `.grad` back to `None` rather than filling it with zeros.)
#
# ## Checking backpropagation with finite differences
#
# A gradient is a slope, and a slope can be measured without any calculus: nudge one weight by a
# tiny $h$ up and down and see how the loss changes,
# $\;\partial L / \partial w \approx \big(L(w + h) - L(w - h)\big) / 2h$.
# That costs two forward passes per number (26,004 passes for all 13,002), whereas
# backpropagation gets all of them from one backward pass. So nobody trains this way, but it is
# the standard test that backprop is right. Do it on a float64 copy of the network: the
# difference of two nearly equal losses keeps only the digits they do not share, and float64
# has about 16 significant digits against float32's 7.

# %%
model64 = copy.deepcopy(model).double()          # same weights, float64
images64 = images.double()
F.cross_entropy(model64(images64), labels).backward()


def loss_with(net, x, weight, index, value):
    """The batch loss with one weight set to ``value``; the weight is put back afterwards."""
    with torch.no_grad():
        old = weight[index].item()
        weight[index] = value
        loss = F.cross_entropy(net(x), labels).item()
        weight[index] = old
    return loss


def finite_difference(net, x, weight, index, h):
    w0 = weight[index].item()
    return (loss_with(net, x, weight, index, w0 + h) - loss_with(net, x, weight, index, w0 - h)) / (2 * h)


h = 1e-5
picks = [("layer1.weight", (3, 406)), ("layer1.weight", (12, 290)), ("layer1.bias", (3,)),
         ("layer2.weight", (0, 5)), ("layer2.bias", (7,)), ("layer3.weight", (7, 2)), ("layer3.bias", (4,))]
params64 = dict(model64.named_parameters())

# %% tags=["nbval-ignore-output"]
print(f"{'weight':22} {'autograd':>16} {'finite difference':>18} {'relative error':>15}")
relative_errors = []
for name, index in picks:
    weight = params64[name]
    autograd = weight.grad[index].item()
    finite = finite_difference(model64, images64, weight, index, h)
    relative_errors.append(abs(autograd - finite) / max(abs(autograd), abs(finite)))
    print(f"{name + str(list(index)):22} {autograd:16.10f} {finite:18.10f} {relative_errors[-1]:15.1e}")

# %%
assert max(relative_errors) < 1e-6, "autograd and finite differences should agree to at least 6 digits"
print(f"largest relative error: below 1e-6 for all {len(picks)} weights")

# %% [markdown]
# Backprop and brute force agree to six significant digits or better for every weight picked
# (the assert checks it; most agree far more closely). Now the same measurement in float32 on
# the original network, for the first weight of the table:

# %% tags=["nbval-ignore-output"]
weight32 = model.layer1.weight
autograd32 = weight32.grad[3, 406].item()
finite32 = finite_difference(model, images, weight32, (3, 406), h)
error32 = abs(autograd32 - finite32) / abs(autograd32)
print(f"float32: autograd {autograd32:.10f}, finite difference {finite32:.10f}, relative error {error32:.1e}")

# %%
assert error32 > 0.5, "in float32 this finite difference should be useless"
loss32 = F.cross_entropy(model(images), labels).detach()
gap = (torch.nextafter(loss32, loss32 + 1) - loss32).item()
print(f"float32 numbers near the loss {loss32.item():.4f} are {gap:.2e} apart")
print(f"the true change of the loss, 2h × gradient = {2 * h * autograd32:.2e}, is smaller than that gap")
print(f"so the finite difference can only come out as a multiple of gap / 2h = {gap / (2 * h):.4f}")

# %% [markdown]
# In float32 the finite difference is useless: nudging this weight changes the loss by less
# than the gap between neighbouring float32 numbers, so the measured change is 0 or one whole
# gap, never the true value. Autograd is right; it is the brute-force check that fails. Hence
# the float64 copy.
#
# ## Gradient descent on a loss you can draw
#
# The network's loss depends on 13,002 numbers, too many to picture. A loss of two weights
# behaves the same way and can be drawn as contour lines. Take a bowl that is four times
# steeper along `w2` than along `w1` (real losses are also far steeper in some directions
# than others), start at (-4, 2), and apply the guide's formula 25 times with three learning
# rates. The gradient comes from `backward()`, exactly as in the network.

# %%
def toy_loss(w1, w2):
    return 0.5 * w1**2 + 2 * w2**2               # gradient: (w1, 4 * w2)


def descend(lr, steps=25, start=(-4.0, 2.0)):
    """Plain gradient descent on toy_loss; returns the path of (w1, w2), shape [steps + 1, 2]."""
    w = torch.tensor(start, requires_grad=True)
    path = [w.detach().clone()]
    for _ in range(steps):
        toy_loss(w[0], w[1]).backward()          # fills w.grad
        with torch.no_grad():
            w -= lr * w.grad                     # new_weight = old_weight - lr * gradient
        w.grad = None                            # what zero_grad() does
        path.append(w.detach().clone())
    return torch.stack(path)


learning_rates = {"too small, lr 0.02": 0.02, "good, lr 0.3": 0.3, "too large, lr 0.52": 0.52}
paths = {name: descend(lr) for name, lr in learning_rates.items()}
for name, path in paths.items():
    print(f"{name:19} loss {toy_loss(*path[0]).item():.0f} at the start, {toy_loss(*path[-1]).item():.3g} after "
          f"{len(path) - 1} steps; distance from the minimum (0, 0): {path[0].norm():.2f} -> {path[-1].norm():.2g}")
good = paths["good, lr 0.3"]
print("good lr, distance from the minimum after 5, 10 and 25 steps:",
      ", ".join(f"{good[n].norm().item():.2g}" for n in (5, 10, 25)))
plot_descent_paths(toy_loss, paths, xlim=(-5, 5), ylim=(-4, 4), levels=[0.5, 2, 4, 8, 16, 32, 64],
                   title="25 gradient-descent steps from (-4, 2)")
plt.show()

# %% [markdown]
# The small learning rate creeps: after 25 steps it has covered less than half of the distance
# to the minimum. The good one crosses the steep direction in a few steps but still creeps along
# the shallow one: 0.67 from the minimum after 5 steps, 0.11 after 10, and close only by step 25.
# The large one overshoots across the steep direction, and each overshoot is larger than the
# last: the loss ends far above where it started. Why 0.5
# is the limit: along `w2` the gradient is $4 w_2$, so one step multiplies $w_2$ by $1 - 4\,\text{lr}$.

# %%
for name, lr_ in learning_rates.items():
    print(f"{name:19} each step multiplies w1 by {1 - lr_:5.2f} and w2 by {1 - 4 * lr_:5.2f}")

# %% [markdown]
# A factor between -1 and 1 shrinks towards the minimum; below -1 the weight flips sign and
# grows, so the steepest direction decides the largest usable learning rate (here $2/4 = 0.5$).
# The guide's summary, "higher lr learns faster but might overshoot, lower lr is slower but
# more stable", is this picture; past the limit the overshoot does not settle, it diverges.
#
# ## Why "stochastic": how good is a mini-batch gradient?
#
# The guide contrasts classic gradient descent (gradient over all 60,000 images, then one step)
# with stochastic gradient descent (gradient over 32 images, then a step). The mini-batch
# gradient is an estimate of the full one. How good an estimate? Compare directions with the
# *cosine similarity*: 1 means the same direction, 0 unrelated, negative means a step that,
# for the full training set, goes uphill. First the full-batch gradient of the untrained
# network over all 60,000 training images, then 50 mini-batches of each size.

# %%
def flat_gradient(model, images, labels):
    """Gradient of the average loss over (images, labels) with respect to all weights, as one vector."""
    loss = F.cross_entropy(model(images), labels)
    return torch.cat([g.flatten() for g in torch.autograd.grad(loss, list(model.parameters()))])


full_gradient = flat_gradient(model, train_images, train_labels)       # 60,000 images -> [13002]
print(f"full-batch gradient: {full_gradient.numel():,} numbers, from {len(train_labels):,} images")

batch_sizes, n_batches = (1, 32, 1024), 50
cosines = {}
for batch_size in batch_sizes:
    batches = TensorBatches(train_images, train_labels, batch_size=batch_size,
                            generator=torch.Generator().manual_seed(batch_size))
    cosines[batch_size] = torch.tensor([F.cosine_similarity(flat_gradient(model, x, y), full_gradient, dim=0).item()
                                        for x, y in itertools.islice(batches, n_batches)])
print(f"cosine similarity with the full-batch gradient, {n_batches} mini-batches per size")
print(f"{'batch size':>10} {'mean':>7} {'std':>7} {'min':>7} {'max':>7} {'uphill':>8}")
for batch_size, c in cosines.items():
    print(f"{batch_size:>10,} {c.mean().item():7.3f} {c.std().item():7.3f} {c.min().item():7.3f}"
          f" {c.max().item():7.3f} {(c < 0).float().mean().item():8.0%}")

# %%
single_labels = torch.cat([y for _, y in itertools.islice(
    TensorBatches(train_images, train_labels, batch_size=1, generator=torch.Generator().manual_seed(1)), n_batches)])
fig, ax = plt.subplots(figsize=(6, 3))
for i, (batch_size, c) in enumerate(cosines.items()):
    colours = plt.cm.tab10(single_labels.numpy()) if batch_size == 1 else None
    ax.scatter(i + torch.linspace(-0.15, 0.15, n_batches), c, s=8, alpha=0.6, c=colours)
    ax.errorbar(i + 0.3, c.mean().item(), yerr=c.std().item(), fmt="o", color="black", capsize=3)
ax.axhline(0, color="grey", linewidth=0.8)
ax.set_xticks(range(len(batch_sizes)), [f"batch {b:,}" for b in batch_sizes])
ax.set_ylabel("cosine with full gradient")
ax.set_title("each dot: one mini-batch (batch 1: coloured by its digit); black: mean ± std", fontsize=9)
ax.grid(alpha=0.3, axis="y")
plt.show()

# %% [markdown]
# A single image's gradient is a poor guide to the full one: on average barely related (mean
# cosine 0.07), and for half of the 50 images it points uphill. With 32 images the direction is
# usually downhill (all but 10 % of the batches) but noisy (mean 0.41, spread 0.25), and with
# 1,024 it is close to the full gradient every time (0.95 ± 0.03).
#
# The single images' dots fall on a few horizontal stripes, one per digit (the colours). In an
# untrained network almost every image produces nearly the same hidden activations (chapter 03
# measured how little they vary), so what sets one image's gradient is its label alone: every
# image of a 1 points the same way. Per digit, for the 50 single images:

# %% tags=["nbval-ignore-output"]
single = cosines[1]
spread = max((single[single_labels == d].max() - single[single_labels == d].min()).item()
             for d in single_labels.unique())
for d in single_labels.unique().tolist():
    c = single[single_labels == d]
    print(f"digit {d}: {len(c)} images, cosine {c.min().item():+.3f} to {c.max().item():+.3f}")
print(f"largest spread within one digit: {spread:.3f}; between digits: {(single.max() - single.min()).item():.2f}")

# %%
# Measured: within one digit the cosines differ by at most about 0.004, between digits by over 1.
assert spread < 0.02 and (single.max() - single.min()).item() > 0.5
print("one image's gradient direction is set by its digit: within a digit the cosines differ by under 0.02")

# %% [markdown]
# SGD works despite the noise because
# it takes many steps: the errors of successive batches point in different directions and
# largely cancel, while the true downhill component adds up. A batch of 1,024 gives a better
# direction but takes 32 times the arithmetic of a batch of 32 for one step.
#
# ## "~1,875 steps per epoch"
#
# The guide says stochastic gradient descent makes about 1,875 steps per epoch instead of one.
# Chapter 01 counted the `DataLoader`'s batches: exactly 1,875, since 60,000 / 32 = 1,875 with
# nothing left over. The course's `TensorBatches` gives the same count:

# %%
print(f"batches of 32:     {len(TensorBatches(train_images, train_labels, batch_size=32)):,} steps per epoch")
print(f"batches of 60,000: {len(TensorBatches(train_images, train_labels, batch_size=60_000)):,} step per epoch")

# %% [markdown]
# Both see every training image once per epoch and do the same arithmetic, but one updates the
# weights 1,875 times and the other once. What that buys, measured: one epoch of each from the
# same untrained weights, with the same learning rate (0.1, to make one epoch count), then the
# test set.

# %% tags=["nbval-ignore-output"]
test_batches = TensorBatches(test_images, test_labels, batch_size=1_000, shuffle=False)
epoch_acc = {}
for name, batch_size in (("full batch, 1 step", 60_000), ("batches of 32, 1,875 steps", 32)):
    net = copy.deepcopy(model)                   # the same starting weights for both
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    train_epoch(net, TensorBatches(train_images, train_labels, batch_size=batch_size,
                                   generator=torch.Generator().manual_seed(0)), optimizer)
    test_loss, test_acc = evaluate(net, test_batches)
    epoch_acc[batch_size] = test_acc
    print(f"{name:27} after one epoch: test loss {test_loss:.4f}, test accuracy {test_acc:.1%}")
# Trained figures move in their last digits with the CPU or GPU; measured here: 10.1 % and 78.5 %.
assert epoch_acc[60_000] < 0.15 and 0.74 < epoch_acc[32] < 0.83

# %% [markdown]
# One full-batch step leaves the network guessing (about 10 %, chance for ten digits); 1,875
# noisy steps take it to about 78 % in the same single pass over the data. That trade is why every training loop
# in this course uses mini-batches.
#
# ## Exercises
#
# **Exercise 1.** A whole gradient by brute force. `finite_difference` above measures the slope
# for one weight. Generalise it: given a function `f` that takes a float64 tensor `x` of any
# shape and returns a 0-dim tensor, return the central-difference estimate of the gradient of
# `f` at `x`: a tensor with the shape and dtype of `x`, one slope per entry. Leave `x` as it was.
# The check compares your estimate with autograd's gradient for a cubic, the toy bowl below and
# a small cross-entropy loss of a `[3, 10]` weight matrix.

# %% tags=["solution"]
def numerical_gradient(f, x: torch.Tensor, h: float = 1e-5) -> torch.Tensor:
    """Central-difference estimate of the gradient of the scalar function f at x (same shape and dtype as x).

    Hint: a gradient is one slope per entry: nudge one entry at a time, up and then down, with every other entry held still, and measure how f changes, as finite_difference does for a single weight.
    Hint 2: loop over every entry (x.numel() counts them); torch.zeros_like(x) gives a nudge tensor, and .view(-1) (or .reshape(-1)) lets one index reach any entry of a tensor of any shape.
    """
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        nudge = torch.zeros_like(x)
        nudge.view(-1)[i] = h
        grad.view(-1)[i] = (f(x + nudge) - f(x - nudge)) / (2 * h)
    return grad


# %%
def autograd_gradient(f, x):
    x = x.clone().requires_grad_()
    f(x).backward()
    return x.grad


generator = torch.Generator().manual_seed(5)
features = torch.randn(4, 3, dtype=torch.float64, generator=generator)      # 4 made-up inputs of 3 numbers


def cubic(x):
    return (x**3).sum()


def bowl(w):
    return toy_loss(w[0], w[1])


def small_loss(weight):
    return F.cross_entropy(features @ weight, labels[:4])      # [4, 3] @ [3, 10] -> [4, 10] scores


cases = [(cubic, torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)),
         (bowl, torch.tensor([-4.0, 2.0], dtype=torch.float64)),
         (small_loss, torch.randn(3, 10, dtype=torch.float64, generator=generator))]
check_function(numerical_gradient, [((f, x), autograd_gradient(f, x)) for f, x in cases])

# %% [markdown]
# **Exercise 2.** Write the cosine similarity of two tensors of the same shape (treat each as
# one long vector) and return it as a Python float, without `F.cosine_similarity`.

# %% tags=["solution"]
def cosine_similarity(a: torch.Tensor, b: torch.Tensor) -> float:
    """Cosine of the angle between a and b, each flattened to a vector.

    Hint: the cosine compares directions only, so it must not change when either vector is made longer; the dot product measures how much two vectors agree, and their lengths are what you must divide out.
    Hint 2: .flatten() makes each tensor one vector; a tensor's length is .norm(), and .item() turns a 0-dim tensor into a float.
    """
    a, b = a.flatten(), b.flatten()
    return ((a * b).sum() / (a.norm() * b.norm())).item()


# %%
check_function(cosine_similarity, [
    ((torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])), 0.0),
    ((torch.tensor([1.0, 2.0, 3.0]), torch.tensor([2.0, 4.0, 6.0])), 1.0),
    ((torch.tensor([[1.0, 1.0]]), torch.tensor([[-1.0, -1.0]])), -1.0),
    ((full_gradient[:100], full_gradient[100:200]),
     F.cosine_similarity(full_gradient[:100], full_gradient[100:200], dim=0).item()),
], tol=1e-5)

# %% [markdown]
# **Exercise 3.** Run gradient descent on the one-weight loss $\frac{c}{2} w^2$ (curvature $c$):
# start at `w0`, take `steps` steps with learning rate `lr`, return the final weight. The checks
# include the `w2` direction of the toy bowl above ($c = 4$, starting at 2) with the too-small
# and the too-large learning rates.

# %% tags=["solution"]
def descend_1d(curvature: float, w0: float, lr: float, steps: int) -> float:
    """The weight after `steps` gradient-descent steps on curvature / 2 * w**2, starting at w0.

    Hint: each step needs the slope of the loss at the current weight, and moves the weight against it by the learning rate times that slope.
    Hint 2: differentiate c/2 times w squared by hand (the 2s cancel); a for loop over range(steps) updates one float.
    """
    w = w0
    for _ in range(steps):
        w = w - lr * curvature * w
    return w


# %%
check_function(descend_1d, [((1.0, 1.0, 0.5, 3), 0.125), ((1.0, 1.0, 2.5, 3), -3.375), ((4.0, 2.0, 0.25, 5), 0.0),
                            ((4.0, 2.0, 0.02, 25), 0.2487285736), ((4.0, 2.0, 0.52, 25), -13.6969503924)])

# %% [markdown]
# **Exercise 4 (predict, then run).** Back to the toy bowl, 25 steps from (-4, 2). Three more
# learning rates: 0.25, which wipes out `w2` in a single step (its factor $1 - 4 \times 0.25$ is
# 0); 0.3, the "good" rate above; and 0.4, which overshoots across the steep direction at every
# step. Which of `0.25`, `0.3` or `0.4` ends closest to the minimum (0, 0)? Write your prediction
# in the function below **before** you run the experiment cell.

# %% tags=["solution"]
def predicted_closest_lr() -> float:
    """The learning rate, 0.25, 0.3 or 0.4, whose 25 steps from (-4, 2) end closest to (0, 0).

    Hint: after 25 steps the distance is set by whichever direction is still far from 0; which direction is that for each rate?
    Hint 2: compare the per-step factors of both directions (the cell after the plot prints them for other rates) and look at the larger size of the two for each rate.
    """
    return 0.4


# %%
finals = {lr_: descend(lr_)[-1] for lr_ in (0.25, 0.3, 0.4)}
for lr_, w in finals.items():
    print(f"lr {lr_:4}: after 25 steps, distance {w.norm().item():.1e} from the minimum (0, 0)")
distances = sorted(w.norm().item() for w in finals.values())
# Measured 1.3e-05, 5.4e-04 and 3.0e-03 on both CPU settings: the winner is ahead by a factor of 40,
# where CPUs differ in the last bits of float32 only.
assert distances[1] > 10 * distances[0]
observed = min(finals, key=lambda lr_: finals[lr_].norm().item())

# %%
check_function(predicted_closest_lr, [((), observed)])

# %% [markdown]
# **Exercise 5 (change the experiment).** The mini-batch experiment compared 50 gradients of
# batches of 1, 32 and 1,024 images with the full-batch gradient. Change the batch size: run the
# same experiment for `batch_size` (the same untrained `model`, 50 batches drawn by
# `TensorBatches` with `generator=torch.Generator().manual_seed(batch_size)`, as above) and
# return the mean cosine similarity with `full_gradient` as a float. Where does a batch of 256
# land between batch 32's mean and batch 1,024's, and does 4 times fewer images than 1,024 cost
# much in direction?

# %% tags=["solution"]
def mean_batch_cosine(batch_size: int) -> float:
    """Mean cosine similarity between full_gradient and the gradients of 50 mini-batches of batch_size images.

    Hint: the cell that filled cosines does this for three batch sizes; run its loop body for one size and average.
    Hint 2: itertools.islice takes the first n_batches batches; flat_gradient and F.cosine_similarity with dim=0 do the rest, and .mean().item() gives a float.
    """
    batches = TensorBatches(train_images, train_labels, batch_size=batch_size,
                            generator=torch.Generator().manual_seed(batch_size))
    return torch.tensor([F.cosine_similarity(flat_gradient(model, x, y), full_gradient, dim=0).item()
                         for x, y in itertools.islice(batches, n_batches)]).mean().item()


# %%
def cosines_for(batch_size):
    batches = TensorBatches(train_images, train_labels, batch_size=batch_size,
                            generator=torch.Generator().manual_seed(batch_size))
    return [F.cosine_similarity(flat_gradient(model, x, y), full_gradient, dim=0).item()
            for x, y in itertools.islice(batches, n_batches)]


expected = {b: sum(cosines_for(b)) / n_batches for b in (256, 4)}
# Both sides run the same float32 kernels on the same machine; a learner who sums in another order
# moves the mean by about 1e-7, so 1e-5 is ample (and far below the 0.1 gaps between batch sizes).
check_function(mean_batch_cosine, [((b,), mean) for b, mean in expected.items()], tol=1e-5)
for b in (32, 1024):
    print(f"batch {b:5,}: mean cosine {cosines[b].mean().item():.3f}")
print(f"batch   256: mean cosine {expected[256]:.3f}")

# %% [markdown]
# Next: **06 · Backpropagation by hand**: where those 13,002 gradients come from, written out as four
# equations and used to train the network without `backward()`.
