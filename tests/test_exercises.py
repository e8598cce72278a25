"""course_utils.exercises: the checks under every exercise, and the one parser of a solution's Hint: line."""
import pytest
import torch

from course_utils.exercises import NO_HINT, check_function, check_value, hint_from_docstring, same


def test_passing_check_reports_all_cases(capsys):
    verdict = check_function(lambda a, b: a + b, [((1, 2), 3), ((0, 0), 0)])
    assert verdict and "all 2 test cases pass" in capsys.readouterr().out


def test_failing_check_shows_expected_got_and_hint(capsys):
    def double(x):
        """Hint: multiply by two."""
        return x + 2

    verdict = check_function(double, [((2,), 4), ((5,), 10)])
    out = capsys.readouterr().out
    assert not verdict
    assert "double(5): expected 10, got 7" in out and "Hint: multiply by two." in out


def test_stub_is_reported_as_not_written_yet(capsys):
    def stub(x):
        raise NotImplementedError("Exercise: write it")

    assert not check_function(stub, [((1,), 1)], hint="try harder")
    out = capsys.readouterr().out
    assert "not written yet" in out and "Hint: try harder" in out


def test_learner_exception_becomes_feedback(capsys):
    assert not check_function(lambda x: x / 0, [((1,), 1)])
    out = capsys.readouterr().out
    assert "raised ZeroDivisionError" in out and f"Hint: {NO_HINT}" in out  # no Hint: line: the one default


def test_student_stubs_and_checks_read_the_same_hint():
    import ast

    from tools.student import stub_source

    source = 'def area(r):\n    """Area.\n\n    Hint: pi r squared.\n    """\n    return 3.14 * r * r\n'
    node = ast.parse(source).body[0]
    namespace = {}
    exec(source, namespace)
    assert hint_from_docstring(ast.get_docstring(node)) == hint_from_docstring(namespace["area"].__doc__)
    assert "Hint: pi r squared." in stub_source(source)
    assert f"Hint: {NO_HINT}" in stub_source("def plain(x):\n    return x\n")


def test_tensor_comparison_explains_shape_and_value_differences():
    ok, why = same(torch.zeros(2, 3), torch.zeros(3, 2))
    assert not ok and "shape" in why
    ok, why = same(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.5]))
    assert not ok and "differ by up to 0.5" in why
    assert same(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0 + 1e-9]))[0]
    assert same(torch.tensor([1, 2]), torch.tensor([1, 2]))[0]
    assert not same([1, 2], torch.tensor([1, 2]))[0]


def test_numbers_sequences_and_tolerance():
    assert same(0.1 + 0.2, 0.3)[0]
    assert not same(1874, 1875)[0]
    assert same(torch.tensor(3), 3)[0]
    assert not same("3", 3)[0]
    assert same((1, 2.0), [1, 2.0])[0]
    assert not same((1, 2), (1, 2, 3))[0]


def test_check_value_prints_verdict(capsys):
    assert check_value("answer", 42, 42)
    assert not check_value("answer", 41, 42, hint="count again")
    out = capsys.readouterr().out
    assert "answer: correct" in out and "expected 42, got 41" in out and "count again" in out


def test_hint_from_docstring():
    def f():
        """Summary.

        Hint: look here.
        Hint: not this one.
        """

    assert hint_from_docstring(f.__doc__) == "look here."
    assert hint_from_docstring("Summary only.") == NO_HINT
    assert hint_from_docstring(None) == NO_HINT == "see the exercise text above."


def test_a_tensor_of_another_dtype_fails_with_the_conversion(capsys):
    """Before: a float64 answer passed where float32 was expected, and the next chapter's MLP then refused it."""
    def to_unit_tensor(raw):
        """Hint: .float() then divide by 255."""
        return raw.double() / 255

    raw = torch.tensor([[0, 255], [51, 102]], dtype=torch.uint8)
    assert not check_function(to_unit_tensor, [((raw,), raw.float() / 255)])
    assert "(your tensor is float64, expected float32: convert with .float())" in capsys.readouterr().out
    assert same(torch.tensor([1, 2]), torch.tensor([1.0, 2.0])) == (False, "your tensor is int64, expected float32: "
                                                                           "convert with .float()")
    assert same(torch.tensor([1, 2], dtype=torch.int32), torch.tensor([1, 2]))[1].endswith("convert with .long()")


def test_a_function_that_never_returns_is_stopped(capsys):
    """Before: the check, and any grader running it, hung until the kernel was interrupted."""
    import time

    def count_up(n):
        """Hint: stop at n."""
        i = 0
        while i != n:                                  # skips n when it starts above it
            i += 2
            try:
                time.sleep(0)
            except Exception:                          # even a learner's catch-all does not swallow the stop
                pass
        return i

    start = time.perf_counter()
    assert not check_function(count_up, [((4,), 4), ((3,), 3)], timeout=0.2)
    assert time.perf_counter() - start < 5
    out = capsys.readouterr().out
    assert "count_up(3): your function did not return within 0.2 s (an infinite loop?" in out
    assert "Hint: stop at n" in out
    assert check_function(lambda: time.sleep(0.05) or 1, [((), 1)], timeout=2)  # a slow but finite case passes


def test_the_time_limit_is_left_off_where_it_cannot_work_and_leaves_no_trace():
    import signal
    import threading

    handler = signal.getsignal(signal.SIGALRM)
    results = []
    worker = threading.Thread(target=lambda: results.append(bool(check_function(lambda: 1, [((), 1)], timeout=0.1))))
    worker.start()
    worker.join()
    assert results == [True]                           # off the main thread: no SIGALRM, the check still runs
    assert check_function(lambda: 1, [((), 1)], timeout=0.1) and not check_function(lambda: 1 / 0, [((), 1)])
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0) and signal.getsignal(signal.SIGALRM) is handler


def test_each_case_gets_its_own_copy_of_the_arguments(capsys):
    """Before: a function that changed its input made the next case fail for a correct answer."""
    weights = torch.tensor([1.0, 2.0])
    grad = torch.tensor([1.0, 1.0])

    def sgd_update(w, g, lr):
        w -= lr * g                                    # in place: changes the caller's tensor
        return w

    assert check_function(sgd_update, [((weights, grad, 0.5), torch.tensor([0.5, 1.5])),
                                       ((weights, grad, 1.0), torch.tensor([0.0, 1.0]))])
    assert torch.equal(weights, torch.tensor([1.0, 2.0]))  # the notebook's own tensor is untouched

    def sort_in_place(values):
        values.sort()
        return values[0]

    data = [3, 1, 2]
    assert check_function(sort_in_place, [((data,), 1), ((data,), 1)]) and data == [3, 1, 2]
    layer = torch.nn.Linear(2, 1)
    net = torch.nn.Sequential(layer)
    assert check_function(lambda model, module: any(m is module for m in model.modules()), [((net, layer), True)])
    leaf = torch.ones(2, requires_grad=True)
    computed = leaf * 2                                # has autograd history: cannot be deep-copied
    assert check_function(lambda t: t.sum().item(), [((computed,), 4.0)])
    images = torch.rand(1000, 784)
    own_values_only = lambda t: t.untyped_storage().nbytes() == t.numel() * 4  # noqa: E731
    assert check_function(own_values_only, [((images[:2],), True)])  # a slice is copied without all it is cut from


def test_an_empty_case_list_is_an_authoring_error():
    """Before: 'all 0 test cases pass' for any function."""
    with pytest.raises(ValueError, match=r"check_function\(<lambda>, cases\) needs at least one \(args, expected\) "
                                         "case, got none"):
        check_function(lambda x: x, [])


def test_large_answers_are_summarised_not_printed_whole(capsys):
    import numpy as np

    assert not check_function(lambda: np.arange(10_000.0), [((), np.zeros(10_000))])
    out = capsys.readouterr().out
    assert "got numpy array of shape [10000], dtype=float64: [0, 1, 2, ..., 9999]" in out and len(out) < 500
    assert not check_function(lambda: torch.ones(100, 100), [((), torch.zeros(100, 100))])
    out = capsys.readouterr().out
    assert "expected tensor of shape [100, 100], dtype=torch.float32: [0, 0, 0, ..., 0]" in out and len(out) < 500
    assert check_value("weights", torch.ones(100), torch.ones(100))
    assert "weights: correct (tensor of shape [100], dtype=torch.float32)." in capsys.readouterr().out


def test_nan_equals_nan_in_the_same_place():
    """Before: a right answer holding NaN failed against the same NaN."""
    nan = float("nan")
    assert same(nan, nan)[0] and not same(nan, 1.0)[0] and not same(1.0, nan)[0]
    assert same(torch.tensor([1.0, nan, float("inf")]), torch.tensor([1.0, nan, float("inf")]))[0]
    ok, why = same(torch.tensor([1.0, nan]), torch.tensor([nan, 1.0]))
    assert not ok and why == "NaN in 2 place(s) where the other has a number"
    assert not same(torch.tensor([float("inf")]), torch.tensor([3.0]))[0]
    assert same((nan, [nan]), (nan, [nan]))[0]


def test_numpy_answers_are_compared_as_arrays():
    """Before: a numpy expected value raised 'truth value of an array ... is ambiguous' inside the check."""
    import numpy as np

    expected = np.array([[0.5, 1.0], [np.nan, 2.0]])
    assert same(expected.copy(), expected) == (True, "")
    assert same(expected + 1e-9, expected)[0]
    assert same(expected + 0.5, expected) == (False, "values differ by up to 0.5")
    assert same(np.zeros(3), expected) == (False, "expected shape [2, 2], got shape [3]")
    assert same(expected.astype(np.float32), expected) == (False, "your array is float32, expected float64: "
                                                                  "convert with .astype(np.float64)")
    assert same([1, 2], np.array([1, 2])) == (False, "expected a numpy array, got list")
    assert same(np.array([1, 2]), np.array([1, 3])) == (False, "values differ")
    assert same(np.int64(3), 3)[0] and same(3, np.int64(3))[0] and same(np.float64(0.5), 0.5)[0]
    assert same(np.array([1, 2]), {"a": 1}) == (False, "expected one value, got an array or tensor of them")


# Scores, staged hints and grading mode -------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def fresh_kernel(monkeypatch):
    """Each test starts as a fresh kernel would: no failed attempts counted, grading mode off."""
    from course_utils import exercises

    exercises._ATTEMPTS.clear()
    monkeypatch.delenv(exercises.GRADING, raising=False)


def staged(x):
    """Double x.

    Hint: what does doubling mean?
    Hint 2: add x to itself.
    Hint 3: x * 2
    """
    return x + 2


def test_score_is_the_fraction_of_cases_passed_and_every_case_runs(capsys):
    calls = []

    def plus_two(x):
        calls.append(x)
        return x + 2

    verdict = check_function(plus_two, [((2,), 4), ((5,), 10), ((1,), 2), ((0,), 2)])
    assert not verdict and verdict.failed and verdict.score == 0.5 and calls == [2, 5, 1, 0]
    out = capsys.readouterr().out
    assert "plus_two(5): expected 10, got 7" in out and "plus_two(1)" not in out  # only the first mismatch
    passed = check_function(plus_two, [((2,), 4)])
    assert passed and passed.score == 1.0 and repr(passed) == "Verdict(passed=True, score=1)"


def test_after_a_case_hangs_the_rest_are_not_run_and_count_as_failed(capsys):
    calls = []

    def hangs(x):
        calls.append(x)
        while x == 1:
            pass
        return x

    verdict = check_function(hangs, [((0,), 0), ((1,), 1), ((2,), 2), ((3,), 3)], timeout=0.2)
    assert calls == [0, 1] and verdict.score == 0.25
    assert "did not return within 0.2 s" in capsys.readouterr().out


def test_single_hint_reports_are_printed_as_before(capsys):
    def double(x):
        """Hint: multiply by two."""
        return x + 2

    def stub(x):
        """Hint: multiply by two."""
        raise NotImplementedError("Exercise: write the body of stub(). Hint: multiply by two.")

    check_function(double, [((5,), 10)])
    check_function(double, [((5,), 10)])
    check_function(stub, [((5,), 10)])
    assert capsys.readouterr().out == (
        "❌ double(5): expected 10, got 7.\n   Hint: multiply by two.\n"
        "❌ double(5): expected 10, got 7.\n   Hint: multiply by two.\n"
        "📝 stub is not written yet: replace the `raise NotImplementedError` with your code.\n"
        "   Hint: multiply by two.\n")
    assert not check_value("answer", 3, 4) and capsys.readouterr().out == "❌ answer: expected 4, got 3.\n"


def test_each_failed_attempt_shows_the_next_hint_up_to_the_last(capsys):
    for _ in range(4):
        check_function(staged, [((5,), 10)])
    hints = [line for line in capsys.readouterr().out.splitlines() if line.startswith("   Hint")]
    assert hints == ["   Hint 1 of 3: what does doubling mean?", "   Hint 2 of 3: add x to itself.",
                     "   Hint 3 of 3: x * 2", "   Hint 3 of 3: x * 2"]


def test_a_stub_is_no_attempt_and_exercises_count_apart(capsys):
    def stub(x):
        """Hint: first.
        Hint 2: second.
        """
        raise NotImplementedError

    check_function(stub, [((1,), 2)])
    check_function(stub, [((1,), 2)])
    assert capsys.readouterr().out.count("Hint 1 of 2: first.") == 2
    check_function(staged, [((5,), 10)])
    check_value("your prediction", 3, 4, hint=["think again", "count them"])
    check_value("your prediction", 3, 4, hint=["think again", "count them"])
    out = capsys.readouterr().out
    assert "Hint 1 of 3: what does doubling mean?" in out
    assert "Hint 1 of 2: think again" in out and "Hint 2 of 2: count them" in out


def test_hints_from_docstring_orders_numbered_hints():
    from course_utils.exercises import hints_from_docstring

    doc = "Task.\n\n    Hint 3: third.\n    Hint: first.\n    Hint 2: second.\n    Hint 2: ignored.\n"
    assert hints_from_docstring(doc) == ["first.", "second.", "third."]
    assert hint_from_docstring(doc) == "first."
    assert hints_from_docstring("Hint 1: one.") == ["one."]
    assert hints_from_docstring("no hint here") == [NO_HINT] and hints_from_docstring(None) == [NO_HINT]


def test_student_stub_carries_only_the_first_hint():
    from tools.student import stub_source

    source = 'def double(x):\n    """Double.\n\n    Hint: think.\n    Hint 2: x * 2\n    """\n    return x * 2\n'
    raise_line = stub_source(source).splitlines()[-1]
    assert "Hint: think." in raise_line and "x * 2" not in raise_line


def test_grading_mode_raises_the_feedback_instead_of_printing_it(monkeypatch, capsys):
    from course_utils.exercises import grading_mode

    monkeypatch.setenv("COURSE_GRADING", "1")
    assert grading_mode()
    with pytest.raises(AssertionError, match=r"(?s)staged\(5\): expected 10, got 7\..*Hint 1 of 3"):
        check_function(staged, [((5,), 10)])
    with pytest.raises(AssertionError, match="not written yet"):
        check_function(lambda x: (_ for _ in ()).throw(NotImplementedError), [((1,), 1)])
    with pytest.raises(AssertionError, match="answer: expected 4, got 3"):
        check_value("answer", 3, 4)
    assert capsys.readouterr().out == ""
    assert check_function(staged, [((0,), 2)]) and check_value("answer", 4, 4)  # passing checks print as always
    assert capsys.readouterr().out.count("✅") == 2


def test_a_demonstration_never_raises(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_GRADING", "1")
    verdict = check_function(staged, [((5,), 10)], graded=False)
    assert not verdict and "expected 10, got 7" in capsys.readouterr().out
    assert not check_value("answer", 3, 4, graded=False)


@pytest.mark.parametrize("value, on", [("1", True), ("yes", True), ("0", False), ("false", False), ("", False),
                                       ("OFF", False)])
def test_grading_mode_variable(monkeypatch, value, on):
    from course_utils.exercises import grading_mode

    monkeypatch.setenv("COURSE_GRADING", value)
    assert grading_mode() is on


def test_verdict_score_is_a_fraction():
    from course_utils.exercises import Verdict

    assert Verdict(False).score == 0.0 and Verdict(True).score == 1.0 and Verdict(False, 0.25).score == 0.25
    with pytest.raises(ValueError):
        Verdict(False, 1.5)
