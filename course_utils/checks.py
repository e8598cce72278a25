"""Exercise feedback: compare a learner's answer with what is expected and say what to do next.

Checks print a short report (never a bare assert) and return a Verdict that is truthy when the
answer passed, so a notebook keeps running and the learner sees expected vs got plus a hint.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch

PASS, FAIL, TODO = "✅", "❌", "📝"


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


def same(got: Any, expected: Any, tol: float = 1e-6) -> tuple[bool, str]:
    """Compare two answers (numbers, tensors, sequences, anything with ==); returns (ok, why not)."""
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


def hint_from_docstring(fn: Callable) -> str:
    """The text after "Hint:" in a function's docstring (exercise functions carry one)."""
    for line in (getattr(fn, "__doc__", None) or "").splitlines():
        if line.strip().startswith("Hint:"):
            return line.strip()[len("Hint:"):].strip()
    return ""


def check_value(name: str, got: Any, expected: Any, hint: str = "", tol: float = 1e-6) -> Verdict:
    """Check one answer and print the verdict."""
    ok, why = same(got, expected, tol)
    if ok:
        print(f"{PASS} {name}: correct ({_describe(got)}).")
        return Verdict(True)
    print(f"{FAIL} {name}: expected {_describe(expected)}, got {_describe(got)}." + (f" ({why})" if why else ""))
    if hint:
        print(f"   Hint: {hint}")
    return Verdict(False)


def check_function(fn: Callable, cases: Iterable[tuple[Sequence, Any]], hint: str = "",
                   tol: float = 1e-6) -> Verdict:
    """Call ``fn(*args)`` for each (args, expected) case and report the first mismatch.

    A stub that still raises NotImplementedError is reported as not done yet, with the hint
    (by default the "Hint:" line of the function's docstring).
    """
    name = getattr(fn, "__name__", "your function")
    hint = hint or hint_from_docstring(fn)
    cases = list(cases)
    for args, expected in cases:
        shown = ", ".join(_describe(a) for a in args)
        try:
            got = fn(*args)
        except NotImplementedError:
            print(f"{TODO} {name} is not written yet: replace the `raise NotImplementedError` with your code.")
            if hint:
                print(f"   Hint: {hint}")
            return Verdict(False)
        except Exception as err:  # the learner's code failed: show it as feedback, not a traceback
            print(f"{FAIL} {name}({shown}) raised {type(err).__name__}: {err}")
            if hint:
                print(f"   Hint: {hint}")
            return Verdict(False)
        ok, why = same(got, expected, tol)
        if not ok:
            print(f"{FAIL} {name}({shown}): expected {_describe(expected)}, got {_describe(got)}."
                  + (f" ({why})" if why else ""))
            if hint:
                print(f"   Hint: {hint}")
            return Verdict(False)
    print(f"{PASS} {name}: all {len(cases)} test cases pass.")
    return Verdict(True)
