"""`make bench`: seconds per training epoch on this machine, for each case and each data path.

Run as ``python -m tools.bench [--device cpu] [--threads 1] [--batches N] [--cases TEXT]``.
Every case trains its model twice from the same seed: once fed by the learning guide's
``DataLoader`` + ``ToTensor`` pipeline, once by preloaded tensors (``TensorBatches``). Both get the
same batches in the same order, so the maths is the same and the final weights must be identical;
the table says whether they are. Results go to ``bench/results.json`` (every machine measured so
far; a new run replaces only this machine's entry) and ``bench/results.md`` (rendered from it).
Later chapters add rows by appending a ``BenchCase`` to ``CASES``. When the test set is loaded (as
``make bench`` does), each row also gives the test accuracy after its one timed epoch.
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
from course_utils.models import MLP, AdvancedCNN, SimpleCNN
from course_utils.training import evaluate, train_epoch

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


CASES: list[BenchCase] = [
    BenchCase("MLP 784-16-16-10 sigmoid, SGD lr 0.01", MLP),
    BenchCase("SimpleCNN 16-32, Adam lr 0.003", SimpleCNN, batch_size=64, make_optimizer=adam_0003),
    BenchCase("AdvancedCNN channels-last, Adam lr 0.01", advanced_cnn, batch_size=128, make_optimizer=adam_001),
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
        seconds = float("inf")
        for _ in range(repeat):
            torch.manual_seed(seed)
            model = case.make_model().to(device)
            optimizer = case.make_optimizer(model.parameters())
            batches = make_batches(path, data, case.batch_size, seed, device)
            todo = len(batches) if max_batches is None else min(max_batches, len(batches))
            start = time.perf_counter()
            train_epoch(model, itertools.islice(batches, todo), optimizer, device)  # ends with .item(): synced
            seconds = min(seconds, (time.perf_counter() - start) * len(batches) / todo)
        finals.append([p.detach().cpu() for p in model.parameters()])
        accuracy = None
        if data.test_images is not None:
            test = TensorBatches(data.test_images.to(device), data.test_labels.to(device), 1000, shuffle=False)
            accuracy = evaluate(model, test, device)[1]
        rows.append({"case": case.name, "path": path, "batch_size": case.batch_size, "batches_timed": todo,
                     "epoch_batches": len(batches), "repeats": repeat,
                     "seconds_per_epoch": seconds, "images_per_second": len(data.labels) / seconds,
                     "test_accuracy": accuracy})
    same = all(torch.equal(a, b) for a, b in zip(*finals))
    for row in rows:
        row["speedup"] = rows[0]["seconds_per_epoch"] / row["seconds_per_epoch"]
        row["same_weights"] = same
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
                  f"Measured {entry['date']}; fastest of {entry['rows'][0].get('repeats', 1)} runs per row; "
                  f"load average {entry.get('load', 'unknown')} at the start.", "",
                  "| case | data path | batch | s / epoch | images / s | speed-up | same weights | test acc |",
                  "|---|---|--:|--:|--:|--:|---|--:|"]
        for r in entry["rows"]:
            timed = "" if r["batches_timed"] == r["epoch_batches"] else f" (first {r['batches_timed']} batches)"
            accuracy = "–" if r.get("test_accuracy") is None else f"{r['test_accuracy']:.2%}"
            lines.append(f"| {r['case']} | {r['path']}{timed} | {r['batch_size']} | {r['seconds_per_epoch']:.2f} | "
                         f"{r['images_per_second']:,.0f} | {r['speedup']:.1f}x | {'yes' if r['same_weights'] else 'no'} | "
                         f"{accuracy} |")
        lines.append("")
    return "\n".join(lines)


def record(rows: list[dict], machine: dict, out: Path, load: str = "unknown") -> list[dict]:
    """Merge this machine's rows into out/results.json and rewrite out/results.md; returns all entries."""
    out.mkdir(parents=True, exist_ok=True)
    store = out / "results.json"
    results = json.loads(store.read_text()) if store.exists() else []
    results = [e for e in results if e["machine"] != machine]
    results.append({"machine": machine, "date": datetime.date.today().isoformat(), "load": load, "rows": rows})
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
    parser.add_argument("--out", type=Path, default=OUT, help="folder for results.json and results.md")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.repeat < 1 or (args.batches is not None and args.batches < 1):
        parser.error("--threads, --repeat and --batches must be positive")
    cases = [c for c in CASES if args.cases.lower() in c.name.lower()]
    if not cases:
        parser.error(f"no case name contains {args.cases!r}; the cases are: {[c.name for c in CASES]}")
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
    record(rows, machine, args.out, load)
    print(f"wrote {args.out / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
