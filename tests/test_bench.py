import json

import pytest
import torch
from torch.utils.data import TensorDataset

from tools import bench
from course_utils.models import MLP


def tiny_data(n=200):
    g = torch.Generator().manual_seed(0)
    images = torch.rand(n, 1, 28, 28, generator=g)
    labels = torch.randint(0, 10, (n,), generator=g)
    return bench.BenchData(TensorDataset(images, labels), images, labels)


def test_both_paths_deal_the_same_batches_in_the_same_order():
    data = tiny_data(50)
    seen = [torch.cat([y for _, y in bench.make_batches(path, data, 8, seed=3, device=torch.device("cpu"))])
            for path in bench.PATHS]
    assert torch.equal(seen[0], seen[1]) and not torch.equal(seen[0], data.labels)
    with pytest.raises(ValueError, match="unknown data path"):
        bench.make_batches("magic", data, 8, 0, torch.device("cpu"))


def test_run_case_times_both_paths_and_checks_the_maths():
    rows = bench.run_case(bench.BenchCase("tiny MLP", lambda: MLP((784, 8, 10)), batch_size=16), tiny_data())
    assert [r["path"] for r in rows] == list(bench.PATHS)
    assert all(r["same_weights"] for r in rows) and rows[0]["speedup"] == 1.0
    assert all(r["seconds_per_epoch"] > 0 and r["batches_timed"] == r["epoch_batches"] == 13 for r in rows)
    partial = bench.run_case(bench.CASES[0], tiny_data(), max_batches=3)
    assert all(r["batches_timed"] == 3 and r["same_weights"] for r in partial)


def test_main_writes_the_table_and_replaces_only_this_machines_entry(tmp_path, capsys):
    threads = torch.get_num_threads()
    args = ["--device", "cpu", "--batches", "2", "--repeat", "2", "--out", str(tmp_path)]
    assert bench.main(args, data=tiny_data()) == 0
    assert bench.main(args, data=tiny_data()) == 0          # same machine: replaced, not added
    assert len(json.loads((tmp_path / "results.json").read_text())) == 1
    bench.main(args + ["--threads", "2"], data=tiny_data())  # another setting: a second section
    entries = json.loads((tmp_path / "results.json").read_text())
    assert len(entries) == 2 and {e["machine"]["threads"] for e in entries} == {1, 2}
    text = (tmp_path / "results.md").read_text()
    assert "| case | data path |" in text and "preloaded tensors (first 2 batches)" in text
    assert "MLP 784-16-16-10" in text and "CPUs" in text and "torch " in text and "fastest of 2 runs" in text
    assert "wrote" in capsys.readouterr().out
    torch.set_num_threads(threads)


def test_main_rejects_an_unknown_case(tmp_path):
    with pytest.raises(SystemExit):
        bench.main(["--cases", "no such network", "--out", str(tmp_path)], data=tiny_data())


def test_cnn_cases_are_benchmarked_with_test_accuracy():
    from course_utils.models import SimpleCNN

    names = [c.name for c in bench.CASES]
    assert any("SimpleCNN" in n for n in names) and any("AdvancedCNN" in n for n in names)
    data = tiny_data(64)
    data.test_images, data.test_labels = data.images[:32], data.labels[:32]
    case = bench.BenchCase("tiny CNN", lambda: SimpleCNN((2, 4)), batch_size=16, make_optimizer=bench.adam_0003)
    rows = bench.run_case(case, data)
    assert all(r["same_weights"] and 0.0 <= r["test_accuracy"] <= 1.0 for r in rows)
    assert rows[0]["test_accuracy"] == rows[1]["test_accuracy"]  # same weights, same accuracy
    text = bench.render([{"machine": bench.describe_machine(torch.device("cpu")), "date": "today", "rows": rows}])
    assert "| test acc |" in text and f"| {rows[0]['test_accuracy']:.2%} |" in text
    assert "| – |" in bench.render([{"machine": bench.describe_machine(torch.device("cpu")), "date": "today",
                                     "rows": bench.run_case(case, tiny_data(64))}])
