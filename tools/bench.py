"""`make bench`: seconds per training epoch on this machine, for each case and each data path.

Run as ``python -m tools.bench [--device cpu] [--threads 1] [--batches N] [--cases TEXT]``.
Every case trains its model twice from the same seed: once fed by the learning guide's
``DataLoader`` + ``ToTensor`` pipeline, once by preloaded tensors (``TensorBatches``). Both get the
same batches in the same order, so the maths is the same and the final weights must be identical;
the table says whether they are. Results go to ``bench/results.json`` (every machine measured so
far; a new run replaces only the rows of this machine and of the cases it ran) and ``bench/results.md``
(rendered from it).
Later chapters add rows by appending a ``BenchCase`` to ``CASES``. When the test set is loaded (as
``make bench`` does), each row also gives the test accuracy after its one timed epoch.

A second table times whole training recipes (``RECIPES``: chapter 09's fast CNN, and the advanced CNN's
eight-epoch recipe it replaced) from start to test accuracy, one seed per row, on ``--recipe-threads``
threads (default: every core, one process). Each row gives the wall-clock seconds and the process's CPU
seconds; on a machine shared with other jobs the wall clock is inflated, and the CPU seconds divided by
the threads approximate what a quiet machine's wall clock would show (run with ``OMP_WAIT_POLICY=PASSIVE``
there, so that threads waiting for each other do not spin and count as busy).
"""
from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, RandomSampler

from course_utils.data import TensorBatches, mnist_dataset, mnist_tensors
from course_utils.env import pick_device
from course_utils.augment import RandomShift
from course_utils.models import MLP, AdvancedCNN, FastCNN, SimpleCNN
from course_utils.training import evaluate, fit, train_epoch

from .config import ROOT

OUT = ROOT / "bench"
PATHS = ("DataLoader + ToTensor", "preloaded tensors")


def sgd_001(params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    """The guide's optimizer: plain SGD, learning rate 0.01."""
    return torch.optim.SGD(params, lr=0.01)


@dataclass(frozen=True)
class BenchCase:
    """One row pair of the table: a model (built fresh for each path), its optimizer and batch size."""

    name: str
    make_model: Callable[[], nn.Module]
    batch_size: int = 32
    make_optimizer: Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer] = sgd_001


def adam_0003(params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    """Adam at learning rate 0.003 (chapter 09's simple CNN, without its schedule)."""
    return torch.optim.Adam(params, lr=0.003)


def adam_001(params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    """Adam at learning rate 0.01 (chapter 09's advanced CNN, without its schedule)."""
    return torch.optim.Adam(params, lr=0.01)


def advanced_cnn() -> nn.Module:
    """AdvancedCNN in the channels-last memory layout, as chapter 09 trains it."""
    return AdvancedCNN().to(memory_format=torch.channels_last)


def fast_cnn() -> nn.Module:
    """FastCNN in the channels-last memory layout, as chapter 09 trains it."""
    return FastCNN().to(memory_format=torch.channels_last)


CASES: list[BenchCase] = [
    BenchCase("MLP 784-16-16-10 sigmoid, SGD lr 0.01", MLP),
    BenchCase("SimpleCNN 16-32, Adam lr 0.003", SimpleCNN, batch_size=64, make_optimizer=adam_0003),
    BenchCase("AdvancedCNN channels-last, Adam lr 0.01", advanced_cnn, batch_size=128, make_optimizer=adam_001),
    BenchCase("FastCNN channels-last, Adam lr 0.01", fast_cnn, batch_size=256, make_optimizer=adam_001),
]


@dataclass(frozen=True)
class Recipe:
    """A whole training run: Adam with a one-cycle schedule (stepped every batch) and random shifts, from a seed.

    Attributes:
        name: the row's label.
        make_model: builds the model (called after ``torch.manual_seed(seed)``).
        epochs, batch_size, lr: the schedule's length, the batch size and its peak learning rate.
        label_smoothing: passed to ``nn.CrossEntropyLoss``.
        max_shift: ``RandomShift``'s largest shift in pixels (0: no augmentation).
        seeds: one run per seed.
    """

    name: str
    make_model: Callable[[], nn.Module]
    epochs: int
    batch_size: int = 128
    lr: float = 0.01
    label_smoothing: float = 0.0
    max_shift: int = 2
    seeds: tuple[int, ...] = (0, 1, 2)


RECIPES: list[Recipe] = [
    Recipe("FastCNN, 5 epochs, label smoothing 0.1 (chapter 09)", fast_cnn, epochs=5, batch_size=256,
           label_smoothing=0.1),
    Recipe("AdvancedCNN, 8 epochs (chapter 09 before FastCNN)", advanced_cnn, epochs=8, seeds=(0,)),
]


@dataclass
class BenchData:
    """The training set twice: as a map-style dataset (images converted one by one) and as two tensors.

    Optionally also the test set as tensors, for the accuracy after the timed epoch.
    """

    dataset: Dataset
    images: torch.Tensor
    labels: torch.Tensor
    test_images: torch.Tensor | None = None
    test_labels: torch.Tensor | None = None


def load_data() -> BenchData:
    """MNIST's 60,000 training images (torchvision's dataset with ToTensor, and mnist_tensors) + the test set."""
    return BenchData(mnist_dataset(train=True), *mnist_tensors(train=True), *mnist_tensors(train=False))


def make_batches(path: str, data: BenchData, batch_size: int, seed: int,
                 device: torch.device) -> DataLoader | TensorBatches:
    """The batches of one data path; both draw the order torch.randperm(N, generator seeded with seed).

    Args:
        path: one of PATHS.
        device: where TensorBatches keeps the tensors (a DataLoader's batches stay on the CPU).
    """
    if path == PATHS[0]:
        sampler = RandomSampler(data.dataset, generator=torch.Generator().manual_seed(seed))
        return DataLoader(data.dataset, batch_size=batch_size, sampler=sampler)
    if path == PATHS[1]:
        return TensorBatches(data.images.to(device), data.labels.to(device), batch_size,
                             generator=torch.Generator().manual_seed(seed))
    raise ValueError(f"unknown data path {path!r}; expected one of {PATHS}")


def run_case(case: BenchCase, data: BenchData, device: torch.device | str = "cpu", max_batches: int | None = None,
             seed: int = 0, repeat: int = 1) -> list[dict]:
    """Time one epoch (or its first ``max_batches`` batches, scaled to an epoch) of ``case`` on each path.

    Each path runs ``repeat`` times from the same start and keeps its fastest time, which is the least
    disturbed by whatever else the machine is doing.

    Returns:
        One row per data path: timings, test accuracy (None without a test set), the speed-up over the
        first path, and whether both paths ended with identical weights.
    """
    device = torch.device(device)
    rows, finals = [], []
    for path in PATHS:
        seconds = cpu_seconds = float("inf")
        for _ in range(repeat):
            torch.manual_seed(seed)
            model = case.make_model().to(device)
            optimizer = case.make_optimizer(model.parameters())
            batches = make_batches(path, data, case.batch_size, seed, device)
            todo = len(batches) if max_batches is None else min(max_batches, len(batches))
            start, start_cpu = time.perf_counter(), time.process_time()
            train_epoch(model, itertools.islice(batches, todo), optimizer, device)  # ends with .item(): synced
            seconds = min(seconds, (time.perf_counter() - start) * len(batches) / todo)
            cpu_seconds = min(cpu_seconds, (time.process_time() - start_cpu) * len(batches) / todo)
        finals.append([p.detach().cpu() for p in model.parameters()])
        accuracy = None
        if data.test_images is not None:
            test = TensorBatches(data.test_images.to(device), data.test_labels.to(device), 1000, shuffle=False)
            accuracy = evaluate(model, test, device)[1]
        rows.append({"case": case.name, "path": path, "batch_size": case.batch_size, "batches_timed": todo,
                     "epoch_batches": len(batches), "repeats": repeat,
                     "seconds_per_epoch": seconds, "cpu_seconds_per_epoch": cpu_seconds,
                     "images_per_second": len(data.labels) / seconds, "test_accuracy": accuracy})
    same = all(torch.equal(a, b) for a, b in zip(*finals))
    for row in rows:
        row["speedup"] = rows[0]["seconds_per_epoch"] / row["seconds_per_epoch"]
        row["same_weights"] = same
    return rows


def run_recipe(recipe: Recipe, data: BenchData, device: torch.device | str = "cpu",
               seeds: Iterable[int] | None = None) -> list[dict]:
    """Train ``recipe`` once per seed from scratch and measure each run up to its test accuracy.

    Only the training is timed (``fit`` without a test set); the test set is evaluated once at the end.

    Args:
        seeds: the seeds to run (default: the recipe's own).

    Returns:
        One row per seed: wall-clock and CPU seconds of the training, the threads it ran on, test accuracy
        (None without a test set).
    """
    device = torch.device(device)
    rows = []
    for seed in recipe.seeds if seeds is None else seeds:
        torch.manual_seed(seed)
        model = recipe.make_model().to(device)
        batches = TensorBatches(data.images.to(device), data.labels.to(device), recipe.batch_size,
                                generator=torch.Generator().manual_seed(seed))
        optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=recipe.lr,
                                                       total_steps=recipe.epochs * len(batches))
        shift = RandomShift(recipe.max_shift, generator=torch.Generator().manual_seed(seed))
        wall, cpu = time.perf_counter(), time.process_time()
        fit(model, batches, optimizer, recipe.epochs, device, scheduler=schedule, step_scheduler_every_batch=True,
            loss_fn=nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing), augment=shift, progress=False,
            amp=device.type == "cuda")
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        accuracy = None
        if data.test_images is not None:
            test = TensorBatches(data.test_images.to(device), data.test_labels.to(device), 1000, shuffle=False)
            accuracy = evaluate(model, test, device)[1]
        rows.append({"recipe": recipe.name, "seed": seed, "epochs": recipe.epochs, "batch_size": recipe.batch_size,
                     "threads": torch.get_num_threads(), "wall_seconds": wall, "cpu_seconds": cpu,
                     "test_accuracy": accuracy})
    return rows


def describe_machine(device: torch.device) -> dict:
    """CPU model and count, PyTorch threads and version, and the device, as strings and ints."""
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else device.type
    return {"cpu": cpu or "unknown CPU", "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version(), "device": name}


def render(results: list[dict]) -> str:
    """The markdown page: one section per machine, one row per (case, data path)."""
    lines = ["# Benchmarks: one training epoch, by data path", "",
             "Written by `make bench` (`python -m tools.bench`); run it to add or refresh this machine.",
             "Each case trains the same model from the same seed on the same batches in the same order, once",
             "through the guide's `DataLoader` + `ToTensor` and once from preloaded tensors (`TensorBatches`).",
             "*Same weights* says whether both runs ended with bit-identical parameters (same maths).",
             "*Test acc* is the accuracy on the 10,000 test images after that one epoch (no schedule).", ""]
    for entry in results:
        m = entry["machine"]
        lines += [f"## {m['device']} · {m['cpu']} ({m['cpu_count']} CPUs, {m['threads']} PyTorch "
                  f"thread{'s' if m['threads'] != 1 else ''}) · torch {m['torch']} · Python {m['python']}", "",
                  f"Each row is the fastest of {entry['rows'][0].get('repeats', 1)} runs. *Measured*: the day of "
                  "the row's run and the load average when it started (other jobs inflate the wall clock; "
                  "*CPU s / epoch*, the process's CPU time, much less so on one thread).", "",
                  "| case | data path | batch | s / epoch | CPU s / epoch | images / s | speed-up | same weights | "
                  "test acc | measured |",
                  "|---|---|--:|--:|--:|--:|--:|---|--:|---|"]
        for r in entry["rows"]:
            timed = "" if r["batches_timed"] == r["epoch_batches"] else f" (first {r['batches_timed']} batches)"
            accuracy = "–" if r.get("test_accuracy") is None else f"{r['test_accuracy']:.2%}"
            cpu = "–" if r.get("cpu_seconds_per_epoch") is None else f"{r['cpu_seconds_per_epoch']:.2f}"
            measured = f"{r.get('date', entry['date'])}, load {r.get('load', entry.get('load', 'unknown'))}"
            lines.append(f"| {r['case']} | {r['path']}{timed} | {r['batch_size']} | {r['seconds_per_epoch']:.2f} | "
                         f"{cpu} | {r['images_per_second']:,.0f} | {r['speedup']:.1f}x | "
                         f"{'yes' if r['same_weights'] else 'no'} | {accuracy} | {measured} |")
        lines.append("")
        if entry.get("recipes"):
            lines += render_recipes(entry["recipes"], entry.get("omp_wait_policy"))
    return "\n".join(lines)


def render_recipes(rows: list[dict], omp_wait_policy: str | None = None) -> list[str]:
    """The lines of the whole-recipe table: one row per seed, then each recipe's mean."""
    policy = f" with OMP_WAIT_POLICY={omp_wait_policy}" if omp_wait_policy else ""
    lines = [f"Whole training runs, one process{policy}: training time (the test set is evaluated once, after it; "
             "not timed). *CPU s / threads* approximates the wall clock of a quiet machine.", "",
             "| recipe | seed | batch | epochs | threads | wall s | CPU s | CPU s / threads | test acc |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for name in dict.fromkeys(r["recipe"] for r in rows):
        runs = [r for r in rows if r["recipe"] == name]
        for r in runs:
            accuracy = "–" if r.get("test_accuracy") is None else f"{r['test_accuracy']:.2%}"
            lines.append(f"| {name} | {r['seed']} | {r['batch_size']} | {r['epochs']} | {r['threads']} | "
                         f"{r['wall_seconds']:.1f} | {r['cpu_seconds']:.1f} | {r['cpu_seconds'] / r['threads']:.1f} | "
                         f"{accuracy} |")
        if len(runs) > 1:
            mean = lambda key: sum(r[key] for r in runs) / len(runs)  # noqa: E731
            accuracies = [r["test_accuracy"] for r in runs if r.get("test_accuracy") is not None]
            accuracy = f"{sum(accuracies) / len(accuracies):.2%}" if len(accuracies) == len(runs) else "–"
            per_thread = sum(r["cpu_seconds"] / r["threads"] for r in runs) / len(runs)
            lines.append(f"| **mean of {len(runs)} seeds** | | | | | {mean('wall_seconds'):.1f} | "
                         f"{mean('cpu_seconds'):.1f} | {per_thread:.1f} | **{accuracy}** |")
    lines.append("")
    return lines


def record(rows: list[dict], machine: dict, out: Path, load: str = "unknown",
           recipes: list[dict] | None = None) -> list[dict]:
    """Merge this machine's rows into out/results.json and rewrite out/results.md; returns all entries.

    Rows replace this machine's earlier rows of the same cases; its rows of cases not run this time are kept,
    with the day and load of their own run.

    Args:
        recipes: the whole-recipe rows (``run_recipe``); None keeps those recorded before for this machine.
    """
    out.mkdir(parents=True, exist_ok=True)
    store = out / "results.json"
    results = json.loads(store.read_text()) if store.exists() else []
    before = next((e for e in results if e["machine"] == machine), {})
    results = [e for e in results if e["machine"] != machine]
    today = datetime.date.today().isoformat()
    rows = [{**row, "date": today, "load": load} for row in rows]
    run = {row["case"] for row in rows}
    kept = [{"date": before["date"], "load": before.get("load", "unknown"), **row}
            for row in before.get("rows", []) if row["case"] not in run]  # cases this run did not measure
    order = {case.name: i for i, case in enumerate(CASES)}
    rows = sorted(kept + rows, key=lambda row: order.get(row["case"], len(order)))  # stable: paths stay in order
    entry = {"machine": machine, "date": today, "load": load, "rows": rows}
    if recipes is None and before.get("recipes"):
        recipes = before["recipes"]
        entry["omp_wait_policy"] = before.get("omp_wait_policy")
    elif recipes:
        entry["omp_wait_policy"] = os.environ.get("OMP_WAIT_POLICY")
    if recipes:
        entry["recipes"] = recipes
    results.append(entry)
    store.write_text(json.dumps(results, indent=1) + "\n")
    (out / "results.md").write_text(render(results))
    return results


def main(argv: list[str] | None = None, data: BenchData | None = None) -> int:
    """``python -m tools.bench``: measure, print a line per row, and record them in bench/.

    Args:
        argv: the command line (by default the process's own arguments).
        data: the data to train on; by default MNIST via ``load_data`` (the tests pass a small set).

    Returns:
        The exit status, 0.
    """
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best available)")
    parser.add_argument("--threads", type=int, default=1,
                        help="PyTorch CPU threads (default 1, as the notebooks use for small networks)")
    parser.add_argument("--batches", type=int, default=None, help="time only the first N batches of each epoch")
    parser.add_argument("--repeat", type=int, default=3, help="runs per path; the fastest is kept (default 3)")
    parser.add_argument("--cases", default="", help="only cases whose name contains this text")
    parser.add_argument("--recipes", default="", help="only whole-training recipes whose name contains this text")
    parser.add_argument("--no-recipes", action="store_true",
                        help="skip the whole-training recipes (and keep this machine's recorded ones)")
    parser.add_argument("--recipe-threads", type=int, default=os.cpu_count() or 1,
                        help="PyTorch CPU threads for the recipes (default: every core)")
    parser.add_argument("--recipe-seeds", default=None,
                        help="comma-separated seeds for every recipe (default: each recipe's own)")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for results.json and results.md")
    args = parser.parse_args(argv)
    if min(args.threads, args.repeat, args.recipe_threads) < 1 or (args.batches is not None and args.batches < 1):
        parser.error("--threads, --recipe-threads, --repeat and --batches must be positive")
    cases = [c for c in CASES if args.cases.lower() in c.name.lower()]
    if not cases:
        parser.error(f"no case name contains {args.cases!r}; the cases are: {[c.name for c in CASES]}")
    recipes = [] if args.no_recipes else [r for r in RECIPES if args.recipes.lower() in r.name.lower()]
    if not args.no_recipes and not recipes:
        parser.error(f"no recipe name contains {args.recipes!r}; the recipes are: {[r.name for r in RECIPES]}")
    try:
        seeds = None if args.recipe_seeds is None else [int(x) for x in args.recipe_seeds.split(",")]
    except ValueError:
        parser.error(f"--recipe-seeds takes whole numbers separated by commas, e.g. 0,1,2; got {args.recipe_seeds!r}")
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    data = data if data is not None else load_data()
    machine = describe_machine(device)
    load = f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "unknown"
    print(f"benchmarking on {machine['device']} ({machine['cpu']}, {machine['threads']} thread(s))", flush=True)
    rows = []
    for case in cases:
        for row in run_case(case, data, device, args.batches, repeat=args.repeat):
            rows.append(row)
            print(f"  {row['case']:<40} {row['path']:<22} {row['seconds_per_epoch']:7.2f} s/epoch "
                  f"{row['speedup']:5.1f}x", flush=True)
    recipe_rows = None
    if recipes:
        recipe_rows = []
        torch.set_num_threads(args.recipe_threads)
        for recipe in recipes:
            for row in run_recipe(recipe, data, device, seeds):
                recipe_rows.append(row)
                accuracy = "" if row["test_accuracy"] is None else f", test acc {row['test_accuracy']:.2%}"
                print(f"  {row['recipe']:<52} seed {row['seed']}: {row['wall_seconds']:6.1f} s wall, "
                      f"{row['cpu_seconds']:6.1f} s CPU on {row['threads']} thread(s){accuracy}", flush=True)
        torch.set_num_threads(args.threads)
    record(rows, machine, args.out, load, recipe_rows)
    print(f"wrote {args.out / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
