"""Repository paths and the course config, for the rest of tools/.

The course config is the ``[tool.course]`` table of pyproject.toml: the one place the course's GitHub
repository (and branch) is named. The Colab badge of a notebook is derived from it here, since both the
notebooks (tools.authoring) and the student editions (tools.student) carry one.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS, STUDENT, BUILD = ROOT / "notebooks", ROOT / "student", ROOT / "build"
SLUG_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
BADGE_RE = re.compile(r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]"
                      r"\(https://colab\.research\.google\.com/github/[^)\s]*\)")


def course_config() -> dict[str, str]:
    """The ``[tool.course]`` table of pyproject.toml: the GitHub repository slug and branch."""
    table = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["course"]
    if not SLUG_RE.match(table.get("repository", "")):
        raise SystemExit(f"[tool.course] repository = {table.get('repository')!r} in pyproject.toml "
                         "must look like 'owner/name'.")
    return {"repository": table["repository"], "branch": table.get("branch", "main")}


def notebook_paths() -> list[Path]:
    """The chapters: notebooks/NN_topic.ipynb, in order."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def badge(relpath: str, cfg: dict[str, str]) -> str:
    """Markdown for the Open-in-Colab badge of the notebook at ``relpath`` (relative to the repo root)."""
    url = f"https://colab.research.google.com/github/{cfg['repository']}/blob/{cfg['branch']}/{relpath}"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"
