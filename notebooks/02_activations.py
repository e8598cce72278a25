# %% [markdown]
# # 02 · Activations: why a network needs something between its layers
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/nn-from-pixels/mnist-course/blob/main/notebooks/02_activations.ipynb)
#
# *Runs in about 10 seconds on a 2-core CPU (measured; INSTRUCTORS.md lists every chapter). A GPU would not speed it up much, so it asks Colab for none.*
#
# The network this course builds has three layers of neurons, and between them sits a small
# function, the *sigmoid*. This chapter shows why it is there. First you watch three linear
# layers collapse into one, on real MNIST images, to within rounding error. Then you put sigmoids
# between them and measure that no single layer can imitate the result. After that the sigmoid
# itself: its formula, its range, its slope, and two common alternatives (tanh and ReLU). Last,
# a single neuron you can steer with sliders.

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
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from course_utils.data import mnist_tensors
from course_utils.env import describe_device, pick_device, seed_everything
from course_utils.exercises import check_function
from course_utils.widgets import neuron_explorer, plot_neuron

seed_everything(0)
device = pick_device()
print(describe_device(device))

# %% [markdown]
# Everything in this chapter is small enough for the CPU, so the tensors stay there whatever
# `device` says; later chapters, which train, move their work to the device.
#
# ## Three linear layers are one linear layer
#
# A linear layer computes `W x + b`: every output is a weighted sum of the inputs plus a constant.
# The learning guide's network has three of them, 784 → 16 → 16 → 10. Build them, leave out
# the sigmoids, and feed in real test images, flattened to 784 numbers each.

# %%
images, labels = mnist_tensors(train=False)
x = images[:5000].flatten(start_dim=1)          # [5000, 1, 28, 28] -> [5000, 784]
print("inputs:", tuple(x.shape), "pixel values from", x.min().item(), "to", x.max().item())

layer1, layer2, layer3 = nn.Linear(784, 16), nn.Linear(16, 16), nn.Linear(16, 10)
with torch.no_grad():
    stacked = layer3(layer2(layer1(x)))          # [5000, 784] -> [5000, 16] -> [5000, 16] -> [5000, 10]
print("output of the stack:", tuple(stacked.shape))

# %% [markdown]
# Write the stack out: `W3 (W2 (W1 x + b1) + b2) + b3`. Multiplying out the brackets gives
# `(W3 W2 W1) x + (W3 W2 b1 + W3 b2 + b3)`, which is again *one* weight matrix times `x` plus *one*
# bias. Compute that matrix and that bias from the three layers and put them into a single
# `nn.Linear(784, 10)`:

# %%
with torch.no_grad():
    W = layer3.weight @ layer2.weight @ layer1.weight                      # [10, 16] @ [16, 16] @ [16, 784] -> [10, 784]
    b = layer3.weight @ (layer2.weight @ layer1.bias + layer2.bias) + layer3.bias  # [10]
    single = nn.Linear(784, 10)
    single.weight.copy_(W)
    single.bias.copy_(b)
    one_layer = single(x)
print("combined weight:", tuple(W.shape), "| combined bias:", tuple(b.shape))
print("parameters: three layers", sum(p.numel() for layer in (layer1, layer2, layer3) for p in layer.parameters()),
      "| one layer", sum(p.numel() for p in single.parameters()))

# %% tags=["nbval-ignore-output"]
largest_difference = (one_layer - stacked).abs().max().item()
print(f"largest difference over {stacked.numel():,} outputs: {largest_difference:.1e}"
      f" (the outputs themselves are up to {stacked.abs().max().item():.2f})")
assert largest_difference < 1e-5

# %% [markdown]
# The single layer reproduces all 50,000 outputs (5,000 images × 10 scores) to within float32
# rounding, far below the 10⁻⁵ the `assert` allows (the exact difference depends on the
# processor, which is why it is checked by an `assert`). So the three-layer stack, with 13,002
# parameters, can compute nothing that a 7,850-parameter single layer cannot: extra linear
# layers add cost, not power.
#
# ## With sigmoids in between, no single layer fits
#
# Now put a sigmoid after the first and second layer, as the guide's network does. Is there still
# some `W` and `b` that reproduces the outputs? We can ask directly: `torch.linalg.lstsq` finds
# the weights and bias that make a single linear layer's outputs as close as possible (in
# squared error) to the targets, over all 5,000 images at once. A column of ones appended to the
# pixels carries the bias. Two practical details: pixels that are blank in every image carry no
# information and would make the problem degenerate, so they are left out (their weights could be
# anything), and the fit runs in float64, since float32 is not precise enough for a least-squares
# problem this size to come out exact.
#
# As a sanity check, fit the linear stack too: there a perfect fit exists, so lstsq should find
# it. The error is reported as a fraction of how much the outputs vary from image to image (0 %:
# a perfect fit; 100 %: no better than predicting the average output for every image).

# %%
def sigmoid_stack(x, scale=1.0):
    """The guide's network: layer, sigmoid, layer, sigmoid, layer; `scale` multiplies what enters each sigmoid."""
    h = torch.sigmoid(scale * layer1(x))         # [N, 784] -> [N, 16]
    h = torch.sigmoid(scale * layer2(h))         # [N, 16] -> [N, 16]
    return layer3(h)                             # [N, 16] -> [N, 10]


with torch.no_grad():
    targets = {"three linear layers": stacked,
               "with sigmoids": sigmoid_stack(x),
               "with sigmoids, scaled x10": sigmoid_stack(x, scale=10.0)}
inked = x.amax(dim=0) > 0                                                 # [784]: pixels with ink in some image
print(f"{(~inked).sum().item()} of the 784 pixels are blank in all {len(x):,} images; the fit leaves them out")
X = torch.cat([x[:, inked], torch.ones(len(x), 1)], dim=1).double()      # [5000, inked pixels + 1]
Y = torch.cat(list(targets.values()), dim=1).double()                     # [5000, 30]: three fits at once
best = torch.linalg.lstsq(X, Y, driver="gels").solution                   # [inked pixels + 1, 30]
fit_errors = {}
for (name, y), w_and_b in zip(targets.items(), best.split(10, dim=1)):
    y = y.double()
    fitted = X @ w_and_b                                                  # best single layer's outputs, [5000, 10]
    fit_errors[name] = ((fitted - y).norm() / (y - y.mean(dim=0)).norm()).item()
    print(f"{name:<27} best single layer misses {fit_errors[name]:4.0%} of the variation")

# %%
# Measured 0.7 % and 34.2-34.3 % on three CPU settings (the last digit depends on the CPU's
# kernels), so the figures are printed as whole percents and checked against bands here.
assert fit_errors["three linear layers"] < 1e-3
assert 0.002 < fit_errors["with sigmoids"] < 0.01
assert 0.30 < fit_errors["with sigmoids, scaled x10"] < 0.40

# %% [markdown]
# Three things to read from this:
#
# * The linear stack is fitted perfectly (0 %), as the algebra promised.
# * With sigmoids, even the *best* single layer misses part of the outputs, so the sigmoid
#   network computes something no single linear layer can.
# * At the network's random starting weights the miss is small (under 1 %, printed rounded up). The sigmoid is
#   curved, but near 0 it is almost a straight line, and with these small starting weights the
#   numbers fed into it stay near 0. Make everything that enters the sigmoids ten times larger
#   (as larger weights and biases would) and they bend much more: then the best linear imitation
#   misses about a third. Training moves the weights to
#   wherever bending helps.
#
# The same thing in a picture: a tiny network with one input and one output, 1 → 8 → 8 → 1,
# drawn over a range of inputs. Without activations, whatever its weights, the result is a
# straight line; with sigmoids it can bend.

# %%
torch.manual_seed(1)
tiny = [nn.Linear(1, 8), nn.Linear(8, 8), nn.Linear(8, 1)]
with torch.no_grad():
    for layer in tiny:
        layer.weight.mul_(4.0)                   # larger weights so the bends are easy to see
    t = torch.linspace(-3, 3, 200).unsqueeze(1)  # [200, 1]: 200 inputs, one number each
    straight = tiny[2](tiny[1](tiny[0](t)))
    bent = tiny[2](torch.sigmoid(tiny[1](torch.sigmoid(tiny[0](t)))))
fig, axes = plt.subplots(1, 2, figsize=(8, 2.6))
axes[0].plot(t, straight)
axes[0].set_title("1 → 8 → 8 → 1, no activation")
axes[1].plot(t, bent, color="tab:orange")
axes[1].set_title("the same weights, sigmoids between")
for ax in axes:
    ax.set_xlabel("input")
    ax.grid(alpha=0.3)
axes[0].set_ylabel("output")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## The sigmoid
#
# The sigmoid squashes any number `z` into the interval between 0 and 1:
#
# $$\sigma(z) = \frac{1}{1 + e^{-z}}$$
#
# Large negative `z` makes `e^{-z}` huge, so σ is near 0; large positive `z` makes it vanish, so
# σ is near 1; and σ(0) = 1/2. Here it is written by hand and compared with PyTorch's own:

# %%
z = torch.tensor([-20.0, -5.0, -2.0, 0.0, 2.0, 5.0, 20.0])
by_hand = 1 / (1 + torch.exp(-z))
for zi, si in zip(z.tolist(), by_hand.tolist()):
    print(f"sigma({zi:5.1f}) = {si:.6g}")
assert torch.allclose(by_hand, torch.sigmoid(z))
print("matches torch.sigmoid:", torch.allclose(by_hand, torch.sigmoid(z)))
print("sigma(20) == 1.0 exactly in float32:", torch.sigmoid(torch.tensor(20.0)).item() == 1.0)

# %% [markdown]
# Mathematically σ never reaches 0 or 1. In float32, though, σ(20) is rounded to exactly 1.0:
# the true value is 1 − σ(−20) = 1 − 2·10⁻⁹, closer to 1 than float32 can resolve. So in
# practice a sigmoid can output exactly 1. Rounding like this is one reason PyTorch's loss functions take
# raw scores rather than already-squashed values.
#
# ### Its slope
#
# Learning (chapter 05) follows slopes, so the slope of each activation matters. Autograd
# measures the sigmoid's slope at 2,001 points from −10 to 10; calculus says it is
# σ(z)·(1 − σ(z)).

# %%
zs = (torch.arange(-1000, 1001) / 100).requires_grad_()   # -10.00, -9.99, ..., 10.00 (0 exactly in the middle)
torch.sigmoid(zs).sum().backward()
slope = zs.grad
s = torch.sigmoid(zs.detach())
assert torch.allclose(slope, s * (1 - s))
top = slope.argmax()
print(f"slope from autograd matches sigma*(1-sigma): {torch.allclose(slope, s * (1 - s))}")
print(f"largest slope: {slope.max().item():.4f} at z = {zs[top].item():.2f}")
print(f"slope at z = 2: {slope[1200].item():.4f}, at z = 5: {slope[1500].item():.4f}, at z = 10: {slope[2000].item():.1e}")

# %% [markdown]
# The sigmoid is steepest at 0, where its slope is exactly 0.25, and it flattens fast: at z = 5
# the slope has dropped to 0.0066. A signal passing back through a sigmoid is multiplied by at
# most a quarter, and by almost nothing when the neuron sits far out on a flat end.
#
# ## Two other activations: tanh and ReLU
#
# * **tanh** has the same S shape, stretched to the range −1 to 1: tanh(z) = 2σ(2z) − 1.
# * **ReLU** (rectified linear unit) is max(0, z): zero for negative inputs, the input itself
#   otherwise. Its slope is 0 or 1, so it never squashes a signal it lets through.
#
# Check the tanh identity, then draw all three with their slopes (autograd again):

# %%
assert torch.allclose(torch.tanh(zs.detach()), 2 * torch.sigmoid(2 * zs.detach()) - 1, atol=1e-6)
print("tanh(z) == 2 sigma(2z) - 1:", torch.allclose(torch.tanh(zs.detach()), 2 * torch.sigmoid(2 * zs.detach()) - 1, atol=1e-6))
activations = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "ReLU": torch.relu}
fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(9, 3))
for name, f in activations.items():
    zz = zs.detach().clone().requires_grad_()
    out = f(zz)
    out.sum().backward()
    ax_f.plot(zz.detach(), out.detach(), label=name, linewidth=2.5 if name == "sigmoid" else 1.5)
    ax_d.plot(zz.detach(), zz.grad, label=name, linewidth=2.5 if name == "sigmoid" else 1.5)
    print(f"{name:<8} output range on [-10, 10]: {out.min().item():7.4f} to {out.max().item():7.4f}"
          f" | slope at 0: {zz.grad[1000].item():.2f}, largest slope: {zz.grad.max().item():.2f}")
ax_f.set_ylim(-1.2, 3)
ax_f.set_title("activation(z)")
ax_d.set_title("slope d activation / dz")
ax_d.axhline(0.25, color="grey", linestyle=":", linewidth=1)
for ax in (ax_f, ax_d):
    ax.set_xlim(-5, 5)
    ax.set_xlabel("z")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# (At exactly 0 ReLU has a corner; PyTorch defines its slope there as 0, as printed.) The guide
# follows 3Blue1Brown and uses the sigmoid; most networks today use ReLU. Chapter 11 swaps the
# activation in the trained network and compares.
#
# ## One neuron, by hand
#
# Take the smallest possible case: a neuron with a single input `x`, one weight `w` and one bias
# `b`, computing σ(w·x + b). Move the sliders below (in Colab or Jupyter) and watch:
#
# * `w` sets how steep the switch from 0 to 1 is, and its sign sets the direction;
# * `b` slides the switch sideways: the output crosses 0.5 where w·x + b = 0, at x = −b/w
#   (the dotted line);
# * the menu next to them swaps the sigmoid for tanh or ReLU (in code, as everywhere in the
#   course, an activation is its `torch.nn` class: `neuron_explorer(activation=nn.Tanh)`).
#
# The plot is drawn for the starting values, and the sliders below it redraw that same plot in
# place as you move them. (Viewed on GitHub or run without a live kernel, the plot shows the
# starting values and the controls do not appear.)

# %% tags=["nbval-ignore-output"]
explorer = neuron_explorer(w=1.0, b=0.0)

# %%
print("starting curve:", explorer.static_figure.axes[0].get_title())
assert explorer.static_figure.axes[0].get_title() == "sigmoid(1·x + 0)"

# %% [markdown]
# Four settings side by side, with the switch point −b/w of each printed. Try to reproduce
# each of them with the sliders, or with `explorer.update(w, b)`, which draws the curve for any
# weight and bias.

# %%
settings = [(1.0, 0.0), (5.0, 0.0), (5.0, -10.0), (-2.0, 3.0)]
fig, axes = plt.subplots(1, 4, figsize=(12, 2.4), sharey=True)
for (w, b), ax in zip(settings, axes):
    plot_neuron(w, b, ax=ax)
    switch = -b / w + 0.0                        # + 0.0 turns -0.0 into 0.0
    out = torch.sigmoid(torch.tensor(w * switch + b)).item()
    print(f"w = {w:4.1f}, b = {b:5.1f}: switch point x = {switch:4.1f}, output there = {out}")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** The sigmoid cell showed that in float32 σ(20) rounds to exactly 1.0. The other
# end rounds too: far enough below 0, σ(z) rounds to exactly 0, and the log of a sigmoid, which
# loss functions need, becomes −∞ although the true value is an ordinary number (about z itself).
# Write `log_sigmoid`, log σ(z) elementwise, so that it stays finite and accurate for any float32
# `z`, from −1,000 to 1,000. The check compares it with PyTorch's own `F.logsigmoid`.

# %% tags=["solution"]
def log_sigmoid(z: torch.Tensor) -> torch.Tensor:
    """log(sigmoid(z)) elementwise, accurate for very negative and very positive z.

    Hint: the log of a sigmoid that has already rounded to 0 cannot be rescued; start from the sigmoid's formula instead, and rewrite it so that no exponential of a large positive number is ever formed.
    Hint 2: log sigma(z) is minus the log of 1 + e^(-z); for negative z, factor e^(-z) out of that bracket first. torch.where() chooses a formula per element, torch.abs() and torch.clamp() avoid choosing, and torch.log1p(x) is log(1 + x), accurate for tiny x.
    """
    return -(torch.clamp(-z, min=0) + torch.log1p(torch.exp(-z.abs())))


# %%
far_out = torch.tensor([-1000.0, -200.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0])
print("z:                   ", far_out.tolist())
print("log of torch.sigmoid:", [float(f"{v:.4g}") for v in torch.log(torch.sigmoid(far_out)).tolist()])
check_function(log_sigmoid, [((far_out,), F.logsigmoid(far_out)),
                             ((torch.linspace(-30, 30, 61),), F.logsigmoid(torch.linspace(-30, 30, 61)))])

# %% [markdown]
# **Exercise 2.** The neuron explorer draws σ(w·x + b). How steep is that curve at each `x`?
# Write `neuron_slope`, the derivative of σ(w·x + b) with respect to `x`, for a tensor of `x`
# values, without autograd. The check compares it with the slope autograd measures, for three of
# the four settings drawn above. (Where is each curve steepest, and how steep is it there?)

# %% tags=["solution"]
def neuron_slope(x: torch.Tensor, w: float, b: float) -> torch.Tensor:
    """d/dx of sigmoid(w * x + b) at every element of x.

    Hint: the neuron feeds w·x + b into a sigmoid; ask how fast w·x + b changes when x does, and how fast the sigmoid changes with its input, then combine the two rates.
    Hint 2: the chain rule multiplies the rates: the slope cell's formula for the sigmoid's slope, taken at w·x + b (torch.sigmoid() may be used), and the rate at which w·x + b changes with x.
    """
    s = torch.sigmoid(w * x + b)
    return w * s * (1 - s)


# %%
def autograd_neuron_slope(x, w, b):
    x = x.clone().requires_grad_()
    torch.sigmoid(w * x + b).sum().backward()
    return x.grad


xs = torch.linspace(-5, 5, 41)
check_function(neuron_slope, [((xs, w, b), autograd_neuron_slope(xs, w, b)) for w, b in [(1.0, 0.0), (5.0, -10.0), (-2.0, 3.0)]])

# %% [markdown]
# **Exercise 3.** Collapse any stack of linear layers (no activations) into the weight and bias
# of a single equivalent layer. `layers` is a list of `nn.Linear`, applied first to last. Return
# `(W, b)` with `W` of shape `[out_features of the last, in_features of the first]`. The check
# builds stacks of one to four layers and finds the answer another way: by feeding the stack the
# inputs 0 and the unit vectors.

# %% tags=["solution"]
def collapse(layers: list) -> tuple:
    """Weight and bias of the one linear layer that equals `layers` applied in order.

    Hint: fold the layers in one at a time: if the layers so far equal one layer, which single layer equals that one followed by the next?
    Hint 2: feeding W x + b into a layer with weight V and bias c gives V (W x + b) + c: multiply out the bracket, as the three-layer cell did, and repeat down the list; @ multiplies matrices, and .detach() returns results without their autograd history.
    """
    W, b = layers[0].weight, layers[0].bias
    for layer in layers[1:]:
        W, b = layer.weight @ W, layer.weight @ b + layer.bias
    return W.detach(), b.detach()


# %%
def probe(layers):
    """(W, b) of a stack measured from outside: b is the output for input 0, W's columns the change per unit input."""
    n_in = layers[0].in_features
    inputs = torch.cat([torch.zeros(1, n_in, dtype=torch.float64), torch.eye(n_in, dtype=torch.float64)])
    with torch.no_grad():
        out = inputs
        for layer in layers:
            out = layer(out)
    return (out[1:] - out[0]).T, out[0]


torch.manual_seed(2)
stacks = [[nn.Linear(a, c).double() for a, c in zip(sizes, sizes[1:])]
          for sizes in [(3, 2), (5, 4, 3), (6, 4, 4, 2), (784, 16, 16, 10)]]
check_function(collapse, [((layers,), probe(layers)) for layers in stacks])

# %% [markdown]
# **Exercise 4 (predict, then run).** At the starting weights, the best single linear layer
# missed less than 1 % of what the sigmoid network computes, because the sigmoid is almost
# straight near 0. The cell after the next one keeps the same three layers and the same weights
# but puts **ReLU** between them instead of sigmoids, and asks `lstsq` again for the best single
# layer. Will that layer miss `"more"`, `"less"` or `"about the same"` (within a factor of 2) of
# the variation than it did with sigmoids? Write your prediction into `predicted_relu_miss`
# **before** you run the experiment cell.

# %% tags=["solution"]
def predicted_relu_miss() -> str:
    """Your prediction, made before running the experiment: "more", "less" or "about the same".

    Hint: the sigmoid fitted well because the numbers fed into it stay near 0, where it is almost a straight line. What does ReLU look like near 0?
    Hint 2: look at ReLU's slope just below and just above 0 in the activation plot: a straight line has one slope everywhere, and about half of the numbers fed in are negative.
    """
    return "more"


# %%
with torch.no_grad():
    relu_outputs = layer3(torch.relu(layer2(torch.relu(layer1(x))))).double()   # same layers, ReLU between
w_and_b = torch.linalg.lstsq(X, relu_outputs, driver="gels").solution
relu_miss = ((X @ w_and_b - relu_outputs).norm() / (relu_outputs - relu_outputs.mean(dim=0)).norm()).item()
sigmoid_miss = fit_errors["with sigmoids"]
print(f"best single layer misses {relu_miss:.0%} of the variation with ReLU, {sigmoid_miss:.0%} with sigmoids")
observed = "more" if relu_miss > 2 * sigmoid_miss else "less" if relu_miss < sigmoid_miss / 2 else "about the same"
# Measured 35.25-35.27 % against 0.66 % on two CPU settings: a factor of about 50, far from the factor 2 that decides.
assert relu_miss > 10 * sigmoid_miss, "ReLU's corner at 0 should leave a far larger miss than the sigmoid's gentle bend"

# %%
check_function(predicted_relu_miss, [((), observed)])

# %% [markdown]
# **Exercise 5 (change the experiment).** The activation plot measured each activation's slope
# with autograd on the 2,001 points from −10 to 10. Change what it reads from that measurement:
# instead of the largest slope, return the fraction of the 2,001 points where the slope is below
# a `threshold`, the nearly flat ground where a signal passing back through the activation
# almost vanishes. Use autograd as that cell did, for `activation` one of `torch.sigmoid`,
# `torch.tanh` or `torch.relu`. At threshold 0.01, which activation has the most flat ground? Does
# the winner change at threshold 0.1?

# %% tags=["solution"]
def flat_fraction(activation, threshold: float) -> float:
    """Fraction of the points -10.00, -9.99, ..., 10.00 where autograd's slope of activation is below threshold.

    Hint: repeat the activation plot's measurement for one activation, then count instead of taking the largest value.
    Hint 2: a fresh copy of the points with .requires_grad_(), .sum() of the activation's outputs, .backward(), then the points' .grad holds the slopes; a comparison gives booleans, and their mean as floats is a fraction.
    """
    points = zs.detach().clone().requires_grad_()
    activation(points).sum().backward()
    return (points.grad < threshold).float().mean().item()


# %%
grid = zs.detach()
exact_slopes = {torch.sigmoid: torch.sigmoid(grid) * (1 - torch.sigmoid(grid)),   # the slopes from calculus
                torch.tanh: 1 - torch.tanh(grid) ** 2,
                torch.relu: (grid > 0).float()}
flat_cases = []
for f, slopes in exact_slopes.items():
    for threshold in (0.01, 0.1):
        # the nearest point's slope is 1.5e-05 or more from a threshold (measured: 4.8e-05 for the sigmoid at
        # 0.01); float32 rounding moves a slope by about 1e-09, so no machine counts a point on the other side
        assert (slopes - threshold).abs().min() > 1e-5
        flat_cases.append(((f, threshold), (slopes < threshold).sum().item() / len(grid)))
check_function(flat_fraction, flat_cases)

# %% [markdown]
# Next: **03 · The network**: the guide's 784-16-16-10 network built in PyTorch, its 13,002
# parameters counted, and a batch of real digits followed through it.
