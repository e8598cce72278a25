"""tools.student: stubs for solution cells, and the student editions in student/."""
import nbformat
import pytest

from tools.config import STUDENT, badge, course_config, notebook_paths
from tools.student import SolutionCellError, student_edition, student_problems, stub_source

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
