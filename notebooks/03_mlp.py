# %% [markdown]
# # 03 · The network: 784 → 16 → 16 → 10
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/nn-from-pixels/mnist-course/blob/main/notebooks/03_mlp.ipynb)
#
# *Runs in about 10 seconds on a 2-core CPU (measured; INSTRUCTORS.md lists every chapter). A GPU would not speed it up much, so it asks Colab for none.*
#
# This chapter builds the network from 3Blue1Brown's videos in PyTorch: 784 inputs (one per
# pixel), two hidden layers of 16 sigmoid neurons, and 10 outputs (one score per digit). You
# read the class line by line, fix the line of the learning guide that does not run, count every
# parameter, follow a batch of real digits through the layers shape by shape, check exactly
# what `nn.Linear` computes, build one neuron by hand as a template for the digit 0, and ask the
# untrained network what it thinks a digit is. In the exercises you write the forward pass
# yourself, for a network of any depth.

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
# and chapter 04 turns them into a loss. The rest of the chapter uses this class, so it is written
# out in full here; exercise 3 asks you to write `forward` yourself, for any number of layers.

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
# neuron looks for. Before asking what the random rows look like, build one that makes sense.
#
# ## One neuron as a template
#
# 3Blue1Brown describes what a single neuron *could* do: give positive weights to the pixels
# where a digit's ink is expected and negative weights to the pixels that must stay blank, so that
# the weighted sum `w · x` is large only when the picture matches the pattern; the bias then sets
# how large the sum must be before the neuron switches on. Build such a neuron by hand for the
# digit 0, from plain tensor code: positive weights on an oval 16 pixels tall and 14 wide (where
# a 0 draws its ring) and negative weights in its middle (where a 0 has its hole). Each pixel gets
# a distance `r` from the centre of the picture, measured so that the oval is at `r = 1`:

# %%
rows = torch.arange(28.0).view(28, 1)                  # [28, 1]: row number of each pixel
cols = torch.arange(28.0).view(1, 28)                  # [1, 28]: column number of each pixel
r = (((rows - 14) / 8) ** 2 + ((cols - 14) / 7) ** 2).sqrt()   # [28, 28]: 1.0 on the oval, 0 at the centre
ring = torch.exp(-((r - 1) / 0.3) ** 2)                # 1 on the oval, fading to 0 away from it
hole = torch.exp(-(r / 0.4) ** 2)                      # 1 at the centre, fading to 0 towards the oval
template = 0.1 * ring - 0.3 * hole                     # [28, 28]: ink expected (+), blank expected (-)
print(f"template weights from {template.min().item():.3f} to {template.max().item():.3f}")


def show_signed(pictures, titles, limit, ncols=8, size=1.1, label="weight"):
    """Draw [N, 28, 28] pictures of signed numbers on one shared colour scale, -limit (red) to +limit (blue), with a colour bar."""
    nrows = -(-len(pictures) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols + 1.0, size * 1.25 * nrows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, picture, title in zip(axes.ravel(), pictures, titles):
        shown = ax.imshow(picture, cmap="RdBu", vmin=-limit, vmax=limit)   # white is exactly 0
        ax.set_title(title, fontsize=8)
    fig.colorbar(shown, ax=axes.ravel().tolist(), fraction=0.03, pad=0.02, label=label)
    return axes


show_signed([template], ["template for 0"], limit=0.3, ncols=1, size=2.2)
plt.show()

# %% [markdown]
# Blue pixels push the sum up when they carry ink, red ones pull it down, white ones (most of the
# border) do not matter. The hole's weights are three times stronger than the ring's because the
# hole is much smaller: a stroke through the middle of the picture (a 1, the bar of a 4 or 7)
# should cost more than a little ink on the oval earns.
#
# Now the bias. Choose it on the **training** images, so that the test images stay unseen: put the
# threshold halfway between the average weighted sum of the training 0s and that of all other
# training digits, rounded to one decimal. The neuron computes `sigmoid(w · x + b)` with
# `b = -threshold`, so its output is above 0.5 exactly when the weighted sum passes the threshold.

# %%
train_images, train_labels = mnist_tensors(train=True)
train_sums = torch.flatten(train_images, start_dim=1) @ template.flatten()   # [60000, 784] @ [784] -> [60000]
mean_zero = train_sums[train_labels == 0].mean().item()
mean_other = train_sums[train_labels != 0].mean().item()
threshold = round((mean_zero + mean_other) / 2, 1)
bias = -threshold
print(f"average weighted sum of the training images: 0s {mean_zero:.2f} | other digits {mean_other:.2f}")
print(f"threshold halfway between: {threshold}  ->  bias b = {bias}")
del train_images, train_sums                          # 188 MB that the rest of the chapter does not need

# %% [markdown]
# Score the first 12 test digits. The pictures show what each pixel adds to the sum, weight times
# ink (`template * image`), on one colour scale; each title gives the label, the weighted sum and
# the neuron's output `sigmoid(w · x + b)`:

# %%
examples = images[:12, 0]                              # 12 real test digits, [12, 28, 28]
sums = torch.flatten(examples, start_dim=1) @ template.flatten()   # [12, 784] @ [784] -> [12]
outputs = torch.sigmoid(sums + bias)
print("label  w·x    w·x + b  sigmoid(w·x + b)")
for label, s, out in zip(labels[:12].tolist(), sums.tolist(), outputs.tolist()):
    print(f"{label:>5}{s:>7.2f}{s + bias:>9.2f}{out:>11.3f}", " <- fires" if out > 0.5 else "")
show_signed(examples * template, [f"{label}: {s:.1f} → {out:.2f}" for label, s, out
                                  in zip(labels[:12].tolist(), sums.tolist(), outputs.tolist())],
            limit=0.3, ncols=6, label="weight × ink")
plt.show()

# %% [markdown]
# The two 0s cover their ring in blue and leave the red middle empty: weighted sums of 8.46 and
# 9.17, far above the threshold of 4.1, and outputs close to 1. The two 1s put their ink right
# through the hole and get negative sums, and so does the first 9, whose stroke crosses the middle.
# The other digits touch parts of the oval and land in between; the 5 comes closest, 0.10 short
# of the threshold, with an output of 0.476.
#
# One neuron is only as good as its template, so measure it on all 10,000 test images. The
# question it answers is "is this a 0?", and two rates describe how well: the **true positive
# rate** (the share of real 0s it fires for) and the **false positive rate** (the share of other
# digits it fires for, wrongly).

# %%
test_sums = torch.flatten(images, start_dim=1) @ template.flatten()   # [10000, 784] @ [784] -> [10000]
# No test image sits within 1e-4 of the threshold (float32 rounding moves these sums by about
# 1e-6), so the counts below are the same on every machine.
assert (test_sums + bias).abs().min() > 1e-4
fires = torch.sigmoid(test_sums + bias) > 0.5          # [10000] True where the neuron switches on
is_zero = labels == 0
n_zero, n_other = is_zero.sum().item(), (~is_zero).sum().item()
true_pos, false_pos = fires[is_zero].sum().item(), fires[~is_zero].sum().item()
template_accuracy = (fires == is_zero).float().mean().item()
print(f"0s it fires for (true positive rate):            {true_pos:>4} of {n_zero:,} = {true_pos / n_zero:.1%}")
print(f"other digits it fires for (false positive rate): {false_pos:>4} of {n_other:,} = {false_pos / n_other:.1%}")
print(f"right about 'is this a 0?' (accuracy): {template_accuracy:.2%}; never firing would score {n_other / 10_000:.2%}")
print("share of each digit it fires for:", [f"{d}: {fires[labels == d].float().mean().item():.0%}" for d in range(10)])

fig, ax = plt.subplots(figsize=(7, 2.6))
bins = torch.linspace(test_sums.min().item(), test_sums.max().item(), 60).tolist()
ax.hist(test_sums[~is_zero].tolist(), bins=bins, alpha=0.6, label="other digits")
ax.hist(test_sums[is_zero].tolist(), bins=bins, alpha=0.6, label="0s")
ax.axvline(threshold, color="black", linestyle="--", linewidth=1, label=f"threshold {threshold} (bias {bias})")
ax.set_xlabel("weighted sum w · x of the template")
ax.set_ylabel("test images")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The hand-made neuron fires for 889 of the 980 test 0s (90.7 %) and for 657 of the 9,020 other
# digits (7.3 %), most often for 2s, 5s and 6s, whose strokes follow parts of the oval. Its accuracy,
# 92.52 %, looks good until you compare it with a neuron that never fires: 90.20 %, because only
# one test image in ten is a 0. For a yes/no question about one digit the two rates say more
# than accuracy does. The histogram shows what the bias does: it is the dashed line between the
# two piles. Moving it left catches more of the 0s and lets in more of the others; moving it
# right does the opposite. No bias separates the piles completely, because they overlap.
#
# Each of layer1's 16 rows is a template of exactly this kind, 784 weights and a bias, but
# nobody draws them: before training they are random. `nn.Linear(784, 16)` draws every weight
# uniformly between −1/28 and +1/28 (that is, ±1/√784 for 784 inputs), so the pictures are noise.
# Drawn on one signed colour scale shared by all tiles, from −1/28 to +1/28, the eight first rows
# look like this (chapter 10 draws them after training, when they have become patterns):

# %%
limit = 1 / 784 ** 0.5                                 # nn.Linear(784, 16) draws weights from -1/28 to +1/28
print(f"layer1 weights from {W1.min().item():.4f} to {W1.max().item():.4f}; 1/28 = {limit:.4f}")
assert W1.abs().max().item() <= limit
show_signed(W1[:8].detach().cpu().reshape(8, 28, 28), [str(i) for i in range(8)], limit=limit)   # [8, 784] -> [8, 28, 28]
plt.suptitle("layer1 weights of neurons 0 to 7 (rows 0 to 7), untrained", fontsize=9, x=0.45, y=1.08)
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
# It answers 9 for every single image, so it is right exactly for the 1,009 nines: 10.09 %. Why
# the same digit every time? The shapes cell above showed the hidden values between about 0.34
# and 0.65 for those 32 images. That range mixes two things: how far apart the neurons sit (each
# has its own weights and bias, so each has its own level) and how much each neuron's value
# changes *from one image to the next*. Only the second can make the answer depend on the
# picture. Measure both over all 10,000 test images, layer by layer: the range of the neurons'
# averages, and the typical change across images (each neuron's standard deviation over the
# images, the median over the neurons):

# %%
with torch.no_grad():
    all_flat = torch.flatten(images, start_dim=1).to(device)    # [10000, 784]
    hidden1 = torch.sigmoid(model.layer1(all_flat))             # [10000, 16]
    hidden2 = torch.sigmoid(model.layer2(hidden1))              # [10000, 16]
    all_scores = model.layer3(hidden2)                          # [10000, 10]
print(f"{'':<16}{'neuron averages':>22}{'change across images':>23}")
for name, values in (("layer1 sigmoids", hidden1), ("layer2 sigmoids", hidden2), ("scores", all_scores)):
    averages = values.mean(dim=0)                 # [16] or [10]: each neuron's level
    changes = values.std(dim=0)                   # [16] or [10]: how much each neuron moves between images
    print(f"{name:<16}{averages.min().item():>12.3f} to {averages.max().item():<6.3f}{changes.median().item():>16.4f}")
assert model.layer2.weight.abs().max().item() <= 1 / 4    # nn.Linear(16, 16) draws weights from -1/4 to +1/4

# %% [markdown]
# Layer 1 reacts to the picture: its values move by about 0.04 from image to image, and its
# neurons' averages lie close together (0.450 to 0.539). Layer 2 adds up 16 of those small
# movements with weights of at most 1/4 (±1/√16) and passes them through a sigmoid, whose slope
# is at most 1/4 (chapter 02), so its values barely move (about 0.005), while its 16 neurons sit
# at clearly different levels, 0.356 to 0.618: after layer 2 the band is the spread between
# neurons, not between images. The scores move even less, about 0.003. So each digit's score is,
# on every image, almost the same number: layer3's bias plus its weights times layer2's nearly
# constant outputs. Compare those fixed offsets between digits with the gap between the two
# highest scores of each image:

# %%
mean_scores = all_scores.mean(dim=0)                    # [10]: each digit's score on the average image
top2 = all_scores.topk(2, dim=1)                        # the two highest scores of every image
gap = top2.values[:, 0] - top2.values[:, 1]             # [10000]
print("average score per digit:", [round(s, 3) for s in mean_scores.tolist()])
print("digit with the highest score, count per digit:  ", torch.bincount(top2.indices[:, 0], minlength=10).tolist())
print("digit with the second highest, count per digit: ", torch.bincount(top2.indices[:, 1], minlength=10).tolist())
average_h2 = hidden2.mean(dim=0)                        # [16]: layer2's average outputs
for d in (9, 3):
    w, b = model.layer3.weight[d], model.layer3.bias[d]
    print(f"digit {d}: bias {b.item():+.3f} + weights · average layer2 output {(w @ average_h2).item():+.3f}"
          f" = {mean_scores[d].item():+.3f}")
print(f"fixed offset of 9 over 3: {(mean_scores[9] - mean_scores[3]).item():.3f}")
print(f"gap between the top two scores of an image: smallest {gap.min().item():.3f}, largest {gap.max().item():.3f}")
assert (top2.indices[:, 0] == 9).all() and (top2.indices[:, 1] == 3).all() and gap.min() > 0

# %% [markdown]
# Digit 9's score sits 0.016 above digit 3's on the average image: 3 has the larger push from the
# weights, 9 the larger bias, and together they leave 9 slightly ahead. From image to image the
# gap between the two moves only between 0.003 and 0.028, never down to zero, so 9 wins on every
# image and 3 comes second on every image. The untrained network's answer is set by its weights
# and biases, not by the picture, because the picture changes the scores by less than the fixed
# offsets between digits. Making the scores depend on the picture is what training (chapters
# 04-07) does.
#
# ## Exercises
#
# **Exercise 1.** The guide's network spends 13,002 parameters on two hidden layers of 16. Turn the
# count round: for a network 784 → w → w → 10 with two hidden layers of the same width `w`, what
# is the widest `w` whose parameter count stays within a `budget`? Return 0 when not even `w = 1`
# fits. The check includes the guide's own 13,002.

# %% tags=["solution"]
def widest_hidden_layers(budget: int) -> int:
    """Largest width w such that the network 784 -> w -> w -> 10 has at most ``budget`` weights plus biases.

    Hint: write the parameter count of 784 -> w -> w -> 10 layer by layer, as the counting cell did for w = 16, then look for the largest w that stays within the budget.
    Hint 2: the count grows with w, so trying w = 1, 2, 3, ... in a while loop until it passes the budget finds the answer (so does solving the quadratic in w); the answer is the last w that fitted.
    """
    def count(w):
        return 784 * w + w + w * w + w + w * 10 + 10

    w = 0
    while count(w + 1) <= budget:
        w += 1
    return w


# %%
widest_cases = [(13_002, 16), (13_001, 15), (50_000, 58), (100_000, 110), (807, 1), (806, 0)]
for budget, w in widest_cases[:-1]:   # each answer fits, one more does not (count_parameters builds the networks)
    assert count_parameters(MLP((784, w, w, 10))) <= budget < count_parameters(MLP((784, w + 1, w + 1, 10)))
check_function(widest_hidden_layers, [((budget,), w) for budget, w in widest_cases])

# %% [markdown]
# **Exercise 2.** The template neuron answered one question ("is this a 0?") for one image at a
# time. A layer asks several such questions of a whole batch at once. Given `k` templates
# (`[k, 28, 28]`), their thresholds (`[k]`) and a batch of images (`[B, 1, 28, 28]`), return a
# `[B, k]` tensor of booleans that says which neurons fire for which image, computed for the whole
# batch and all templates at once, as an `nn.Linear` would. The check uses the 0-template with its
# threshold and the hole alone as a second template, on the first 200 test images, and compares
# with the template section's one-neuron computation.

# %% tags=["solution"]
def templates_fire(templates: torch.Tensor, thresholds: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """[B, k] booleans: True where sigmoid(w . x + b) of template k on image b is above 0.5, with b = -threshold.

    Hint: each template is one neuron: one row of a layer's weight, with its bias set by its threshold; a whole layer handles every image and every neuron at once.
    Hint 2: flatten the images to [B, 784] and the templates to [k, 784]; the weighted sums of all pairs are one matrix product (mind which side is transposed), and the thresholds broadcast over the batch.
    """
    sums = torch.flatten(images, start_dim=1) @ torch.flatten(templates, start_dim=1).T   # [B, 784] @ [784, k] -> [B, k]
    return torch.sigmoid(sums - thresholds) > 0.5


# %%
two_templates, two_thresholds = torch.stack([template, hole]), torch.tensor([threshold, 8.0])
first_200 = images[:200]
one_at_a_time = []
for t, thr in zip(two_templates, two_thresholds):
    t_sums = torch.flatten(first_200, start_dim=1) @ t.flatten()      # [200, 784] @ [784] -> [200]
    assert (t_sums - thr).abs().min() > 1e-4   # no image near a threshold: the booleans are the same on every machine
    one_at_a_time.append(torch.sigmoid(t_sums - thr) > 0.5)
check_function(templates_fire, [((two_templates, two_thresholds, first_200), torch.stack(one_at_a_time, dim=1)),
                                ((template[None], torch.tensor([threshold]), images[:12]), (outputs > 0.5)[:, None])])

# %% [markdown]
#
# %% [markdown]
# **Exercise 3.** Write the forward pass yourself, for a network of any depth. `layers` is a list
# of `nn.Linear` layers, first to last; return the scores for a batch of images `x`
# (`[B, 1, 28, 28]`), with a sigmoid after every layer except the last, as `NeuralNetwork.forward`
# does for its three layers. Do not call a model: only the layers. The check compares with the
# network of this chapter and with `MLP` networks of one, three and four layers.

# %% tags=["solution"]
def network_forward(layers: list, x: torch.Tensor) -> torch.Tensor:
    """Scores [B, n_out] of a fully connected sigmoid network, given its nn.Linear layers in order.

    Hint: the images arrive as pictures, and every layer but the last is followed by a sigmoid: decide what happens once at the start, what in a loop, and what once at the end.
    Hint 2: torch.flatten() with start_dim=1 turns [B, 1, 28, 28] into [B, 784]; a slice of the list that stops one before the end gives every layer that a sigmoid follows, and index -1 is the last layer.
    """
    x = torch.flatten(x, start_dim=1)         # [B, 1, 28, 28] -> [B, 784]
    for layer in layers[:-1]:
        x = torch.sigmoid(layer(x))           # [B, n_in] -> [B, n_out]
    return layers[-1](x)                      # raw scores, no sigmoid


# %%
torch.manual_seed(1)
others = [MLP((784, 10)), MLP((784, 32, 10)), MLP((784, 32, 32, 16, 10))]
with torch.no_grad():
    few = images[:5].to(device)
    check_function(network_forward,
                   [(([model.layer1, model.layer2, model.layer3], few), model(few))]
                   + [((net.to(device).layers, few), net(few)) for net in others])

# %% [markdown]
# **Exercise 4 (predict, then run).** The untrained network of this chapter, made from seed 0,
# answers 9 for every test image. The cell after the next one makes five more untrained networks,
# from seeds 1 to 5, and lets each predict the 10,000 test digits. How many of the five answer one
# and the same digit for every image? Write your prediction, a whole number from 0 to 5, into
# `predicted_one_answer_networks` **before** you run the experiment cell.

# %% tags=["solution"]
def predicted_one_answer_networks() -> int:
    """Your prediction, made before running the experiment: a whole number from 0 to 5.

    Hint: ask why seed 0's network answered 9 everywhere: was it something about the digit 9 and these weights, or something every untrained network of this shape shares?
    Hint 2: compare how much the picture moves the scores (the 'change across images' column) with how far apart the digits' scores sit; a new seed draws new offsets, but of the same size.
    """
    return 5


# %%
answers = []
for seed in range(1, 6):
    torch.manual_seed(seed)
    fresh = MLP().to(device)
    with torch.no_grad():
        seed_scores = fresh(images.to(device)).cpu()             # [10000, 10]
    top_two = seed_scores.topk(2, dim=1)
    counts = torch.bincount(top_two.indices[:, 0], minlength=10)
    answers.append((seed, (counts > 0).sum().item(), counts.argmax().item(),
                    (top_two.values[:, 0] - top_two.values[:, 1]).min().item()))
    print(f"seed {seed}: predicts {answers[-1][1]} different digit(s), most often {answers[-1][2]}")
observed = sum(n_digits == 1 for _, n_digits, _, _ in answers)
# Measured smallest gap between an image's two highest scores: 0.018 (seed 1) to 0.33 (seed 2), the same on both CPU settings, far above
# float32 rounding (about 1e-6), so no machine can flip a prediction.
assert min(smallest_gap for *_, smallest_gap in answers) > 1e-3

# %%
check_function(predicted_one_answer_networks, [((), observed)])

# %% [markdown]
# **Exercise 5 (change the experiment).** The template neuron's threshold was put halfway between
# the average sums of the training 0s and the other digits (4.1). Change the threshold: return
# the neuron's true positive rate and false positive rate on the 10,000 test images, as two
# fractions from 0 to 1, for a given `threshold`, computed as that cell did (the neuron fires
# where `sigmoid(w · x + b)` is above 0.5, with `b = -threshold`). Try 3.0 and 5.0 as well as
# 4.1: what does a lower threshold gain, and what does it cost?

# %% tags=["solution"]
def template_rates(threshold: float) -> tuple[float, float]:
    """(true positive rate, false positive rate) of the 0-template neuron on the test images with this threshold.

    Hint: the test images' weighted sums are already computed; only the bias changes, then count as the rates cell did.
    Hint 2: test_sums and labels == 0 are there to use; a boolean tensor's .sum() counts its Trues, and each rate divides by the number of images of its kind.
    """
    fire = torch.sigmoid(test_sums - threshold) > 0.5
    zero = labels == 0
    return fire[zero].sum().item() / zero.sum().item(), fire[~zero].sum().item() / (~zero).sum().item()


# %%
rate_cases = []
for t in (3.0, threshold, 5.0):
    assert (test_sums - t).abs().min() > 1e-4     # no test image near the threshold: exact counts everywhere
    zeros_above = sum(s > t for s in test_sums[labels == 0].tolist())
    others_above = sum(s > t for s in test_sums[labels != 0].tolist())
    rate_cases.append(((t,), (zeros_above / n_zero, others_above / n_other)))
check_function(template_rates, rate_cases)

# %% [markdown]
# Next: **04 · Loss**: turning the 10 scores into one number that says how wrong the network is.
