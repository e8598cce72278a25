"""tools.grading: the nbgrader edition (solution regions, cell metadata, ungraded demonstrations, configuration) and
the expectations of its round trip. nbgrader itself runs in `make test-nbgrader`, not here."""
import ast
import re
import tomllib

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tools import grading
from tools.config import ROOT, notebook_paths
from tools.student import SolutionCellError

SOLUTION = '''import math


def area(r: float) -> float:
    """Area of a circle.

    Hint: think of pi.
    Hint 2: pi r squared.
    """
    # the formula
    return math.pi * r * r


@staticmethod
def twice(x):
    def inner(y):
        return 2 * y
    return inner(x)
    # done
'''

BADGE = ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
         "(https://colab.research.google.com/github/owner/repo/blob/main/notebooks/99_test.ipynb)")


def chapter(*cells):
    """A small chapter: title with badge, then ``cells``."""
    nb = new_notebook(cells=[new_markdown_cell(f"# 99 · Test\n\n{BADGE}\n\nIntro."), *cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def solution_cell(source=SOLUTION):
    return new_code_cell(source, metadata={"tags": ["solution"]})


def stubbed(source):
    """What nbgrader's ClearSolutions makes of a marked cell: each region replaced by its code stub."""
    return re.sub(r"( *)### BEGIN SOLUTION\n.*?### END SOLUTION", r"\1# YOUR CODE HERE\n\1raise NotImplementedError()",
                  source, flags=re.S)


def test_solution_regions_hide_each_body_and_keep_signature_and_docstring():
    marked = grading.solution_regions(SOLUTION)
    assert marked.count(grading.BEGIN) == 2 and marked.count(grading.END) == 2
    release = stubbed(marked)
    ast.parse(release)
    assert "def area(r: float) -> float:" in release and "Hint 2: pi r squared." in release  # task and hints stay
    assert "math.pi" not in release and "# the formula" not in release  # the answer, its comments included, goes
    assert "inner" not in release and "# done" not in release
    assert "@staticmethod" in release and "import math" in release
    assert "    # YOUR CODE HERE\n    raise NotImplementedError()" in release  # at the body's indentation
    assert grading.without_regions(marked) == SOLUTION.rstrip("\n")


@pytest.mark.parametrize("source, message", [
    ("def f(x): return x\n", "def line"),
    ('def f(x):\n    """Only a docstring."""\n', "no body"),
    ("x = 1\n", "only define functions"),
    ("def f(:\n", "does not parse"),
])
def test_solution_cells_nbgrader_cannot_take_are_refused(source, message):
    with pytest.raises(SolutionCellError, match=message):
        grading.solution_regions(source)


@pytest.mark.parametrize("source, expected", [
    ("check_function(f, cases)", "check_function(f, cases, graded=False)"),
    ("check_value('x', 1, 2, hint='h')", "check_value('x', 1, 2, hint='h', graded=False)"),
    ("exercises.check_function(\n    f,\n    cases,\n)", "exercises.check_function(\n    f,\n    cases,\n graded=False)"),
    ("check_function(f, cases  # a comment, with a comma\n)", "check_function(f, cases  # a comment, with a comma\n, graded=False)"),
    ("s = 'é→'; check_value('é', s, 'é→')", "s = 'é→'; check_value('é', s, 'é→', graded=False)"),
    ("check_function(f, cases, graded=True)", "check_function(f, cases, graded=True)"),
    ("print(check_function(f, [((1,), g(2))]))", "print(check_function(f, [((1,), g(2))], graded=False))"),
    ("%timeit check_function(f, cases)", "%timeit check_function(f, cases)"),
])
def test_checks_outside_exercises_become_ungraded(source, expected):
    assert grading.ungraded(source) == expected


def test_edition_metadata_per_kind_of_cell():
    nb = chapter(new_code_cell("import torch"),
                 new_code_cell("check_function(wrong, [((1,), 2)], hint='a demonstration')"),
                 solution_cell(),
                 new_markdown_cell("Now check it."),
                 new_code_cell("check_function(area, [((1.0,), 3.14159)])", outputs=[{"output_type": "stream",
                                                                                        "name": "stdout", "text": "x"}],
                               execution_count=3),
                 new_code_cell("print('after')"))
    edition = grading.nbgrader_notebook(nb, "99_test.ipynb")
    meta = [cell.metadata["nbgrader"] for cell in edition.cells]
    assert all(m["schema_version"] == 3 for m in meta)
    assert meta[3] == {"grade": False, "solution": True, "locked": False, "grade_id": "answer-area", "schema_version": 3}
    assert meta[5] == {"grade": True, "solution": False, "locked": True, "points": grading.POINTS,
                       "grade_id": "check-area", "schema_version": 3}
    for i in (0, 1, 2, 4, 6):
        assert {k: meta[i][k] for k in ("grade", "solution", "locked")} == {"grade": False, "solution": False,
                                                                          "locked": True}
    assert len({m["grade_id"] for m in meta}) == len(meta) and all(re.fullmatch(r"[\w-]+", m["grade_id"]) for m in meta)
    assert grading.BEGIN in edition.cells[3].source
    assert edition.cells[2].source.endswith("graded=False)") and "graded" not in edition.cells[5].source
    assert edition.cells[5].outputs == [] and edition.cells[5].execution_count is None
    assert "colab" not in edition.cells[0].source and edition.cells[0].source.startswith("# 99 · Test\n\nIntro.")
    assert grading.NOTE in edition.cells[0].source
    assert nb.cells[3].source == SOLUTION  # the notebook itself is left as it is


def test_a_solution_without_a_check_after_it_is_refused():
    with pytest.raises(SolutionCellError, match="no check_function or check_value"):
        grading.nbgrader_notebook(chapter(solution_cell(), solution_cell(SOLUTION.replace("area", "disc")),
                                          new_code_cell("check_function(disc, [((1.0,), 3.14159)])")), "99_test.ipynb")
    with pytest.raises(SolutionCellError, match="no cell tagged"):
        grading.nbgrader_notebook(chapter(new_code_cell("x = 1")), "99_test.ipynb")


def test_write_course_writes_sources_and_config_and_removes_stale_chapters(tmp_path, monkeypatch):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nbformat.write(chapter(solution_cell(), new_code_cell("check_function(area, [((1.0,), 3.14159)])")),
                   folder / "99_test.ipynb")
    monkeypatch.setattr(grading, "notebook_paths", lambda: [folder / "99_test.ipynb"])
    (tmp_path / "course" / "source" / "98_gone").mkdir(parents=True)
    written = grading.write_course(dest=tmp_path / "course")
    assert written == [tmp_path / "course/source/99_test/99_test.ipynb", tmp_path / "course/nbgrader_config.py"]
    assert not (tmp_path / "course" / "source" / "98_gone").exists()
    assert nbformat.read(written[0], as_version=4).cells[1].metadata["nbgrader"]["solution"]


def test_config_turns_grading_mode_on_in_graded_kernels(monkeypatch):
    namespace = {"get_config": lambda: Config()}

    class Config:
        def __getattr__(self, name):
            value = type(name, (), {})()
            setattr(self, name, value)
            return value

    exec(grading.CONFIG, namespace)
    config = namespace["c"]
    assert config.Execute.timeout == grading.CELL_TIMEOUT
    [argument] = config.Execute.extra_arguments
    assert argument.startswith("--IPKernelApp.exec_lines=")
    monkeypatch.delenv("COURSE_GRADING", raising=False)
    exec(argument.split("=", 1)[1], {})  # what the kernel runs before the first cell
    from course_utils.exercises import grading_mode
    assert grading_mode()


def test_every_chapter_has_an_edition_with_a_check_per_exercise():
    for path in notebook_paths():
        edition = grading.nbgrader_notebook(nbformat.read(path, as_version=4), path.name)
        answers = [c for c in edition.cells if c.metadata["nbgrader"]["solution"]]
        tests = [c for c in edition.cells if c.metadata["nbgrader"]["grade"]]
        assert answers and tests and len(tests) <= len(answers), path.name
        for cell in answers:
            ast.parse(stubbed(cell.source))


def result(scores, errors, tests=("check-a", "check-b")):
    """A chapter's round trip with these points per student and raising cells."""
    trip = grading.RoundTrip("99_test", tests=dict.fromkeys(tests, 1.0))
    trip.scores = {s: {"score": sum(cells.values()), "max_score": float(len(tests)), "cells": cells}
                   for s, cells in scores.items()}
    trip.errors = errors
    return trip


GOOD = {"solution": {"check-a": 1.0, "check-b": 1.0}, "release": {"check-a": 0.0, "check-b": 0.0},
        "onesolved": {"check-a": 1.0, "check-b": 0.0}}
GOOD_ERRORS = {"solution": [], "release": ["check-a: AssertionError: ❌ a(1): ...", "check-b: AssertionError: 📝 b ..."],
               "onesolved": ["check-b: AssertionError: 📝 b ..."]}


def test_roundtrip_expectations():
    assert grading.roundtrip_problems(result(GOOD, GOOD_ERRORS), "check-a") == []
    free_points = {**GOOD, "release": {"check-a": 1.0, "check-b": 0.0}}
    assert any("release: check-a scored 1.0" in p for p in grading.roundtrip_problems(
        result(free_points, GOOD_ERRORS), "check-a"))
    broken_cell = {**GOOD_ERRORS, "release": [*GOOD_ERRORS["release"], "cell-12: NameError: name 'x' is not defined"]}
    assert grading.roundtrip_problems(result(GOOD, broken_cell), "check-a") == [
        "release: cell cell-12 raised NameError: name 'x' is not defined"]
    stub_called = {**GOOD_ERRORS, "onesolved": ["check-b: NotImplementedError: "]}
    assert grading.roundtrip_problems(result(GOOD, stub_called), "check-a") == []
    solved_but_raising = {**GOOD_ERRORS, "onesolved": ["check-a: AssertionError: x", "check-b: AssertionError: y"]}
    assert "onesolved: cell check-a raised AssertionError: x" in grading.roundtrip_problems(
        result(GOOD, solved_but_raising), "check-a")
    silent = {**GOOD_ERRORS, "release": ["check-a: AssertionError: x"]}
    assert grading.roundtrip_problems(result(GOOD, silent), "check-a") == ["release: the failing check check-b did not raise"]


def requirement_pins(path):
    """name -> version of the ``name==version`` lines of a requirements file."""
    return {m[1].lower().replace("_", "-"): m[2] for m in re.finditer(r"(?m)^([A-Za-z0-9_.-]+)==([^\s#;]+)",
                                                                      path.read_text())}


def test_nbgrader_is_for_instructors_only():
    instructor = requirement_pins(ROOT / "tools" / "requirements-instructor.txt")
    assert instructor["nbgrader"] == "0.9.6"
    lines = [line for line in (ROOT / "tools" / "requirements-instructor.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert all("==" in line for line in lines), "instructor requirements are exact pins"
    course = requirement_pins(ROOT / "requirements.txt")
    assert not set(instructor) & set(course), "requirements.txt constrains the rest; pin each package in one file"
    for path in (ROOT / "requirements.txt", ROOT / "tools" / "requirements.txt", ROOT / "colab" / "requirements.txt"):
        assert "nbgrader" not in path.read_text().lower(), path
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not any("nbgrader" in d.lower() for d in dependencies)


def test_raising_cells_name_the_cell_the_error_and_its_first_line():
    from nbformat.v4 import new_output

    nb = new_notebook(cells=[
        new_code_cell("check()", metadata={"nbgrader": {"grade_id": "check-a"}},
                      outputs=[new_output("error", ename="AssertionError", evalue="❌ a(1): expected 2\n   Hint: x",
                                          traceback=[])]),
        new_code_cell("print(1)", outputs=[new_output("stream", name="stdout", text="1\n")]),
        new_code_cell("stub()", outputs=[new_output("error", ename="NotImplementedError", evalue="", traceback=[])])])
    assert grading._raising_cells(nb) == ["check-a: AssertionError: ❌ a(1): expected 2", "2: NotImplementedError: "]
