"""The Colab setup cell of every notebook, the commit it pins course_utils to, and the Colab GPU setting.

Each notebook's setup cell installs course_utils on Colab from
``git+https://github.com/<repository>@<commit>``, where ``<commit>`` is the last commit that changed the
installable package (``course_utils/`` or ``pyproject.toml``). ``make colab`` writes that commit into the cells,
so a notebook opened from an old link installs the helpers it was written for; ``authoring check`` fails when
a cell pins another commit. The order that keeps them in step: commit the package change, run ``make colab``,
commit the notebooks (a commit that touches only notebooks does not move the pin).

The cell installs course_utils with ``--no-deps``: every dependency is preinstalled on Colab, and none of
Colab's packages may be upgraded or replaced. A dependency the runtime lacks is installed on its own. When the
session already imported another course_utils, the cell stops and asks for a restart.

``[tool.course] gpu_chapters`` in pyproject.toml names the chapters (by their name without the number,
``NN_dense_vs_cnn`` -> ``dense_vs_cnn``) whose Colab metadata asks for a GPU runtime.
"""
from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

from nbformat import NotebookNode

from .config import ROOT

PACKAGE_PATHS = ("course_utils", "pyproject.toml")
GPU_TYPE = "T4"
WORKFLOW = ("the order is: commit changes to course_utils/ or pyproject.toml first, then run `make colab` (it pins "
            "the setup cells to that commit), then commit the notebooks and student editions, and push")
PIN_RE = re.compile(r'^    commit = "([0-9a-f]{40})"', re.MULTILINE)
REQUIREMENT_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(.*)$")


class PinUnknown(RuntimeError):
    """This checkout cannot tell which commit last changed the package (no git, no history, shallow clone)."""


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True)
    return result.stdout.rstrip()


def package_commit(root: Path = ROOT) -> str:
    """The full hash of the last commit that changed ``course_utils/`` or ``pyproject.toml`` under ``root``.

    Args:
        root: the repository's root folder.

    Raises:
        PinUnknown: when git is missing, ``root`` is not a git checkout, no commit holds the package yet, or
            the checkout is a shallow clone whose history stops before that commit (there, git would name the
            oldest fetched commit, which is not the answer).
    """
    try:
        commit = _git(root, "log", "-1", "--format=%H", "--", *PACKAGE_PATHS)
        shallow_file = Path(_git(root, "rev-parse", "--git-path", "shallow"))
    except FileNotFoundError as err:
        raise PinUnknown("git is not installed, so the commit that last changed course_utils is unknown") from err
    except subprocess.CalledProcessError as err:
        raise PinUnknown(f"git cannot read the history of {root} ({err.stderr.strip()}), so the commit that last "
                         "changed course_utils is unknown") from err
    if not commit:
        raise PinUnknown("no commit holds course_utils/ or pyproject.toml yet: commit them first")
    shallow_file = shallow_file if shallow_file.is_absolute() else root / shallow_file
    if shallow_file.exists() and commit in shallow_file.read_text().split():
        raise PinUnknown(f"this is a shallow clone whose history stops at {commit[:12]}, so the commit that last "
                         "changed course_utils/ or pyproject.toml is unknown (`git fetch --unshallow` fetches the "
                         "rest of the history)")
    return commit


def uncommitted_package_changes(root: Path = ROOT) -> list[str]:
    """``git status --porcelain`` lines for uncommitted changes to ``course_utils/`` or ``pyproject.toml``.

    Args:
        root: the repository's root folder.
    """
    try:
        return _git(root, "status", "--porcelain", "--", *PACKAGE_PATHS).splitlines()
    except (FileNotFoundError, subprocess.CalledProcessError):
        return []


def _pyproject(root: Path) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text())


def requirements(root: Path = ROOT) -> list[str]:
    """course_utils' runtime dependencies: ``[project] dependencies`` of pyproject.toml, as written there.

    Args:
        root: the repository's root folder.
    """
    return list(_pyproject(root)["project"].get("dependencies", []))


def gpu_chapters(root: Path = ROOT) -> list[str]:
    """The chapter names (without their number) whose Colab metadata asks for a GPU: ``[tool.course] gpu_chapters``.

    Args:
        root: the repository's root folder.
    """
    names = _pyproject(root)["tool"]["course"].get("gpu_chapters", [])
    if not isinstance(names, list) or not all(isinstance(n, str) and re.fullmatch(r"[a-z0-9_]+", n) for n in names):
        raise SystemExit(f"[tool.course] gpu_chapters = {names!r} in pyproject.toml must list chapter names "
                         "without their number, such as \"dense_vs_cnn\"")
    return names


def chapter_name(relpath: str) -> str:
    """A chapter's name without its number: ``notebooks/09_dense_vs_cnn.ipynb`` -> ``dense_vs_cnn``.

    Args:
        relpath: the notebook's path (or file name).
    """
    stem = Path(relpath).stem
    match = re.fullmatch(r"\d+_(.+)", stem)
    return match[1] if match else stem


def setup_source(cfg: dict[str, str], commit: str, needs: list[str] | None = None) -> str:
    """The Colab setup cell: on Colab, installs course_utils at ``commit`` and any missing dependency.

    Args:
        cfg: the course config (``course_config()``): the GitHub repository to install from.
        commit: the full hash of the commit to install (``package_commit()``).
        needs: course_utils' dependencies as requirement strings; default ``requirements()``.
    """
    if not re.fullmatch(r"[0-9a-f]{40}", commit):
        raise ValueError(f"the setup cell pins a full commit hash, not {commit!r}")
    needs = requirements() if needs is None else needs
    pairs = []
    for spec in needs:
        match = REQUIREMENT_RE.match(spec.strip())
        if not match:
            raise ValueError(f"cannot read the requirement {spec!r}")
        pairs.append(f'"{match[1]}": "{match[2].strip()}"')
    needs_lines = "".join(f"        {pair},\n" for pair in pairs)
    return f'''\
# Colab only: install course_utils, the course's helpers, as they were when this notebook was written,
# and any of their dependencies this runtime lacks; nothing Colab ships is upgraded or replaced.
# Anywhere else (a local clone after `make venv`) this cell does nothing.
import sys


def install_course_utils():
    import json
    import subprocess
    from importlib import invalidate_caches, metadata

    commit = "{commit}"  # the exact version this notebook was written for
    url = "git+https://github.com/{cfg['repository']}@" + commit
    needs = {{  # course_utils' dependencies, all preinstalled on Colab
{needs_lines}    }}

    def installed(name):
        try:
            return metadata.distribution(name)
        except metadata.PackageNotFoundError:
            return None

    def pip_install(*args):
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *args], check=True)
        invalidate_caches()

    course = installed("course-utils")
    origin = json.loads(course and course.read_text("direct_url.json") or "{{}}")
    if origin.get("vcs_info", {{}}).get("commit_id") != commit:
        if "course_utils" in sys.modules:
            raise RuntimeError("This session already imported another version of course_utils. Restart it "
                               "(Runtime > Restart session), then run this notebook again from the top.")
        print(f"Installing course_utils {{commit[:7]}} from GitHub")
        pip_install("--no-deps", "--force-reinstall", url)
    missing = [name + version for name, version in needs.items() if installed(name) is None]
    if missing:
        print("Installing what this runtime lacks:", ", ".join(missing))
        pip_install(*missing)


if "google.colab" in sys.modules:
    install_course_utils()'''


def pinned_commit(source: str) -> str | None:
    """The commit a setup cell's ``source`` pins course_utils to, or None when it pins none.

    Args:
        source: the setup cell's source.
    """
    match = PIN_RE.search(source)
    return match[1] if match else None


def apply_gpu(nb: NotebookNode, relpath: str, chapters: list[str]) -> None:
    """Ask Colab for a GPU runtime in ``nb``'s metadata if its chapter is in ``chapters``, else for none.

    Args:
        nb: the notebook, changed in place.
        relpath: its path, for the chapter's name.
        chapters: the chapter names that get a GPU (``gpu_chapters()``).
    """
    if chapter_name(relpath) in chapters:
        nb.metadata["accelerator"] = "GPU"
        nb.metadata.setdefault("colab", {})["gpuType"] = GPU_TYPE
        return
    nb.metadata.pop("accelerator", None)
    colab = nb.metadata.get("colab")
    if colab is not None:
        colab.pop("gpuType", None)
        if not colab:
            del nb.metadata["colab"]


def gpu_problems(nb: NotebookNode, relpath: str, chapters: list[str]) -> list[str]:
    """What disagrees with ``[tool.course] gpu_chapters`` in ``nb``'s Colab metadata (empty when all agrees).

    Args:
        nb: the notebook.
        relpath: its path, for the chapter's name and the messages.
        chapters: the chapter names that get a GPU (``gpu_chapters()``).
    """
    wanted = chapter_name(relpath) in chapters
    has = (nb.metadata.get("accelerator"), nb.metadata.get("colab", {}).get("gpuType"))
    if has == (("GPU", GPU_TYPE) if wanted else (None, None)):
        return []
    want = f"a {GPU_TYPE} GPU" if wanted else "no GPU"
    return [f"{relpath}: its Colab metadata should ask for {want} ([tool.course] gpu_chapters in pyproject.toml; "
            "run `make colab`)"]
