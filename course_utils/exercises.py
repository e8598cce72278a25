"""Exercise feedback: compare a learner's answer with what is expected and say what to do next.

In this course "check" means exercise feedback: ``check_function`` and ``check_value`` print a short
report (never a bare assert) and return a Verdict that is truthy when the answer passed, so a notebook
keeps running and the learner sees expected vs got plus a hint. (The package's input validation lives
in the private module _validate and is never called check_*.)

An exercise is a function in a cell tagged ``solution`` whose docstring has a ``Hint:`` line.
``hint_from_docstring`` reads that line, both here (the hint a failing check prints) and in the
maintainer tooling that builds the student editions (the hint a stub's NotImplementedError carries).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch

PASS, FAIL, TODO = "✅", "❌", "📝"
NO_HINT = "see the exercise text above."  # what an exercise whose docstring has no Hint: line points to


def check_function(fn: Callable[..., Any], cases: Iterable[tuple[Sequence[Any], Any]], hint: str = "",
                   tol: float = 1e-6) -> Verdict:
    """Call ``fn(*args)`` for each (args, expected) case and report the first mismatch.

    A stub that still raises NotImplementedError is reported as not written yet; an exception from the
    learner's code is reported as feedback, not as a traceback. Every report that is not a pass ends
    with the hint.

    Args:
        fn: the learner's function.
        cases: (args, expected) pairs; ``args`` is a tuple of positional arguments.
        hint: by default the "Hint:" line of ``fn``'s docstring (see ``hint_from_docstring``).
        tol: relative (and absolute) tolerance for floats.
    Returns:
        A Verdict, truthy when every case passed.
    """
    name = getattr(fn, "__name__", "your function")
    hint = hint or hint_from_docstring(getattr(fn, "__doc__", None))
    cases = list(cases)
    for args, expected in cases:
        shown = ", ".join(_describe(a) for a in args)
        try:
            got = fn(*args)
        except NotImplementedError:
            print(f"{TODO} {name} is not written yet: replace the `raise NotImplementedError` with your code.")
            print(f"   Hint: {hint}")
            return Verdict(False)
        except Exception as err:  # the learner's code failed: show it as feedback, not a traceback
            print(f"{FAIL} {name}({shown}) raised {type(err).__name__}: {err}")
            print(f"   Hint: {hint}")
            return Verdict(False)
        ok, why = same(got, expected, tol)
        if not ok:
            print(f"{FAIL} {name}({shown}): expected {_describe(expected)}, got {_describe(got)}."
                  + (f" ({why})" if why else ""))
            print(f"   Hint: {hint}")
            return Verdict(False)
    print(f"{PASS} {name}: all {len(cases)} test cases pass.")
    return Verdict(True)


def check_value(name: str, got: Any, expected: Any, hint: str = "", tol: float = 1e-6) -> Verdict:
    """Check one answer and print the verdict.

    Args:
        name: what the answer is called in the report.
        got, expected: the learner's answer and the right one (numbers, tensors, sequences, ...).
        hint: printed under a wrong answer (nothing is printed when empty).
        tol: relative (and absolute) tolerance for floats.
    Returns:
        A Verdict, truthy when the answer is right.
    """
    ok, why = same(got, expected, tol)
    if ok:
        print(f"{PASS} {name}: correct ({_describe(got)}).")
        return Verdict(True)
    print(f"{FAIL} {name}: expected {_describe(expected)}, got {_describe(got)}." + (f" ({why})" if why else ""))
    if hint:
        print(f"   Hint: {hint}")
    return Verdict(False)


def hint_from_docstring(doc: str | None) -> str:
    """The text after "Hint:" on the first such line of an exercise function's docstring.

    Args:
        doc: the docstring, e.g. ``fn.__doc__`` or ``ast.get_docstring(node)``; None when there is none.
    Returns:
        The hint, or NO_HINT ("see the exercise text above.") when the docstring has no Hint: line.
    """
    for line in (doc or "").splitlines():
        if line.strip().startswith("Hint:"):
            return line.strip()[len("Hint:"):].strip()
    return NO_HINT


def same(got: Any, expected: Any, tol: float = 1e-6) -> tuple[bool, str]:
    """Compare two answers (numbers, tensors, sequences, anything with ==).

    Returns:
        (ok, why not): ``why`` explains a mismatch where it can (shape, largest difference), else "".
    """
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return False, f"expected a tensor, got {type(got).__name__}"
        if tuple(got.shape) != tuple(expected.shape):
            return False, f"expected shape {list(expected.shape)}, got shape {list(got.shape)}"
        if expected.is_floating_point() or got.is_floating_point():
            diff = (got.detach().double().cpu() - expected.detach().double().cpu()).abs().max().item() \
                if got.numel() else 0.0
            ok = diff <= tol * max(1.0, expected.detach().double().abs().max().item() if got.numel() else 1.0)
            return ok, "" if ok else f"values differ by up to {diff:.3g}"
        ok = torch.equal(got.cpu(), expected.cpu())
        return ok, "" if ok else "values differ"
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        return got == expected, ""
    if isinstance(expected, (int, float)):
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            return False, f"expected a number, got {type(got).__name__}"
        if isinstance(expected, int) and isinstance(got, int):
            return got == expected, ""
        return math.isclose(got, expected, rel_tol=tol, abs_tol=tol), ""
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple, torch.Size)) or len(got) != len(expected):
            return False, f"expected a sequence of length {len(expected)}"
        for i, (g, e) in enumerate(zip(got, expected)):
            ok, why = same(g, e, tol)
            if not ok:
                return False, f"item {i}: {why}" if why else f"item {i} differs"
        return True, ""
    return got == expected, ""


class Verdict:
    """The result of a check: truthy when it passed; shows nothing itself in a notebook (the check printed)."""

    def __init__(self, passed: bool):
        self.passed = bool(passed)

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"Verdict(passed={self.passed})"

    def _ipython_display_(self) -> None:
        pass


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        if value.numel() <= 8:
            return f"tensor({value.tolist()}, dtype={value.dtype})"
        return f"tensor of shape {list(value.shape)}, dtype={value.dtype}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)
