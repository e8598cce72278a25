# %% [markdown]
# # 06 · Backpropagation by hand
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/nn-from-pixels/mnist-course/blob/main/notebooks/06_backprop_by_hand.ipynb)
#
# *Runs in about 25 seconds on a 2-core CPU (measured; INSTRUCTORS.md lists every chapter). A GPU would not speed it up much, so it asks Colab for none.*
#
# Chapter 05 let `loss.backward()` fill in 13,002 gradients and checked them against brute-force
# slopes. This chapter opens the box. Following 3Blue1Brown's third and fourth videos, you will
# see what one training image *asks* of the ten outputs and of every neuron behind them, follow
# the chain rule through a network of one neuron per layer with real numbers, write the four
# backpropagation equations for the course's 784-16-16-10 network as a plain function, check it
# against autograd for all six weight and bias tensors, and then train the network with nothing
# but that function: no `backward()`, no optimizer. At the end you measure why the layers
# nearest the pixels learn slowest, and what one backward pass saves over the 26,004 forward
# passes of chapter 05's finite differences.

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
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from course_utils.data import TensorBatches, mnist_tensors
from course_utils.env import describe_device, pick_device, seed_everything
from course_utils.exercises import check_function
from course_utils.models import MLP
from course_utils.training import evaluate, fit

seed_everything(0)
device = pick_device()
print(describe_device(device))

# %% [markdown]
# Everything here runs on the CPU whatever device you have: the point is the arithmetic, and
# the networks are small.
#
# ## What one image asks of the outputs
#
# Take the untrained network of chapter 05 (seed 0) and one real training image, the first 2
# in the training set. Run it forward one layer at a time and keep every intermediate result:
# the hidden activations `a1` and `a2`, the ten scores `z3`, and their softmax probabilities.

# %%
train_images, train_labels = mnist_tensors(train=True)
test_images, test_labels = mnist_tensors(train=False)
model = MLP()                                              # 784 -> 16 -> 16 -> 10, sigmoids, untrained
W1, b1 = model.layer1.weight.detach(), model.layer1.bias.detach()
W2, b2 = model.layer2.weight.detach(), model.layer2.bias.detach()
W3, b3 = model.layer3.weight.detach(), model.layer3.bias.detach()

index = (train_labels == 2).nonzero()[0].item()            # the first 2 in the training set
x, label = train_images[index].flatten(), train_labels[index].item()   # [784] pixels, the digit 2
a1 = torch.sigmoid(W1 @ x + b1)                            # [16]  first hidden layer
a2 = torch.sigmoid(W2 @ a1 + b2)                           # [16]  second hidden layer
z3 = W3 @ a2 + b3                                          # [10]  raw scores
probs = torch.softmax(z3, dim=0)                           # [10]  probabilities
cost = -torch.log(probs[label])                            # cross-entropy for this one image
print(f"training image {index:,} is a {label}; the untrained network gives it probability "
      f"{probs[label].item():.3f}, cost {cost.item():.3f}")

# %% [markdown]
# Training should change the weights so that this cost goes down. Which way should each of the
# ten scores move, and how hard? For softmax followed by cross-entropy the answer is short
# (the loss chapter derives it): the slope of the cost with respect to score $j$ is
# $p_j - y_j$, where $y$ is the one-hot target (1 for the true digit, 0 elsewhere). The
# *nudge* the cost asks for is minus that slope: pull the true digit's score up by $1 - p_2$,
# and push every other score down by its own probability, hardest for the digits that wrongly
# grab the most probability.

# %%
target = F.one_hot(torch.tensor(label), num_classes=10).float()   # [10]: 1 at the true digit
nudge = target - probs                                     # minus dC/dz3
print("digit  score   prob   nudge asked by the cost")
for digit in range(10):
    print(f"{digit:>5} {z3[digit].item():6.3f} {probs[digit].item():6.3f} {nudge[digit].item():+8.3f}"
          + ("   <- the true digit" if digit == label else ""))

scores = z3.clone().requires_grad_()                       # the same scores, now tracked by autograd
(-torch.log_softmax(scores, dim=0)[label]).backward()
assert torch.allclose(-scores.grad, nudge, atol=1e-6), "softmax - one-hot is the gradient of the cost"
print("autograd's dC/dz3 equals probs - one_hot (allclose): True")

# %% [markdown]
# The nudges add up to zero: what the true digit gains, the others give up. That is the first
# half of 3Blue1Brown's third video: the cost does not say "be right", it says by how much each
# output should move.
#
# ## What the outputs ask of the neurons behind them
#
# The ten outputs cannot move on their own: each score is $z_j = \sum_k W_{jk}\, a_k + b_j$,
# so it changes when its bias, its weights, or the 16 activations $a_k$ of the second hidden
# layer change. Each output $j$ therefore passes a request back to each neuron $k$: "change
# your activation by $W_{jk} \times$ my nudge". A neuron connected to the true digit with a
# positive weight is asked to brighten; connected with a negative weight, to dim. Every neuron
# receives ten requests, one from each output, and what it is really asked is their **sum**.

# %%
requests = W3 * nudge[:, None]                             # [10, 16]: output j's request to neuron k
asked_of_a2 = requests.sum(dim=0)                          # [16]: the total request to each neuron
k = asked_of_a2.abs().argmax().item()                      # the neuron asked most strongly

fig, (ax_img, ax_out, ax_one, ax_all) = plt.subplots(1, 4, figsize=(14, 2.8),
                                                     gridspec_kw={"width_ratios": [0.8, 1.3, 1.3, 1.8]})
ax_img.imshow(x.view(28, 28), cmap="gray_r")
ax_img.set_title(f"training image {index:,}: a {label}", fontsize=9)
ax_img.axis("off")
ax_out.bar(range(10), nudge, color=["tab:green" if d == label else "tab:red" for d in range(10)])
ax_out.set_title("nudge asked of each output", fontsize=9)
ax_out.set_xticks(range(10))
ax_one.bar(range(10), requests[:, k], color="tab:purple")
ax_one.set_title(f"the 10 requests to layer-2 neuron {k}\n(weight × nudge)", fontsize=9)
ax_one.set_xticks(range(10))
ax_all.bar(range(16), asked_of_a2, color=["tab:purple" if j == k else "tab:grey" for j in range(16)])
ax_all.set_title("total request to each layer-2 neuron", fontsize=9)
ax_all.set_xticks(range(16))
for ax in (ax_out, ax_one, ax_all):
    ax.axhline(0, color="black", linewidth=0.6)
fig.tight_layout()
plt.show()

# %% [markdown]
# Is "the sum of the requests" really the slope of the cost with respect to each activation?
# Ask autograd for $\partial C / \partial a_2$ directly and compare:

# %%
a2_tracked = a2.clone().requires_grad_()
(-torch.log_softmax(W3 @ a2_tracked + b3, dim=0)[label]).backward()
assert torch.allclose(-a2_tracked.grad, asked_of_a2, atol=1e-6)
print(f"neuron {k}: requests from the ten outputs add up to {asked_of_a2[k].item():+.4f}; "
      f"autograd's -dC/da2[{k}] = {-a2_tracked.grad[k].item():+.4f}")
print("all 16 neurons: the summed requests equal -dC/da2 (allclose): True")

# %% [markdown]
# A neuron cannot change its activation directly either. It changes it through its own
# weighted sum $z$, and the sigmoid passes on only a fraction of any change in $z$: its slope
# $\sigma'(z) = a(1-a)$, at most 1/4 (chapter 02). So the request on $z$ is the request on $a$
# times $a(1-a)$, and from there the same story repeats one layer further back: each weight into
# the neuron should change in proportion to the request times the activation at its other end
# (3Blue1Brown: the weights from the brightest neurons matter most), and each layer-1 neuron
# receives the weighted sum of the requests of all 16 layer-2 neurons. That recursion, run from
# the outputs back to the pixels, is backpropagation.
#
# ## Many images, one gradient
#
# One image's requests are selfish: this 2 wants the "2" output up and everything else down.
# The next image, a 7, wants the opposite for output 2. The gradient that training uses is the
# **average** of the requests of all images in the mini-batch. Take the first 32 training
# images and compute each one's request on the bias of output 2 (which is exactly its nudge,
# since $z_2$ moves one for one with $b_2$):

# %%
batch_x, batch_y = train_images[:32].flatten(1), train_labels[:32]       # [32, 784], [32]
with torch.no_grad():
    batch_probs = torch.softmax(model(batch_x), dim=1)                    # [32, 10]
per_image = F.one_hot(batch_y, 10).float() - batch_probs                 # [32, 10]: every image's nudges
raise_2 = per_image[:, 2] > 0
print(f"images asking to raise output 2's bias: {raise_2.sum().item()} of 32, "
      f"and {(batch_y == 2).sum().item()} of the 32 images are 2s: "
      f"the same images: {torch.equal(raise_2, batch_y == 2)}")

batch_model = copy.deepcopy(model)
F.cross_entropy(batch_model(batch_x), batch_y).backward()                 # the batch's average cost
assert torch.allclose(-batch_model.layer3.bias.grad, per_image.mean(dim=0), atol=1e-7)
print("-gradient of the batch cost for the 10 output biases = the mean of the 32 images' nudges (allclose): True")

# %% [markdown]
# Only the images of a 2 ask for output 2 to go up; every other image asks, a little, for it to
# go down. The step that training takes is the compromise: the mean over the batch. That is why
# `F.cross_entropy` averages over the batch by default, and why the gradient of a mini-batch is
# a noisy estimate of the full one (chapter 05 measured how noisy).
#
# ## The chain rule, one neuron per layer
#
# 3Blue1Brown's fourth video does the calculus on the simplest network there is: one neuron
# per layer, so every quantity is a single number. Here it is with three layers, the video's
# squared-error cost $C = (a_3 - y)^2$, and made-up weights:
#
# $$z_\ell = w_\ell\, a_{\ell-1} + b_\ell, \qquad a_\ell = \sigma(z_\ell), \qquad \ell = 1, 2, 3.$$
#
# The chain rule says how a change in $w_3$ travels to the cost: it changes $z_3$ by
# $a_2$ per unit, $z_3$ changes $a_3$ by $\sigma'(z_3)$ per unit, and $a_3$ changes $C$ by
# $2(a_3 - y)$ per unit. Multiply the three:
# $\partial C/\partial w_3 = a_2 \cdot \sigma'(z_3) \cdot 2(a_3 - y)$. To go one layer further
# back, replace $a_2$'s role: $\partial C/\partial a_2 = w_3 \cdot \sigma'(z_3) \cdot \partial C/\partial a_3$,
# and the same pattern gives $\partial C/\partial w_2 = a_1 \cdot \sigma'(z_2) \cdot \partial C/\partial a_2$.

# %%
def sigmoid(z):
    return 1 / (1 + torch.exp(-z))


a0, y = torch.tensor(0.8, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)
w = {1: 1.5, 2: -2.0, 3: 0.7}
b = {1: -0.5, 2: 1.0, 3: 0.3}

a = {0: a0}                                  # forward, one neuron per layer
z = {}
for layer in (1, 2, 3):
    z[layer] = w[layer] * a[layer - 1] + b[layer]
    a[layer] = sigmoid(z[layer])
C = (a[3] - y) ** 2
print(f"forward:  a0 = {a0.item():.4f}" + "".join(f", a{ly} = {a[ly].item():.4f}" for ly in (1, 2, 3))
      + f";  cost C = {C.item():.6f}")

dC_da = 2 * (a[3] - y)                       # backward, one layer at a time
by_hand = {}
for layer in (3, 2, 1):
    dC_dz = a[layer] * (1 - a[layer]) * dC_da            # sigma'(z) * dC/da
    by_hand[f"w{layer}"] = a[layer - 1] * dC_dz          # dC/dw = a_prev * sigma'(z) * dC/da
    by_hand[f"b{layer}"] = dC_dz                         # dC/db = sigma'(z) * dC/da
    print(f"layer {layer}: dC/da{layer} = {dC_da.item():+.6f}, sigma'(z{layer}) = {(a[layer] * (1 - a[layer])).item():.6f}"
          f", dC/dw{layer} = a{layer - 1} * sigma' * dC/da = {by_hand[f'w{layer}'].item():+.6f}")
    dC_da = w[layer] * dC_dz                             # passed back to the layer before

# %% [markdown]
# Now the same network with autograd, every weight and bias a tensor that requires a gradient:

# %%
params = {f"{kind}{layer}": torch.tensor(value[layer], dtype=torch.float64, requires_grad=True)
          for kind, value in (("w", w), ("b", b)) for layer in (1, 2, 3)}
out = a0
for layer in (1, 2, 3):
    out = torch.sigmoid(params[f"w{layer}"] * out + params[f"b{layer}"])
((out - y) ** 2).backward()
print(f"{'':4} {'by hand':>11} {'autograd':>11}")
for name in ("w3", "b3", "w2", "b2", "w1", "b1"):
    print(f"{name:4} {by_hand[name].item():+11.6f} {params[name].grad.item():+11.6f}")
assert all(torch.allclose(by_hand[n], params[n].grad, rtol=1e-12, atol=0) for n in params)

# %% [markdown]
# The same six numbers. Two things to notice. Each step back multiplies by a $\sigma'$ of at
# most 1/4 and by a weight, so unless the weights are large the slope shrinks as it travels
# back, and $w_1$ gets the smallest gradient here. And nothing was computed twice: each layer
# reused $\partial C / \partial a$ from the layer after it. That reuse is why backpropagation is
# cheap.
#
# ## The four equations for the real network
#
# With 16 neurons per layer and a batch of $B$ images, every number above becomes a matrix,
# and the sums over the neurons a layer feeds into become matrix products. For the course's
# network (activations $a_0 = x$, then $a_1$, $a_2$ after the sigmoids, raw scores $z_3$, softmax
# cross-entropy averaged over the batch), with $\delta_\ell = \partial C / \partial z_\ell$
# called the *error* of layer $\ell$ (one row per image):
#
# 1. **Output error**: $\delta_3 = (\text{softmax}(z_3) - \text{one-hot}(y)) / B$, shape $[B, 10]$.
# 2. **Hidden error**: $\delta_\ell = (\delta_{\ell+1} W_{\ell+1}) \odot \sigma'(z_\ell)$ with
#    $\sigma'(z_\ell) = a_\ell (1 - a_\ell)$: the requests passed back through the weights, then
#    through the sigmoid's slope. Shape $[B, 16]$.
# 3. **Weight gradient**: $\partial C/\partial W_\ell = \delta_\ell^{\mathsf T} a_{\ell-1}$: error
#    times the activation at the weight's other end, summed over the batch. Shape of $W_\ell$.
# 4. **Bias gradient**: $\partial C/\partial b_\ell = \sum_{\text{batch}} \delta_\ell$.
#
# Written as a function, with no autograd anywhere (every tensor it touches is detached):

# %%
def backward_by_hand(model, images, labels):
    """Gradients of the batch's mean cross-entropy for every parameter of a 3-layer sigmoid MLP."""
    W1, b1, W2, b2, W3, b3 = (p.detach() for p in model.parameters())
    a0 = images.flatten(start_dim=1)                      # [B, 784]
    a1 = torch.sigmoid(a0 @ W1.T + b1)                    # [B, 16]
    a2 = torch.sigmoid(a1 @ W2.T + b2)                    # [B, 16]
    z3 = a2 @ W3.T + b3                                   # [B, 10]
    delta3 = (torch.softmax(z3, dim=1) - F.one_hot(labels, 10)) / len(labels)   # equation 1
    delta2 = (delta3 @ W3) * a2 * (1 - a2)                # equation 2, [B, 10] @ [10, 16] -> [B, 16]
    delta1 = (delta2 @ W2) * a1 * (1 - a1)                # equation 2 again, one layer further back
    return {"layer1.weight": delta1.T @ a0, "layer1.bias": delta1.sum(dim=0),      # equations 3 and 4
            "layer2.weight": delta2.T @ a1, "layer2.bias": delta2.sum(dim=0),
            "layer3.weight": delta3.T @ a2, "layer3.bias": delta3.sum(dim=0)}


# %% [markdown]
# Check it against autograd on a real mini-batch of 32 images, tensor by tensor. The relative
# difference is the largest gap divided by the largest gradient in the tensor.

# %% tags=["nbval-ignore-output"]
images, labels = train_images[:32], train_labels[:32]
checked = copy.deepcopy(model)
F.cross_entropy(checked(images), labels).backward()
hand = backward_by_hand(checked, images, labels)
relative = {}
for name, p in checked.named_parameters():
    relative[name] = ((hand[name] - p.grad).abs().max() / p.grad.abs().max()).item()
    print(f"{name:14} shape {str(list(p.shape)):10} largest |gradient| {p.grad.abs().max().item():.2e}"
          f"   largest relative difference {relative[name]:.1e}")

# %%
assert all(torch.allclose(hand[n], p.grad, rtol=1e-5, atol=1e-8) for n, p in checked.named_parameters())
assert max(relative.values()) < 1e-5
print("all six tensors: hand-written gradients equal .grad within float32 rounding (rtol 1e-5)")

# %% [markdown]
# All six agree to float32 rounding (the table above shows the differences, around $10^{-7}$
# of the gradients' size; the exact digits depend on the processor). The four lines of
# `backward_by_hand` are what `loss.backward()` computes for this network.
#
# ## Training with nothing but the four equations
#
# If those gradients are right, they are enough to train. Below, the guide's settings (batch
# size 32, learning rate 0.01, shuffled batches) for three epochs: one copy of the untrained
# network learns from `backward_by_hand` and a hand-written update, with no `backward()` and no
# optimizer anywhere; a second copy is trained by the course's `fit` with `torch.optim.SGD`, on
# the same batches in the same order.

# %% tags=["nbval-ignore-output"]
epochs, lr = 3, 0.01
test_batches = TensorBatches(test_images, test_labels, batch_size=1_000, shuffle=False)

hand_model = copy.deepcopy(model)
start = time.perf_counter()
batches = TensorBatches(train_images, train_labels, batch_size=32, generator=torch.Generator().manual_seed(0))
for epoch in range(epochs):
    for x_batch, y_batch in batches:
        grads = backward_by_hand(hand_model, x_batch, y_batch)
        with torch.no_grad():
            for name, p in hand_model.named_parameters():
                p.add_(grads[name], alpha=-lr)                 # w <- w - lr * gradient, as SGD does it
hand_seconds = time.perf_counter() - start

fit_model = copy.deepcopy(model)
history = fit(fit_model, TensorBatches(train_images, train_labels, batch_size=32,
                                       generator=torch.Generator().manual_seed(0)),
              torch.optim.SGD(fit_model.parameters(), lr=lr), epochs=epochs, progress=False)
_, hand_acc = evaluate(hand_model, test_batches)
_, fit_acc = evaluate(fit_model, test_batches)
weight_gap = max((a - b).abs().max().item() for a, b in zip(hand_model.parameters(), fit_model.parameters()))
print(f"{epochs} epochs, {epochs * len(batches):,} updates each")
print(f"by hand (four equations): test accuracy {hand_acc:.2%}  ({hand_seconds:.1f} s)")
print(f"fit + torch.optim.SGD:    test accuracy {fit_acc:.2%}  ({sum(history.epoch_seconds):.1f} s)")
print(f"largest difference between the two networks' 13,002 weights and biases: {weight_gap:.1e}")

# %%
# Measured on three CPU settings: the two accuracies equal, weights apart by at most a few 1e-7.
assert abs(hand_acc - fit_acc) <= 0.001, "hand-trained and fit-trained networks should score the same"
assert weight_gap < 1e-5, "5,625 updates should leave the weights equal to float32 rounding"
print(f"same test accuracy (within 0.1 point), weights equal within 1e-5: True")

# %% [markdown]
# The hand-trained network and the `fit`-trained network end with the same test accuracy, and
# their 13,002 numbers differ only by float32 rounding (printed above), after 5,625 updates.
# The accuracy itself is low because three epochs at learning rate 0.01 is early for this
# network (chapter 07 shows the slow start; chapter 08 trains the guide's full 20 epochs).
#
# ## Why the layers nearest the pixels learn slowest
#
# Equation 2 multiplies the error by $\sigma'(z) \le 1/4$ at every layer it passes back
# through, and by the weights, which start small. So each layer's error is typically smaller
# than the one after it. Measure it: the average slope $\sigma'$ in each hidden layer, and the
# size (root mean square) of each layer's weight gradient, over 1,000 training images, for the
# guide's network and for a deeper one with five hidden layers of 16.

# %%
def gradient_sizes(sizes, activation):
    """RMS of each layer's weight gradient for a fresh network (seed 0), over 1,000 training images."""
    seed_everything(0)
    net = MLP(sizes, activation=activation)
    F.cross_entropy(net(train_images[:1_000]), train_labels[:1_000]).backward()
    return torch.tensor([layer.weight.grad.pow(2).mean().sqrt().item() for layer in net.layers])


with torch.no_grad():
    a1_batch = torch.sigmoid(model.layer1(train_images[:1_000].flatten(1)))
    a2_batch = torch.sigmoid(model.layer2(a1_batch))
print(f"average sigma'(z): layer 1 {(a1_batch * (1 - a1_batch)).mean().item():.3f}, "
      f"layer 2 {(a2_batch * (1 - a2_batch)).mean().item():.3f} (the largest possible is 0.250)")

deep = (784, 16, 16, 16, 16, 16, 10)
sizes_of = {("guide's 784-16-16-10", "Sigmoid"): gradient_sizes((784, 16, 16, 10), nn.Sigmoid),
            ("five hidden layers", "Sigmoid"): gradient_sizes(deep, nn.Sigmoid),
            ("five hidden layers", "ReLU"): gradient_sizes(deep, nn.ReLU)}

# %% tags=["nbval-ignore-output"]
for (net, act), rms in sizes_of.items():
    print(f"{net:21} {act:8} RMS gradient per layer, input side first: "
          + "  ".join(f"{v:.1e}" for v in rms) + f"   last / first: {rms[-1] / rms[0]:,.0f}x")
shrink = sizes_of[("five hidden layers", "Sigmoid")]
shrink = shrink[1:] / shrink[:-1]
print("five sigmoid layers, each step back towards the pixels divides the gradient by "
      + ", ".join(f"{f:.1f}" for f in shrink.flip(0)))

fig, ax = plt.subplots(figsize=(7, 3))
for (net, act), rms in sizes_of.items():
    ax.plot(range(1, len(rms) + 1), rms, marker="o", label=f"{net}, {act}")
ax.set_yscale("log")
ax.set_xlabel("layer (1 = next to the pixels)")
ax.set_ylabel("RMS weight gradient")
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
plt.show()

# %%
guide, deep_sigmoid, deep_relu = sizes_of.values()
# Measured: 784-16-16-10 last/first about 60x; five sigmoid layers about 20,000x (each step 6-9x); five ReLU
# layers about 7x.
assert (guide[:-1] < guide[1:]).all() and (deep_sigmoid[:-1] < deep_sigmoid[1:]).all()
assert ((shrink > 3) & (shrink < 15)).all()
assert deep_sigmoid[-1] / deep_sigmoid[0] > 1_000 and deep_relu[-1] / deep_relu[0] < 50
print("sigmoid networks: every layer's gradient is 3 to 15 times smaller than the next one's, over 1,000x "
      "across five hidden layers; ReLU: under 50x")

# %% [markdown]
# In the guide's network each step back towards the pixels shrinks the gradient, and with five
# sigmoid layers the first layer's gradient is more than a thousand times smaller than the last's (the
# factors are printed above): the *vanishing gradient*. Neurons stuck on the sigmoid's flat
# parts are not the cause here: in a fresh network the weighted sums sit near 0 and the average
# slope is close to its ceiling of 1/4 (the first line printed above). The ceiling itself is the
# cause. Each step back multiplies the error by a $\sigma'$ of at most 1/4 and then adds up 16
# requests through small starting weights (`nn.Linear(16, 16)` draws them from
# $\pm 1/\sqrt{16} = \pm 0.25$), and together that divides the gradient by the factor printed
# above at every layer. Training that pushes neurons onto the flat parts makes it worse
# (chapter 07 measures a run where almost every sigmoid is stuck). ReLU's slope is exactly 1
# wherever the neuron is active, so the error passes back through every active neuron
# undiminished and the layers get gradients of similar size. That, more than anything, is why
# deep networks today use ReLU (chapter 11 compares the two in training).
#
# ## What backpropagation buys
#
# Chapter 05 measured the gradient the brute-force way: nudge each of the 13,002 numbers up and
# down and run the network again, 26,004 forward passes. Backpropagation gets all of them from
# one forward and one backward pass. Time both on the same batch of 32 (finite differences in
# float64, as chapter 05 explained they must be):

# %% tags=["nbval-ignore-output"]
def finite_difference_gradient(model, images, labels, h=1e-5):
    """Every parameter's slope from two forward passes each: 2 x 13,002 passes."""
    grads = []
    with torch.no_grad():
        for p in model.parameters():
            g, flat = torch.empty_like(p).view(-1), p.view(-1)
            for i in range(flat.numel()):
                old = flat[i].item()
                flat[i] = old + h
                up = F.cross_entropy(model(images), labels)
                flat[i] = old - h
                down = F.cross_entropy(model(images), labels)
                flat[i] = old
                g[i] = (up - down) / (2 * h)
            grads.append(g.view_as(p))
    return grads


model64, images64 = copy.deepcopy(model).double(), images.double()
start = time.perf_counter()
brute = finite_difference_gradient(model64, images64, labels)
brute_seconds = time.perf_counter() - start

start = time.perf_counter()
repeats = 100
for _ in range(repeats):
    model64.zero_grad()
    F.cross_entropy(model64(images64), labels).backward()
backprop_seconds = (time.perf_counter() - start) / repeats
print(f"finite differences, 26,004 forward passes: {brute_seconds:.2f} s")
print(f"one forward + backward pass:               {backprop_seconds * 1e3:.2f} ms "
      f"(mean of {repeats})")
print(f"backpropagation is about {brute_seconds / backprop_seconds:,.0f} times faster here")

# %%
largest = max(((a - p.grad).abs().max() / p.grad.abs().max()).item() for a, p in zip(brute, model64.parameters()))
assert largest < 1e-4, "26,004 forward passes and one backward pass give the same gradient"
assert brute_seconds / backprop_seconds > 500
print("the two gradients agree (relative difference below 1e-4); backprop is over 500 times faster")

# %% [markdown]
# Both give the same 13,002 numbers, and backpropagation is more than 500 times faster (the
# factor printed above depends on your processor; the assert checks the floor). For a network of $n$ parameters brute force needs
# $2n$ forward passes while backprop costs about two passes' worth of arithmetic whatever $n$
# is. For this network that is a difference of seconds; for a network of a billion parameters
# it is the difference between training and not.
#
# ## Exercises
#
# **Exercise 1.** The output error of 3Blue1Brown's cost. Chapter 04 compared cross-entropy with
# the video's squared error, $C = \frac{1}{B}\sum_{\text{images}} \sum_j (\sigma(z_j) - y_j)^2$,
# where the ten scores go through a sigmoid and $y$ is the one-hot target. Equation 1 above is
# for cross-entropy. Work out $\delta_3 = \partial C / \partial z_3$ for this cost instead, and
# return it for a batch of raw scores `[B, 10]` and labels `[B]`, shape `[B, 10]`, without
# autograd. The check compares it with autograd's answer on random scores.

# %% tags=["solution"]
def squared_error_output_error(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """dC/dscores for C = mean over the batch of sum_j (sigmoid(score_j) - onehot_j)**2.

    Hint: follow one score through the chain rule: it moves its sigmoid output by the sigmoid's slope, and that output moves the squared difference; then remember the mean over B images.
    Hint 2: the slope of a squared difference is twice the difference; the sigmoid's slope can be written with its own output (torch.sigmoid), and F.one_hot gives the targets.
    """
    a = torch.sigmoid(scores)
    return 2 * (a - F.one_hot(labels, scores.shape[1])) * a * (1 - a) / len(labels)


# %%
def autograd_output_error(cost, scores, labels):
    scores = scores.clone().requires_grad_()
    cost(scores, labels).backward()
    return scores.grad


def squared_error(scores, labels):
    """3Blue1Brown's cost, as in chapter 04: per image the sum of (sigmoid(score) - one-hot)², averaged."""
    return (torch.sigmoid(scores) - F.one_hot(labels, scores.shape[1])).pow(2).sum(dim=1).mean()


generator = torch.Generator().manual_seed(1)
cases = []
for batch, classes in ((1, 10), (4, 10), (32, 10), (5, 3)):
    s, y = torch.randn(batch, classes, generator=generator) * 3, torch.randint(classes, (batch,), generator=generator)
    cases.append(((s, y), autograd_output_error(squared_error, s, y)))
check_function(squared_error_output_error, cases, tol=1e-6)

# %% [markdown]
# **Exercise 2.** The backward step of another activation. Many networks use $\tanh$ instead of
# the sigmoid (chapter 02 drew it). Given $\partial C / \partial a$ for the outputs
# $a = \tanh(z)$ of a tanh layer, and those **outputs** $a$ (not $z$: the forward pass kept the
# activations, as `backward_by_hand` does), return $\partial C / \partial z$, without autograd
# and without computing $z$.

# %% tags=["solution"]
def tanh_backward(grad_a: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """dC/dz for a = tanh(z), given dC/da and the outputs a (same shape).

    Hint: the chain rule multiplies by tanh's slope; as with the sigmoid's a(1 - a), that slope can be written with the output alone.
    Hint 2: tanh' = 1 / cosh², and cosh² - sinh² = 1; divide that identity by cosh² to see the slope in terms of tanh.
    """
    return grad_a * (1 - a**2)


# %%
def autograd_tanh_backward(grad_a, a):
    z = torch.atanh(a).requires_grad_()                  # the weighted sums that gave these outputs
    torch.tanh(z).backward(grad_a)
    return z.grad


cases = []
for shape in ((1,), (32, 16), (4, 10)):
    g, zz = torch.randn(shape, generator=generator), torch.randn(shape, generator=generator) * 2
    a_out = torch.tanh(zz).double()                      # float64 so that atanh undoes tanh closely
    cases.append(((g.double(), a_out), autograd_tanh_backward(g.double(), a_out)))
check_function(tanh_backward, cases, tol=1e-9)

# %% [markdown]
# **Exercise 3.** The whole backward pass, for a sigmoid MLP of **any** depth (the course's
# `MLP(sizes)` with sigmoid activations). Return a list of `(weight_gradient, bias_gradient)`
# pairs, one per linear layer, input side first, for the batch's mean cross-entropy, without
# autograd. The check compares it with `.grad` for three networks of different shapes.

# %% tags=["solution"]
def backward_pass(model: MLP, images: torch.Tensor, labels: torch.Tensor) -> list:
    """[(dC/dW, dC/db) for each layer of model.layers], by the four backpropagation equations.

    Hint: keep every layer's activation on the way forward; on the way back, compute each layer's error from the next one's.
    Hint 2: model.layers lists the linear layers, input side first (read their .weight and .bias detached); backward_by_hand's four equations hold for every layer, so one loop from the last layer to the first can apply them.
    """
    activations = [images.flatten(start_dim=1)]
    layers = model.layers
    for layer in layers[:-1]:
        activations.append(torch.sigmoid(activations[-1] @ layer.weight.detach().T + layer.bias.detach()))
    scores = activations[-1] @ layers[-1].weight.detach().T + layers[-1].bias.detach()
    delta = (torch.softmax(scores, dim=1) - F.one_hot(labels, scores.shape[1])) / len(labels)
    grads = []
    for i in range(len(layers) - 1, -1, -1):
        grads.append((delta.T @ activations[i], delta.sum(dim=0)))
        if i > 0:
            a = activations[i]
            delta = (delta @ layers[i].weight.detach()) * a * (1 - a)
    return grads[::-1]


# %%
def autograd_pairs(net, images, labels):
    net.zero_grad()
    F.cross_entropy(net(images), labels).backward()
    return [(layer.weight.grad.clone(), layer.bias.grad.clone()) for layer in net.layers]


cases = []
for sizes, n in (((784, 16, 16, 10), 32), ((784, 10), 8), ((784, 32, 16, 16, 10), 5)):
    net = MLP(sizes)
    cases.append(((net, train_images[:n], train_labels[:n]), autograd_pairs(net, train_images[:n], train_labels[:n])))
check_function(backward_pass, cases, tol=1e-6)

# %% [markdown]
# **Exercise 4 (predict, then run).** The vanishing-gradient measurement above found the first
# layer's gradient more than a thousand times smaller than the last's with five sigmoid hidden
# layers, and less than 50 times smaller with ReLU (the ratios are printed above). Now the same five hidden layers with $\tanh$, whose slope is
# 1 at $z = 0$ and falls off on both sides. Will the ratio last / first be `"over 1,000"`,
# `"between 50 and 1,000"` or `"under 50"`? Write your prediction in the function below
# **before** you run the experiment cell.

# %% tags=["solution"]
def predicted_tanh_ratio() -> str:
    """Your prediction for last / first RMS gradient with five tanh hidden layers: "over 1,000", "between 50 and 1,000" or "under 50".

    Hint: the sigmoid lost most of each step back to its slope of at most 1/4; what does a slope near 1 around z = 0 do to that loss, given that fresh weighted sums sit near 0?
    Hint 2: compare tanh's largest slope with the sigmoid's and with ReLU's slope where a neuron is active, and ask which of the two measured networks a tanh network should resemble.
    """
    return "under 50"


# %%
tanh_rms = gradient_sizes(deep, nn.Tanh)
tanh_ratio = (tanh_rms[-1] / tanh_rms[0]).item()
print("five hidden layers, Tanh: RMS gradient per layer, input side first: "
      + "  ".join(f"{v:.1e}" for v in tanh_rms) + f"   last / first: {tanh_ratio:.0f}x")
# Measured 3.3x on both CPU settings (Sigmoid 20,262x, ReLU 7.1x): far from the answers' borders.
assert 1.5 < tanh_ratio < 25
observed = "over 1,000" if tanh_ratio > 1_000 else "between 50 and 1,000" if tanh_ratio > 50 else "under 50"

# %%
check_function(predicted_tanh_ratio, [((), observed)])

# %% [markdown]
# **Exercise 5 (change the experiment).** The same measurement blamed two things for the
# shrinking: the sigmoid's slope of at most 1/4, and 16 requests adding up through small
# starting weights. Change the width: run `gradient_sizes` for five sigmoid hidden layers of
# `width` neurons each (instead of 16) and return the ratio last / first as a float. Does a wider
# network, whose neurons each receive more requests, escape the vanishing gradient?

# %% tags=["solution"]
def sigmoid_gradient_ratio(width: int) -> float:
    """RMS weight gradient of the last layer over that of the first, five sigmoid hidden layers of `width`.

    Hint: the chapter's gradient_sizes already measures one network; only the layer sizes change.
    Hint 2: the sizes tuple starts with 784, has the hidden width five times and ends with 10; the ratio is the last entry of the result over its first, as a float.
    """
    rms = gradient_sizes((784, *[width] * 5, 10), nn.Sigmoid)
    return (rms[-1] / rms[0]).item()


# %%
wide = {width: gradient_sizes((784, width, width, width, width, width, 10), nn.Sigmoid) for width in (64, 256)}
expected = {width: (rms[-1] / rms[0]).item() for width, rms in wide.items()}
# The same seeded network and the same float32 kernels on both sides give the same ratio; 1e-3 (relative)
# only allows for a learner who reduces in another order. The ratios themselves differ by nothing visible
# between the two CPU settings (measured 46,272 and 95,918 on both).
check_function(sigmoid_gradient_ratio, [((width,), ratio) for width, ratio in expected.items()], tol=1e-3)
for width, ratio in expected.items():
    print(f"five sigmoid hidden layers of {width:3}: last / first {ratio:,.0f}x")
assert all(ratio > 1_000 for ratio in expected.values())

# %% [markdown]
# Wider layers do not rescue the sigmoid network: `nn.Linear` draws its starting weights from
# $\pm 1/\sqrt{\text{inputs}}$, so more requests arrive through proportionally smaller weights, and
# the $\sigma' \le 1/4$ at every layer still divides the error on each step back.
#
# Next: **07 · Training**: the complete training loop, epoch after epoch.
