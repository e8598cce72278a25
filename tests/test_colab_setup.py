"""The Colab setup cell, run in a fake Colab; the commit it pins; the per-chapter GPU request.

The cell is executed as generated, with a fake ``google.colab`` module in ``sys.modules`` (the way anywidget's
tests fake ``google.colab.output``), ``subprocess.run`` recording the pip commands instead of running them, and
``importlib.metadata.distribution`` answering from a dict of installed packages. The pinned commit is computed
in small git repositories built in ``tmp_path``, full and shallow.
"""
from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

from tools import authoring, colab_setup
from tools.colab_setup import PinUnknown, package_commit, pinned_commit, setup_source

SHA = "0123456789abcdef0123456789abcdef01234567"
OTHER = "89abcdef0123456789abcdef0123456789abcdef"
CFG = {"repository": "owner/course", "branch": "main"}
NEEDS = ["torch>=2.0", "numpy>=1.24", "anywidget>=0.9"]
PIP = [sys.executable, "-m", "pip", "install", "--quiet"]
INSTALL_PINNED = [*PIP, "--no-deps", "--force-reinstall", f"git+https://github.com/owner/course@{SHA}"]


class FakeDistribution:
    """What the cell reads of an installed package: its direct_url.json (None when pip wrote none)."""

    def __init__(self, direct_url: dict | None = None):
        self.direct_url = direct_url

    def read_text(self, name: str) -> str | None:
        """The text of one metadata file, as importlib.metadata.Distribution.read_text gives it."""
        return json.dumps(self.direct_url) if name == "direct_url.json" and self.direct_url else None


def git_install(commit: str) -> FakeDistribution:
    """course-utils as `pip install git+https://...@commit` leaves it (the shape real pip writes, tested below)."""
    return FakeDistribution({"url": "https://github.com/owner/course",
                             "vcs_info": {"vcs": "git", "commit_id": commit, "requested_revision": commit}})


class FakeColab:
    """A Colab runtime: what is installed, the pip commands run, and a pip that installs what it is asked."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.installed: dict[str, FakeDistribution] = {"torch": FakeDistribution(), "numpy": FakeDistribution(),
                                                       "anywidget": FakeDistribution()}
        self.pip: list[list[str]] = []
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
        monkeypatch.delitem(sys.modules, "course_utils", raising=False)
        monkeypatch.setattr(subprocess, "run", self.run)
        monkeypatch.setattr(importlib.metadata, "distribution", self.distribution)

    def distribution(self, name: str) -> FakeDistribution:
        """importlib.metadata.distribution, answered from ``installed``."""
        if name not in self.installed:
            raise importlib.metadata.PackageNotFoundError(name)
        return self.installed[name]

    def run(self, command: list[str], check: bool = False) -> subprocess.CompletedProcess:
        """subprocess.run for pip: record the command and install what it names."""
        assert check, "a failed pip install must stop the cell"
        self.pip.append(list(command))
        for arg in command[len(PIP):]:
            if arg.startswith("git+"):
                self.installed["course-utils"] = git_install(arg.rsplit("@", 1)[1])
            elif not arg.startswith("-"):
                self.installed[arg.split(">")[0]] = FakeDistribution()
        return subprocess.CompletedProcess(command, 0)


@pytest.fixture
def colab(monkeypatch):
    return FakeColab(monkeypatch)


def run_cell(source: str | None = None) -> dict:
    namespace = {"__name__": "__main__"}
    exec(source or setup_source(CFG, SHA, NEEDS), namespace)
    return namespace


def test_fresh_runtime_installs_course_utils_alone_at_the_pinned_commit(colab, capsys):
    run_cell()
    assert colab.pip == [INSTALL_PINNED]
    assert "Installing course_utils 0123456" in capsys.readouterr().out


def test_already_installed_at_the_pinned_commit_installs_nothing(colab, capsys):
    colab.installed["course-utils"] = git_install(SHA)
    run_cell()
    assert colab.pip == [] and capsys.readouterr().out == ""


def test_running_the_cell_again_after_importing_course_utils_is_fine(colab, monkeypatch):
    run_cell()
    monkeypatch.setitem(sys.modules, "course_utils", types.ModuleType("course_utils"))  # the notebook's import
    run_cell()
    assert colab.pip == [INSTALL_PINNED]


def test_another_commit_installed_but_not_imported_is_replaced(colab):
    colab.installed["course-utils"] = git_install(OTHER)
    run_cell()
    assert colab.pip == [INSTALL_PINNED]


def test_a_missing_dependency_alone_is_installed(colab):
    colab.installed["course-utils"] = git_install(SHA)
    del colab.installed["anywidget"]
    run_cell()
    assert colab.pip == [[*PIP, "anywidget>=0.9"]]


def test_fresh_runtime_missing_two_dependencies(colab):
    del colab.installed["anywidget"], colab.installed["torch"]
    run_cell()
    assert colab.pip == [INSTALL_PINNED, [*PIP, "torch>=2.0", "anywidget>=0.9"]]


@pytest.mark.parametrize("installed", [git_install(OTHER), FakeDistribution({"url": "file:///content/course"}), None],
                         ids=["another-commit", "not-from-git", "uninstalled"])
def test_imported_at_another_version_asks_for_a_restart(colab, monkeypatch, installed):
    if installed is not None:
        colab.installed["course-utils"] = installed
    monkeypatch.setitem(sys.modules, "course_utils", types.ModuleType("course_utils"))
    with pytest.raises(RuntimeError, match=r"Restart it \(Runtime > Restart session\), then run this notebook"):
        run_cell()
    assert colab.pip == []  # nothing installed under the running session: after the restart the cell installs


def test_outside_colab_nothing_runs(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cell looked at packages outside Colab")

    monkeypatch.setattr(subprocess, "run", forbidden)
    monkeypatch.setattr(importlib.metadata, "distribution", forbidden)
    run_cell()
    assert capsys.readouterr() == ("", "")


def test_the_cell_installs_pyprojects_dependencies(colab):
    """The generated cell bakes in [project] dependencies of pyproject.toml: with none installed, it asks for all."""
    colab.installed.clear()
    run_cell(setup_source(CFG, SHA))
    assert colab.pip == [INSTALL_PINNED, [*PIP, *colab_setup.requirements()]]


def test_the_pin_reads_back_and_must_be_a_full_hash():
    assert pinned_commit(setup_source(CFG, SHA, NEEDS)) == SHA
    assert pinned_commit("import sys") is None
    with pytest.raises(ValueError, match="full commit hash"):
        setup_source(CFG, SHA[:7], NEEDS)


def test_real_pip_records_the_commit_the_cell_compares(tmp_path, monkeypatch):
    """pip installing from git writes direct_url.json with vcs_info.commit_id: the cell then installs nothing."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "pyproject.toml").write_text('[build-system]\nrequires = ["setuptools>=61"]\n'
                                         'build-backend = "setuptools.build_meta"\n'
                                         '[project]\nname = "course-utils"\nversion = "0.1.0"\n'
                                         '[tool.setuptools]\npackages = []\n')
    commit = commit_all(repo, "package")
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(target), f"git+file://{repo}@{commit}"], check=True)
    monkeypatch.syspath_prepend(str(target))
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.delitem(sys.modules, "course_utils", raising=False)
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda command, check: calls.append(command))
    run_cell(setup_source(CFG, commit, []))
    assert calls == []


# The pinned commit -----------------------------------------------------------------------------------------

def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=Course", "-c", "user.email=course@example.org",
                           "-c", "init.defaultBranch=main", *args],
                          capture_output=True, text=True, check=True).stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    if not (repo / ".git").exists():
        git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def history(tmp_path):
    """A course repository: package, notebooks, package again, notebooks again. Returns (repo, commits)."""
    repo = tmp_path / "course"
    (repo / "course_utils").mkdir(parents=True)
    (repo / "notebooks").mkdir()
    (repo / "pyproject.toml").write_text("[project]\nname = 'course-utils'\n")
    (repo / "course_utils" / "__init__.py").write_text("VERSION = 1\n")
    commits = {"package": commit_all(repo, "package")}
    (repo / "notebooks" / "01_data.ipynb").write_text("{}")
    commits["notebooks"] = commit_all(repo, "notebooks")
    (repo / "course_utils" / "__init__.py").write_text("VERSION = 2\n")
    commits["package again"] = commit_all(repo, "package again")
    (repo / "notebooks" / "01_data.ipynb").write_text('{"cells": []}')
    commits["notebooks again"] = commit_all(repo, "notebooks again")
    return repo, commits


def test_the_pin_is_the_last_commit_that_changed_the_package(history):
    repo, commits = history
    assert package_commit(repo) == commits["package again"]  # the notebooks' own commit does not move it
    (repo / "pyproject.toml").write_text("[project]\nname = 'course-utils'\ndependencies = ['torch']\n")
    assert colab_setup.uncommitted_package_changes(repo) == [" M pyproject.toml"]
    assert package_commit(repo) == commits["package again"]  # uncommitted: not part of any commit yet
    dependencies = commit_all(repo, "dependencies")
    assert package_commit(repo) == dependencies != commits["package again"]


def test_a_fresh_clone_has_the_same_pin(history, tmp_path):
    repo, commits = history
    subprocess.run(["git", "clone", "-q", str(repo), str(tmp_path / "clone")], check=True)
    assert package_commit(tmp_path / "clone") == commits["package again"]


def test_a_shallow_clone_says_it_cannot_tell(history, tmp_path):
    repo, _ = history
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(clone)], check=True)
    with pytest.raises(PinUnknown, match=r"shallow clone .*git fetch --unshallow"):
        package_commit(clone)


def test_a_shallow_clone_deep_enough_still_knows(history, tmp_path):
    repo, commits = history
    clone = tmp_path / "deeper"
    subprocess.run(["git", "clone", "-q", "--depth", "3", f"file://{repo}", str(clone)], check=True)
    assert package_commit(clone) == commits["package again"]  # its parent was fetched: a real change


def test_no_git_history_says_so(tmp_path):
    with pytest.raises(PinUnknown, match="git cannot read the history"):
        package_commit(tmp_path)
    git(tmp_path, "init", "-q")
    with pytest.raises(PinUnknown):
        package_commit(tmp_path)


# Notebooks: the setup cell's pin and the GPU request ---------------------------------------------------------

def chapter(relpath: str, **metadata: object) -> nbformat.NotebookNode:
    """A small notebook as the course writes them: title with a badge, setup cell, code."""
    v4 = nbformat.v4
    setup = v4.new_code_cell("pass", metadata={"tags": [authoring.SETUP_TAG]})
    return v4.new_notebook(cells=[v4.new_markdown_cell(f"# Title\n\n{authoring.badge(relpath, CFG)}"), setup,
                                  v4.new_code_cell("x = 1")], metadata=metadata)


def test_apply_then_check_agrees():
    relpath = "notebooks/08_dense_vs_cnn.ipynb"
    nb = chapter(relpath)
    assert any("generated setup cell" in p for p in authoring.colab_problems(nb, relpath, CFG, SHA, []))
    authoring.apply_colab(nb, relpath, CFG, SHA, ["dense_vs_cnn"])
    assert pinned_commit(nb.cells[1].source) == SHA
    assert authoring.colab_problems(nb, relpath, CFG, SHA, ["dense_vs_cnn"]) == []


def test_a_stale_pin_is_reported_with_the_workflow():
    relpath = "notebooks/03_mlp.ipynb"
    nb = chapter(relpath)
    authoring.apply_colab(nb, relpath, CFG, OTHER, [])
    problems = authoring.colab_problems(nb, relpath, CFG, SHA, [])
    assert len(problems) == 1
    assert OTHER[:12] in problems[0] and SHA[:12] in problems[0]
    assert "commit changes to course_utils/ or pyproject.toml first, then run `make colab`" in problems[0]


def test_without_a_known_pin_the_cell_is_still_checked():
    """A shallow clone: the cell is compared with the generated one at the commit it pins."""
    relpath = "notebooks/03_mlp.ipynb"
    nb = chapter(relpath)
    authoring.apply_colab(nb, relpath, CFG, OTHER, [])
    assert authoring.colab_problems(nb, relpath, CFG, None, []) == []
    nb.cells[1].source = nb.cells[1].source.replace("--no-deps", "--upgrade")
    assert any("generated setup cell" in p for p in authoring.colab_problems(nb, relpath, CFG, None, []))


def test_gpu_request_follows_the_chapter_name_not_its_number():
    chapters = ["dense_vs_cnn"]
    for relpath in ("notebooks/08_dense_vs_cnn.ipynb", "notebooks/12_dense_vs_cnn.ipynb"):
        nb = chapter(relpath)
        authoring.apply_colab(nb, relpath, CFG, SHA, chapters)
        assert nb.metadata["accelerator"] == "GPU" and nb.metadata["colab"]["gpuType"] == "T4"
    relpath = "notebooks/03_mlp.ipynb"
    asks = chapter(relpath, accelerator="GPU", colab={"gpuType": "T4"})
    authoring.apply_colab(asks, relpath, CFG, SHA, [])
    assert authoring.colab_problems(asks, relpath, CFG, SHA, chapters) == []
    assert "accelerator" not in asks.metadata and "colab" not in asks.metadata
    keeps = chapter(relpath, accelerator="GPU", colab={"gpuType": "T4", "provenance": []})
    colab_setup.apply_gpu(keeps, relpath, [])
    assert keeps.metadata["colab"] == {"provenance": []}


def test_a_wrong_gpu_request_is_reported():
    relpath = "notebooks/03_mlp.ipynb"
    nb = chapter(relpath, accelerator="GPU", colab={"gpuType": "T4"})
    authoring.apply_colab(nb, relpath, CFG, SHA, ["mlp"])
    assert authoring.colab_problems(nb, relpath, CFG, SHA, ["mlp"]) == []
    problems = authoring.colab_problems(nb, relpath, CFG, SHA, ["dense_vs_cnn"])
    assert problems == [f"{relpath}: its Colab metadata should ask for no GPU ([tool.course] gpu_chapters in "
                        "pyproject.toml; run `make colab`)"]
    nb.metadata["colab"]["gpuType"] = "A100"
    assert authoring.colab_problems(nb, relpath, CFG, SHA, ["mlp"]) != []


def test_gpu_chapters_must_name_chapters(monkeypatch, tmp_path):
    paths = [tmp_path / "07_evaluation.ipynb", tmp_path / "08_dense_vs_cnn.ipynb"]
    monkeypatch.setattr(authoring, "notebook_paths", lambda: paths)
    assert authoring.gpu_chapter_problems(["dense_vs_cnn"]) == []
    [problem] = authoring.gpu_chapter_problems(["dense_vs_cnn", "08_dense_vs_cnn"])
    assert "'08_dense_vs_cnn', which is no chapter's name" in problem


def test_the_course_gpu_chapters_name_existing_chapters():
    assert authoring.gpu_chapter_problems(colab_setup.gpu_chapters()) == []
