"""Student editions: the same notebooks with exercise solutions replaced by stubs and outputs cleared.

A solution cell carries the tag ``solution`` and defines one or more functions. In the student
edition each function keeps its signature and docstring; its body becomes
``raise NotImplementedError(<hint>)``, where the hint is the docstring's ``Hint:`` line. The checks
in course_utils.exercises report such a stub as "not written yet", so a student edition runs top to
bottom and a stub's NotImplementedError is the only error it can meet.
"""
from __future__ import annotations

import ast
import copy
import re
from pathlib import Path

import nbformat

from course_utils.exercises import hint_from_docstring

from .config import BADGE_RE, STUDENT, badge, course_config, notebook_paths

SOLUTION_TAG, STUB_TAG = "solution", "exercise-stub"
NOTE = ("> **Student edition.** The exercise solutions are replaced by stubs that raise "
        "`NotImplementedError`. Write each function's body, then run the check cell below it.")


class SolutionCellError(ValueError):
    """A solution cell that the student builder cannot turn into a stub."""


def stub_source(source: str, where: str = "solution cell") -> str:
    """Replace the body of every function in ``source`` with a NotImplementedError carrying its hint.

    Raises:
        SolutionCellError: when ``source`` does not parse, or holds more than functions and imports.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise SolutionCellError(f"{where}: the solution does not parse: {err}") from err
    lines = source.splitlines()
    out: list[str] = []
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out += lines[start:node.end_lineno]
            continue
        if not isinstance(node, ast.FunctionDef):
            raise SolutionCellError(f"{where}: solution cells may only define functions (and import); "
                                    f"line {node.lineno} is a {type(node).__name__}")
        body = node.body
        has_doc = isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str)
        keep_until = body[0].end_lineno if has_doc else body[0].lineno - 1
        indent = " " * body[0].col_offset
        message = f"Exercise: write the body of {node.name}(). Hint: {hint_from_docstring(ast.get_docstring(node))}"
        if out:
            out.append("")
            out.append("")
        out += lines[start:keep_until]
        out.append(f"{indent}raise NotImplementedError({message!r})")
    return "\n".join(out)


OPERATIONS = (ast.Call, ast.BinOp, ast.Compare, ast.BoolOp, ast.UnaryOp, ast.Subscript, ast.ListComp,
              ast.GeneratorExp, ast.DictComp, ast.SetComp, ast.IfExp, ast.Lambda)
LEAK_MIN_CHARS = 10       # shorter expressions (n // k, x.T, len(x)) are words a hint may use
LEAK_MIN_OPERATIONS = 2   # naming one function or one operation (torch.zeros, a[1:]) is a hint, not the answer


def _squeeze(text: str) -> str:
    """Text without whitespace, double quotes made single: how expressions are compared with hints."""
    return re.sub(r"\s+", "", text).replace('"', "'")


def _method_chain(node: ast.expr) -> str:
    """The method calls of a chain such as ``(a == b).float().mean()``, without what they are called on
    (".float().mean()"), squeezed; "" when fewer than two methods are chained."""
    base, calls = node, 0
    while isinstance(base, (ast.Call, ast.Attribute)):
        if isinstance(base, ast.Call):
            if not isinstance(base.func, ast.Attribute):
                break
            calls += 1
            base = base.func
        base = base.value
    if calls < LEAK_MIN_OPERATIONS:
        return ""
    whole, start = _squeeze(ast.unparse(node)), _squeeze(ast.unparse(base))
    return whole[whole.index(start) + len(start):].lstrip(")") if start in whole else ""


def solution_leaks(source: str) -> list[str]:
    """Expressions of a solution cell's function bodies that its stub (signature, docstring, hint) still shows.

    Every expression in the body of each function that combines at least ``LEAK_MIN_OPERATIONS`` operations
    (calls, arithmetic, comparisons, indexing, comprehensions) and has at least ``LEAK_MIN_CHARS`` characters
    (whitespace aside) is looked for in the stub's text: a hint that spells out such an expression hands the
    learner the answer. Naming a single function or operation is not counted.

    Returns:
        "function: expression" for each expression found in the stub, in the order of the source.
    """
    stub = _squeeze(stub_source(source))
    leaks: list[str] = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        body = node.body[1:] if ast.get_docstring(node) is not None else node.body
        seen: set[str] = set()
        for statement in body:
            for sub in ast.walk(statement):
                if not isinstance(sub, OPERATIONS) or sum(isinstance(n, OPERATIONS) for n in ast.walk(sub)) \
                        < LEAK_MIN_OPERATIONS:
                    continue
                for text in (_squeeze(ast.unparse(sub)), _method_chain(sub)):
                    if len(text) >= LEAK_MIN_CHARS and text not in seen and text in stub:
                        seen.add(text)
                        leaks.append(f"{node.name}: {text}")
    return leaks


def student_edition(nb: nbformat.NotebookNode, name: str, cfg: dict[str, str]) -> nbformat.NotebookNode:
    """The student edition of notebook ``nb`` (file name ``name``), as a new notebook object.

    Args:
        nb: the full notebook; it is left as it is.
        name: its file name, for the Colab badge and the messages.
        cfg: the course config (``course_config()``), for the badge's link.

    Raises:
        SolutionCellError: when the notebook has no solution cell, or one that cannot become a stub.
    """
    nb = copy.deepcopy(nb)
    stubs = 0
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
            if SOLUTION_TAG in tags:
                cell.source = stub_source(cell.source, f"{name} cell {nb.cells.index(cell)}")
                cell.metadata["tags"] = [STUB_TAG if t == SOLUTION_TAG else t for t in tags]
                stubs += 1
    if not stubs:
        raise SolutionCellError(f"{name} has no cell tagged {SOLUTION_TAG!r}; every chapter ends with exercises")
    first = next(c for c in nb.cells if c.cell_type == "markdown")
    first.source = BADGE_RE.sub(lambda _: badge(f"student/{name}", cfg), first.source) + "\n\n" + NOTE
    nb.metadata.pop("widgets", None)
    return nb


def render_student_editions(names: list[str] | None = None) -> dict[Path, str]:
    """Student editions (all, or those whose name contains one of ``names``) as their exact text on disk."""
    cfg = course_config()
    return {STUDENT / path.name: nbformat.writes(student_edition(nbformat.read(path, as_version=4), path.name, cfg)) + "\n"
            for path in notebook_paths() if not names or any(n in path.stem for n in names)}


def write_student_editions(names: list[str] | None = None) -> list[Path]:
    """Write the student editions; building all of them also removes editions whose notebook is gone."""
    STUDENT.mkdir(exist_ok=True)
    editions = render_student_editions(names)
    for path, text in editions.items():
        path.write_text(text)
    if not names:
        for stale in set(STUDENT.glob("*.ipynb")) - set(editions):
            stale.unlink()
    return sorted(editions)


def student_problems() -> list[str]:
    """Student editions that are missing, stale or left over (compared with a fresh build)."""
    editions = render_student_editions()
    problems = [f"student/{p.name} is missing or out of date (run `make student`)"
                for p, text in editions.items() if not p.exists() or p.read_text() != text]
    problems += [f"student/{p.name} has no notebook in notebooks/ (run `make student`)"
                 for p in sorted(set(STUDENT.glob("*.ipynb")) - set(editions))]
    return problems


