"""tools/ as a whole: maintainer tooling beside the package, with its own pins and no import cycles."""
import ast
import re
import tomllib

from tools.config import ROOT

TOOLS = ROOT / "tools"


def pins(path) -> dict[str, str]:
    """name -> version of the ``name==version`` lines of a requirements file (comments and -r lines skipped)."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s#;]+)", line)
        if match:
            found[match[1].lower().replace("_", "-")] = match[2]
    return found


def test_tool_pins_are_the_environments_pins():
    tools, everything = pins(TOOLS / "requirements.txt"), pins(ROOT / "requirements.txt")
    assert {"nbformat", "nbclient", "nbconvert", "jupytext"} <= set(tools)
    assert {name: everything.get(name) for name in tools} == tools, "tools/requirements.txt and requirements.txt disagree"


def tools_imports(path) -> set[str]:
    """The tools modules that ``path`` imports (relative imports and ``tools.x``), anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 1:
                found |= {module} if module else {alias.name for alias in node.names}
            elif module == "tools":
                found |= {alias.name for alias in node.names}
            elif module.startswith("tools."):
                found.add(module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("tools.")}
    return found


def test_no_import_cycle_in_tools():
    graph = {p.stem: tools_imports(p) for p in TOOLS.glob("*.py")}
    assert graph["student"] == {"config"} and graph["authoring"] == {"colab_setup", "config", "student"}
    done: set[str] = set()

    def visit(module, path):
        assert module not in path, f"import cycle: {' -> '.join(path + [module])}"
        if module not in done:
            for imported in graph.get(module, ()):
                visit(imported, path + [module])
            done.add(module)

    for module in graph:
        visit(module, [])


def test_the_package_is_course_utils_only():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["tool"]["setuptools"]["packages"] == ["course_utils"]
    assert not any("nb" in d or "jupytext" in d for d in project["project"]["dependencies"])
    package = ROOT / "course_utils"
    for path in package.glob("*.py"):
        text = path.read_text()
        assert "tools" not in {n.module.split(".")[0] for n in ast.walk(ast.parse(text))
                               if isinstance(n, ast.ImportFrom) and n.module and not n.level}, path
        assert not re.search(r"^\s*import (nbformat|nbclient|nbconvert|jupytext)", text, re.MULTILINE), path
