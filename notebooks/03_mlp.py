# %% [markdown]
# # 03 · The network: 784 → 16 → 16 → 10
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/nn-from-pixels/mnist-course/blob/main/notebooks/03_mlp.ipynb)
#
# This chapter builds the network from 3Blue1Brown's videos in PyTorch: 784 inputs (one per
# pixel), two hidden layers of 16 sigmoid neurons, and 10 outputs (one score per digit). You
# write the class yourself, fix the line of the learning guide that does not run, count every
# parameter, follow a batch of real digits through the layers shape by shape, check exactly
# what `nn.Linear` computes, and ask the untrained network what it thinks a digit is.

# %% tags=["colab-setup"]
# Colab only: install the course's helper package, course_utils, from GitHub.
# Locally (after `make venv`) it is already installed and this cell does nothing.
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    "git+https://github.com/nn-from-pixels/mnist-course@main"], check=True)

# %% tags=["nbval-ignore-output"]
import inspect

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from course_utils.data import mnist_tensors
from course_utils.env import describe_device, pick_device, seed_everything
from course_utils.exercises import check_function
from course_utils.models import MLP, count_parameters
from course_utils.plots import bar_chart, show_digits

seed_everything(0)
device = pick_device()
print(describe_device(device))

# %% [markdown]
# ## The guide's layer definition does not run
#
# The learning guide creates its first layer as `nn.Linear(input_size=784, output_size=16)`.
# Try it:

# %%
try:
    nn.Linear(input_size=784, output_size=16)
except TypeError as err:
    print(f"TypeError: {err}")
print("nn.Linear" + str(inspect.signature(nn.Linear)))

# %% [markdown]
# **Correction.** `nn.Linear` has no parameters called `input_size` and `output_size`; as the
# signature shows, they are `in_features` and `out_features`. Either
# `nn.Linear(in_features=784, out_features=16)` or, as almost all PyTorch code writes it,
# `nn.Linear(784, 16)` works.
#
# ## The network, written out
#
# Here is the guide's class with that fixed. `__init__` creates the three layers (each makes its
# own weights and biases, filled with small random numbers); `forward` says what happens to a
# batch of images: flatten each 28×28 picture into 784 numbers, then layer, sigmoid, layer,
# sigmoid, layer. The last layer has no sigmoid: its 10 outputs are raw scores, one per digit,
# and chapter 04 turns them into a loss.

# %%
class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(784, 16)
        self.layer2 = nn.Linear(16, 16)
        self.layer3 = nn.Linear(16, 10)

    def forward(self, x):
        x = torch.flatten(x, start_dim=1)     # [B, 1, 28, 28] -> [B, 784]
        x = torch.sigmoid(self.layer1(x))     # [B, 784] -> [B, 16]
        x = torch.sigmoid(self.layer2(x))     # [B, 16] -> [B, 16]
        return self.layer3(x)                 # [B, 16] -> [B, 10] scores, no sigmoid


torch.manual_seed(0)
model = NeuralNetwork().to(device)
print(model)

# %% [markdown]
# Later chapters use the same network from the course's helper package, `course_utils.models.MLP`,
# so they do not have to repeat this class. Check that it is the same network: the same named
# parameters with the same shapes, and, created from the same random seed, the same starting
# values and the same outputs for a batch of real test images.

# %%
torch.manual_seed(0)
reference = MLP().to(device)
ours, theirs = model.state_dict(), reference.state_dict()
for name in ours:
    print(f"{name:<14} ours {str(list(ours[name].shape)):<10} MLP {list(theirs[name].shape)}")
images, labels = mnist_tensors(train=False)
batch = images[:32].to(device)                # 32 real test digits, [32, 1, 28, 28]
with torch.no_grad():
    same_outputs = torch.equal(model(batch), reference(batch))
print("same parameter names and shapes:", {n: t.shape for n, t in ours.items()} == {n: t.shape for n, t in theirs.items()})
print("same starting values:", all(torch.equal(ours[n], theirs[n]) for n in ours))
print("same outputs on 32 test images:", same_outputs)
print("parameters: ours", f"{count_parameters(model):,}", "| MLP", f"{count_parameters(reference):,}")
assert list(ours) == list(theirs) and same_outputs and count_parameters(model) == count_parameters(reference)

# %% [markdown]
# ## Counting the parameters
#
# Every connection between two neurons has a weight, and every neuron (apart from the inputs)
# has a bias. Count them layer by layer, straight from the model:

# %%
print(f"{'layer':<8}{'weight shape':>14}{'weights':>9}{'biases':>8}{'total':>8}")
rows = []
for name in ("layer1", "layer2", "layer3"):
    layer = getattr(model, name)
    rows.append((layer.weight.numel(), layer.bias.numel()))
    print(f"{name:<8}{str(list(layer.weight.shape)):>14}{rows[-1][0]:>9,}{rows[-1][1]:>8,}{sum(rows[-1]):>8,}")
n_weights, n_biases = sum(r[0] for r in rows), sum(r[1] for r in rows)
print(f"{'all':<8}{'':>14}{n_weights:>9,}{n_biases:>8,}{n_weights + n_biases:>8,}")
assert rows == [(12_544, 16), (256, 16), (160, 10)]
assert n_weights + n_biases == count_parameters(model) == 13_002

# %% [markdown]
# The guide's weight counts are right (784 × 16 = 12,544, 16 × 16 = 256, 16 × 10 = 160, which is
# 12,960 weights), and its "~13,000" total is close; the exact number also includes the 42
# biases: **13,002** numbers that training will adjust. Nearly all of them (12,560) sit in the
# first layer, because every one of its 16 neurons looks at every one of the 784 pixels.

# %% [markdown]
# ## Following a batch through the network
#
# The guide lists the shape of the data after each step. Check it on the batch of 32 real test
# digits from above, one step at a time:

# %%
print("input           ", list(batch.shape))
with torch.no_grad():
    x = torch.flatten(batch, start_dim=1)
    print("after flatten   ", list(x.shape))
    x = model.layer1(x)
    print("after layer1    ", list(x.shape))
    x = torch.sigmoid(x)
    print("after sigmoid   ", list(x.shape), f"values from {x.min().item():.3f} to {x.max().item():.3f}")
    x = model.layer2(x)
    print("after layer2    ", list(x.shape))
    x = torch.sigmoid(x)
    print("after sigmoid   ", list(x.shape), f"values from {x.min().item():.3f} to {x.max().item():.3f}")
    x = model.layer3(x)
    print("after layer3    ", list(x.shape), "<- 10 scores for each of the 32 images")

# %% [markdown]
# The model's own `forward` should do exactly this. A *forward hook* is a function PyTorch calls
# every time a layer runs, with the layer's input and output; attach one to each layer, run the
# batch through `model(batch)`, and the layers report their own shapes:

# %%
layer_names = {module: name for name, module in model.named_children()}


def report_shapes(layer, inputs, output):
    print(f"{layer_names[layer]}: {list(inputs[0].shape)} -> {list(output.shape)}")


handles = [layer.register_forward_hook(report_shapes) for layer in layer_names]
with torch.no_grad():
    scores = model(batch)
for handle in handles:
    handle.remove()                   # hooks stay attached until removed
assert scores.shape == (32, 10)

# %% [markdown]
# ## What nn.Linear computes
#
# The guide says a linear layer computes `input @ W + b` with `W` of shape `[784, 16]`. Look at
# how PyTorch actually stores the first layer's weights:

# %%
W1, b1 = model.layer1.weight, model.layer1.bias
print("layer1.weight:", list(W1.shape), "  layer1.bias:", list(b1.shape))
x = torch.flatten(batch, start_dim=1)         # [32, 784]
try:
    x @ W1
except RuntimeError as err:
    print(f"x @ W fails: RuntimeError: {err}")
print("x @ W.T + b has shape", list((x @ W1.T + b1).shape))

# %% [markdown]
# **Correction.** `nn.Linear(784, 16)` stores its weight as `[out_features, in_features]` =
# `[16, 784]`, one **row per neuron**, and computes `x @ W.T + b`:
# `[32, 784] @ [784, 16] + [16] → [32, 16]`. The guide's shapes describe the transposed
# matrix. (Its own later snippet, `model.layer1.weight.data  # [16, 784]`, has the right shape.)
# Check the formula against the layer on the whole batch:

# %% tags=["nbval-ignore-output"]
with torch.no_grad():
    by_formula = x @ W1.T + b1                # [32, 784] @ [784, 16] + [16] -> [32, 16]
    by_layer = model.layer1(x)
print("torch.allclose(x @ W.T + b, layer1(x)):", torch.allclose(by_formula, by_layer))
print(f"largest difference: {(by_formula - by_layer).abs().max().item():.1e}")
assert torch.allclose(by_formula, by_layer)

# %% [markdown]
# (The two can differ in the last bit of a float32, because the layer adds the bias inside the
# same matrix routine; the exact difference depends on the processor, so this cell is checked
# with `assert`.) Row `i` of the weight is neuron `i`'s weight vector `w`, so one neuron
# computes `z = w · x + b`, the formula the guide gives for a single neuron. Check it for neuron 0
# and the first image:

# %%
with torch.no_grad():
    z_by_hand = (W1[0] * x[0]).sum() + b1[0]  # 784 products, summed, plus the bias
    z_layer = model.layer1(x)[0, 0]
print(f"neuron 0, image 0: by hand {z_by_hand.item():.5f} | layer1 {z_layer.item():.5f}")
assert torch.isclose(z_by_hand, z_layer, atol=1e-6)

# %% [markdown]
# Because each row has one weight per pixel, a row can be drawn as a 28×28 picture of what that
# neuron looks for. Before training the weights are random, so the pictures are noise (chapter
# 10 draws them after training):

# %%
axes = show_digits(W1[:8].detach().reshape(8, 28, 28), ncols=8, size=1.0)   # [8, 784] -> [8, 28, 28]
plt.suptitle("layer1 weights of neurons 0 to 7 (rows 0 to 7), untrained", fontsize=9)
plt.show()

# %% [markdown]
# ## What the untrained network predicts
#
# Give the network the first test image and look at its 10 scores. `softmax` turns scores into
# probabilities that are positive and add up to 1 (chapter 04 looks at it closely):

# %%
digit, true_label = images[0:1].to(device), labels[0].item()   # [1, 1, 28, 28]
with torch.no_grad():
    scores = model(digit)[0]                  # [1, 10] -> [10]
    probs = F.softmax(scores, dim=0)
print("true label:", true_label)
print("scores:       ", [round(s, 3) for s in scores.tolist()])
print("probabilities:", [round(p, 3) for p in probs.tolist()])
print(f"probabilities range from {probs.min().item():.3f} to {probs.max().item():.3f} (uniform would be 0.100);"
      f" they sum to {probs.sum().item():.3f}")
print("predicted digit (highest score):", probs.argmax().item())

fig = plt.figure(figsize=(10, 2.4))
show_digits(digit, [true_label], axes=[fig.add_axes([0.0, 0.1, 0.12, 0.75])])
bar_chart(scores, ax=fig.add_axes([0.17, 0.15, 0.38, 0.7]), title="scores (layer3 output)", fmt="{:.2f}",
          highlight=true_label)
ax = bar_chart(probs, ax=fig.add_axes([0.61, 0.15, 0.38, 0.7]), title="softmax probabilities", fmt="{:.2f}",
               highlight=true_label)
ax.axhline(0.1, color="grey", linestyle=":", linewidth=1)   # a blind guess: 1/10 for every digit
plt.show()

# %% [markdown]
# The image is a 7 (orange bar). The untrained network spreads its belief almost evenly: every
# probability is between 0.05 and 0.13, close to the 0.1 of a blind guess, and its top choice is
# the digit 9, for no reason that has anything to do with the picture. Ask it about all 10,000
# test images:

# %%
with torch.no_grad():
    predictions = model(images.to(device)).argmax(dim=1).cpu()   # [10000, 1, 28, 28] -> [10000]
accuracy = (predictions == labels).float().mean().item()
print("how often each digit is predicted:", torch.bincount(predictions, minlength=10).tolist())
print(f"accuracy: {accuracy:.2%}  (the test set has {(labels == 9).sum().item():,} nines)")

# %% [markdown]
# It answers 9 for every single image, so it is right exactly for the 1,009 nines: 10.09 %. The
# reason is visible in the shapes cell above: after each sigmoid every hidden value sits in a
# narrow band around 0.5 (about 0.34 to 0.65 for those 32 images), whatever the image, so the final scores barely change
# from one image to the next and the same digit always wins. Making the scores depend on the
# picture is what training (chapters 04-07) does.
#
# ## Exercises
#
# **Exercise 1.** How many parameters does a fully connected network have, given its layer sizes
# (inputs first, outputs last)? Each layer from `n_in` to `n_out` neurons has `n_in × n_out`
# weights and `n_out` biases.

# %% tags=["solution"]
def mlp_parameters(sizes: tuple) -> int:
    """Number of weights plus biases of the network with these layer sizes, e.g. (784, 16, 16, 10).

    Hint: loop over zip(sizes, sizes[1:]) to get each (n_in, n_out) pair and add n_in * n_out + n_out.
    """
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes, sizes[1:]))


# %%
check_function(mlp_parameters, [(((784, 16, 16, 10),), 13_002), (((784, 10),), 7_850),
                                (((784, 32, 32, 10),), count_parameters(MLP((784, 32, 32, 10)))),
                                (((784, 128, 64, 10),), count_parameters(MLP((784, 128, 64, 10))))])

# %% [markdown]
# **Exercise 2.** Write what `nn.Linear` computes, without calling it: given a batch `x` of shape
# `[B, in]`, a weight of shape `[out, in]` and a bias of shape `[out]`, return the `[B, out]`
# outputs. The check uses the first layer of the network above on real images.

# %% tags=["solution"]
def linear_forward(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """The outputs of a linear layer with this weight [out, in] and bias [out] for the inputs x [B, in].

    Hint: the weight is stored one row per neuron, so transpose it: x @ weight.T + bias.
    """
    return x @ weight.T + bias


# %%
with torch.no_grad():
    flat = torch.flatten(images[:5], start_dim=1).to(device)
    check_function(linear_forward, [((flat, W1, b1), model.layer1(flat)),
                                    ((torch.ones(2, 16, device=device), model.layer3.weight, model.layer3.bias),
                                     model.layer3(torch.ones(2, 16, device=device)))])

# %% [markdown]
# **Exercise 3.** Predict the shape after flattening and after each layer of a fully connected
# network with layer sizes `sizes`, for a batch of `batch_size` images. Return a list of tuples:
# for (784, 16, 16, 10) and 32 images, `[(32, 784), (32, 16), (32, 16), (32, 10)]`. The check
# compares with shapes measured on `MLP` networks.

# %% tags=["solution"]
def forward_shapes(sizes: tuple, batch_size: int) -> list:
    """Shapes (batch_size, width) after flattening and after each layer.

    Hint: the batch dimension never changes; the width is each entry of sizes in turn.
    """
    return [(batch_size, n) for n in sizes]


# %%
def measured_shapes(sizes, batch_size):
    net = MLP(sizes)
    shapes = [(batch_size, sizes[0])]
    hooks = [layer.register_forward_hook(lambda layer, inputs, output: shapes.append(tuple(output.shape)))
             for layer in net.layers]
    with torch.no_grad():
        net(torch.zeros(batch_size, 1, 28, 28))
    for hook in hooks:
        hook.remove()
    return shapes


check_function(forward_shapes, [(((784, 16, 16, 10), 32), measured_shapes((784, 16, 16, 10), 32)),
                                (((784, 64, 10), 5), measured_shapes((784, 64, 10), 5)),
                                (((784, 32, 32, 16, 10), 1), measured_shapes((784, 32, 32, 16, 10), 1))])

# %% [markdown]
# Next: **04 · Loss**: turning the 10 scores into one number that says how wrong the network is.
