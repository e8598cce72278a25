"""Exercise feedback: compare a learner's answer with what is expected and say what to do next.

In this course "check" means exercise feedback: ``check_function`` and ``check_value`` print a short
report (never a bare assert) and return a Verdict: truthy when the answer passed, with the fraction of
cases that passed as its ``score`` (0 to 1), so a notebook keeps running and the learner sees expected vs
got plus a hint. (The package's input validation lives in the private module _validate and is never
called check_*.) Tensors and numpy arrays must match in shape, dtype and values (NaN equals NaN in the
same place); each case gets its own copy of its arguments, and a case that does not return within
``TIMEOUT`` seconds is reported as a likely endless loop.

An exercise is a function in a cell tagged ``solution`` whose docstring has a ``Hint:`` line, and may
have more specific ones after it, ``Hint 2:``, ``Hint 3:`` ... A failed check shows the first hint; each
further failed attempt at the same exercise in the same kernel shows the next one, until the last. The
answer itself is only in the solution cell. ``hints_from_docstring`` reads those lines, both here and in
the maintainer tooling that builds the student editions (whose stubs' NotImplementedError carries only
the first hint, ``hint_from_docstring``).

Grading mode: with the environment variable ``COURSE_GRADING=1`` (the course's nbgrader configuration
sets it in the kernels it grades), a failed check raises AssertionError with the same feedback instead
of printing it, so a grader that scores a test cell by whether it raises scores the exercise.
A demonstration of a failing check passes ``graded=False`` and never raises.
"""
from __future__ import annotations

import contextlib
import copy
import math
import os
import re
import signal
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch

from ._validate import CONVERSIONS

PASS, FAIL, TODO = "✅", "❌", "📝"
NO_HINT = "see the exercise text above."  # what an exercise whose docstring has no Hint: line points to
TIMEOUT = 10.0  # seconds one case of check_function may take before it counts as never returning
GRADING = "COURSE_GRADING"  # the environment variable that turns grading mode on ("1")


def check_function(fn: Callable[..., Any], cases: Iterable[tuple[Sequence[Any], Any]],
                   hint: str | Sequence[str] = "", tol: float = 1e-6, *, timeout: float | None = TIMEOUT,
                   graded: bool = True) -> Verdict:
    """Call ``fn(*args)`` for each (args, expected) case, count the passes and report the first mismatch.

    A stub that still raises NotImplementedError is reported as not written yet; an exception from the
    learner's code is reported as feedback, not as a traceback; so is a case that does not return within
    ``timeout`` seconds (an infinite loop: the cases after it are not run and count as failed). Every report
    that is not a pass ends with a hint: the first on the first failed attempt, the next one on each further
    attempt (a stub is no attempt). Each case gets its own copy of its arguments, so a function that changes
    its inputs cannot spoil the next case.

    Args:
        fn: the learner's function.
        cases: (args, expected) pairs; ``args`` is a tuple of positional arguments. At least one.
        hint: a hint, or hints from general to specific; by default the "Hint:", "Hint 2:" ... lines of
            ``fn``'s docstring (see ``hints_from_docstring``).
        tol: relative (and absolute) tolerance for floats.
        timeout: seconds each case may take; None for no limit. It needs the main thread of a Unix process
            (a Jupyter or Colab kernel, a script); elsewhere cases run without one.
        graded: False for a demonstration, which never raises, even in grading mode.
    Returns:
        A Verdict, truthy when every case passed; its score is the fraction of cases that passed.
    Raises:
        ValueError: ``cases`` is empty (a check that checks nothing would always pass).
        AssertionError: in grading mode (``COURSE_GRADING=1``), with the feedback, when a case failed.
    """
    __tracebackhide__ = True  # in grading mode IPython shows the check's line, not the inside of this function
    name = getattr(fn, "__name__", "your function")
    hints = _hint_list(hint) or hints_from_docstring(getattr(fn, "__doc__", None))
    cases = list(cases)
    if not cases:
        raise ValueError(f"check_function({name}, cases) needs at least one (args, expected) case, got none; "
                         "a check without cases would pass any function")
    passed, first, written = 0, "", True
    for args, expected in cases:
        failure, stub, hung = _run_case(fn, name, args, expected, tol, timeout)
        if not failure:
            passed += 1
            continue
        if not first:
            first, written = failure, not stub
        if hung:  # the rest would most likely hang as well: not run, counted as failed
            break
    if passed == len(cases):
        print(f"{PASS} {name}: all {len(cases)} test cases pass.")
        return Verdict(True)
    key = f"function {getattr(fn, '__qualname__', name)}"
    return _failed(first, hints, key, passed / len(cases), attempt=written, graded=graded)


def check_value(name: str, got: Any, expected: Any, hint: str | Sequence[str] = "", tol: float = 1e-6, *,
                graded: bool = True) -> Verdict:
    """Check one answer and print the verdict.

    Args:
        name: what the answer is called in the report (and which exercise repeated attempts count for).
        got, expected: the learner's answer and the right one (numbers, tensors, sequences, ...).
        hint: a hint, or hints from general to specific (the first on the first failed attempt, then the next);
            nothing is printed under a wrong answer when empty.
        tol: relative (and absolute) tolerance for floats.
        graded: False for a demonstration, which never raises, even in grading mode.
    Returns:
        A Verdict, truthy (score 1) when the answer is right, else falsy (score 0).
    Raises:
        AssertionError: in grading mode (``COURSE_GRADING=1``), with the feedback, when the answer is wrong.
    """
    __tracebackhide__ = True  # in grading mode IPython shows the check's line, not the inside of this function
    ok, why = same(got, expected, tol)
    if ok:
        print(f"{PASS} {name}: correct ({_describe(got)}).")
        return Verdict(True)
    report = (f"{FAIL} {name}: expected {_describe(expected, True)}, got {_describe(got, True)}."
              + (f" ({why})" if why else ""))
    return _failed(report, _hint_list(hint), f"value {name}", 0.0, graded=graded)


def hints_from_docstring(doc: str | None) -> list[str]:
    """The hints of an exercise function's docstring, in order: its "Hint:" line, then "Hint 2:", "Hint 3:" ...

    Each hint is the text after its label on one line; "Hint 1:" is the same as "Hint:", and the first line
    with a given number counts.

    Args:
        doc: the docstring, e.g. ``fn.__doc__`` or ``ast.get_docstring(node)``; None when there is none.
    Returns:
        The hints, or ``[NO_HINT]`` ("see the exercise text above.") when the docstring has no Hint line.
    """
    found: dict[int, str] = {}
    for line in (doc or "").splitlines():
        match = _HINT_LINE.match(line.strip())
        if match:
            found.setdefault(int(match.group(1) or 1), match.group(2).strip())
    return [found[number] for number in sorted(found)] or [NO_HINT]


def hint_from_docstring(doc: str | None) -> str:
    """The first hint of an exercise function's docstring: the text after "Hint:" (what a student stub shows).

    Args:
        doc: the docstring, e.g. ``fn.__doc__`` or ``ast.get_docstring(node)``; None when there is none.
    Returns:
        The hint, or NO_HINT ("see the exercise text above.") when the docstring has no Hint: line.
    """
    return hints_from_docstring(doc)[0]


def grading_mode() -> bool:
    """Whether failed checks raise: the environment variable COURSE_GRADING is set, and not to 0, false, no or off."""
    return os.environ.get(GRADING, "").strip().lower() not in ("", "0", "false", "no", "off")


def same(got: Any, expected: Any, tol: float = 1e-6) -> tuple[bool, str]:
    """Compare two answers (numbers, tensors, numpy arrays, sequences, anything with ==).

    Tensors and arrays must match in shape, dtype and values; NaN equals NaN in the same place.

    Returns:
        (ok, why not): ``why`` explains a mismatch where it can (shape, dtype, largest difference), else "".
    """
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return False, f"expected a tensor, got {type(got).__name__}"
        if tuple(got.shape) != tuple(expected.shape):
            return False, f"expected shape {list(expected.shape)}, got shape {list(got.shape)}"
        if got.dtype != expected.dtype:
            return False, _wrong_dtype("tensor", got.dtype, expected.dtype)
        return _same_values(got.detach().cpu(), expected.detach().cpu(), tol)
    if isinstance(expected, np.ndarray):
        if not isinstance(got, np.ndarray):
            return False, f"expected a numpy array, got {type(got).__name__}"
        if got.shape != expected.shape:
            return False, f"expected shape {list(expected.shape)}, got shape {list(got.shape)}"
        if got.dtype != expected.dtype:
            return False, _wrong_dtype("array", got.dtype, expected.dtype)
        if expected.dtype.kind in "fc":
            wide = np.complex128 if expected.dtype.kind == "c" else np.float64
            return _same_values(torch.from_numpy(got.astype(wide)), torch.from_numpy(expected.astype(wide)), tol)
        ok = bool(np.array_equal(got, expected))
        return ok, "" if ok else "values differ"
    if isinstance(expected, np.generic):
        expected = expected.item()
    if isinstance(got, np.generic):
        got = got.item()
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        return _truth(got == expected)
    if isinstance(expected, (int, float)):
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            return False, f"expected a number, got {type(got).__name__}"
        if isinstance(expected, int) and isinstance(got, int):
            return got == expected, ""
        if math.isnan(expected) or math.isnan(got):
            return math.isnan(expected) and math.isnan(got), ""
        return math.isclose(got, expected, rel_tol=tol, abs_tol=tol), ""
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple, torch.Size)) or len(got) != len(expected):
            return False, f"expected a sequence of length {len(expected)}"
        for i, (g, e) in enumerate(zip(got, expected)):
            ok, why = same(g, e, tol)
            if not ok:
                return False, f"item {i}: {why}" if why else f"item {i} differs"
        return True, ""
    return _truth(got == expected)


class Verdict:
    """The result of a check: truthy when it passed, ``score`` the fraction of its cases that passed (0 to 1).

    It shows nothing itself in a notebook (the check printed). A grader reads ``passed`` (or ``failed``) and
    ``score``.
    """

    def __init__(self, passed: bool, score: float | None = None):
        self.passed = bool(passed)
        self.score = float(self.passed) if score is None else float(score)
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"a Verdict's score is a fraction from 0 to 1, got {score!r}")

    @property
    def failed(self) -> bool:
        """True when the check did not pass."""
        return not self.passed

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"Verdict(passed={self.passed}, score={self.score:g})"

    def _ipython_display_(self) -> None:
        pass


_HINT_LINE = re.compile(r"^Hint(?:\s+(\d+))?:(.*)$")  # "Hint: ...", "Hint 2: ..."
_ATTEMPTS: Counter[str] = Counter()  # failed attempts per exercise in this kernel ("function name" / "value name")


def _hint_list(hint: str | Sequence[str]) -> list[str]:
    """A check's ``hint`` argument as a list of hints (empty when none was given)."""
    if isinstance(hint, str):
        return [hint] if hint else []
    return [str(h) for h in hint if h]


def _hint_report(hints: list[str], step: int) -> str:
    """The hint line for the ``step``-th failed attempt (1 = the first): "   Hint: ..." or "   Hint 2 of 3: ..."."""
    if not hints:
        return ""
    if len(hints) == 1:
        return f"   Hint: {hints[0]}"
    step = min(max(step, 1), len(hints))
    return f"   Hint {step} of {len(hints)}: {hints[step - 1]}"


def _failed(report: str, hints: list[str], key: str, score: float, *, attempt: bool = True,
            graded: bool = True) -> Verdict:
    """Print a failed check's report and its hint for this attempt (or raise it in grading mode); a falsy Verdict.

    ``attempt`` False (a stub not written yet) shows the current hint without moving on to the next one.
    """
    __tracebackhide__ = True
    if attempt:
        _ATTEMPTS[key] += 1
    feedback = "\n".join(line for line in (report, _hint_report(hints, _ATTEMPTS[key])) if line)
    if graded and grading_mode():
        raise AssertionError(feedback)
    print(feedback)
    return Verdict(False, score)


def _run_case(fn: Callable[..., Any], name: str, args: Sequence[Any], expected: Any, tol: float,
              timeout: float | None) -> tuple[str, bool, bool]:
    """Run one case of check_function: (the report line, "" when it passed; whether fn is a stub; whether it hung)."""
    shown = ", ".join(_describe(a) for a in args)
    try:
        with _time_limit(timeout):
            got = fn(*_copies(args))
    except NotImplementedError:
        return f"{TODO} {name} is not written yet: replace the `raise NotImplementedError` with your code.", True, False
    except _TooSlow:
        return (f"{FAIL} {name}({shown}): your function did not return within {timeout:g} s (an infinite loop?"
                " check that every loop ends)."), False, True
    except Exception as err:  # the learner's code failed: show it as feedback, not a traceback
        return f"{FAIL} {name}({shown}) raised {type(err).__name__}: {err}", False, False
    ok, why = same(got, expected, tol)
    if ok:
        return "", False, False
    return (f"{FAIL} {name}({shown}): expected {_describe(expected, True)}, got {_describe(got, True)}."
            + (f" ({why})" if why else "")), False, False


def _describe(value: Any, values: bool = False) -> str:
    """A short description of an answer; ``values`` adds a few of the numbers of a large tensor."""
    if isinstance(value, torch.Tensor):
        if value.numel() <= 8:
            return f"tensor({value.tolist()}, dtype={value.dtype})"
        shown = f"tensor of shape {list(value.shape)}, dtype={value.dtype}"
        return shown + (f": {_some(value.detach().reshape(-1)[[0, 1, 2, -1]].cpu().tolist())}" if values else "")
    if isinstance(value, np.ndarray):
        if value.size <= 8:
            return repr(value)
        return (f"numpy array of shape {list(value.shape)}, dtype={value.dtype}: "
                f"{_some(value.reshape(-1)[[0, 1, 2, -1]].tolist())}")
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def _some(values: list[Any]) -> str:
    """The first three and the last of many values (given as those four), as torch prints a large tensor."""
    shown = [f"{v:.4g}" if isinstance(v, float) else repr(v) for v in values]
    return f"[{', '.join(shown[:3])}, ..., {shown[3]}]"


def _wrong_dtype(kind: str, got: torch.dtype | np.dtype, expected: torch.dtype | np.dtype) -> str:
    """Why a tensor or array of the wrong dtype fails, with the conversion that fixes it."""
    got_name, expected_name = (str(d).removeprefix("torch.") for d in (got, expected))
    if isinstance(expected, torch.dtype):
        convert = CONVERSIONS.get(expected, f".to({expected})")
    else:
        convert = f".astype(np.{expected_name})"
    return f"your {kind} is {got_name}, expected {expected_name}: convert with {convert}"


def _same_values(got: torch.Tensor, expected: torch.Tensor, tol: float) -> tuple[bool, str]:
    """Equal values (floats to ``tol``, relative to the largest expected value); NaN equals NaN in the same place."""
    if not (expected.is_floating_point() or expected.is_complex()):
        ok = torch.equal(got, expected)
        return ok, "" if ok else "values differ"
    if not expected.is_complex():
        got, expected = got.double(), expected.double()
    got_nan, expected_nan = torch.isnan(got), torch.isnan(expected)
    if not torch.equal(got_nan, expected_nan):
        return False, f"NaN in {int((got_nan != expected_nan).sum())} place(s) where the other has a number"
    exact = (got == expected) | got_nan            # an infinity is equal only to the same infinity
    if bool(exact.all()):
        return True, ""
    diff = (got - expected).abs()[~exact].max().item()
    finite = expected[torch.isfinite(expected)].abs()
    ok = diff <= tol * max(1.0, finite.max().item() if finite.numel() else 1.0)
    return ok, "" if ok else f"values differ by up to {diff:.3g}"


def _truth(result: Any) -> tuple[bool, str]:
    """(ok, "") for the result of ``got == expected``, which numpy and torch make an array, not a bool."""
    try:
        return bool(result), ""
    except (ValueError, RuntimeError, TypeError):
        return False, "expected one value, got an array or tensor of them"


def _copies(args: Sequence[Any]) -> tuple[Any, ...]:
    """A fresh copy of a case's arguments (kept together, so a layer of a model stays in its model's copy).

    A tensor argument is copied with only its own values (a deep copy of a slice such as images[:4] would
    copy all the images it is cut from), keeping its autograd history or its requires_grad.
    """
    memo: dict[int, Any] = {}
    for arg in args:
        if type(arg) is torch.Tensor:
            memo[id(arg)] = (arg.clone() if arg.grad_fn is not None
                             else arg.detach().clone().requires_grad_(arg.requires_grad))
    try:
        return tuple(copy.deepcopy(tuple(args), memo))
    except Exception:  # something inside cannot be deep-copied: copy one by one, that thing as it is
        return tuple(memo[id(arg)] if id(arg) in memo else _copy(arg) for arg in args)


def _copy(value: Any) -> Any:
    """A copy of one argument: tensors cloned (autograd history kept), anything that cannot be copied as it is."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    try:
        return copy.deepcopy(value)
    except Exception:
        return value


class _TooSlow(BaseException):
    """A case of check_function did not return within its time limit (a BaseException, like KeyboardInterrupt,
    so that an ``except Exception`` in the learner's loop does not swallow it)."""


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Raise _TooSlow in the block after ``seconds`` (SIGALRM: the main thread of a Unix process).

    Nothing is limited without a time, off the main thread, where SIGALRM does not exist (Windows), or
    while another timer of the process is running (its owner keeps it).
    """
    usable = (seconds is not None and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield
        return

    def too_slow(signum: int, frame: object) -> None:
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)
