"""Course maintenance: Colab badges and setup cells, jupytext pairs, executing notebooks.

Run as ``python -m tools.authoring COMMAND`` from the repository root (the Makefile does):

- ``colab``: rewrite every "Open in Colab" badge, Colab setup cell and GPU request from ``[tool.course]`` in
  pyproject.toml, pinning the setup cells to the last commit that changed course_utils (tools/colab_setup.py)
- ``student [NAME ...]``: write the student editions into student/
- ``check``: fail if a badge, a setup cell (or its pinned commit), a GPU request, a jupytext pair or a student
  edition is out of date
- ``course``: execute every notebook into build/ (executed .ipynb and HTML) and print the times
- ``refresh [NAME ...]``: re-execute notebooks in place, refreshing their committed outputs and .py pairs
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from jupytext.config import JupytextConfiguration, load_jupytext_configuration_file
from nbclient import NotebookClient
from nbconvert import HTMLExporter
from nbformat import NotebookNode

from .colab_setup import (WORKFLOW, PinUnknown, apply_gpu, chapter_name, gpu_chapters, gpu_problems, package_commit,
                          pinned_commit, setup_source, uncommitted_package_changes)
from .config import BADGE_RE, BUILD, NOTEBOOKS, ROOT, badge, course_config, notebook_paths
from .student import student_problems, write_student_editions

SETUP_TAG = "colab-setup"
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def apply_colab(nb: NotebookNode, relpath: str, cfg: dict[str, str], commit: str,
                chapters: list[str] | None = None) -> None:
    """Rewrite the badge, the setup cell and the GPU request of ``nb`` in place.

    Args:
        nb: the notebook.
        relpath: its path from the repository root, for the badge and the chapter's name.
        cfg: the course config (``course_config()``).
        commit: the commit the setup cell installs course_utils from (``package_commit()``).
        chapters: the chapters that ask Colab for a GPU; default ``[tool.course] gpu_chapters``.
    """
    first = next(c for c in nb.cells if c.cell_type == "markdown")
    first.source = BADGE_RE.sub(lambda _: badge(relpath, cfg), first.source)
    for cell in nb.cells:
        if SETUP_TAG in cell.metadata.get("tags", []):
            cell.source = setup_source(cfg, commit)
    apply_gpu(nb, relpath, gpu_chapters() if chapters is None else chapters)


def colab_problems(nb: NotebookNode, relpath: str, cfg: dict[str, str], commit: str | None,
                   chapters: list[str] | None = None) -> list[str]:
    """What is out of date: the badge, the setup cell (its text and the commit it pins), the GPU request.

    Args:
        nb: the notebook.
        relpath: its path from the repository root.
        cfg: the course config (``course_config()``).
        commit: the commit the setup cell must pin (``package_commit()``); None when this checkout cannot tell
            (a shallow clone): then the cell is checked with the commit it pins, and the pin is not verified.
        chapters: the chapters that ask Colab for a GPU; default ``[tool.course] gpu_chapters``.
    """
    problems = []
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    if not markdown or badge(relpath, cfg) not in markdown[0].source:
        problems.append(f"{relpath}: the first markdown cell lacks the badge {badge(relpath, cfg)}")
    if len(BADGE_RE.findall("\n".join(c.source for c in markdown))) != 1:
        problems.append(f"{relpath}: expected exactly one Colab badge")
    setup = [c for c in nb.cells if SETUP_TAG in c.metadata.get("tags", [])]
    pinned = pinned_commit(setup[0].source) if len(setup) == 1 else None
    if commit is not None and pinned is not None and pinned != commit:
        problems.append(f"{relpath}: its setup cell installs course_utils at {pinned[:12]}, but the last "
                        f"commit that changed course_utils/ or pyproject.toml is {commit[:12]}. Run `make colab` "
                        f"and commit the notebooks; {WORKFLOW}")
    elif len(setup) != 1 or pinned is None or setup[0].source != setup_source(cfg, commit or pinned):
        problems.append(f"{relpath}: needs exactly one cell tagged {SETUP_TAG!r} equal to the generated setup cell "
                        "(run `make colab`)")
    elif nb.cells.index(setup[0]) > 2:
        problems.append(f"{relpath}: the setup cell must come right after the title")
    return problems + gpu_problems(nb, relpath, gpu_chapters() if chapters is None else chapters)


def fix_badge_links(text: str, cfg: dict[str, str]) -> str:
    """Point every Colab badge in ``text`` (README, markdown) at the configured repository and branch."""
    link = re.compile(r"(https://colab\.research\.google\.com/github/)[^/\s]+/[^/\s]+/blob/[^/\s]+/")
    return link.sub(lambda m: f"{m.group(1)}{cfg['repository']}/blob/{cfg['branch']}/", text)


def readme_problems(cfg: dict[str, str]) -> list[str]:
    """README badges that name another repository or a notebook that does not exist."""
    text = (ROOT / "README.md").read_text()
    problems = [] if fix_badge_links(text, cfg) == text else ["README.md has badges for another repository (run `make colab`)"]
    for target in re.findall(r"colab\.research\.google\.com/github/[^)\s]+?/blob/[^/\s]+/([^)\s]+)", text):
        if not (ROOT / target).exists():
            problems.append(f"README.md has a badge for {target}, which does not exist")
    return problems


def _jupytext_config() -> JupytextConfiguration:
    return load_jupytext_configuration_file(str(NOTEBOOKS / "jupytext.toml"))


def paired_text(nb: NotebookNode) -> str:
    """The py:percent text jupytext writes for ``nb`` under notebooks/jupytext.toml."""
    return jupytext.writes(nb, fmt="py:percent", config=_jupytext_config())


def pair_problems(path: Path) -> list[str]:
    """What is wrong with the jupytext pair of the notebook at ``path``: a missing or out-of-date .py script."""
    script = path.with_suffix(".py")
    if not script.exists():
        return [f"{path.name} has no paired script {script.name}"]
    if paired_text(nbformat.read(path, as_version=4)) != script.read_text():
        return [f"{path.name} and {script.name} are out of sync (run `make notebooks`)"]
    return []


def normalize(nb: NotebookNode) -> None:
    """Course-wide notebook metadata: the python3 kernel, no jupytext header (the GPU request is apply_colab's)."""
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata.pop("jupytext", None)


def execute(nb: NotebookNode, cwd: Path, timeout: int = 1800) -> float:
    """Execute ``nb`` in a fresh kernel with ``cwd`` as working folder; returns the seconds it took."""
    start = time.perf_counter()
    # the kernel's own log stays at errors: its warning that a local kernel talks over unencrypted
    # TCP would otherwise print once per notebook (the cells' outputs, warnings included, are kept)
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}},
                   extra_arguments=["--IPKernelApp.log_level=ERROR"]).execute()
    return time.perf_counter() - start


def load_source(path: Path) -> NotebookNode:
    """The notebook at ``path``, taking the inputs from its .py pair when the script is newer."""
    script = path.with_suffix(".py")
    if path.exists():
        nb = nbformat.read(path, as_version=4)
        if not script.exists() or script.stat().st_mtime <= path.stat().st_mtime or script.read_text() == paired_text(nb):
            return nb
    fresh = jupytext.read(script, fmt="py:percent")
    if path.exists():  # keep the notebook's metadata and cell ids; inputs come from the newer script
        old = nbformat.read(path, as_version=4)
        fresh.metadata = {**old.metadata, **fresh.metadata}
        keep_cell_ids(old, fresh)
    return fresh


def keep_cell_ids(old: NotebookNode, new: NotebookNode) -> None:
    """Give ``new``'s cells the ids of ``old``'s cells with the same source (else of the same position
    and type), so that editing one cell changes one cell's id at most, not every id in the notebook."""
    by_source: dict[tuple[str, str], list[str]] = {}
    for cell in old.cells:
        by_source.setdefault((cell.cell_type, cell.source), []).append(cell.id)
    used: set[str] = set()
    for cell in new.cells:
        ids = by_source.get((cell.cell_type, cell.source), [])
        if ids:
            cell.id = ids.pop(0)
            used.add(cell.id)
    for i, cell in enumerate(new.cells):
        if cell.id in used or i >= len(old.cells):
            continue
        twin = old.cells[i]
        if twin.cell_type == cell.cell_type and twin.id not in used:
            cell.id = twin.id
            used.add(cell.id)


def _uncommitted_note(commit: str) -> str:
    """A line naming uncommitted changes to the package, which the pinned ``commit`` lacks; empty if none."""
    changed = [line[3:] for line in uncommitted_package_changes()]
    if not changed:
        return ""
    return (f"uncommitted changes to {', '.join(changed)}: the setup cells pin {commit[:12]}, which lacks them; "
            f"{WORKFLOW}.")


def _pin_or_exit() -> str:
    """The commit for the setup cells (``package_commit()``); a clear message and exit status 1 if unknown."""
    try:
        commit = package_commit()
    except PinUnknown as err:
        raise SystemExit(f"colab: cannot pin the setup cells: {err}.") from err
    if note := _uncommitted_note(commit):
        print(f"colab: WARNING {note}")
    return commit


def gpu_chapter_problems(chapters: list[str]) -> list[str]:
    """Names in ``[tool.course] gpu_chapters`` that match no chapter (a typo, or a chapter renamed).

    Args:
        chapters: the configured chapter names (``gpu_chapters()``).
    """
    known = {chapter_name(path.name) for path in notebook_paths()}
    return [f"pyproject.toml: [tool.course] gpu_chapters names {name!r}, which is no chapter's name "
            f"(one of {', '.join(sorted(known))})" for name in chapters if name not in known]


def cmd_colab(_args: argparse.Namespace) -> int:
    """`make colab`: rewrite every badge, setup cell and GPU request, the README's badges and the student editions."""
    cfg, commit, chapters = course_config(), _pin_or_exit(), gpu_chapters()
    for problem in gpu_chapter_problems(chapters):
        print(f"colab: WARNING {problem}")
    for path in notebook_paths():
        nb = nbformat.read(path, as_version=4)
        apply_colab(nb, f"notebooks/{path.name}", cfg, commit, chapters)
        nbformat.write(nb, path)
        path.with_suffix(".py").write_text(paired_text(nb))
    readme = ROOT / "README.md"
    readme.write_text(fix_badge_links(readme.read_text(), cfg))
    write_student_editions()
    print(f"Badges point at {cfg['repository']}@{cfg['branch']}; setup cells install course_utils from commit "
          f"{commit[:12]} (the last that changed course_utils/ or pyproject.toml: push it); "
          f"GPU runtime for: {', '.join(chapters) or 'no chapter'}. Now commit the notebooks and student editions.")
    return 0


def cmd_student(args: argparse.Namespace) -> int:
    """`make student`: write the student editions of the named notebooks (default all)."""
    for path in write_student_editions(args.names or None):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


def cmd_check(_args: argparse.Namespace) -> int:
    """Print every out-of-date badge, setup cell, pin, GPU request, pair, student edition or big notebook; 1 if any.

    A checkout that cannot tell the commit the setup cells must pin (a shallow clone) says so and checks the rest.
    """
    cfg, chapters = course_config(), gpu_chapters()
    try:
        commit = package_commit()
    except PinUnknown as err:
        commit = None
        print(f"NOTE the commit the setup cells pin is not verified: {err}.")
    if commit and (note := _uncommitted_note(commit)):
        print(f"NOTE {note}")
    problems = gpu_chapter_problems(chapters)
    for path in notebook_paths():
        nb = nbformat.read(path, as_version=4)
        problems += colab_problems(nb, f"notebooks/{path.name}", cfg, commit, chapters) + pair_problems(path)
        if path.stat().st_size > 1_000_000:
            problems.append(f"{path.name} is {path.stat().st_size:,} bytes; keep notebooks under 1 MB")
    problems += student_problems() + readme_problems(cfg)
    for problem in problems:
        print(f"FAIL {problem}")
    print(f"check: {len(notebook_paths())} notebooks, {len(problems)} problems")
    return 1 if problems else 0


def cmd_course(_args: argparse.Namespace) -> int:
    """`make course`: execute every notebook into build/ (executed .ipynb and HTML) and print the times."""
    BUILD.mkdir(exist_ok=True)
    failures, rows = 0, []
    for path in notebook_paths():
        nb = nbformat.read(path, as_version=4)
        try:
            seconds, status = execute(nb, NOTEBOOKS), "ok"
        except Exception as err:  # report every notebook, then fail at the end
            seconds, status, failures = float("nan"), f"FAILED: {type(err).__name__}", failures + 1
        nbformat.write(nb, BUILD / path.name)
        (BUILD / path.with_suffix(".html").name).write_text(HTMLExporter().from_notebook_node(nb)[0])
        rows.append((path.stem, seconds, status))
        print(f"  {path.stem:<28} {seconds:7.1f} s  {status}", flush=True)
    print(f"{len(rows)} notebooks executed into {BUILD.relative_to(ROOT)}/ in {sum(r[1] for r in rows):.1f} s")
    return 1 if failures else 0


def cmd_refresh(args: argparse.Namespace) -> int:
    """`make notebooks`: re-execute the named notebooks in place and rewrite their .py pairs."""
    stems = sorted({p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.*") if p.suffix in (".ipynb", ".py")})
    chosen = [NOTEBOOKS / f"{s}.ipynb" for s in stems if not args.names or any(n in s for n in args.names)]
    cfg, commit, chapters = course_config(), _pin_or_exit(), gpu_chapters()
    for path in chosen:
        nb = load_source(path)
        normalize(nb)
        apply_colab(nb, f"notebooks/{path.name}", cfg, commit, chapters)
        seconds = execute(nb, NOTEBOOKS)
        for cell in nb.cells:  # when each cell ran is not part of the notebook
            cell.metadata.pop("execution", None)
        nbformat.write(nb, path)
        path.with_suffix(".py").write_text(paired_text(nb))
        print(f"  {path.stem:<28} {seconds:7.1f} s  refreshed ({path.stat().st_size / 1024:.0f} KiB)", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command line: ``python -m tools.authoring COMMAND``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m tools.authoring", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("colab", "check", "course"):
        sub.add_parser(name)
    for name in ("refresh", "student"):
        sub.add_parser(name).add_argument("names", nargs="*", help="notebook names (or parts of them); default all")
    args = parser.parse_args(argv)
    return globals()[f"cmd_{args.command}"](args)


if __name__ == "__main__":
    sys.exit(main())
