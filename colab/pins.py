"""The Colab version list (colab/requirements.txt) for `make test-colab`; standard library only.

    python colab/pins.py python                 the Python version of the list (X.Y), for the Makefile
    python colab/pins.py check                  in .venv-colab: print the versions under test; exit 1 if any
                                                installed version differs from the list (pip replaced it)
    python colab/pins.py tooling REQUIREMENTS   in .venv-colab: the lines of the main requirements.txt for packages
                                                neither in the Colab list nor installed: constraints for the test
                                                tooling installed on top
    python colab/pins.py setup-cell REPORT      exit 1 unless the `pip install --dry-run --report` of the course
                                                (with dependencies, as the notebooks' Colab setup cell runs it)
                                                would install course-utils alone, replacing nothing of Colab's
    python colab/pins.py update PIP_FREEZE      rewrite every version in the list from a new pip-freeze.txt of
                                                googlecolab/backend-info (the maintainer's step when Colab moves)
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

LIST = Path(__file__).with_name("requirements.txt")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s#]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path = LIST) -> dict[str, tuple[str, str, str]]:
    """canonical name -> (name as written, version, section title) for every `name==version` line."""
    found, section = {}, ""
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        elif match := PIN.match(line):
            found[canonical(match[1])] = (match[1], match[2], section)
    return found


def python_version(path: Path = LIST) -> str:
    match = re.search(r"^# Python: (\d+\.\d+)\s*$", path.read_text(), re.MULTILINE)
    if not match:
        sys.exit(f"{path}: no '# Python: X.Y' line")
    return match[1]


def check() -> int:
    from importlib.metadata import PackageNotFoundError, distributions, version

    listed = pins()
    wrong, by_section = [], {}
    for name, wanted, section in listed.values():
        try:
            got = version(name)
        except PackageNotFoundError:
            got = None
        if got != wanted:
            wrong.append(f"  {name}: Colab has {wanted}, this environment has {got or 'nothing'}")
        by_section.setdefault(section, []).append(f"{name} {got}")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    if python != python_version():
        wrong.append(f"  Python: Colab has {python_version()}, this environment has {python}")
    sections = list(by_section.items())
    print("test-colab: Colab's versions from colab/requirements.txt (googlecolab/backend-info, see its header)")
    print(f"test-colab: Python {sys.version.split()[0]}, " + ", ".join(sections[0][1]))
    for title, items in sections[1:]:
        print(f"test-colab: {title[0].lower()}{title[1:]} ({len(items)}): " + ", ".join(items))
    try:
        course = version("course-utils")
    except PackageNotFoundError:
        course = None
    extra = sorted(f"{d.metadata['Name']} {d.version}" for d in distributions()
                   if canonical(d.metadata["Name"]) not in listed and canonical(d.metadata["Name"]) != "course-utils")
    print(f"test-colab: not in the list (PyPI's choice, test tooling, torch's CUDA packages): {', '.join(extra)}")
    print(f"test-colab: course-utils {course or 'NOT INSTALLED'}")
    if course is None:
        wrong.append("  course-utils: not installed (`pip install --no-deps .`)")
    if wrong:
        print("test-colab: FAILED: pip replaced Colab's versions (or the environment is stale: "
              "rm -rf .venv-colab):\n" + "\n".join(wrong), file=sys.stderr)
        return 1
    return 0


def tooling(requirements: str) -> int:
    """Pins for what the test tooling may add: packages neither in the Colab list nor installed already (torch's
    CUDA packages, jedi), at the main environment's versions, so the tooling is the one `make test` uses."""
    from importlib.metadata import distributions

    skip = set(pins()) | {canonical(d.metadata["Name"]) for d in distributions()}
    for line in Path(requirements).read_text().splitlines():
        match = PIN.match(line)
        if match and canonical(match[1]) not in skip:
            print(line)
    return 0


def setup_cell(report: str) -> int:
    installs = [item["metadata"] for item in json.loads(Path(report).read_text())["install"]]
    others = [f"{meta['name']} {meta['version']}" for meta in installs if canonical(meta["name"]) != "course-utils"]
    if others:
        print("test-colab: FAILED: installing the course with its dependencies, as the Colab setup cell does, would "
              f"replace or add: {', '.join(others)} (pyproject.toml's minimum versions exclude Colab's)",
              file=sys.stderr)
        return 1
    print("test-colab: the setup cell's `pip install` (with dependencies) would install course-utils alone")
    return 0


def update(freeze: str) -> int:
    colab = {}
    for line in Path(freeze).read_text().splitlines():
        if match := PIN.match(line):
            colab[canonical(match[1])] = match[2]
        elif match := re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*) @ \S*/[^/]+?-([0-9][^-]*?)(?:%2B[^-]*)?-", line):
            colab[canonical(match[1])] = match[2]  # torch @ https://.../torch-2.11.0%2Bcpu-cp313-...whl -> 2.11.0
    lines, changed, missing = [], [], []
    for line in LIST.read_text().splitlines():
        match = PIN.match(line)
        if match and canonical(match[1]) in colab:
            new = colab[canonical(match[1])].split("+")[0]
            if new != match[2]:
                changed.append(f"{match[1]} {match[2]} -> {new}")
            line = f"{match[1]}=={new}{line[match.end():]}"
        elif match:
            missing.append(match[1])
        lines.append(line)
    LIST.write_text("\n".join(lines) + "\n")
    print(f"{LIST}: {len(changed)} versions changed" + "".join(f"\n  {c}" for c in changed))
    if missing:
        print(f"not in {freeze} (remove them, or keep them if Colab still installs them): {', '.join(missing)}")
    print("Now edit the '# Python:' and 'Source:' lines of the header, then run `make test-colab`.")
    return 0


def print_python() -> int:
    print(python_version())
    return 0


def main(argv: list[str]) -> int:
    commands = {"check": (check, 0), "tooling": (tooling, 1), "setup-cell": (setup_cell, 1), "update": (update, 1),
                "python": (print_python, 0)}
    if not argv or argv[0] not in commands or len(argv) - 1 != commands[argv[0]][1]:
        print(__doc__, file=sys.stderr)
        return 2
    function, _ = commands[argv[0]]
    return function(*argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
