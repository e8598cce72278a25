# ---
# jupyter:
#   accelerator: GPU
#   colab:
#     gpuType: T4
# ---

# %% [markdown]
# # 09 · Dense vs CNN: the guide's comparison table, measured
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/nn-from-pixels/mnist-course/blob/main/notebooks/09_dense_vs_cnn.ipynb)
#
# The learning guide compares the network we built (dense: every pixel wired to every neuron) with
# a *convolutional* network (CNN: small filters slid across the image). It sums the comparison up
# in a table of accuracies and parameter counts, and credits CNNs with being *translation
# invariant*: finding a pattern wherever it sits in the image. It measures none of it.
#
# This chapter trains all four networks of that table, counts their parameters exactly, times
# them on your device and prints the table the code produces next to the guide's. Then it moves
# digits a few pixels to test the invariance claim, and looks inside the first convolution layer.

# %% tags=["colab-setup"]
# Colab only: install course_utils, the course's helpers, as they were when this notebook was written,
# and any of their dependencies this runtime lacks; nothing Colab ships is upgraded or replaced.
# Anywhere else (a local clone after `make venv`) this cell does nothing.
import sys


def install_course_utils():
    import json
    import subprocess
    from importlib import invalidate_caches, metadata

    commit = "ba6a6957fd865c125c12e1617e612f4def69a95a"  # the exact version this notebook was written for
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
from torch import nn

from course_utils.augment import RandomShift, shift_images
from course_utils.data import TensorBatches, mnist_tensors
from course_utils.env import describe_device, pick_device, seed_everything
from course_utils.exercises import check_function
from course_utils.models import MLP, AdvancedCNN, SimpleCNN, count_parameters
from course_utils.plots import show_digits, show_filters
from course_utils.training import evaluate, fit

seed_everything(0)
device = pick_device()
print(describe_device(device))
cpu_threads = torch.get_num_threads()  # all cores: the CNNs use them

# %%
train_images, train_labels = mnist_tensors(train=True, device=device)
test_images, test_labels = mnist_tensors(train=False, device=device)
test_batches = TensorBatches(test_images, test_labels, batch_size=1000, shuffle=False)
print(f"{len(train_labels):,} training images, {len(test_labels):,} test images")

# %% [markdown]
# ## The claim
#
# The guide's table, as it gives it (its training-time column only says "Fast", "Medium" and
# "Slower"):

# %%
guide_table = [("Our Dense Network", "85.73%", "~13,000", "Fast"),
               ("Simple CNN", "95-98%", "~5,000", "Medium"),
               ("Advanced CNN", "99%+", "~50,000", "Slower")]
print(f"{'network':<20}{'accuracy':>10}{'parameters':>12}  training time")
for name, accuracy, parameters, speed in guide_table:
    print(f"{name:<20}{accuracy:>10}{parameters:>12}  {speed}")

# %% [markdown]
# Elsewhere it adds that dense networks *"typically"* reach 85-92 % on MNIST and CNNs 98 % or
# more. We train each row and then fill in the same table from measurements.
#
# ## 1 · The dense network, as the guide trains it
#
# The 784-16-16-10 network with sigmoids, plain SGD at learning rate 0.01, batches of 32, for the
# guide's 20 epochs. A network this small keeps several CPU threads waiting on each other more
# than it keeps them busy, so on a CPU the two dense networks train on one thread (faster here);
# the CNNs later get all of them back.

# %%
if device.type == "cpu":
    torch.set_num_threads(1)
print("threads:", torch.get_num_threads() if device.type == "cpu" else "(GPU)")

# %% tags=["nbval-ignore-output"]
torch.manual_seed(0)
guide_dense = MLP().to(device)
batches = TensorBatches(train_images, train_labels, 32, generator=torch.Generator().manual_seed(0))
guide_history = fit(guide_dense, batches, torch.optim.SGD(guide_dense.parameters(), lr=0.01), epochs=20,
                    device=device, test_batches=test_batches)
print(f"guide's dense network: {guide_history.test_acc[-1]:.2%} test accuracy after 20 epochs, "
      f"{sum(guide_history.epoch_seconds) / 20:.2f} s per epoch")
print(f"training loss in its last two epochs: {guide_history.train_loss[-2]:.4f} -> {guide_history.train_loss[-1]:.4f}")

# %%
assert 0.86 < guide_history.test_acc[-1] < 0.92, "the guide's recipe lands near 88 % on real MNIST"
assert guide_history.train_loss[-1] < guide_history.train_loss[-2], "still learning at epoch 20"

# %% [markdown]
# About 88 %, a little above the guide's 85.73 % (chapter 08 trains this recipe from several seeds
# and explains the gap). Its loss was still falling at epoch 20: sigmoids and a small, fixed
# learning rate make it a slow learner, not a weak architecture. The next section shows how much
# the *same* 784-16-16-10 shape can do.
#
# ## 2 · A better dense network of the same shape
#
# Same layers, same 13,002 parameters. Three changes: ReLU instead of sigmoid (its gradient does
# not fade for large inputs), Adam instead of plain SGD (a step size per weight), and a
# *one-cycle* learning-rate schedule (warm up to a high rate, then anneal to almost zero). The
# schedule changes the rate after every batch, so `fit` is told to step it per batch. Batches of
# 128 make an epoch cheaper, and 15 epochs are enough.

# %% tags=["nbval-ignore-output"]
torch.manual_seed(0)
dense = MLP(activation=nn.ReLU).to(device)
batches = TensorBatches(train_images, train_labels, 128, generator=torch.Generator().manual_seed(0))
optimizer = torch.optim.Adam(dense.parameters(), lr=0.01)
schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.01, total_steps=15 * len(batches))
dense_history = fit(dense, batches, optimizer, epochs=15, device=device, test_batches=test_batches,
                    scheduler=schedule, step_scheduler_every_batch=True)
print(f"784-16-16-10 with ReLU + Adam: {dense_history.test_acc[-1]:.2%} test accuracy, "
      f"{count_parameters(dense):,} parameters, {sum(dense_history.epoch_seconds) / 15:.2f} s per epoch")

# %%
assert count_parameters(dense) == count_parameters(guide_dense) == 13_002
assert dense_history.test_acc[-1] >= 0.955, "ReLU + Adam + one-cycle should reach 95.5 % with 16-16 hidden units"

# %% [markdown]
# **Correction.** Above 95.5 % with exactly the guide's 13,002 parameters: the "85-92 %" the guide
# gives for dense networks describes its training recipe, not what a dense network can do (and
# chapter 11 shows that wider dense networks go further still).
#
# ## 3 · From dense to convolutional, in the guide's four steps
#
# The guide's recipe for turning our network into a CNN:
#
# 1. **Replace the dense layers with convolution layers.** A convolution layer holds a few small
#    filters (here 3×3); each one slides across the image and at every position computes a
#    weighted sum of the 3×3 pixels under it. Its output is one *feature map* per filter: where in
#    the image that filter's pattern occurs.
# 2. **Do not flatten until the end.** The image stays a `[channels, height, width]` grid through
#    the convolution layers, so "neighbouring pixels" keeps its meaning; 2×2 max-pooling halves the
#    grid after each. Only the last layer, a dense one, sees a flat vector.
# 3. **Keep the training loop.** Same loss, same `fit`, same recipe as the better dense network.
# 4. **Expect better accuracy.** We measure it.
#
# `SimpleCNN` in `course_utils.models` is the guide's own example: conv 3×3 with 16 filters, pool,
# conv 3×3 with 32 filters, pool, flatten, dense to 10. Follow one batch through it:

# %%
torch.manual_seed(0)
simple = SimpleCNN().to(device)
print(simple)
x = test_images[:8]
print(f"{'input':<34}{list(x.shape)}")
for name, step in [("conv1 (16 filters 3x3) + ReLU", lambda t: simple.activation(simple.conv1(t))),
                   ("max-pool 2x2", simple.pool),
                   ("conv2 (32 filters 3x3x16) + ReLU", lambda t: simple.activation(simple.conv2(t))),
                   ("max-pool 2x2", simple.pool),
                   ("flatten (only now)", lambda t: torch.flatten(t, start_dim=1)),
                   ("dense 1568 -> 10", simple.fc)]:
    x = step(x)
    print(f"{name:<34}{list(x.shape)}")

# %% [markdown]
# ### How many parameters? (the guide says about 5,000)
#
# The guide counts its two convolutions, 3×3×1×16 = 144 and 3×3×16×32 = 4,608 weights, and puts
# the simple CNN at "~5,000" parameters. Count every tensor:

# %%
for name, p in simple.named_parameters():
    print(f"{name:<14}{str(list(p.shape)):<18}{p.numel():>7,}")
print(f"{'total':<32}{count_parameters(simple):>7,}")
print(f"the guide's count: {3 * 3 * 1 * 16:,} + {3 * 3 * 16 * 32:,} = {3 * 3 * 1 * 16 + 3 * 3 * 16 * 32:,}")

# %% [markdown]
# **Correction.** 20,490 parameters, four times the guide's figure. Its two numbers are right, but
# they leave out the biases (16 + 32) and, above all, the dense layer at the end: 32 feature maps
# of 7×7 = 1,568 inputs, times 10 outputs, is 15,680 weights, three quarters of the network. The
# convolutions really are cheap (their filters are shared by every position of the image); the
# flatten-then-dense head is not. A CNN *can* be that small: replace the flatten by an average
# over the 7×7 positions and the head shrinks to 32 × 10 (exercise 3 counts such variants).
#
# Now train it, with the same recipe as the better dense network, on all CPU threads:

# %% tags=["nbval-ignore-output"]
torch.set_num_threads(cpu_threads)
batches = TensorBatches(train_images, train_labels, 64, generator=torch.Generator().manual_seed(0))
optimizer = torch.optim.Adam(simple.parameters(), lr=0.003)
schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.003, total_steps=2 * len(batches))
simple_history = fit(simple, batches, optimizer, epochs=2, device=device, test_batches=test_batches,
                     scheduler=schedule, step_scheduler_every_batch=True)
print(f"simple CNN: {simple_history.test_acc[-1]:.2%} test accuracy after 2 epochs, "
      f"{sum(simple_history.epoch_seconds) / 2:.1f} s per epoch")

# %%
assert simple_history.test_acc[-1] >= 0.985, "two epochs should take the simple CNN past 98.5 %"

# %% [markdown]
# Two epochs, and it is past 98.5 %: above the top of the guide's 95-98 % for a simple CNN, and
# above every dense network of this chapter.
#
# ## 4 · An advanced CNN
#
# `AdvancedCNN` stacks four convolution blocks. Each block is a 3×3 convolution, *batch
# normalisation* (rescales each feature map to a steady mean and spread, batch by batch, which
# lets training use large steps) and ReLU. Max-pooling shrinks 28×28 to 14×14, 7×7 and finally
# 3×3 before a dense layer reads 64 × 3 × 3 = 576 numbers. Three tricks make it train in a few
# minutes even on a CPU:
#
# - **Random shifts**: every training image is moved by its own random offset of up to 2 pixels
#   each time it is used (`RandomShift`), so the network never sees exactly the same picture twice.
# - **One-cycle schedule** with Adam, as before, over 8 epochs of batches of 128.
# - **channels-last memory layout**: the same tensors stored pixel by pixel instead of channel by
#   channel, which the convolution routines of CPUs and GPUs run faster.
#
# On a CUDA GPU it also trains in mixed precision (`amp=True`: most arithmetic in 16-bit floats).

# %%
torch.manual_seed(0)
advanced = AdvancedCNN().to(device, memory_format=torch.channels_last)
print(advanced)
print(f"{count_parameters(advanced):,} parameters")

# %% tags=["nbval-ignore-output"]
batches = TensorBatches(train_images, train_labels, 128, generator=torch.Generator().manual_seed(0))
optimizer = torch.optim.Adam(advanced.parameters(), lr=0.01)
schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.01, total_steps=8 * len(batches))
advanced_history = fit(advanced, batches, optimizer, epochs=8, device=device, test_batches=test_batches,
                       scheduler=schedule, step_scheduler_every_batch=True,
                       augment=RandomShift(max_shift=2, generator=torch.Generator().manual_seed(0)),
                       amp=device.type == "cuda")
print(f"advanced CNN: {advanced_history.test_acc[-1]:.2%} test accuracy after 8 epochs, "
      f"{sum(advanced_history.epoch_seconds) / 8:.1f} s per epoch, {sum(advanced_history.epoch_seconds):.0f} s in all")

# %%
assert advanced_history.test_acc[-1] >= 0.994, "the advanced CNN should pass 99.4 % as a single model"

# %% [markdown]
# Above 99.4 %: at most 60 of the 10,000 test digits wrong, from one model trained once.
#
# ## 5 · The table, measured
#
# Every number below comes from the runs above; seconds per epoch are training time only (the
# test-set evaluation after each epoch is not counted) and belong to this device.

# %% tags=["nbval-ignore-output"]
runs = [("guide's dense (sigmoid, SGD)", guide_dense, guide_history),
        ("dense 784-16-16-10 (ReLU, Adam)", dense, dense_history),
        ("simple CNN", simple, simple_history),
        ("advanced CNN", advanced, advanced_history)]
print(describe_device(device).splitlines()[0])
print(f"{'network':<33}{'test acc':>9}{'parameters':>12}{'s / epoch':>11}{'epochs':>8}")
for name, model, history in runs:
    seconds = sum(history.epoch_seconds) / len(history)
    print(f"{name:<33}{history.test_acc[-1]:>9.2%}{count_parameters(model):>12,}{seconds:>11.2f}{len(history):>8}")
print("\nthe guide's table:")
for name, accuracy, parameters, speed in guide_table:
    print(f"{name:<33}{accuracy:>9}{parameters:>12}{speed:>11}")

# %% [markdown]
# What changes in the table:
#
# - **Our dense network**: 13,002 parameters, as the guide says; its accuracy is about 88 %, and
#   the same shape trained well passes 95.5 %. Dense networks are not stuck at 85-92 %.
# - **Simple CNN**: 20,490 parameters, not about 5,000, and its accuracy is above the guide's
#   95-98 % after only two epochs.
# - **Advanced CNN**: 99 %+ holds (above 99.4 %), with 38,458 parameters rather than 50,000.
# - **Training time**: the CNNs do far more arithmetic per image than a dense network of similar
#   size (each filter is applied at every position), so an epoch costs many times more on a CPU.
#   They need far fewer epochs, though. (Open the notebook on a GPU runtime to see how the
#   seconds change there.)

# %% [markdown]
# ## 6 · Translation: does a CNN care where the digit is?
#
# The guide says a dense network sees a digit moved by one pixel as a completely different
# input, while a CNN detects features "regardless of position". Test it: move every test digit
# by `k` pixels along **both** axes (k right or left *and* k down or up; a quarter of the test set
# goes in each of the four diagonal directions) and measure accuracy for k = 0 to 4. MNIST digits
# were scaled to fit a 20×20 box and placed near the middle of the 28×28 image, so little ink
# leaves the picture even at 4 pixels (the cell prints how much stays). One digit at each shift:

# %%
directions = [(1, 1), (1, -1), (-1, 1), (-1, -1)]
shifts = range(5)


def shifted_test_images(k: int) -> torch.Tensor:
    """The test images moved k pixels along both axes, one quarter of them in each diagonal direction."""
    quarters = test_images.chunk(4)
    return torch.cat([shift_images(q, dx * k, dy * k) for q, (dx, dy) in zip(quarters, directions)])


for k in shifts:
    kept = shifted_test_images(k).sum() / test_images.sum()
    print(f"shift {k} px: {kept:.2%} of the test set's ink still in the picture")
show_digits(torch.cat([shifted_test_images(k)[:1] for k in shifts]), list(shifts), ncols=5)
plt.show()

# %% [markdown]
# (Here the titles are the shift in pixels, not the label.) Now the accuracy of all four
# trained networks at each shift:

# %% tags=["nbval-ignore-output"]
shift_accuracy = {name: [] for name, _, _ in runs}
for k in shifts:
    moved = TensorBatches(shifted_test_images(k), test_labels, batch_size=1000, shuffle=False)
    for name, model, _ in runs:
        shift_accuracy[name].append(evaluate(model, moved, device)[1])
print(f"{'shift (pixels, both axes)':<33}" + "".join(f"{k:>8}" for k in shifts))
for name, accuracies in shift_accuracy.items():
    print(f"{name:<33}" + "".join(f"{a:>8.1%}" for a in accuracies))

fig, ax = plt.subplots(figsize=(6, 3.2))
for name, accuracies in shift_accuracy.items():
    ax.plot(list(shifts), accuracies, marker="o", label=name)
ax.set_xlabel("shift along both axes (pixels)")
ax.set_ylabel("test accuracy")
ax.set_xticks(list(shifts))
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
plt.show()

# %%
dense_drop = shift_accuracy["dense 784-16-16-10 (ReLU, Adam)"]
simple_drop = shift_accuracy["simple CNN"]
# One pixel cost the two dense networks 16.3 and 10.7 points here, 16.3 and 11.1 under ATEN_CPU_CAPABILITY=default.
for name in ("guide's dense (sigmoid, SGD)", "dense 784-16-16-10 (ReLU, Adam)"):
    one_pixel_cost = shift_accuracy[name][0] - shift_accuracy[name][1]
    assert one_pixel_cost > 0.08, f"{name}: one pixel should cost about ten points or more, got {one_pixel_cost:.1%}"
assert dense_drop[1] < dense_drop[0] - 0.05 and dense_drop[2] < 0.65, "small shifts should hurt the dense network"
assert all(s > d for s, d in zip(simple_drop[1:], dense_drop[1:])), "the CNN should hold up better at every shift"
assert simple_drop[1] > 0.9 and simple_drop[4] < simple_drop[0] - 0.2, "the simple CNN copes with 1 pixel, not 4"
assert min(shift_accuracy["advanced CNN"][:4]) > 0.97, "the advanced CNN should handle shifts of up to 3 pixels"

# %% [markdown]
# What the measurements say:
#
# - **The dense networks fall apart fast.** Each of their first-layer weights belongs to one
#   pixel position, so a digit moved off the positions it was trained on is close to a new input.
#   One pixel along each axis already costs them about ten points or more (the table above),
#   and at two pixels they are right on well under two thirds of the test set.
# - **The simple CNN holds up much better, but it is not invariant.** Its filters do find their
#   patterns anywhere (the convolution is *equivariant*: move the input and the feature maps move
#   with it), and each max-pool forgives a pixel or so. But the dense layer at the end flattens
#   the 7×7 maps and has one weight per position again. It keeps above 90 % at one pixel, then
#   drops steeply as well. "Translation invariant" holds only for small shifts.
# - **The advanced CNN holds up to 3 pixels and loses a few points at 4.** Two things differ: it
#   saw shifts of up to 2 pixels in training, and its three pooling steps forgive more. This
#   notebook does not separate the two; train a copy with `RandomShift(max_shift=0)` to find out.
#
# ## 7 · Inside the first convolution layer
#
# The guide's claim that early CNN layers "detect edges" can be looked at directly: `conv1` of the
# simple CNN holds 16 filters of 3×3 weights (blue positive, red negative):

# %%
show_filters(simple.conv1.weight, ncols=8)
plt.show()

# %% [markdown]
# Each filter is a tiny pattern detector: where a filter has blue on one side and red on the
# other, it responds to a change of brightness in that direction, that is, an edge. Sliding each
# filter over one test digit gives its 16 feature maps (after ReLU; bright = strong response):

# %%
digit = test_images[:1]                                  # [1, 1, 28, 28]
with torch.no_grad():
    maps = simple.activation(simple.conv1(digit))        # [1, 1, 28, 28] -> [1, 16, 28, 28]
show_digits(digit, [int(test_labels[0])], ncols=1, size=1.4)
plt.show()
show_digits(maps[0], list(range(16)), ncols=8)
plt.show()

# %% [markdown]
# Some maps light up mostly along one side of the strokes (the top edge of the 7's bar, for
# instance), others respond to the whole stroke, and a few to the empty background as well (their
# bias is positive). Every map is still a 28×28 picture of
# the digit: the convolution keeps the spatial layout that a dense layer throws away, which is
# why moving the digit moves the maps with it.

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** A convolution (or pooling) layer with a `kernel`×`kernel` window, `padding`
# zeros added on each side and a step of `stride` pixels turns a `size`×`size` input into an
# output of what size? The check includes `SimpleCNN`'s layers and its 2×2 max-pools.

# %% tags=["solution"]
def conv_output_size(size: int, kernel: int, padding: int = 0, stride: int = 1) -> int:
    """Height (= width) of the output of a convolution or pooling window over a square input.

    Hint: the padded input has size + 2 * padding pixels; count how many window positions fit, stepping by stride.
    """
    return (size + 2 * padding - kernel) // stride + 1


# %%
check_function(conv_output_size, [((28, 3, 1), 28), ((28, 3, 0), 26), ((28, 2, 0, 2), 14), ((7, 2, 0, 2), 3),
                                  ((28, 5, 2), 28), ((28, 3, 1, 2), 14)])

# %% [markdown]
# **Exercise 2.** How many parameters does an `nn.Conv2d(in_channels, out_channels,
# kernel_size)` layer have, with or without bias? The check compares with PyTorch's own layers,
# including the guide's 3×3×16×32 convolution.

# %% tags=["solution"]
def conv_parameters(in_channels: int, out_channels: int, kernel_size: int, bias: bool = True) -> int:
    """Number of weights (and biases) of a 2-D convolution layer with square filters.

    Hint: each output channel has one kernel_size x kernel_size filter per input channel, plus one bias.
    """
    return out_channels * (in_channels * kernel_size * kernel_size + (1 if bias else 0))


# %%
layers = [(1, 16, 3, True), (16, 32, 3, True), (16, 32, 3, False), (3, 64, 7, True), (32, 64, 5, True)]
check_function(conv_parameters, [((i, o, k, b), count_parameters(nn.Conv2d(i, o, k, bias=b))) for i, o, k, b in layers])

# %% [markdown]
# **Exercise 3.** Count all the parameters of a `SimpleCNN(channels=(c1, c2))` without building
# it: two 3×3 convolutions (with biases) on 28×28 images, two 2×2 max-pools, then a dense layer
# to 10 outputs. The check compares with `count_parameters(SimpleCNN((c1, c2)))`. Then, on paper:
# how small would the default (16, 32) network be with an average over the 7×7 positions (32
# numbers) instead of the flatten (1,568 numbers) before the dense layer?

# %% tags=["solution"]
def simple_cnn_parameters(c1: int, c2: int) -> int:
    """Total parameters of SimpleCNN((c1, c2)): conv1 + conv2 + the dense layer on the flattened 7x7 maps.

    Hint: conv1 has c1 * (1*3*3 + 1), conv2 has c2 * (c1*3*3 + 1), and the dense layer (c2*7*7) * 10 + 10.
    """
    flat = c2 * 7 * 7
    return c1 * (1 * 3 * 3 + 1) + c2 * (c1 * 3 * 3 + 1) + flat * 10 + 10


# %%
check_function(simple_cnn_parameters, [((c1, c2), count_parameters(SimpleCNN((c1, c2))))
                                       for c1, c2 in [(16, 32), (8, 16), (32, 64), (4, 8)]])

# %% [markdown]
# Next: **10 · Inside the network**: what the dense network's neurons learned.
