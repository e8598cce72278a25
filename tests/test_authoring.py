"""The course's own files: Colab badges and setup cells, jupytext pairs, student editions, sizes."""
import nbformat
import pytest

from course_utils import authoring
from course_utils.student import SolutionCellError, student_edition, student_problems, stub_source

NOTEBOOKS = authoring.notebook_paths()
CFG = authoring.course_config()


def test_there_are_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(len(NOTEBOOKS))]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_badge_and_setup_cell_match_the_slug(path):
    nb = nbformat.read(path, as_version=4)
    assert authoring.colab_problems(nb, f"notebooks/{path.name}", CFG) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_jupytext_pair_in_sync(path):
    assert authoring.pair_problems(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_small_and_ends_with_exercises(path):
    assert path.stat().st_size < 1_000_000
    nb = nbformat.read(path, as_version=4)
    assert sum("solution" in c.metadata.get("tags", []) for c in nb.cells) >= 2
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_student_editions_are_current():
    assert student_problems() == []


def test_student_badges_point_at_student_editions():
    for path in NOTEBOOKS:
        nb = nbformat.read(authoring.STUDENT / path.name, as_version=4)
        assert authoring.badge(f"student/{path.name}", CFG) in nb.cells[0].source


def test_readme_badges_match_the_slug_and_exist():
    assert authoring.readme_problems(CFG) == []
    text = (authoring.ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        assert authoring.badge(f"notebooks/{path.name}", CFG).split("](", 1)[1] in text


def test_badge_links_are_rewritten():
    text = "[x](https://colab.research.google.com/github/old/repo/blob/dev/notebooks/01_data.ipynb)"
    assert authoring.fix_badge_links(text, {"repository": "new/name", "branch": "main"}) == \
        "[x](https://colab.research.google.com/github/new/name/blob/main/notebooks/01_data.ipynb)"


def test_wrong_slug_is_detected():
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    other = {"repository": "someone/else", "branch": "main"}
    problems = authoring.colab_problems(nb, f"notebooks/{NOTEBOOKS[0].name}", other)
    assert any("badge" in p for p in problems) and any("setup" in p for p in problems)
    authoring.apply_colab(nb, f"notebooks/{NOTEBOOKS[0].name}", other)
    assert authoring.colab_problems(nb, f"notebooks/{NOTEBOOKS[0].name}", other) == []


def test_setup_cell_does_nothing_outside_colab():
    namespace = {}
    exec(authoring.setup_source(CFG), namespace)  # would pip install only if google.colab were imported
    assert "git+https://github.com/" + CFG["repository"] in authoring.setup_source(CFG)


SOLUTION = '''import math


@staticmethod
def area(r: float) -> float:
    """Area of a circle.

    Hint: pi r squared.
    """
    return math.pi * r ** 2


def plain(x):
    return x + 1'''


def test_stub_keeps_signature_docstring_and_hint():
    stub = stub_source(SOLUTION)
    assert "return" not in stub and "import math" in stub
    assert "@staticmethod\ndef area(r: float) -> float:" in stub and "Hint: pi r squared." in stub
    assert "raise NotImplementedError('Exercise: write the body of area(). Hint: pi r squared.')" in stub
    assert "def plain(x):\n    raise NotImplementedError" in stub
    namespace = {}
    exec(stub.replace("@staticmethod\n", ""), namespace)
    with pytest.raises(NotImplementedError, match="pi r squared"):
        namespace["area"](1.0)


@pytest.mark.parametrize("bad", ["answer = 42", "def f(:\n  pass", "for i in range(3):\n    pass"])
def test_solution_cells_must_define_functions(bad):
    with pytest.raises(SolutionCellError):
        stub_source(bad)


def test_student_edition_clears_outputs_and_needs_exercises():
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    student = student_edition(nb, NOTEBOOKS[0].name, CFG)
    assert all(not c.outputs and c.execution_count is None for c in student.cells if c.cell_type == "code")
    assert "Student edition" in student.cells[0].source
    for cell in nb.cells:
        cell.metadata["tags"] = []
    with pytest.raises(SolutionCellError, match="no cell tagged"):
        student_edition(nb, "x.ipynb", CFG)


def test_refresh_keeps_cell_ids_of_unchanged_and_edited_cells():
    v4 = nbformat.v4
    old = v4.new_notebook(cells=[v4.new_markdown_cell("# Title"), v4.new_code_cell("x = 1"),
                                 v4.new_code_cell("print(x)"), v4.new_markdown_cell("The end.")])
    new = v4.new_notebook(cells=[v4.new_markdown_cell("# Title"), v4.new_code_cell("x = 2"),  # edited
                                 v4.new_code_cell("y = 3"),  # inserted
                                 v4.new_code_cell("print(x)"), v4.new_markdown_cell("The end.")])
    authoring.keep_cell_ids(old, new)
    ids = [c.id for c in new.cells]
    assert ids[0] == old.cells[0].id and ids[3] == old.cells[2].id and ids[4] == old.cells[3].id
    assert ids[1] == old.cells[1].id  # same place, same type: the edited cell keeps its id
    assert len(set(ids)) == len(ids)  # and the inserted one gets an id of its own
