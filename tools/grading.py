"""The nbgrader edition of the course: every chapter as an nbgrader assignment, and a round trip that grades it.

Run as ``python -m tools.grading COMMAND`` from the repository root (the Makefile does):

- ``write [NAME ...]``: write the nbgrader course into build/nbgrader/ (`make nbgrader`): for each chapter
  ``source/NN_x/NN_x.ipynb`` and the course's ``nbgrader_config.py``
- ``table [--write]``: the table of every chapter's exercises (functions, what they return, points), printed or
  written into INSTRUCTORS.md (`make student` does)
- ``test [NAME ...] --nbgrader PATH``: for each chapter, in a temporary course folder with its own sqlite
  gradebook, run nbgrader itself: ``generate_assignment``, then ``autograde`` three submissions made from the
  release notebook (every exercise solved, none solved, only the first solved) and check the points and that no
  cell other than a failing check raised (`make test-nbgrader`)

The edition is made from the notebooks (never from student/). Each cell tagged ``solution`` becomes an
autograded answer: the body of each of its functions sits between ``### BEGIN SOLUTION`` and ``### END
SOLUTION``, which nbgrader replaces by a stub, while signatures and docstrings (the task and its hints) stay.
The first code cell after it that calls ``check_function`` or ``check_value`` becomes a locked autograder test
cell worth POINTS. Every other cell is read-only, and a check in one of them (a demonstration of what a failing
check prints) gets ``graded=False``. The configuration turns the checks' grading mode on (``COURSE_GRADING=1``)
in every kernel nbgrader starts, so a failed check raises AssertionError and its test cell scores zero.
"""
from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from .config import BADGE_RE, BUILD, ROOT, notebook_paths
from .student import SOLUTION_TAG, SolutionCellError

COURSE = BUILD / "nbgrader"
INSTRUCTORS = ROOT / "INSTRUCTORS.md"
TABLE_START = "<!-- exercise table: written by `make student` from the notebooks -->"
TABLE_END = "<!-- end of the exercise table -->"
CHECKS = ("check_function", "check_value")
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
POINTS = 1  # per exercise (per check cell); an instructor can change them in the source notebooks
SCHEMA = 3  # nbgrader's cell metadata schema version
CELL_TIMEOUT = 1800  # seconds a cell may run under nbgrader (its default, 30 s, is shorter than a training cell)
GRADING_KERNEL = "__import__('os').environ.__setitem__('COURSE_GRADING', '1')"  # run by each graded kernel first
NOTE = ("> **Graded edition.** Write the body of each exercise's function where it says `# YOUR CODE HERE` "
        "(replace the `raise NotImplementedError()` line), then run the check cell under it: the checks are "
        "the tests your points come from. The other cells are read-only.")
# Longest chapters first, so that two parallel jobs end close together (measured by `make test-nbgrader`).
SLOWEST_FIRST = ("dense_vs_cnn", "experiments", "evaluation", "ml_engineering", "training", "backprop_by_hand",
                 "overfitting", "data")
STUDENTS = ("solution", "release", "onesolved")  # every exercise solved, none, the first only

CONFIG = f'''"""nbgrader configuration of the course (written by `make nbgrader`; INSTRUCTORS.md says how to use it)."""
c = get_config()  # noqa: F821 (nbgrader defines get_config when it reads this file)

# Grading mode of the course's checks: in every kernel nbgrader starts to autograde (or validate) a notebook,
# COURSE_GRADING=1 is set before the first cell, so a failed check raises AssertionError with its feedback and
# its test cell scores zero. Without it a failed check only prints, and nbgrader would give it full points.
c.Execute.extra_arguments = ["--IPKernelApp.exec_lines={GRADING_KERNEL}"]

# The training cells of the longer chapters take minutes on a CPU; nbgrader's default limit is 30 s per cell.
c.Execute.timeout = {CELL_TIMEOUT}
'''


# ---------------------------------------------------------------------------------------------------------------
# The edition


def solution_regions(source: str, where: str = "solution cell") -> str:
    """``source`` with the body of each function between BEGIN and END SOLUTION lines; signature and docstring stay.

    Comments between the docstring and the first statement, and comments right after the last one, are part of the
    body (they may give the answer away).

    Args:
        source: a solution cell: functions and imports.
        where: names the cell in errors.
    Raises:
        SolutionCellError: when ``source`` does not parse, holds more than functions and imports, or has a function
            without a body to hide (only a docstring, or its body on the ``def`` line).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise SolutionCellError(f"{where}: the solution does not parse: {err}") from err
    lines = source.splitlines()
    regions: list[tuple[int, int, str]] = []  # (first line, last line, indent), 0-based, inclusive
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            raise SolutionCellError(f"{where}: solution cells may only define functions (and import); "
                                    f"line {node.lineno} is a {type(node).__name__}")
        body = node.body
        has_doc = (isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant)
                   and isinstance(body[0].value.value, str))
        statements = body[1:] if has_doc else body
        if not statements:
            raise SolutionCellError(f"{where}: {node.name}() has no body to hide, only a docstring")
        first = _first_line(statements[0])
        if first <= node.lineno - 1:
            raise SolutionCellError(f"{where}: {node.name}() has its body on the def line; put it on its own lines")
        indent = " " * statements[0].col_offset
        start = body[0].end_lineno if has_doc else first
        if not has_doc:
            while start > node.lineno and _is_comment(lines[start - 1], indent):
                start -= 1
        end = statements[-1].end_lineno - 1
        while end + 1 < len(lines) and _is_comment(lines[end + 1], indent):
            end += 1
        regions.append((start, end, indent))
    out = list(lines)
    for start, end, indent in reversed(regions):
        out[end + 1:end + 1] = [indent + END]
        out[start:start] = [indent + BEGIN]
    return "\n".join(out)


def without_regions(source: str) -> str:
    """A marked solution as a learner would write it: ``source`` without its BEGIN and END SOLUTION lines."""
    return "\n".join(line for line in source.split("\n") if line.strip() not in (BEGIN, END))


def check_calls(source: str) -> list[ast.Call]:
    """The calls of ``check_function`` or ``check_value`` in ``source`` (plain or as ``exercises.check_...``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # an IPython magic or shell line: no Python to read, and no check
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call) and _called_name(node) in CHECKS]


def ungraded(source: str) -> str:
    """``source`` with ``graded=False`` added to every check call that does not say ``graded=`` already."""
    lines = source.split("\n")
    inserts = []
    for call in check_calls(source):
        if any(keyword.arg == "graded" for keyword in call.keywords):
            continue
        row, col = call.end_lineno - 1, _column(lines[call.end_lineno - 1], call.end_col_offset) - 1  # at ")"
        items = [*call.args, *call.keywords]
        if not items:
            text = "graded=False"
        else:
            last = max(items, key=lambda item: (item.end_lineno, item.end_col_offset))
            between = _segment(lines, (last.end_lineno - 1, _column(lines[last.end_lineno - 1], last.end_col_offset)),
                               (row, col))
            text = " graded=False" if "," in re.sub(r"#[^\n]*", "", between) else ", graded=False"
        inserts.append((row, col, text))
    for row, col, text in sorted(inserts, reverse=True):
        lines[row] = lines[row][:col] + text + lines[row][col:]
    return "\n".join(lines)


def nbgrader_notebook(nb: NotebookNode, name: str) -> NotebookNode:
    """The nbgrader source notebook of chapter ``nb`` (file name ``name``), as a new notebook object.

    Solution cells become autograded answers, the check cell under each a locked test cell worth POINTS, every
    other cell read-only. Outputs are cleared; the Colab badge (which opens the notebook with its solutions)
    gives way to a note on how the graded edition works.

    Raises:
        SolutionCellError: when the notebook has no solution cell, a solution cell nbgrader cannot take, or a
            solution cell without a check cell after it.
    """
    nb = copy.deepcopy(nb)
    cells = nb.cells
    solutions = [i for i, cell in enumerate(cells) if cell.cell_type == "code"
                 and SOLUTION_TAG in cell.metadata.get("tags", [])]
    if not solutions:
        raise SolutionCellError(f"{name} has no cell tagged {SOLUTION_TAG!r}; every chapter ends with exercises")
    tests: dict[int, str] = {}  # cell index -> the exercise it checks (the first function of its solution cell)
    for k, i in enumerate(solutions):
        ends = solutions[k + 1] if k + 1 < len(solutions) else len(cells)
        check = next((j for j in range(i + 1, ends) if cells[j].cell_type == "code" and check_calls(cells[j].source)),
                     None)
        if check is None:
            raise SolutionCellError(f"{name} cell {i}: no check_function or check_value call follows this solution "
                                    "cell before the next one, so nbgrader would have nothing to grade it with")
        tests.setdefault(check, _exercise_name(cells[i].source))
    for i, cell in enumerate(cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
        if i in solutions:
            cell.source = solution_regions(cell.source, f"{name} cell {i}")
            meta = {"grade": False, "solution": True, "locked": False,
                    "grade_id": f"answer-{_exercise_name(cell.source)}"}
        elif i in tests:
            meta = {"grade": True, "solution": False, "locked": True, "points": POINTS, "grade_id": f"check-{tests[i]}"}
        else:
            if cell.cell_type == "code":
                cell.source = ungraded(cell.source)
            meta = {"grade": False, "solution": False, "locked": True, "grade_id": f"cell-{cell.get('id') or i}"}
        cell.metadata["nbgrader"] = {**meta, "schema_version": SCHEMA}
    first = next(c for c in cells if c.cell_type == "markdown")
    first.source = re.sub(r"\n{3,}", "\n\n", BADGE_RE.sub("", first.source)).strip() + "\n\n" + NOTE
    nb.metadata.pop("widgets", None)
    return nb


def write_course(names: list[str] | None = None, dest: Path = COURSE) -> list[Path]:
    """Write the nbgrader course: ``source/NN_x/NN_x.ipynb`` per chapter and ``nbgrader_config.py``.

    Args:
        names: chapters whose name contains one of these; all by default (then chapters that are gone are removed).
        dest: the course folder.
    Returns:
        The files written.
    """
    written = []
    chapters = [p for p in notebook_paths() if not names or any(n in p.stem for n in names)]
    for path in chapters:
        folder = dest / "source" / path.stem
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / path.name
        nbformat.write(nbgrader_notebook(nbformat.read(path, as_version=4), path.name), target)
        written.append(target)
    if not names and (dest / "source").exists():
        for stale in sorted(set((dest / "source").iterdir()) - {p.parent for p in written}):
            shutil.rmtree(stale)
    (dest / "nbgrader_config.py").write_text(CONFIG)
    return written + [dest / "nbgrader_config.py"]


def exercise_table(paths: list[Path] | None = None) -> str:
    """A markdown table of the chapters' exercises: each function with the first paragraph of its docstring, and points.

    Args:
        paths: the chapters; by default every notebook in notebooks/.
    """
    rows = ["| # | chapter | exercises: the function the learner writes, and what it returns | points |",
            "|---|---|---|--:|"]
    for path in paths if paths is not None else notebook_paths():
        nb = nbformat.read(path, as_version=4)
        title = next(c for c in nb.cells if c.cell_type == "markdown").source.splitlines()[0]
        title = re.sub(r"^#+\s*\d+\s*·\s*", "", title)
        edition = nbgrader_notebook(nb, path.name)
        exercises = []
        for cell in nb.cells:
            if cell.cell_type == "code" and SOLUTION_TAG in cell.metadata.get("tags", []):
                for node in ast.parse(cell.source).body:
                    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        summary = " ".join((ast.get_docstring(node) or "").strip().split("\n\n")[0].split())
                        exercises.append(f"`{node.name}`: {summary}" if summary else f"`{node.name}`")
        points = sum(c.metadata["nbgrader"].get("points", 0) for c in edition.cells if c.metadata["nbgrader"]["grade"])
        cells = [path.stem.split("_")[0], title, "<br>".join(exercises), f"{points:g}"]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows)


def _called_name(call: ast.Call) -> str:
    """The name a call calls: ``f`` for ``f(...)``, ``g`` for ``module.g(...)``, else ""."""
    if isinstance(call.func, ast.Name):
        return call.func.id
    return call.func.attr if isinstance(call.func, ast.Attribute) else ""


def _exercise_name(source: str) -> str:
    """The name of the first function a solution cell defines (its exercise's name in grade ids)."""
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return node.name
    raise SolutionCellError(f"a solution cell defines no function:\n{source}")


def _first_line(node: ast.stmt) -> int:
    """The 0-based first line of a statement, its decorators included."""
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1


def _is_comment(line: str, indent: str) -> bool:
    """Whether ``line`` is a comment indented at least as deep as a body at ``indent``."""
    return line.strip().startswith("#") and len(line) - len(line.lstrip()) >= len(indent)


def _column(line: str, offset: int) -> int:
    """The character index in ``line`` of ``ast``'s column ``offset`` (which counts UTF-8 bytes)."""
    return len(line.encode()[:offset].decode())


def _segment(lines: list[str], start: tuple[int, int], end: tuple[int, int]) -> str:
    """The text from (row, column) ``start`` to ``end`` (0-based, end excluded) of ``lines``."""
    if start[0] == end[0]:
        return lines[start[0]][start[1]:end[1]]
    return "\n".join([lines[start[0]][start[1]:], *lines[start[0] + 1:end[0]], lines[end[0]][:end[1]]])


# ---------------------------------------------------------------------------------------------------------------
# The round trip through nbgrader

GRADEBOOK = """
import json, sys
from nbgrader.api import Gradebook
url, assignment, notebook = sys.argv[1:4]
scores = {}
with Gradebook(url) as gb:
    for student in sys.argv[4:]:
        nb = gb.find_submission_notebook(notebook, assignment, student)
        scores[student] = {"score": nb.score, "max_score": nb.max_score,
                           "cells": {g.name: g.auto_score for g in nb.grades if g.cell_type == "code"}}
print(json.dumps(scores))
"""


@dataclass
class RoundTrip:
    """What nbgrader did with one chapter: points per submission, cells that raised, the problems found."""

    chapter: str
    tests: dict[str, float] = field(default_factory=dict)  # grade id of each test cell -> its points
    scores: dict[str, dict] = field(default_factory=dict)  # student -> {"score", "max_score", "cells"}
    errors: dict[str, list[str]] = field(default_factory=dict)  # student -> "grade_id: ename: message" per raising cell
    seconds: dict[str, float] = field(default_factory=dict)  # step -> seconds
    problems: list[str] = field(default_factory=list)
    log: Path | None = None

    def row(self) -> str:
        """One line of the summary table: points and seconds of each step, then ok or FAILED."""
        points = [f"{self.scores[s]['score']:g}/{self.scores[s]['max_score']:g}" if s in self.scores else "-"
                  for s in STUDENTS]
        seconds = [f"{self.seconds[s]:.0f}" if s in self.seconds else "-" for s in ("generate_assignment", "autograde")]
        return (f"  {self.chapter:<24} {len(self.tests):>3}  {points[0]:>8} {points[1]:>8} {points[2]:>9}  "
                f"{seconds[0]:>8} {seconds[1]:>9}  {'ok' if not self.problems else 'FAILED'}")


HEADER = (f"  {'':<24} {'':>3}  {'points of each submission':<27}  {'seconds':^18}\n"
          f"  {'chapter':<24} {'ex':>3}  {'solution':>8} {'release':>8} {'onesolved':>9}  {'generate':>8} {'autograde':>9}")


def run_roundtrip(source: Path, config: Path, nbgrader: Path, workdir: Path) -> RoundTrip:
    """Grade one chapter's nbgrader source notebook with nbgrader, in a course folder of its own under ``workdir``.

    Args:
        source: ``source/NN_x/NN_x.ipynb`` as ``write_course`` wrote it.
        config: the course's ``nbgrader_config.py``.
        nbgrader: the nbgrader command (its folder's ``python`` reads the gradebook).
        workdir: an empty temporary folder; the course folder and its sqlite gradebook go in there.
    Returns:
        The round trip; its ``problems`` are empty when every expectation held.
    """
    stem = source.stem
    result = RoundTrip(stem)
    course = workdir / stem
    (course / "source" / stem).mkdir(parents=True)
    shutil.copy(source, course / "source" / stem / source.name)
    shutil.copy(config, course / "nbgrader_config.py")
    result.log = course / "nbgrader.log"
    db = f"sqlite:///{course / 'gradebook.db'}"
    # nbgrader runs alembic (its gradebook's migrations) from PATH: its own environment's bin/ goes first
    # (and the kernels read MNIST from the course's data folder, not from a new one in each submission's folder)
    env = {"COURSE_DATA_DIR": str(ROOT / "data"), **os.environ,
           "PATH": os.pathsep.join([str(nbgrader.parent), os.environ.get("PATH", "")])}

    def nbgrader_run(step: str, *args: str) -> bool:
        start = time.perf_counter()
        with open(result.log, "a") as log:
            log.write(f"\n$ nbgrader {' '.join(args)}\n")
            log.flush()
            done = subprocess.run([str(nbgrader), *args, f"--CourseDirectory.db_url={db}"], cwd=course, stdout=log,
                                  stderr=subprocess.STDOUT, env=env, check=False)
        result.seconds[step] = time.perf_counter() - start
        with open(result.log, "a") as log:
            log.write(f"({step}: {result.seconds[step]:.1f} s)\n")
        if done.returncode:
            result.problems.append(f"`nbgrader {' '.join(args)}` exited with {done.returncode} (see {result.log})")
        return not done.returncode

    if not nbgrader_run("generate_assignment", "generate_assignment", stem, "--force"):
        return result
    marked = nbformat.read(source, as_version=4)
    release = nbformat.read(course / "release" / stem / source.name, as_version=4)
    answers = {c.metadata.nbgrader["grade_id"]: without_regions(c.source) for c in marked.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    result.tests = {c.metadata.nbgrader["grade_id"]: float(c.metadata.nbgrader["points"]) for c in marked.cells
                    if c.metadata.get("nbgrader", {}).get("grade")}
    first = next(iter(answers))
    solved = {"solution": set(answers), "release": set(), "onesolved": {first}}
    for student in STUDENTS:
        submission = copy.deepcopy(release)
        for cell in submission.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in solved[student]:
                cell.source = answers[grade_id]
        folder = course / "submitted" / student / stem
        folder.mkdir(parents=True)
        nbformat.write(submission, folder / source.name)
    nbgrader_run("autograde", "autograde", stem, "--force")  # the three, one after the other
    python = nbgrader.parent / "python"
    done = subprocess.run([str(python), "-c", GRADEBOOK, db, stem, stem, *STUDENTS], capture_output=True, text=True,
                          env=env, check=False)
    if done.returncode:
        result.problems.append(f"reading the gradebook failed: {done.stderr.strip()[-2000:]}")
        return result
    result.scores = json.loads(done.stdout)
    for student in STUDENTS:
        graded = course / "autograded" / student / stem / source.name
        if graded.exists():
            result.errors[student] = _raising_cells(nbformat.read(graded, as_version=4))
    result.problems += roundtrip_problems(result, f"check-{_exercise_name(answers[first])}")
    return result


def roundtrip_problems(result: RoundTrip, first_test: str) -> list[str]:
    """What is wrong with a chapter's round trip: points other than expected, or a cell that raised where none may.

    Expected: every test cell full points for "solution", no points for "release", only ``first_test`` (the check
    of the first exercise) for "onesolved"; no cell raises in "solution"; in the other two only the test cells of
    unsolved exercises raise (the AssertionError of a failed check in grading mode, or whatever a stub called in
    the cell itself raises), and each of them does.
    """
    problems = []
    full = {grade_id: points for grade_id, points in result.tests.items()}
    expected = {"solution": full, "release": dict.fromkeys(full, 0.0),
                "onesolved": {g: (p if g == first_test else 0.0) for g, p in full.items()}}
    for student in STUDENTS:
        if student not in result.scores:
            problems.append(f"{student}: no grades in the gradebook")
            continue
        cells = result.scores[student]["cells"]
        for grade_id, points in expected[student].items():
            if cells.get(grade_id) != points:
                problems.append(f"{student}: {grade_id} scored {cells.get(grade_id)}, expected {points:g}")
        if result.scores[student]["score"] != sum(expected[student].values()):
            problems.append(f"{student}: {result.scores[student]['score']:g} points, expected "
                            f"{sum(expected[student].values()):g}")
        failing = {g for g, p in expected[student].items() if p == 0}
        for error in result.errors.get(student, []):
            grade_id, raised = error.split(": ", 1)
            if grade_id not in failing:
                problems.append(f"{student}: cell {grade_id} raised {raised}")
        raised = {e.split(": ", 1)[0] for e in result.errors.get(student, [])}
        problems += [f"{student}: the failing check {g} did not raise" for g in sorted(failing - raised)]
    return problems


def _raising_cells(nb: NotebookNode) -> list[str]:
    """ "grade_id: ename: message" (the message's first line) for every cell of an executed notebook with an error."""
    return [f"{cell.metadata.get('nbgrader', {}).get('grade_id', i)}: {output.ename}: "
            f"{(output.get('evalue') or '').splitlines()[0][:200] if output.get('evalue') else ''}"
            for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for output in cell.get("outputs", []) if output.output_type == "error"]


def chapter_order(paths: list[Path]) -> list[Path]:
    """The chapters, slowest first (SLOWEST_FIRST), then the rest in chapter order."""
    def rank(path: Path) -> tuple[int, str]:
        name = path.stem.split("_", 1)[-1]
        return (SLOWEST_FIRST.index(name) if name in SLOWEST_FIRST else len(SLOWEST_FIRST), path.stem)
    return sorted(paths, key=rank)


# ---------------------------------------------------------------------------------------------------------------
# Commands


def cmd_write(args: argparse.Namespace) -> int:
    """`make nbgrader`: write the nbgrader course into build/nbgrader/."""
    for path in write_course(args.names or None):
        print(f"wrote {path.relative_to(ROOT)}")
    print(f"nbgrader course in {COURSE.relative_to(ROOT)}/: run nbgrader there (INSTRUCTORS.md)")
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    """`make test-nbgrader`: the round trip through nbgrader for every chapter (or the named ones); 1 if any fails."""
    nbgrader = Path(args.nbgrader).resolve()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nbgrader-course-") as tmp:
        if args.keep:
            tmp = str(Path(args.keep).resolve())
            Path(tmp).mkdir(parents=True)
        sources = write_course(args.names or None, Path(tmp) / "course")
        config, notebooks = sources[-1], chapter_order([p for p in sources if p.suffix == ".ipynb"])
        print(f"test-nbgrader: {len(notebooks)} chapters, {args.jobs} at a time, nbgrader {nbgrader}\n{HEADER}",
              flush=True)

        def one(path: Path) -> RoundTrip:
            result = run_roundtrip(path, config, nbgrader, Path(tmp))
            print(result.row(), flush=True)
            return result

        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(one, notebooks))
        failed = [r for r in results if r.problems]
        for result in failed:
            print(f"\n{result.chapter}:")
            for problem in result.problems:
                print(f"  FAIL {problem}")
            if result.log and result.log.exists():
                print(f"  last lines of the nbgrader log:\n{_tail(result.log.read_text(), 40)}")
    print("\n" + HEADER)
    for result in sorted(results, key=lambda r: r.chapter):
        print(result.row())
    print(f"nbgrader round trip of {len(results)} chapters in {time.perf_counter() - start:.0f} s")
    print(f"test-nbgrader: {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def cmd_table(args: argparse.Namespace) -> int:
    """Print the table of every chapter's exercises, or with --write put it into INSTRUCTORS.md."""
    table = exercise_table()
    if not args.write:
        print(table)
        return 0
    text = INSTRUCTORS.read_text()
    start, end = text.find(TABLE_START), text.find(TABLE_END)
    if start < 0 or end < start:
        raise SystemExit(f"{INSTRUCTORS.name} lacks the lines {TABLE_START} and {TABLE_END} around the table")
    new = text[:start + len(TABLE_START)] + "\n" + table + "\n" + text[end:]
    if new != text:
        INSTRUCTORS.write_text(new)
        print(f"wrote the exercise table into {INSTRUCTORS.name}")
    return 0


def _tail(text: str, lines: int) -> str:
    """The last ``lines`` lines of ``text``, indented."""
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


def main(argv: list[str] | None = None) -> int:
    """The command line: ``python -m tools.grading COMMAND``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m tools.grading", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    write = sub.add_parser("write")
    write.add_argument("names", nargs="*", help="notebook names (or parts of them); default all")
    test = sub.add_parser("test")
    test.add_argument("names", nargs="*", help="notebook names (or parts of them); default all")
    test.add_argument("--nbgrader", required=True, help="the nbgrader command (e.g. .venv-instructor/bin/nbgrader)")
    test.add_argument("--keep", metavar="FOLDER", help="grade in this new folder and keep it (the graded notebooks, "
                      "gradebooks and nbgrader logs), instead of a temporary one")
    test.add_argument("--jobs", type=int, default=2, help="chapters graded at the same time (default 2)")
    table = sub.add_parser("table")
    table.add_argument("--write", action="store_true", help=f"put it into {INSTRUCTORS.name} (between its markers)")
    args = parser.parse_args(argv)
    return globals()[f"cmd_{args.command}"](args)


if __name__ == "__main__":
    sys.exit(main())
