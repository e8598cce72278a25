"""course_utils.exercises: the checks under every exercise, and the one parser of a solution's Hint: line."""
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
