# %% [markdown]
# # 04 · The loss: one number for "how wrong"
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/nn-from-pixels/mnist-course/blob/main/notebooks/04_loss.ipynb)
#
# *Runs in about 15 seconds on a 2-core CPU (measured; INSTRUCTORS.md lists every chapter). A GPU would not speed it up much, so it asks Colab for none.*
#
# To learn, the network needs a single number that says how badly it is doing, one that gets
# smaller as its answers get better. For classification that number is the *cross-entropy loss*.
# You start from the cost 3Blue1Brown uses, squared error, and measure why classifiers do not
# use it. Then you build the cross-entropy loss from scratch (softmax, then a logarithm) and
# check it against PyTorch's `F.cross_entropy`, derive its gradient, correct two numbers the
# learning guide gets wrong, predict the loss of an untrained network before measuring it, and
# see what goes wrong when softmax is applied twice or computed naively.

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
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from course_utils.data import TensorBatches, mnist_tensors
from course_utils.env import describe_device, pick_device, seed_everything
from course_utils.exercises import check_function
from course_utils.models import MLP
from course_utils.training import evaluate, fit

seed_everything(0)
device = pick_device()
print(describe_device(device))

# %% [markdown]
# Nothing in this chapter is heavy (two one-epoch trainings at most), so everything below runs
# on the CPU whatever device you have.
#
# ## Scores from an untrained network
#
# The course's network, `MLP` (784 → 16 → 16 → 10), ends in ten raw numbers per image, one per
# digit. They are called *scores* or *logits*, and they can be any real numbers: negative,
# positive, large or small. Here is what a freshly initialised network (seeded, not trained)
# says about a batch of 32 real test images.

# %%
test_images, test_labels = mnist_tensors(train=False)
model = MLP()                                 # untrained: weights as PyTorch initialises them
images, labels = test_images[:32], test_labels[:32]
with torch.no_grad():
    scores = model(images)                    # [32, 1, 28, 28] -> [32, 10]
print("scores:", tuple(scores.shape))
print(f"image 0 shows a {labels[0].item()}; its ten scores:", [round(s, 2) for s in scores[0].tolist()])

# %% [markdown]
# One difference from 3Blue1Brown's network matters in this chapter. In the videos the ten
# output neurons are sigmoids too, so each output is an activation between 0 and 1. The
# course's network, like almost every classifier, has **no** sigmoid after its last layer: its
# outputs are raw scores, and the loss turns them into probabilities.
#
# ## 3Blue1Brown's cost: squared error
#
# The video's cost for one image squashes each of the ten outputs with a sigmoid, $a_j =
# \sigma(z_j)$, and adds up the squared differences from the target: 1 for the true digit, 0
# for the other nine (a *one-hot* vector), $C = \sum_j (a_j - y_j)^2$. It works, and it is
# the natural first guess. Its flaw shows up in the gradient. By the chain rule,
# $\partial C / \partial z_j = 2 (a_j - y_j)\, \sigma'(z_j)$, and the sigmoid's slope
# $\sigma'(z)$ is nearly 0 far from $z = 0$ (chapter 02). Take an image of a 0 and an output that
# is confidently **wrong**: the score for 0 is very negative ("certainly not a 0").

# %%
def squared_error(scores, labels, reduction="mean"):
    """3Blue1Brown's cost: sum over the outputs of (sigmoid(score) - one-hot target)², per image."""
    per_image = (torch.sigmoid(scores) - F.one_hot(labels, scores.shape[1])).pow(2).sum(dim=1)
    return per_image.sum() if reduction == "sum" else per_image.mean()


print(f"{'score for the true digit':>24} | {'squared error: cost, dC/dz':^28} | {'cross-entropy: loss, dL/dz':^28}")
for s in (0.0, -2.0, -5.0, -10.0):
    z = torch.zeros(1, 10)
    z[0, 0] = s                                  # an image of a 0; the other nine scores stay at 0
    row = []
    for cost in (squared_error, F.cross_entropy):
        z_ = z.clone().requires_grad_()
        value = cost(z_, torch.tensor([0]))
        value.backward()
        row.append(f"{value.item():9.4f} {z_.grad[0, 0].item():+12.2e}")
    print(f"{s:>24.0f} | {row[0]:^28} | {row[1]:^28}")

# %% [markdown]
# With squared error, the more confidently wrong the output, the *weaker* the push to fix it:
# at a score of -10 the slope on the true digit is $2 \times (0.00005 - 1) \times \sigma'(-10)$,
# about $-9 \times 10^{-5}$, nearly 3,000 times weaker than the $-0.25$ at a score of 0, because
# $\sigma'(-10) \approx 0.00005$. An output that is saturated in the wrong direction barely learns. Cross-entropy (built below) gives the
# opposite: its push on the true digit's score grows towards -1 as the answer gets worse and
# never fades. Does that matter in training? One epoch of the course's network with each cost,
# from the same starting weights and the same batches, at the guide's learning rate 0.01 and at
# 0.1 (the rate chapter 05 uses to make one epoch count):

# %% tags=["nbval-ignore-output"]
train_images, train_labels = mnist_tensors(train=True)
test_batches = TensorBatches(test_images, test_labels, batch_size=1_000, shuffle=False)
one_epoch = {}
for lr in (0.01, 0.1):
    for name, cost in (("squared error", squared_error), ("cross-entropy", F.cross_entropy)):
        net = copy.deepcopy(model)               # the same untrained weights every time
        fit(net, TensorBatches(train_images, train_labels, batch_size=32, generator=torch.Generator().manual_seed(0)),
            torch.optim.SGD(net.parameters(), lr=lr), epochs=1, loss_fn=cost, progress=False)
        one_epoch[lr, name] = evaluate(net, test_batches)[1]
        print(f"lr {lr:<4} {name:13}: test accuracy after one epoch {one_epoch[lr, name]:.1%}")

# %%
# Measured on three CPU settings: squared error 11.4 % and 21.1 %, cross-entropy 20.3 % and 78.5 %.
assert all(one_epoch[lr, "squared error"] < one_epoch[lr, "cross-entropy"] - 0.05 for lr in (0.01, 0.1))
assert one_epoch[0.1, "cross-entropy"] - one_epoch[0.1, "squared error"] > 0.4
print("cross-entropy is ahead at both learning rates, by more than 40 points at lr 0.1")

# %% [markdown]
# Same network, same data, same number of steps: cross-entropy learns far more in one epoch
# (the accuracies are printed above). Squared error is not wrong, only slow, and the cause is
# the table: the sigmoid on the output throws away most of the gradient exactly when the
# network is most wrong. The rest of the course uses cross-entropy on raw scores.
# %% [markdown]
# ## Softmax: from scores to probabilities
#
# Softmax turns a row of scores $z$ into probabilities:
# $\;p_k = e^{z_k} / \sum_j e^{z_j}$. The exponential makes every entry positive, and dividing by
# the row's total makes the ten entries add up to 1. A larger score still means a larger
# probability.

# %%
exps = scores.exp()                               # [32, 10], every entry > 0
probs = exps / exps.sum(dim=1, keepdim=True)      # [32, 10], every row sums to 1
print("image 0 probabilities:", [round(p, 3) for p in probs[0].tolist()])
# Both differences are float32 rounding, a few units of 1e-8; the exact figure depends on the CPU's
# vector kernels (2.2e-08 on one machine, 3.0e-08 on another), so we check a bound instead of printing it.
row_error = (probs.sum(dim=1) - 1).abs().max().item()
softmax_error = (probs - F.softmax(scores, dim=1)).abs().max().item()
assert row_error < 1e-6 and softmax_error < 1e-6
print("every row sums to 1, and matches F.softmax, to within 1e-6 (float32 rounding)")
print(f"all 320 probabilities lie between {probs.min().item():.3f} and {probs.max().item():.3f}")

# %% [markdown]
# The untrained network has no opinion yet: every digit gets a probability not far from 1/10.
#
# ## Cross-entropy: minus the log of the right answer's probability
#
# For one image whose true digit is $y$, the loss is $-\ln p_y$, where $p_y$ is the probability
# the network gives to the correct digit. The other nine probabilities only matter through the
# softmax's division. For a batch, average over the images.

# %%
p_correct = probs[torch.arange(len(labels)), labels]    # [32, 10] -> [32]: each image's true-digit probability
my_losses = -p_correct.log()                            # [32], one loss per image
my_loss = my_losses.mean()
torch_loss = F.cross_entropy(scores, labels)            # takes the raw scores
print(f"from scratch:    {my_loss.item():.4f}")
print(f"F.cross_entropy: {torch_loss.item():.4f}")
per_image = F.cross_entropy(scores, labels, reduction="none")   # [32]
# float32 rounding again: 0 on some CPUs, 2.4e-07 on others, so a bound rather than the figure
assert (my_loss - torch_loss).abs().item() < 1e-6 and (my_losses - per_image).abs().max().item() < 1e-6
print("the batch average and all 32 per-image losses agree to within 1e-6")

# %% [markdown]
# Softmax, a natural log, a minus sign and a mean: that is all `F.cross_entropy` computes (its
# default `reduction="mean"` averages over the images in the batch).
#
# ## The gradient of cross-entropy: softmax minus one-hot
#
# For one image with true digit $y$, write the loss with the scores themselves:
# $L = -\ln p_y = -z_y + \ln \sum_j e^{z_j}$. Its slope with respect to score $k$ has two
# parts: $-1$ from the first term if $k = y$, and $e^{z_k} / \sum_j e^{z_j} = p_k$ from the
# second. So
#
# $$\frac{\partial L}{\partial z_k} = p_k - y_k,$$
#
# the probabilities minus the one-hot target: the true digit's score is pulled up by $1 - p_y$,
# every other score pushed down by its own probability. No exponentials, no logs, no $\sigma'$
# to fade. For the batch mean, divide by the batch size. Check it on the 32 real images:

# %%
tracked = scores.clone().requires_grad_()
F.cross_entropy(tracked, labels).backward()                     # autograd's dL/dscores, [32, 10]
formula = (F.softmax(scores, dim=1) - F.one_hot(labels, 10)) / len(labels)
assert torch.allclose(tracked.grad, formula, atol=1e-7)
print("autograd's gradient equals (softmax - one-hot) / 32 for all 320 scores (allclose, atol 1e-7)")
print(f"image 0 (a {labels[0].item()}), gradient × 32:", [round(g, 3) for g in (32 * formula[0]).tolist()])
#
# ## The guide's loss figures use the wrong logarithm
#
# To show why confident right answers are rewarded, the learning guide says a correct-class
# probability of 0.9 gives a loss of `-log(0.9) = 0.05` and 0.1 gives `-log(0.1) = 1.0`. Compute
# both kinds of logarithm:

# %%
for p in (0.9, 0.1):
    print(f"p = {p}:   -ln p = {-math.log(p):.3f}   -log10 p = {-math.log10(p):.3f}")

# %% [markdown]
# The guide's numbers are base-10 logarithms (0.046, which it rounds to 0.05, and 1.0). Which
# logarithm does PyTorch use? Give `F.cross_entropy` two scores whose softmax is exactly
# [0.9, 0.1] and ask for the loss of each answer:

# %%
two_scores = torch.tensor([[0.9, 0.1]]).log()           # softmax(ln p) = p
print("softmax:", [round(p, 4) for p in F.softmax(two_scores, dim=1)[0].tolist()])
print(f"F.cross_entropy when the right answer got 0.9: {F.cross_entropy(two_scores, torch.tensor([0])).item():.3f}")
print(f"F.cross_entropy when the right answer got 0.1: {F.cross_entropy(two_scores, torch.tensor([1])).item():.3f}")

# %% [markdown]
# **Correction.** PyTorch (like every deep-learning library) uses the natural logarithm:
# $-\ln 0.9 = 0.105$ and $-\ln 0.1 = 2.303$, not 0.05 and 1.0. The guide's point survives (a
# confident right answer costs little, a wrong one costs a lot, in any base), but its numbers
# are 2.303 times too small, so they will not match any loss you see printed while training. The
# guide's own later remark that an untrained network starts near 2.3 only makes sense in natural
# log; measured below.

# %%
p = torch.linspace(0.005, 1, 400)
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(p, -p.log(), label="-ln p (what PyTorch computes)")
ax.plot(p, -p.log10(), "--", label="-log10 p (the guide's numbers)")
for q, ln_offset, log10_offset in ((0.9, (-40, 12), (4, 12)), (0.1, (6, 4), (6, -12))):
    ax.plot(q, -math.log(q), "o", color="tab:blue")
    ax.annotate(f"{-math.log(q):.3f}", (q, -math.log(q)), textcoords="offset points", xytext=ln_offset,
                fontsize=8, color="tab:blue")
    ax.plot(q, -math.log10(q), "o", color="tab:orange")
    ax.annotate(f"{-math.log10(q):.3f}", (q, -math.log10(q)), textcoords="offset points", xytext=log10_offset,
                fontsize=8, color="tab:orange")
ax.set_xlabel("probability given to the correct digit")
ax.set_ylabel("loss for that image")
ax.set_ylim(0, 5)
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The curve is steep near 0: going from 0.01 to 0.1 lowers the loss as much as going from 0.1 to
# 1.0 (both are a factor of 10, and the loss is a logarithm). A network that puts almost no
# probability on the right digit is punished hard.
#
# ## What loss should an untrained network have?
#
# You can predict it before measuring. A network that knows nothing gives each digit about 1/10,
# so each image costs about $-\ln(1/10) = \ln 10$. Now measure, over all 10,000 test images
# (`F.cross_entropy` averages per image):

# %%
with torch.no_grad():
    test_scores = model(test_images)                                   # [10000, 1, 28, 28] -> [10000, 10]
untrained_loss = F.cross_entropy(test_scores, test_labels).item()      # mean over the 10,000 images
print(f"untrained network, average loss over {len(test_labels):,} test images: {untrained_loss:.4f}")
print(f"ln 10 = {math.log(10):.4f}")
test_probs = F.softmax(test_scores, dim=1)
print(f"its probabilities range from {test_probs.min().item():.3f} to {test_probs.max().item():.3f}")

# %% [markdown]
# Close, and a little higher: the untrained probabilities are not exactly 1/10 each (they range
# from 0.05 to 0.13), and a random tilt away from the even split costs more on the digits it
# shortchanges than it saves on the ones it favours. Other seeds give other random networks, all near ln 10:

# %%
for seed in range(1, 5):
    torch.manual_seed(seed)
    with torch.no_grad():
        print(f"seed {seed}: {F.cross_entropy(MLP()(test_images), test_labels).item():.4f}")

# %% [markdown]
# This is a useful first check on any classifier you build: before training, the loss should be
# close to $\ln(\text{number of classes})$. If it starts far above, something is wrong with the
# initial scores or with the loss.
#
# ## Don't apply softmax before F.cross_entropy
#
# The guide warns against `F.cross_entropy(F.softmax(scores), labels)`, and rightly. The
# function applies softmax itself, so giving it probabilities applies softmax **twice**. The second
# softmax sees "scores" that are all between 0 and 1, so its outputs can never be confident:
# even a perfect prediction cannot reach a small loss. Take an image of a 0 whose score for 0
# is far above the rest:

# %%
label = torch.tensor([0])
confident_right = torch.tensor([[10.0, 0, 0, 0, 0, 0, 0, 0, 0, 0]])   # [1, 10]: sure it's a 0, and right
print(f"F.cross_entropy(scores)          = {F.cross_entropy(confident_right, label).item():.4f}")
print(f"F.cross_entropy(softmax(scores)) = {F.cross_entropy(F.softmax(confident_right, dim=1), label).item():.4f}")
# The best the double softmax can do: probabilities exactly [1, 0, ..., 0], softmaxed again.
floor = F.cross_entropy(torch.tensor([[1.0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]), label).item()
print(f"lowest loss reachable with the extra softmax: {floor:.4f}  (= ln(1 + 9/e) = {math.log(1 + 9 / math.e):.4f})")
# The worst it can do: probabilities exactly [0, 1, 0, ..., 0] for an image of a 0.
ceiling = F.cross_entropy(torch.tensor([[0.0, 1, 0, 0, 0, 0, 0, 0, 0, 0]]), label).item()
print(f"highest loss reachable with the extra softmax: {ceiling:.4f}  (= ln(e + 9) = {math.log(math.e + 9):.4f})")

# %% [markdown]
# With the extra softmax the loss can never go below 1.4612, however right the network is, and a
# confidently **wrong** answer can never cost more than 2.4612. Worse, the gradients
# (the signal training follows, chapter 05) shrink. The table compares both ways as the network
# grows more confident, once right and once wrong (a high score on digit 1 for an image of a 0);
# "gradient" is the size (norm) of the loss's gradient with respect to the ten scores.

# %%
print(f"{'high score':>10} | {'right answer: loss, gradient':^34} | {'wrong answer: loss, gradient':^34}")
print(f"{'':>10} | {'correct':^16}  {'extra softmax':^16} | {'correct':^16}  {'extra softmax':^16}")
for s in (1.0, 2.0, 5.0, 10.0):
    row = []
    for digit in (0, 1):                       # where the high score goes: the right digit, then a wrong one
        for extra_softmax in (False, True):
            z = torch.zeros(1, 10)
            z[0, digit] = s
            z.requires_grad_(True)
            loss = F.cross_entropy(F.softmax(z, dim=1) if extra_softmax else z, label)
            loss.backward()
            row.append(f"{loss.item():7.4f} {z.grad.norm().item():8.1e}")
    print(f"{s:10.0f} | {row[0]}  {row[1]} | {row[2]}  {row[3]}")

# %% [markdown]
# Read the "wrong answer" columns: with the correct call, a score of 10 on the wrong digit gives
# a loss of 10 and a strong gradient (1.4) telling the network to fix it. Softmax minus one-hot
# explains the 1.4: the wrong digit has probability almost 1 and the true one almost 0, so the
# gradient is almost $(-1, +1, 0, \dots, 0)$, whose length is $\sqrt{2} = 1.414$; and for a
# confident *right* answer, probabilities and target almost coincide, so the gradient almost
# vanishes (4.3e-04 at a score of 10), as it should. With the extra softmax
# the loss is stuck near 2.46 and the gradient is about ten thousand times weaker (1.2e-04
# against 1.4): the network barely learns from its worst mistakes. The same happens on the real
# batch through the untrained network, measured over all its weights:

# %%
grad_norms = {}
for extra_softmax in (False, True):
    model.zero_grad()
    batch_scores = model(images)                                     # [32, 10]
    loss = F.cross_entropy(F.softmax(batch_scores, dim=1) if extra_softmax else batch_scores, labels)
    loss.backward()
    grad_norm = torch.cat([p.grad.flatten() for p in model.parameters()]).norm().item()
    print(f"{'softmax then F.cross_entropy' if extra_softmax else 'F.cross_entropy on scores  '}: "
          f"loss {loss.item():.4f}, gradient norm {grad_norm:.4f}")
    grad_norms[extra_softmax] = grad_norm
print(f"the extra softmax makes the gradient {grad_norms[False] / grad_norms[True]:.1f} times smaller")
model.zero_grad()

# %% [markdown]
# The loss looks plausible (no error, no warning), but the gradient is an order of magnitude
# smaller, so training with the extra softmax crawls. That silence is what makes this mistake common.
#
# ## Numerical stability: naive softmax overflows
#
# The guide also says combining softmax with the loss "prevents numerical errors". Here is the
# error. A float32 number cannot exceed about $3.4 \times 10^{38} = e^{88.7}$, so
# `exp` of a score above 88.7 is infinite:

# %%
print(f"largest float32: {torch.finfo(torch.float32).max:.3e} = e^{math.log(torch.finfo(torch.float32).max):.1f}")
big = torch.tensor([[100.0, 0.0, -100.0]])                 # [1, 3]: three scores
naive = big.exp() / big.exp().sum(dim=1, keepdim=True)     # exp(100) = inf, inf / inf = nan
print("exp(scores):    ", big.exp()[0].tolist())
print("naive softmax:  ", naive[0].tolist())
print("naive loss if the answer is class 1:", (-naive[0, 1].log()).item())

# %% [markdown]
# The fix is the *log-sum-exp* trick. Subtracting the same number from every score does not change
# the softmax (it cancels between top and bottom), so subtract the largest score $m$ first. Then
# the biggest exponential is $e^0 = 1$ and nothing overflows. For the loss, stay in logs all the
# way: $\ln p_k = z_k - \big(m + \ln \sum_j e^{z_j - m}\big)$, which never takes the log of a
# number that has underflowed to 0.

# %%
m = big.max(dim=1, keepdim=True).values                          # [1, 1]
log_sum_exp = m + (big - m).exp().sum(dim=1, keepdim=True).log()  # [1, 1], the same as torch.logsumexp
log_probs = big - log_sum_exp                                    # [1, 3], the same as F.log_softmax
print("stable softmax:        ", log_probs.exp()[0].tolist())
print("stable loss, class 1:  ", (-log_probs[0, 1]).item())
print("F.cross_entropy, class 1:", F.cross_entropy(big, torch.tensor([1])).item())
print("F.cross_entropy, class 2:", F.cross_entropy(big, torch.tensor([2])).item())
assert torch.equal(log_probs, F.log_softmax(big, dim=1))

# %% [markdown]
# The naive version says `nan` and `inf`; the stable one gives the true losses, 100 and 200
# (a score 100 below the winner costs 100). Notice that even the stable softmax rounds the third
# probability, $e^{-200}$, to 0, yet its log is exactly $-200$: that is why the loss is computed
# from log-probabilities and never from probabilities. `F.cross_entropy` uses this trick internally, which
# is the concrete reason to hand it raw scores: it can only protect you if it sees them.
#
# How large can this network's scores get? Its last layer sees sigmoid outputs between 0 and 1,
# so score $j$ is at most $\sum_k |W_{jk}| + |b_j|$ in size: a bound, but one set by the
# weights, which training is free to grow.

# %%
W3, b3 = model.layer3.weight.detach(), model.layer3.bias.detach()
bound = (W3.abs().sum(dim=1) + b3.abs()).max().item()
print(f"untrained network: every score lies within ±{bound:.2f}; "
      f"the largest over the 10,000 test images is {test_scores.abs().max().item():.2f}")
assert test_scores.abs().max().item() <= bound

# %% [markdown]
# Untrained, the bound is small and overflow is impossible; a trained network's weights are
# larger, and a network without a sigmoid before its last layer (ReLU, chapter 11) has no such
# bound at all. `F.cross_entropy` on raw scores is safe in every case.

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** Soft targets. So far each image had one right answer, a one-hot target. A
# target can also spread its weight over several classes, `targets` `[B, C]` with rows that
# add up to 1 (an image that two people labelled differently, say, or the "label smoothing"
# that gives the true class 0.9 and shares 0.1 among the rest). The loss of one image is then
# $-\sum_k t_k \ln p_k$, which is $-\ln p_y$ again when the target is one-hot. Return it
# averaged over the batch as a 0-dim tensor, safe for any scores, without `F.cross_entropy`,
# `F.log_softmax` or `torch.logsumexp`. The check compares with `F.cross_entropy`, which accepts
# such targets too, on real scores and on huge ones.

# %% tags=["solution"]
def soft_cross_entropy(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Average over the batch of -sum_k targets[k] * ln softmax(scores)[k], computed without overflow.

    Hint: every class now counts, each in proportion to its share of the target, so you need ln p for all the classes at once; get it the way that never forms a probability that could overflow or round to 0.
    Hint 2: the log-sum-exp cell above gives a [B, C] tensor of log-probabilities (max with keepdim=True keeps the shapes lined up); targets has the same shape, and the sum over the classes comes before the mean over the images.
    """
    m = scores.max(dim=1, keepdim=True).values
    log_probs = scores - (m + (scores - m).exp().sum(dim=1, keepdim=True).log())
    return -(targets * log_probs).sum(dim=1).mean()


# %%
smoothed = torch.full((32, 10), 0.1 / 9).scatter(1, labels[:, None], 0.9)       # label smoothing, rows sum to 1
huge = torch.tensor([[1000.0, 0.0, -1000.0], [5.0, 500.0, 1.0]])
huge_targets = torch.tensor([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]])
check_function(soft_cross_entropy, [
    ((scores, smoothed), F.cross_entropy(scores, smoothed)),
    ((scores, F.one_hot(labels, 10).float()), F.cross_entropy(scores, labels)),
    ((huge, huge_targets), F.cross_entropy(huge, huge_targets)),
])

# %% [markdown]
# **Exercise 2.** Turn it around: if one image's loss is `loss`, what probability did the network
# give to the correct digit? (The checks use the numbers of this chapter: 0.105, ln 10, and 0.)

# %% tags=["solution"]
def correct_probability(loss: float) -> float:
    """The correct class's probability p for a single-image cross-entropy loss -ln p.

    Hint: the loss was made from p by two steps, a natural log and a change of sign; undo them in reverse order.
    Hint 2: the function that undoes a natural log is the exponential, math.exp in Python.
    """
    return math.exp(-loss)


# %%
check_function(correct_probability, [((0.10536051565782628,), 0.9), ((math.log(10),), 0.1), ((0.0,), 1.0)])

# %% [markdown]
# **Exercise 3.** With `n_classes` classes, what is the lowest loss `F.cross_entropy` can ever
# return when it is (wrongly) given softmax probabilities instead of scores? For 10 classes you
# measured 1.4612 above.

# %% tags=["solution"]
def double_softmax_floor(n_classes: int) -> float:
    """Lowest possible loss of F.cross_entropy(F.softmax(scores), labels) with n_classes classes.

    Hint: the best the first softmax can hand on is a perfect answer, 1 for the right class and 0 for the others; follow those numbers through the second softmax and the log.
    Hint 2: the second softmax exponentiates the 1 to e and each of the n_classes - 1 zeros to 1; math.log and math.e are all you need.
    """
    return math.log(1 + (n_classes - 1) / math.e)


# %%
check_function(double_softmax_floor, [((10,), 1.4611501717), ((2,), 0.3132616875), ((1000,), 5.9094720863)])

# %% [markdown]
# **Exercise 4 (predict, then run).** The untrained network's average test loss came out a little
# above ln 10 (the figure printed above) because its probabilities tilt a little away from 1/10.
# The next cell multiplies all its 10,000 × 10 test scores by 10: the same ranking on every
# image, the same winning digit, the same accuracy, only the scores ten times further apart.
# Will the average loss be `"higher"`, `"lower"` or `"about the same"` (within 0.05)? Write your
# prediction in the function below **before** you run the experiment cell.

# %% tags=["solution"]
def predicted_scaled_loss() -> str:
    """Your prediction for the average test loss of the untrained scores times 10: "higher", "lower" or "about the same".

    Hint: scaling the scores does not change which digit wins, but it changes how far softmax moves away from 1/10 each; is that tilt right or wrong more often for an untrained network?
    Hint 2: before training, the winning digit is right only about as often as a blind guess; recall from the log curve what happens to -ln p as p falls towards 0 compared with what it gains as p rises towards 1.
    """
    return "higher"


# %%
with torch.no_grad():
    scaled_loss = F.cross_entropy(10 * test_scores, test_labels).item()          # [10000, 10] scores, times 10
print(f"untrained scores:        average loss {untrained_loss:.4f}")
print(f"the same scores × 10:    average loss {scaled_loss:.4f}")
same_winner = torch.equal((10 * test_scores).argmax(dim=1), test_scores.argmax(dim=1))
print("the same winning digit on every image:", same_winner)
# Measured 2.3369 and 3.7700 on both CPU settings (they differ in the last digits at most): a margin
# of 1.4, thousands of times wider than what differs between machines, so the verdict never flips.
assert abs(scaled_loss - untrained_loss) > 0.5
observed = ("about the same" if abs(scaled_loss - untrained_loss) < 0.05
            else "higher" if scaled_loss > untrained_loss else "lower")

# %%
check_function(predicted_scaled_loss, [((), observed)])

# %% [markdown]
# **Exercise 5 (change the experiment).** The rule "an untrained classifier starts near
# ln(number of classes)" was measured above on networks with 10 outputs, seeds 1 to 4. Change
# the number of outputs: build the same untrained network with `n_outputs` scores instead of 10
# (`MLP((784, 16, 16, n_outputs))`, created right after `torch.manual_seed(seed)`), and return its
# average loss over the 10,000 test images (the labels are still the digits 0 to 9, so the extra
# outputs are classes no image belongs to). Does the rule still hold with ln 100 or ln 1000 in
# place of ln 10, or does only the ten real digits' share count?

# %% tags=["solution"]
def untrained_loss_with_outputs(n_outputs: int, seed: int) -> float:
    """Average F.cross_entropy over the test images of an untrained MLP with n_outputs scores, built after seeding.

    Hint: rerun the seeds cell above with one change, the size of the last layer; the loss needs the scores of all n_outputs classes, not only the first ten.
    Hint 2: MLP takes the layer sizes as a tuple; seed with torch.manual_seed before building it, run it on test_images under torch.no_grad(), and return a Python float with .item().
    """
    torch.manual_seed(seed)
    with torch.no_grad():
        return F.cross_entropy(MLP((784, 16, 16, n_outputs))(test_images), test_labels).item()


# %%
def seeded_untrained_loss(n_outputs, seed):
    torch.manual_seed(seed)
    net = MLP((784, 16, 16, n_outputs))
    with torch.no_grad():
        return F.cross_entropy(net(test_images), test_labels).item()


# The same computation on the same machine gives the same float; 1e-4 leaves room for a learner who
# orders the steps differently (float32 rounding moves these losses by under 1e-6).
expected = {(n, seed): seeded_untrained_loss(n, seed) for n, seed in ((100, 0), (1000, 0), (10, 1))}
check_function(untrained_loss_with_outputs, list(expected.items()), tol=1e-4)
for (n, seed), loss in expected.items():
    print(f"{n:5} outputs, seed {seed}: average loss {loss:.3f}   ln {n} = {math.log(n):.3f}")

# %% [markdown]
# The rule holds as "ln of the number of **outputs**": softmax shares the probability among all
# the scores the network produces, whether or not any image belongs to a class, so a fresh
# network with 100 outputs starts near ln 100 (the check printed both), not near ln 10.
#
# Next: **05 · Gradients, backprop and SGD**: how the loss's gradient is computed and used to
# change the weights.
