# %% [markdown]
# # 00 · Start here: how this course works
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/nn-from-pixels/mnist-course/blob/main/notebooks/00_start_here.ipynb)
#
# *Runs in about 6 seconds on a 2-core CPU (measured; INSTRUCTORS.md lists every chapter). A GPU would not speed it up much, so it asks Colab for none.*
#
# This course builds a neural network that reads handwritten digits, starting from raw pixels.
# The first network has the shape 3Blue1Brown uses in his video series: 784 inputs (one per
# pixel), two hidden layers of 16 sigmoid neurons, and 10 outputs (one per digit). Along the way
# you meet loss, gradient descent, backpropagation, training and evaluation, and at the end a
# small convolutional network beats it.
#
# One rule runs through every chapter: **a claim is only made when a cell measures it.** Where
# the learning guide this course follows says something that is not true, the notebook shows
# the claim, runs the code, and corrects it with the numbers.

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

# %% [markdown]
# ## Two ways to run a notebook
#
# **Google Colab (recommended).** Click the "Open in Colab" badge at the top of any chapter. The
# first code cell (the one above) installs `course_utils`, the course's small helper package,
# and does nothing anywhere else. Only chapter 09, whose CNNs a GPU speeds up, asks Colab for a GPU
# runtime itself; every other chapter is sized for a CPU and says in its header how long it takes
# there. If you want a GPU anyway, choose *Runtime → Change runtime type → T4 GPU* and run all
# cells again.
#
# **Your own machine.** Clone the repository, then:
#
# ```bash
# make lab      # creates .venv with pinned versions, fetches and verifies MNIST, opens JupyterLab
# make course   # or: execute every notebook headlessly into build/
# ```
#
# MNIST is fetched once into `data/` and checked byte for byte (md5) before it is used; after
# that the notebooks work offline.
#
# ## The chapter map
#
# | # | chapter | what you do |
# |---|---|---|
# | 00 | Start here | this notebook: set-up, how exercises work |
# | 01 | The data | load MNIST, look at it, batch it, measure what batching costs |
# | 02 | Activations | why a stack of linear layers is one linear layer, and what a sigmoid changes |
# | 03 | The network | build 784-16-16-10, count its 13,002 parameters, follow a batch through it |
# | 04 | Loss | softmax and cross-entropy from scratch; the guide's log10 numbers corrected |
# | 05 | SGD and backprop | gradients, one update by hand, finite differences, learning rates |
# | 06 | Backpropagation by hand | what one image asks of every neuron, the chain rule, the four equations, training without `backward()` |
# | 07 | Training | the full training loop, the classic mistakes measured, a 5x faster data path |
# | 08 | Evaluation | test accuracy over several seeds, confusion matrix, the worst mistakes |
# | 09 | Dense vs CNN | the guide's comparison table, measured; shifted digits; filters |
# | 10 | Inside the network | what the hidden neurons respond to |
# | 11 | Experiments | widths, depths, activations, optimisers, learning-rate schedules |
# | 12 | Overfitting and its cures | a network that memorises 1,000 images; early stopping, weight decay, dropout, augmentation, more data |
# | 13 | ML engineering | validation, cross-validation, saving, exporting, draw your own digit |
#
# Each chapter stands alone: an instructor can assign any one of them, and it trains whatever it
# needs itself.

# %% [markdown]
# ## What is installed, and where it runs
#
# The next cell imports the helpers, prints the library versions and picks the device: a CUDA
# GPU if there is one, then an Apple GPU (`mps`), then the CPU.

# %% tags=["nbval-ignore-output"]
import torch

from course_utils import check_function, describe_device, pick_device, seed_everything, versions

for name, version in versions().items():
    print(f"{name:>12}: {version}")
device = pick_device()
print(describe_device(device))

# %% [markdown]
# Runs are repeatable: `seed_everything` seeds Python, NumPy and PyTorch, so a cell that draws
# random numbers draws the same ones every time you run it from the top.

# %%
seed_everything(0)
print(torch.rand(3))
seed_everything(0)
print(torch.rand(3))

# %% [markdown]
# ## How exercises and checks work
#
# Every chapter ends with exercises. Most ask you to write the body of a function; the cell
# under it calls a *check* from `course_utils.exercises`, which runs your function on a few inputs
# and prints what it expected, what it got, and a hint. Hints come in steps: a first failed
# attempt shows the first hint (the idea to think about), the next one a more specific one, and
# the answer itself is only ever in the solution. A check never stops the notebook. Two kinds of
# exercise recur in every chapter: a **predict, then run** exercise, where you write down what
# an experiment will show *before* you run the cell that measures it, and a **change the
# experiment** exercise, where you rerun one of the chapter's experiments with one setting
# changed and report what the changed run shows.
#
# The two checks below are demonstrations, not exercises: they are meant to fail, and pass
# `graded=False` so that a grader never counts them.
#
# Here is what a check prints for a wrong answer: a function meant to count the trainable numbers
# in a layer that connects 784 inputs to 16 neurons, which forgets the biases.

# %%
def parameters_forgetting_biases(n_inputs, n_neurons):
    return n_inputs * n_neurons


check_function(parameters_forgetting_biases, [((784, 16), 12_560)],
               hint="each neuron has one weight per input and one bias.", graded=False)

# %% [markdown]
# In the notebooks in `notebooks/` the exercises come with their solutions already filled in, so
# every check passes. The **student editions** in `student/` are the same notebooks with each
# solution replaced by a stub that raises `NotImplementedError`; a check on a stub says
# "not written yet" and shows the hint. Here is that message:

# %%
def not_written_yet(n_inputs, n_neurons):
    raise NotImplementedError


check_function(not_written_yet, [((784, 16), 12_560)], hint="each neuron has one weight per input and one bias.",
               graded=False)

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** The demonstration above counted one layer. A whole network is a list of layer
# sizes, inputs first: `[784, 16, 16, 10]` is the course's first network, `[784, 10]` a single
# layer, and `[784]` has no layer at all. Write `network_parameters`: the number of weights plus
# biases in a fully connected network with these sizes. (Chapter 03 counts the real network's
# parameters with PyTorch and should agree with you.)

# %% tags=["solution"]
def network_parameters(sizes: list[int]) -> int:
    """Number of weights plus biases in a fully connected network with layer sizes ``sizes``, inputs first.

    Hint: every pair of neighbouring sizes is one layer; count what one layer holds (a weight per connection, a bias per neuron) and add up the layers.
    Hint 2: a list of n sizes makes n - 1 layers; zip() of the list with the same list shifted by one position gives each layer's (inputs, neurons) pair, and sum() adds up what they hold.
    """
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes, sizes[1:]))


# %%
check_function(network_parameters, [(([784, 16, 16, 10],), 13_002), (([784, 10],), 7_850),
                                    (([2, 3],), 9), (([1, 1, 1],), 4), (([784],), 0)])

# %% [markdown]
# **Exercise 2.** The course reports every metric as a fraction from 0 to 1 (and prints it as a
# percentage). Write `accuracy`: given two 1-D tensors of predicted and true digits, return the
# fraction that match, as a Python float.

# %% tags=["solution"]
def accuracy(predictions: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of positions where predictions equals labels, as a float in [0, 1].

    Hint: compare the two tensors position by position; the average of a row of yes/no answers, counting a yes as 1, is the fraction of yeses.
    Hint 2: == between two tensors gives a tensor of booleans, which must become floats before it can be averaged; .item() turns a one-number tensor into a Python float.
    """
    return (predictions == labels).float().mean().item()


# %%
check_function(accuracy, [
    ((torch.tensor([3, 1, 4, 1]), torch.tensor([3, 1, 4, 1])), 1.0),
    ((torch.tensor([3, 1, 4, 1]), torch.tensor([3, 7, 4, 0])), 0.5),
    ((torch.tensor([0, 0, 0]), torch.tensor([1, 1, 1])), 0.0),
])

# %% [markdown]
# **Exercise 3.** `pick_device` prefers a CUDA GPU, then Apple's `mps`, then the CPU. Write the
# same rule as a function of two booleans.

# %% tags=["solution"]
def choose_device(cuda_available: bool, mps_available: bool) -> str:
    """Return "cuda", "mps" or "cpu", preferring them in that order.

    Hint: the order of preference is the order in which to ask: the first device that is available wins.
    Hint 2: two if statements, each returning as soon as its device is available, and a last return for the CPU.
    """
    if cuda_available:
        return "cuda"
    if mps_available:
        return "mps"
    return "cpu"


# %%
check_function(choose_device, [((True, True), "cuda"), ((True, False), "cuda"),
                               ((False, True), "mps"), ((False, False), "cpu")])

# %% [markdown]
# **Exercise 4 (predict, then run).** The cell that showed `seed_everything` seeded once per draw.
# The cell after the next one seeds with 0, shuffles the ten digits twice with `torch.randperm(10)`
# (`first`, then `second`), then seeds with 0 again and shuffles once more (`third`). Which of the
# two earlier shuffles is `third` equal to: `"first"`, `"second"`, `"both"` or `"neither"`?
# Write your prediction into `predicted_reseeded_shuffle` **before** you run the experiment cell.

# %% tags=["solution"]
def predicted_reseeded_shuffle() -> str:
    """Your prediction, made before running the experiment: "first", "second", "both" or "neither".

    Hint: a seed does not fix every draw to one value; it sets where a long sequence of random numbers starts, and each draw uses up part of it.
    Hint 2: are first and second themselves equal? Then ask where in the sequence seeding again with 0 puts the next draw.
    """
    return "first"


# %%
seed_everything(0)
first, second = torch.randperm(10), torch.randperm(10)
seed_everything(0)
third = torch.randperm(10)
print("first: ", first.tolist())
print("second:", second.tolist())
print("third: ", third.tolist())
same_as_first, same_as_second = torch.equal(third, first), torch.equal(third, second)
observed = {(True, True): "both", (True, False): "first", (False, True): "second"}.get(
    (same_as_first, same_as_second), "neither")
assert not torch.equal(first, second), "the two shuffles after one seed differ, so only one answer fits"

# %%
check_function(predicted_reseeded_shuffle, [((), observed)])

# %% [markdown]
# **Exercise 5 (change the experiment).** Exercise 4 seeded with the same number, 0, both times.
# Change the second seed: shuffle the ten digits with `torch.randperm(10)` after
# `seed_everything(0)`, shuffle them again after `seed_everything(seed)`, and return in how many
# of the ten positions the two shuffles hold the same digit. What do seeds 0, 1 and 2 give? Is a
# shuffle from another seed any closer to seed 0's than two unrelated shuffles would be (about
# one position in ten matches by chance)?

# %% tags=["solution"]
def positions_in_common(seed: int) -> int:
    """How many of 10 positions agree between seed 0's shuffle of the ten digits and seed ``seed``'s.

    Hint: run Exercise 4's experiment with a different number in the second seeding and count the agreements.
    Hint 2: call seed_everything() before each torch.randperm(10); comparing two tensors with == gives one boolean per position, and booleans add up like 0s and 1s.
    """
    seed_everything(0)
    reference = torch.randperm(10)
    seed_everything(seed)
    return int((torch.randperm(10) == reference).sum().item())


# %%
def positions_in_common_reference(seed: int) -> int:
    """Seed 0's and seed ``seed``'s shuffles of the ten digits, compared position by position."""
    shuffles = []
    for s in (0, seed):
        seed_everything(s)
        shuffles.append(torch.randperm(10).tolist())
    return sum(a == b for a, b in zip(*shuffles))


check_function(positions_in_common, [((seed,), positions_in_common_reference(seed)) for seed in (0, 1, 2, 3)])

# %% [markdown]
# Next: **01 · The data**, where the 70,000 handwritten digits come in.
