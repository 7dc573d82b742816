"""Check helpers for the notebooks' exercises.

Each exercise in a notebook ends with a call such as
``check_relu_forward(my_relu_forward)``: it runs the student's function on a
few inputs, compares the answers with the package's own implementation, and
prints ``PASS`` or raises :class:`ExerciseFailed` with a hint. The checkers
for each lesson live in a module of this package named after the lesson.
"""

import os

import numpy as np


class ExerciseFailed(AssertionError):
    """A student's answer did not match the reference."""

    def _render_traceback_(self):
        """What Jupyter shows: the message only, no traceback through the checker."""
        return [f"{type(self).__name__}: {self}"]


class ExerciseNotAttempted(AssertionError):
    """The exercise still raises ``NotImplementedError`` (raised only under nbgrader)."""

    def _render_traceback_(self):
        return [f"{type(self).__name__}: {self}"]


class Verdict:
    """What a checker concluded: true when the exercise passed.

    The checker has already printed its one-line verdict, so a notebook cell
    that ends with the check shows nothing more (no ``True``/``False`` echo).
    """

    def __init__(self, passed, attempted=True):
        self.passed = passed
        self.attempted = attempted

    def __bool__(self):
        return self.passed

    def __repr__(self):
        if not self.attempted:
            return "Verdict(not attempted)"
        return f"Verdict(passed={self.passed})"

    def _ipython_display_(self):
        """Display nothing: the verdict line was printed already."""


def check_function(name, student, reference, cases, hint, rtol=1e-7, atol=1e-9):
    """Compare ``student(*args)`` with ``reference(*args)`` for each case.

    Parameters
    ----------
    name : str
        The exercise's name, shown in the verdict.
    student, reference : callable
        Functions of the same arguments returning an array (or a tuple of
        arrays, compared element by element).
    cases : list of tuple
        Argument tuples. Each is deep-copied before each call, so a function
        that modifies its inputs cannot affect the other one.
    hint : str
        Shown when the answers differ.

    Returns
    -------
    Verdict
        True when every case matches; false (with ``attempted=False``) when
        the student's function still raises ``NotImplementedError``. A wrong
        answer raises :class:`ExerciseFailed`.
    """
    if not callable(student):
        raise TypeError(f"{name}: pass your function itself, not {student!r}.")
    for number, args in enumerate(cases, 1):
        expected = reference(*_copy(args))
        try:
            received = student(*_copy(args))
        except NotImplementedError:
            # The exercise's skeleton: the notebook still runs top to bottom.
            return not_attempted(name)
        except Exception as error:
            raise ExerciseFailed(
                f"{name}: FAIL on case {number}: your function raised "
                f"{type(error).__name__}: {error}. Hint: {hint}") from error
        expected_parts = expected if isinstance(expected, tuple) else (expected,)
        received_parts = received if isinstance(received, tuple) else (received,)
        if len(received_parts) != len(expected_parts):
            raise ExerciseFailed(
                f"{name}: FAIL on case {number}: expected {len(expected_parts)} "
                f"result(s), got {len(received_parts)}. Hint: {hint}")
        for k, (got, want) in enumerate(zip(received_parts, expected_parts)):
            got = np.asarray(got)
            want = np.asarray(want)
            label = f" (result {k + 1})" if len(expected_parts) > 1 else ""
            if got.shape != want.shape:
                raise ExerciseFailed(
                    f"{name}: FAIL on case {number}{label}: shape {got.shape}, "
                    f"expected {want.shape}. Hint: {hint}")
            if not np.allclose(got, want, rtol=rtol, atol=atol):
                worst = float(np.max(np.abs(got - want)))
                raise ExerciseFailed(
                    f"{name}: FAIL on case {number}{label}: values differ by up to "
                    f"{worst:.3g}. Hint: {hint}")
    print(f"{name}: PASS ({len(cases)} cases)")
    return Verdict(True)


def _copy(args):
    return tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args)


def not_attempted(name):
    """Report an untouched skeleton: print and return, or raise under nbgrader."""
    message = (f"{name}: not attempted yet. Replace `raise NotImplementedError` "
               f"with your code and run the cell again.")
    if os.environ.get("NBGRADER_EXECUTION"):
        raise ExerciseNotAttempted(message)
    print(message)
    return Verdict(False, attempted=False)
