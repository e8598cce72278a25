"""tools.student: stubs for solution cells, and the student editions in student/."""
import nbformat
import pytest

from tools.config import STUDENT, badge, course_config, notebook_paths
from tools.student import SOLUTION_TAG, SolutionCellError, solution_leaks, student_edition, student_problems, stub_source

NOTEBOOKS = notebook_paths()
CFG = course_config()


def test_student_editions_are_current():
    assert student_problems() == []


def test_student_badges_point_at_student_editions():
    for path in NOTEBOOKS:
        nb = nbformat.read(STUDENT / path.name, as_version=4)
        assert badge(f"student/{path.name}", CFG) in nb.cells[0].source


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


def solution_cells():
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and SOLUTION_TAG in cell.metadata.get("tags", []):
                yield path.stem, cell.source


@pytest.mark.parametrize("name", [path.stem for path in NOTEBOOKS])
def test_stubs_contain_no_solution_expressions(name):
    leaks = [leak for stem, source in solution_cells() if stem == name for leak in solution_leaks(source)]
    assert leaks == [], f"{name}: the student stubs (docstrings and hints) spell out the answer: {leaks}"


def test_a_hint_that_spells_out_the_answer_is_found():
    source = '''def accuracy(predictions, labels):
    """Fraction right.

    Hint: compare, then average.
    Hint 2: (predictions == labels).float().mean().item() does it.
    """
    return (predictions == labels).float().mean().item()


def slope(f, x, h):
    """Central difference.

    Hint: f(x + h) - f(x - h) over the distance between the two points.
    """
    return (f(x + h) - f(x - h)) / (2 * h)


def fine(x, k):
    """Top k.

    Hint: torch.topk finds them; ask for the indices, then a list.
    """
    return x.topk(k).indices.tolist()
'''
    leaks = solution_leaks(source)
    assert "accuracy: (predictions==labels).float().mean().item()" in leaks
    assert "accuracy: .float().mean().item()" in leaks
    assert "slope: f(x+h)-f(x-h)" in leaks
    assert not any(leak.startswith("fine") for leak in leaks)
