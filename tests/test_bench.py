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
    args = ["--device", "cpu", "--batches", "2", "--repeat", "2", "--no-recipes", "--out", str(tmp_path)]
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


def test_fast_cnn_has_an_epoch_row_and_a_whole_recipe_of_three_seeds():
    names = [c.name for c in bench.CASES]
    assert any("FastCNN" in n for n in names)
    fast = next(r for r in bench.RECIPES if "FastCNN" in r.name)
    assert fast.seeds == (0, 1, 2) and fast.label_smoothing > 0 and fast.max_shift == 2
    model = fast.make_model()
    assert model.fc.weight.is_contiguous() and model.block1.conv.weight.is_contiguous(memory_format=torch.channels_last)


def test_run_recipe_times_each_seed_and_evaluates_once_at_the_end():
    data = tiny_data(64)
    data.test_images, data.test_labels = data.images[:32], data.labels[:32]
    recipe = bench.Recipe("tiny", lambda: MLP((784, 8, 10)), epochs=2, batch_size=16, label_smoothing=0.1,
                          seeds=(0, 1))
    rows = bench.run_recipe(recipe, data)
    assert [r["seed"] for r in rows] == [0, 1]
    assert all(r["wall_seconds"] > 0 and r["cpu_seconds"] > 0 and r["threads"] == torch.get_num_threads()
               and r["epochs"] == 2 and r["batch_size"] == 16 and 0 <= r["test_accuracy"] <= 1 for r in rows)
    again = bench.run_recipe(recipe, data, seeds=[1])
    assert again[0]["test_accuracy"] == rows[1]["test_accuracy"]  # a seed repeats its run
    assert bench.run_recipe(recipe, tiny_data(64), seeds=[0])[0]["test_accuracy"] is None


def test_main_records_recipes_and_keeps_them_when_they_are_skipped(tmp_path, monkeypatch, capsys):
    threads = torch.get_num_threads()
    tiny = bench.Recipe("tiny recipe", lambda: MLP((784, 8, 10)), epochs=1, batch_size=50, seeds=(0, 1))
    monkeypatch.setattr(bench, "RECIPES", [tiny])
    data = tiny_data()
    data.test_images, data.test_labels = data.images[:40], data.labels[:40]
    args = ["--device", "cpu", "--batches", "1", "--repeat", "1", "--cases", "MLP", "--recipe-threads", "2",
            "--out", str(tmp_path)]
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    assert bench.main(args, data=data) == 0
    assert "tiny recipe" in capsys.readouterr().out and torch.get_num_threads() == 1  # --threads, not the recipes'
    text = (tmp_path / "results.md").read_text()
    assert "| tiny recipe | 0 | 50 | 1 | 2 |" in text and "| tiny recipe | 1 | 50 | 1 | 2 |" in text
    assert "**mean of 2 seeds**" in text and "OMP_WAIT_POLICY=PASSIVE" in text
    monkeypatch.delenv("OMP_WAIT_POLICY")
    assert bench.main(args[:-2] + ["--no-recipes", "--out", str(tmp_path)], data=data) == 0
    kept = (tmp_path / "results.md").read_text()
    assert "| tiny recipe | 1 | 50 | 1 | 2 |" in kept and "OMP_WAIT_POLICY=PASSIVE" in kept  # recorded before
    with pytest.raises(SystemExit):
        bench.main(args + ["--recipes", "no such recipe"], data=data)
    with pytest.raises(SystemExit):
        bench.main(args + ["--recipe-seeds", "one"], data=data)
    torch.set_num_threads(threads)


def test_a_run_of_some_cases_keeps_this_machines_other_rows_with_their_own_date(tmp_path):
    threads = torch.get_num_threads()
    args = ["--device", "cpu", "--batches", "1", "--repeat", "1", "--no-recipes", "--out", str(tmp_path)]
    bench.main(args, data=tiny_data())
    store = tmp_path / "results.json"
    entries = json.loads(store.read_text())
    for row in entries[0]["rows"]:
        row["date"], row["load"] = "2020-01-01", "0.1"           # as if measured long ago
    store.write_text(json.dumps(entries))
    bench.main(args + ["--cases", "FastCNN"], data=tiny_data())
    rows = json.loads(store.read_text())[0]["rows"]
    assert [r["case"] for r in rows] == [c.name for c in bench.CASES for _ in bench.PATHS]  # order of CASES
    assert {r["date"] for r in rows if "FastCNN" not in r["case"]} == {"2020-01-01"}
    assert {r["date"] for r in rows if "FastCNN" in r["case"]} != {"2020-01-01"}
    assert all(r["cpu_seconds_per_epoch"] > 0 for r in rows)
    text = (tmp_path / "results.md").read_text()
    assert "| 2020-01-01, load 0.1 |" in text and "| CPU s / epoch |" in text
    torch.set_num_threads(threads)
