"""tools.runcache: the run cache that `make test` wraps around fit and fit_seeds in its notebook kernels.

An identical repeat is a hit that leaves everything as a real run would; changing any one thing that
determines a run is a miss; without $COURSE_RUN_CACHE nothing is cached; course_utils never imports tools.
"""
import dataclasses
import os
import subprocess
import sys

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_utils import multiseed, training
from course_utils.augment import RandomShift
from course_utils.data import TensorBatches
from tools import runcache
from tools.config import NOTEBOOKS, ROOT

NOTE = "identical run found"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """The run cache installed (as the notebook kernels of `make test` have it), in a fresh folder."""
    monkeypatch.setenv(runcache.CACHE_ENV, str(tmp_path))
    runcache.install()
    yield tmp_path
    runcache.uninstall()


def stored(folder, kind="fit"):
    return sorted(p.name for p in folder.glob(f"{kind}-*.pt"))


def toy_data(n=48, seed=123):
    g = torch.Generator().manual_seed(seed)  # the same images and labels for every run
    return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


IMAGES, LABELS = toy_data()


@dataclasses.dataclass
class Run:
    model: nn.Module
    batches: TensorBatches
    optimizer: torch.optim.Optimizer
    scheduler: object
    augment: RandomShift | None
    history: training.History


def fit_run(*, seed=0, order_seed=0, epochs=2, lr=0.1, momentum=0.5, gamma=0.5, shift=1, shift_seed=0,
            draw_first=False, per_batch=False, adam=False, group_lr=None, warm=False) -> Run:
    """A small training run with every kind of argument: a model with dropout (so the global random
    state matters), shuffled batches, SGD with momentum, a schedule and random shifts."""
    torch.manual_seed(seed)  # the starting weights
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Dropout(0.25), nn.Linear(16, 10))
    if draw_first:
        torch.rand(1)  # moves the global random state (dropout draws from it), not the weights
    batches = TensorBatches(IMAGES, LABELS, 16, generator=torch.Generator().manual_seed(order_seed))
    if adam:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        steps = (epochs + 1) * len(batches)  # room to train on afterwards
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=gamma)
    if group_lr is not None:
        optimizer.param_groups[0]["lr"] = group_lr  # set on the group: the optimizer's defaults still say lr
    if warm:
        for param in model.parameters():  # momentum from earlier training, as a second fit call would have
            optimizer.state[param]["momentum_buffer"] = torch.full_like(param, 0.01)
    augment = RandomShift(shift, torch.Generator().manual_seed(shift_seed))
    history = training.fit(model, batches, optimizer, epochs, scheduler=scheduler, augment=augment,
                           test_batches=TensorBatches(IMAGES[:16], LABELS[:16], 16, shuffle=False),
                           step_scheduler_every_batch=per_batch, progress=False)
    return Run(model, batches, optimizer, scheduler, augment, history)


def results(result) -> dict:
    """A History's or SeedRuns' fields without the timings."""
    return {k: v for k, v in dataclasses.asdict(result).items() if k != "epoch_seconds"}


def after(run: Run) -> dict:
    """Everything a fit call leaves behind."""
    return {"history": results(run.history), "weights": run.model.state_dict(),
            "grads": [p.grad for p in run.model.parameters()], "modes": [m.training for m in run.model.modules()],
            "optimizer": run.optimizer.state_dict(), "scheduler": run.scheduler.state_dict(),
            "batch order": run.batches.generator.get_state(), "shifts": run.augment.generator.get_state(),
            "global rng": torch.get_rng_state()}


def assert_same(a, b, where="") -> None:
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


@pytest.mark.parametrize("settings", [{}, {"adam": True, "per_batch": True}], ids=["SGD, StepLR", "Adam, OneCycleLR"])
def test_a_hit_leaves_everything_as_a_real_run_does(settings, cache, monkeypatch, capsys):
    with monkeypatch.context() as uncached:
        uncached.delenv(runcache.CACHE_ENV)
        real = after(fit_run(**settings))
        real_next = torch.rand(3)  # what the global random state gives next
    first = fit_run(**settings)  # a miss: trained and stored
    assert NOTE not in capsys.readouterr().out and len(stored(cache)) == 1
    assert_same(after(first), real, "miss")
    torch.rand(3)
    second = fit_run(**settings)  # a hit: restored, nothing new stored
    assert capsys.readouterr().out.count(NOTE) == 1 and len(stored(cache)) == 1
    assert_same(after(second), real, "hit")
    assert torch.equal(torch.rand(3), real_next)
    assert not list(cache.glob("*.part"))
    # what follows a restored run is what follows a real one: train both on, uncached
    monkeypatch.delenv(runcache.CACHE_ENV)
    for run in (first, second):
        torch.manual_seed(7)
        run.history = training.fit(run.model, run.batches, run.optimizer, 1, scheduler=run.scheduler,
                                   augment=run.augment, step_scheduler_every_batch=settings.get("per_batch", False),
                                   progress=False)
    assert_same(after(second), after(first), "continued")


CHANGES = {"epochs": {"epochs": 3}, "batch order": {"order_seed": 1}, "starting weights": {"seed": 1},
           "lr": {"lr": 0.05}, "momentum": {"momentum": 0.9}, "lr set on the group": {"group_lr": 0.05},
           "optimizer state": {"warm": True}, "scheduler": {"gamma": 0.1},
           "per-batch schedule": {"per_batch": True},
           "augmentation's generator": {"shift_seed": 1}, "augmentation": {"shift": 2},
           "global random state": {"draw_first": True}}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_fit_misses_when_one_thing_changes(change, cache, capsys):
    first = fit_run()
    assert fit_run().history == first.history and NOTE in capsys.readouterr().out  # identical: a hit
    other = fit_run(**change)  # one thing changed: trained, and stored under a key of its own
    assert NOTE not in capsys.readouterr().out and len(stored(cache)) == 2
    assert other.history.train_loss != first.history.train_loss  # it is indeed another run


def seeds_run(seeds=(0, 1), lr=0.3, epochs=2):
    return multiseed.fit_seeds(list(seeds), IMAGES, LABELS, epochs=epochs, lr=lr, batch_size=16,
                               test_images=IMAGES[:16], test_labels=LABELS[:16], progress=False)


def test_fit_seeds_hit_gives_the_real_result(cache, monkeypatch, capsys):
    with monkeypatch.context() as uncached:
        uncached.delenv(runcache.CACHE_ENV)
        real = seeds_run()
    rng = torch.get_rng_state()
    assert_same(results(seeds_run()), results(real))
    hit = seeds_run()
    assert capsys.readouterr().out.count(NOTE) == 1 and len(stored(cache, "fit_seeds")) == 1
    assert type(hit) is multiseed.SeedRuns and hit.sizes == real.sizes
    assert_same(results(hit), results(real))
    assert torch.equal(torch.get_rng_state(), rng)  # fit_seeds leaves the global random state alone; a hit too


@pytest.mark.parametrize("change", [{"seeds": (0, 2)}, {"lr": 0.1}, {"epochs": 3}], ids=["seeds", "lr", "epochs"])
def test_fit_seeds_misses_when_one_thing_changes(change, cache, capsys):
    first = seeds_run()
    assert seeds_run().train_loss == first.train_loss and NOTE in capsys.readouterr().out
    other = seeds_run(**change)
    assert NOTE not in capsys.readouterr().out and len(stored(cache, "fit_seeds")) == 2
    assert other.train_loss != first.train_loss


def test_nothing_is_cached_without_the_variable(cache, monkeypatch, capsys):
    monkeypatch.delenv(runcache.CACHE_ENV)
    assert hasattr(training.fit, runcache.REAL)  # installed, but the variable is gone
    assert fit_run().history.train_loss == fit_run().history.train_loss
    seeds_run(), seeds_run()
    assert list(cache.iterdir()) == [] and NOTE not in capsys.readouterr().out


def test_a_call_that_cannot_be_fingerprinted_is_not_cached(cache, capsys):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(IMAGES, LABELS), batch_size=16)
    for _ in range(2):
        training.fit(model, loader, optimizer, 1, progress=False)  # a DataLoader: its order is not ours to read
        training.fit(model, iter([(IMAGES, LABELS)]), optimizer, 1, progress=False)  # an iterator would be used up
    assert list(cache.iterdir()) == [] and NOTE not in capsys.readouterr().out
    training.fit(model, [(IMAGES, LABELS)], optimizer, 1, progress=False)  # a list of batches is data: cached
    assert len(stored(cache)) == 1


def test_install_wraps_every_binding_once_and_uninstall_undoes_it():
    real_fit, real_seeds = training.fit, multiseed.fit_seeds
    import course_utils

    try:
        assert sorted(runcache.install()) == ["course_utils.fit", "course_utils.fit_seeds",
                                              "course_utils.multiseed.fit_seeds", "course_utils.training.fit"]
        wrapped = training.fit
        assert runcache.install() == [] and training.fit is wrapped is course_utils.fit  # idempotent
        assert getattr(wrapped, runcache.REAL) is real_fit and wrapped.__wrapped__ is real_fit
        assert course_utils.fit_seeds is multiseed.fit_seeds is not real_seeds
        assert wrapped.__name__ == "fit" and wrapped.__doc__ == real_fit.__doc__
    finally:
        runcache.uninstall()
    assert training.fit is real_fit is course_utils.fit and multiseed.fit_seeds is real_seeds


def test_keys_see_values_and_which_tensor_is_which():
    def key(function, *args, **kwargs):
        import inspect

        bound = inspect.signature(function).bind(*args, **kwargs)
        bound.apply_defaults()  # as the wrappers do
        return runcache.Fingerprint().call(function, bound).key.hexdigest()

    def f(a, b=None):
        pass

    t = torch.arange(6.0)
    assert key(f, t) == key(f, t.clone()) != key(f, t.view(2, 3))
    assert key(f, t) != key(f, t + 1e-6) and key(f, t, t) != key(f, t, t.clone())  # the same tensor twice
    assert key(f, {"x": 1, "y": [1, 2]}) == key(f, {"y": [1, 2], "x": 1}) != key(f, {"x": 1, "y": [2, 1]})
    assert key(f, 1) != key(f, 1.0) != key(f, True) and key(f, 1) == key(f, a=1) == key(f, 1, None)
    assert key(f, lambda x: x + 1) != key(f, lambda x: x + 2)  # same name, other code
    assert key(f, nn.BatchNorm2d(3)) == key(f, nn.BatchNorm2d(3))  # a 0-dim int64 counter among its buffers
    with pytest.raises(runcache.Unfingerprintable):
        key(f, (x for x in range(3)))


def test_course_utils_never_imports_tools():
    # a fresh process in the repository root, where tools could be imported, with $COURSE_RUN_CACHE set as
    # under make test: importing course_utils and every module of it imports nothing of tools
    code = ("import importlib, pkgutil, sys, course_utils; from course_utils import training; "
            "[importlib.import_module(f'course_utils.{m.name}') for m in pkgutil.iter_modules(course_utils.__path__)]; "
            "assert not [m for m in sys.modules if m == 'tools' or m.startswith('tools.')], 'tools imported'; "
            f"assert not hasattr(training.fit, {runcache.REAL!r}); print('ok')")
    env = {**os.environ, runcache.CACHE_ENV: "/nonexistent", "COURSE_REPO_ROOT": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout == "ok\n", out.stderr


STARTUP = ROOT / "tools" / "ipython_startup.py"


def test_the_ipython_startup_file_installs_the_cache_in_a_notebook_kernel(tmp_path):
    """As the Makefile sets it up: an IPYTHONDIR of its own with tools/ipython_startup.py as a startup file,
    $COURSE_RUN_CACHE and $COURSE_REPO_ROOT set, IPython started in the notebooks' folder (as a kernel is)."""
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-course-runcache.py").write_text(STARTUP.read_text())
    env = {**os.environ, "IPYTHONDIR": str(tmp_path / "ipython"), "COURSE_REPO_ROOT": str(ROOT),
           runcache.CACHE_ENV: str(tmp_path / "runs")}
    leftovers = ("_os", "_sys", "_install_course_run_cache", "runcache", "root")
    code = ("import sys; from course_utils.training import fit; import course_utils; "
            f"print(hasattr(fit, {runcache.REAL!r}), course_utils.fit is fit, 'tools' in sys.modules, "
            f"{str(ROOT)!r} in sys.path, [k for k in {leftovers!r} if k in dir()])")
    out = subprocess.run([sys.executable, "-m", "IPython", "--no-banner", "-c", code], cwd=NOTEBOOKS, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    # wrapped, everywhere, by tools.runcache; the repository root is not left on sys.path; no names left behind
    assert out.stdout.strip().endswith("True True True False []"), (out.stdout, out.stderr)
    assert (tmp_path / "ipython" / "profile_default").is_dir()  # IPython's own files go there, not into the repo


def test_the_ipython_startup_file_does_nothing_without_the_variable(monkeypatch):
    monkeypatch.delenv(runcache.CACHE_ENV, raising=False)
    namespace = {}
    exec(compile(STARTUP.read_text(), str(STARTUP), "exec"), namespace)
    assert set(namespace) == {"__builtins__"} and not hasattr(training.fit, runcache.REAL)
