"""The style guide, checked: every public function and method of course_utils and tools has a docstring and a
type hint on each parameter.

Public means a name without a leading underscore, all the way down: ``plots.show_digits`` and
``DigitCanvas.load`` are public; ``plots._grid``, ``DigitCanvas._valid_pixels``, ``__init__`` and the methods
of a private class are not. Functions defined inside other functions (callbacks, wrappers) are local and not
checked. ``self`` and ``cls`` need no hint. The files are read with ``ast``, never imported.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("course_utils", "tools")
MODULES = sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
                 if not any(part.startswith(".") for part in path.relative_to(ROOT).parts))
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def public_functions(body: list[ast.stmt], prefix: str = "",
                     in_class: bool = False) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef, bool]]:
    """(qualified name, node, whether it is a method) for every public function and method in ``body``.

    Classes are entered (their methods are methods), and so are module-level ``if``, ``try`` and ``with``
    blocks; function bodies are not (what is defined there is local).
    """
    for node in body:
        if isinstance(node, FUNCTIONS):
            if not node.name.startswith("_"):
                yield prefix + node.name, node, in_class
        elif isinstance(node, ast.ClassDef):
            if not node.name.startswith("_"):
                yield from public_functions(node.body, f"{prefix}{node.name}.", True)
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            for block in ("body", "orelse", "handlers", "finalbody"):
                for part in getattr(node, block, []):
                    yield from public_functions(part.body if isinstance(part, ast.ExceptHandler) else [part],
                                                prefix, in_class)


def decorator_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """The last dotted part of each decorator: ``staticmethod``, ``setter``, ``overload``, ``no_grad``..."""
    names = set()
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute):
            names.add(target.attr)
        elif isinstance(target, ast.Name):
            names.add(target.id)
    return names


def style_findings(source: str, where: str = "<source>") -> list[str]:
    """One line per public function or method of ``source`` without a docstring or a parameter's type hint."""
    findings = []
    for name, node, method in public_functions(ast.parse(source).body):
        decorators = decorator_names(node)
        if "overload" in decorators:
            continue  # the implementation after the overloads carries the docstring
        params = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        if method and "staticmethod" not in decorators and params and params[0].arg in ("self", "cls"):
            params = params[1:]
        params += [p for p in (node.args.vararg, node.args.kwarg) if p is not None]
        missing = [p.arg for p in params if p.annotation is None]
        if ast.get_docstring(node) is None and not decorators & {"setter", "deleter"}:
            findings.append(f"{where}:{node.lineno} {name}: no docstring")
        if missing:
            findings.append(f"{where}:{node.lineno} {name}: no type hint on {', '.join(missing)}")
    return findings


def test_the_checker_finds_what_the_style_guide_forbids():
    source = '''
def documented(x: int, *rest: str, flag: bool = False, **options: float) -> int:
    """Fine."""

def bare(x, y: int):
    pass

def _private(x):
    pass

class Thing:
    """A class."""

    def __init__(self, x):
        pass

    def method(self, x: int) -> None:
        """Fine: self needs no hint."""

    @classmethod
    def make(cls, y) -> "Thing":
        """Missing a hint on y."""

    @staticmethod
    def static(self):
        """Here self is an ordinary parameter."""

    def local(self) -> None:
        """Functions defined inside are not checked."""
        def helper(z):
            pass

class _Hidden:
    def method(self, x):
        pass
'''
    assert style_findings(source) == [
        "<source>:5 bare: no docstring",
        "<source>:5 bare: no type hint on x",
        "<source>:21 Thing.make: no type hint on y",
        "<source>:25 Thing.static: no type hint on self",
    ]


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_public_functions_have_docstrings_and_type_hints(path: Path):
    where = path.relative_to(ROOT).as_posix()
    findings = style_findings(path.read_text(encoding="utf-8"), where)
    assert not findings, (f"{len(findings)} public function(s) in {where} break the style guide (a docstring, "
                          "and a type hint on every parameter but self/cls):\n" + "\n".join(findings))
