"""The course's own files: Colab badges and setup cells, jupytext pairs, sizes; the refresh command."""
import re

import nbformat
import pytest

from tools import authoring
from tools.colab_setup import PinUnknown, package_commit
from tools.config import ROOT, STUDENT, badge, course_config, notebook_paths

NOTEBOOKS = notebook_paths()
CFG = course_config()
SHA = "0123456789abcdef0123456789abcdef01234567"


def course_pin() -> str:
    """The commit the setup cells must pin; the test is skipped where this checkout cannot tell (shallow clone)."""
    try:
        return package_commit()
    except PinUnknown as err:
        pytest.skip(f"the setup cells' pin is not verified here: {err}")


def readme_chapters() -> list[str]:
    """The chapter numbers in README.md's chapter table, in order: its rows start with "| 00 |"."""
    return re.findall(r"^\| (\d\d) \|", (ROOT / "README.md").read_text(), flags=re.MULTILINE)


def test_there_are_notebooks():
    # Without this, a missing notebooks/ folder (or a glob that finds nothing) would pass: the per-notebook
    # tests below are parametrized over NOTEBOOKS and simply vanish.
    chapters = readme_chapters()
    assert len(chapters) >= 12, f"README.md's chapter table lists {len(chapters)} chapters, expected at least 12"
    assert chapters == [f"{i:02d}" for i in range(len(chapters))], "README.md's chapters are not numbered 00, 01, ..."
    assert [p.name[:2] for p in NOTEBOOKS] == chapters, "one notebook per chapter of README.md's table, no more"
    students = sorted(p.name for p in STUDENT.glob("[0-9][0-9]_*.ipynb"))
    assert students == [p.name for p in NOTEBOOKS], "every notebook has its student edition, and only those"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_badge_and_setup_cell_match_the_slug(path):
    """Badge, setup cell (pinned to the last commit that changed course_utils) and GPU request are up to date."""
    nb = nbformat.read(path, as_version=4)
    assert authoring.colab_problems(nb, f"notebooks/{path.name}", CFG, course_pin()) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_jupytext_pair_in_sync(path):
    assert authoring.pair_problems(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_small_and_ends_with_exercises(path):
    assert path.stat().st_size < 1_000_000
    nb = nbformat.read(path, as_version=4)
    assert sum("solution" in c.metadata.get("tags", []) for c in nb.cells) >= 2
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_readme_badges_match_the_slug_and_exist():
    assert authoring.readme_problems(CFG) == []
    text = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        assert badge(f"notebooks/{path.name}", CFG).split("](", 1)[1] in text


def test_badge_links_are_rewritten():
    text = "[x](https://colab.research.google.com/github/old/repo/blob/dev/notebooks/01_data.ipynb)"
    assert authoring.fix_badge_links(text, {"repository": "new/name", "branch": "main"}) == \
        "[x](https://colab.research.google.com/github/new/name/blob/main/notebooks/01_data.ipynb)"


def test_wrong_slug_is_detected():
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    other = {"repository": "someone/else", "branch": "main"}
    authoring.apply_colab(nb, f"notebooks/{NOTEBOOKS[0].name}", CFG, SHA)
    problems = authoring.colab_problems(nb, f"notebooks/{NOTEBOOKS[0].name}", other, SHA)
    assert any("badge" in p for p in problems) and any("setup" in p for p in problems)
    authoring.apply_colab(nb, f"notebooks/{NOTEBOOKS[0].name}", other, SHA)
    assert authoring.colab_problems(nb, f"notebooks/{NOTEBOOKS[0].name}", other, SHA) == []


def test_setup_cell_installs_from_the_configured_repository():
    assert f'"git+https://github.com/{CFG["repository"]}@" + commit' in authoring.setup_source(CFG, SHA)


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


@pytest.mark.parametrize("server_root", ["repository", "notebooks"])
def test_chapters_open_and_stay_paired_from_either_server_root(server_root, tmp_path):
    """JupyterLab started in the clone (`jupyter lab`) or in notebooks/ (`make lab`) opens a chapter and saving
    it rewrites its .py pair; student editions open unpaired. Runs jupytext's own contents manager, the one
    the Jupyter server uses, on a copy of the course's files."""
    import shutil
    import warnings

    from jupytext import TextFileContentsManager

    repo = tmp_path / "course"
    shutil.copytree(ROOT / "notebooks", repo / "notebooks")
    shutil.copytree(STUDENT, repo / "student")
    for config_file in ("jupytext.toml", ".jupytext.toml", "pyproject.toml"):  # wherever jupytext may look
        if (ROOT / config_file).exists():
            shutil.copy(ROOT / config_file, repo / config_file)
    root = repo if server_root == "repository" else repo / "notebooks"
    prefix = "notebooks/" if server_root == "repository" else ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        manager = TextFileContentsManager(root_dir=str(root))
        model = manager.get(f"{prefix}02_activations.ipynb")  # HTTP 500 "escapes the directory" before
        model["content"].cells[1].source += "\n# edited"
        manager.save(model, f"{prefix}02_activations.ipynb")
        assert "# edited" in (repo / "notebooks" / "02_activations.py").read_text()
        if server_root == "repository":
            manager.get("student/02_activations.ipynb")
            assert not (repo / "student" / "02_activations.py").exists()
