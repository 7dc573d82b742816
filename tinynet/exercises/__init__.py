"""Check helpers for the notebooks' exercises.

Each exercise in a notebook ends with a call such as
``check_relu_forward(relu_forward)``: it runs the student's function on a
few inputs, compares the answers with the package's own implementation, and

- prints ``<name>: PASS (<n> cases)`` and returns a true :class:`Verdict`,
  ``<name>`` being the name the student wrote (``my_train_one_iter``,
  ``MyTinyNet``), or the exercise's name for a lambda;
- prints ``<name>: not attempted yet ...`` when the skeleton still raises
  ``NotImplementedError`` (under nbgrader, where ``NBGRADER_EXECUTION`` is
  set, it raises :class:`ExerciseNotAttempted` instead, so the cell scores 0);
- or raises :class:`ExerciseFailed` with a short message: the case (its
  shapes and settings), what is wrong (in-place change of an argument, the
  wrong type or number of results, a shape, the wrong float dtype, NaN or
  inf, results in the wrong order, a known wrong formula by name, or the
  first differing entry), the setting to look at when the answer is right
  without it (``stride=1`` but not ``stride=2``), and a hint.

All checkers share one runner, :func:`check_function`; the checkers for
each lesson live in a module named after the lesson and only hold their
cases, their reference and their hint.
"""

import hashlib
import os
import signal
import threading
import traceback
import types
from collections.abc import Iterator, Mapping

import numpy as np

TIME_LIMIT = 10.0
"""Seconds one call of the student's code may take before it is stopped."""

FLOAT32_RTOL = 1e-4
FLOAT32_ATOL = 1e-5
"""Tolerances at least this wide where the reference's result is float32: two right
answers summing in another order already differ in the sixth digit."""

_HERE = os.path.dirname(os.path.abspath(__file__))
_NUMPY = os.path.dirname(os.path.abspath(np.__file__))


# What grading switches on (tinynet.exercises.recording): the key the hidden
# cases are drawn from, and the session that records or replays the student's
# answers. Both are None outside grading.
_state = types.SimpleNamespace(case_key=None, session=None)


def case_seed(seed, hidden=False):
    """The seed a checker draws a case from: ``seed`` itself, except while grading.

    Checkers write ``np.random.default_rng(case_seed(seed, hidden))``. While a
    class is graded, the hidden cases come from a key known only to the
    grading run (:mod:`tinynet.exercises.recording`), so the graded cases
    cannot be computed, or hard-coded, in advance.
    """
    if not hidden or _state.case_key is None:
        return seed
    words = ",".join(str(word) for word in (*_state.case_key, seed)).encode()
    return int.from_bytes(hashlib.sha256(words).digest()[:8], "little") >> 1


class ExerciseFailed(AssertionError):
    """A student's answer did not match the reference."""

    def _render_traceback_(self):
        """What Jupyter shows: the message only, no traceback through the checker."""
        return f"{type(self).__name__}: {self}".splitlines()


class ExerciseNotAttempted(AssertionError):
    """The exercise still raises ``NotImplementedError`` (raised only under nbgrader)."""

    def _render_traceback_(self):
        return f"{type(self).__name__}: {self}".splitlines()


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


class Case(dict):
    """The arguments of one call, by parameter name, in the order they are passed.

    ``note`` (optional) is shown with the case when it fails, e.g. "one-hot labels".
    """

    def __init__(self, note="", **arguments):
        super().__init__(**arguments)
        self.note = note


def float32_case(case):
    """A copy of ``case`` whose float64 arrays (also inside dicts) are float32.

    Checkers add such a case where the reference keeps float32, so that an
    answer turning float32 inputs into float64 (``np.zeros(shape)``) fails.
    """
    def cast(value):
        if isinstance(value, np.ndarray) and value.dtype == np.float64:
            return value.astype(np.float32)
        if isinstance(value, dict):
            return {key: cast(item) for key, item in value.items()}
        return value

    note = getattr(case, "note", "")
    return Case(note=f"{note}, float32" if note else "float32",
                **{name: cast(value) for name, value in case.items()})


class _Mistake(Exception):
    """Internal: what is wrong with a result; ``kind`` picks the hint."""

    def __init__(self, message, kind="values", known=False):
        super().__init__(message)
        self.kind = kind
        self.known = known  # a known mistake, named: nothing more to say about its setting


class _TimeUp(BaseException):
    """Internal: the time limit ran out (a BaseException: ``except Exception`` cannot hide it)."""


def check_function(name, student, reference, cases, hint, *, rtol=1e-7, atol=1e-9,
                   results=None, hints=None, call=None, hidden=False, mistakes=None,
                   settings=None):
    """Compare ``student`` with ``reference`` on each case; print or raise the verdict.

    Parameters
    ----------
    name : str
        The exercise's name, shown in the verdict when ``student`` has no name of
        its own (a lambda, a callable object); otherwise the verdict shows
        ``student.__name__``, the name the student wrote.
    student, reference : callable
        Functions of the same arguments (or, with ``call``, what ``call`` takes).
    cases : list of dict
        Arguments by parameter name (:class:`Case` or a plain dict), passed
        positionally in that order. Each function gets deep copies; after the
        student's call the copies are compared with the originals, so an
        argument changed in place is reported by name.
    hint : str
        Shown when the answers differ.
    rtol, atol : float
        Tolerances of :func:`numpy.isclose` for float results; at least
        :data:`FLOAT32_RTOL` and :data:`FLOAT32_ATOL` where the reference's
        result is float32. A float result whose dtype is not the reference's
        (float32 for float64 or the reverse) fails as such, whatever its values.
    results : tuple of str or dict, optional
        Names of the results when the function returns a tuple, e.g.
        ``("dx", "dW", "db")``. With ``call`` returning a dict of parts, a dict
        from each part's label to its result names.
    hints : dict, optional
        Extra advice by kind of failure (``"values"``, ``"shape"``, ``"count"``,
        ``"type"``, ``"dtype"``, ``"inplace"``, ``"error"``, ``"timeout"``) or by
        result name, shown before ``hint``. ``hint`` itself is shown for wrong values, shapes,
        counts and errors, not for the kinds whose message says it all.
    call : callable, optional
        ``call(function, *arguments)`` runs one case; the default is
        ``function(*arguments)``. Used to drive a class or wrap a result.
    hidden : bool
        Only changes the wording ("hidden case 3 of 12").
    mistakes : callable, optional
        ``mistakes(*arguments)`` gets copies of a case's arguments and returns an
        iterable of ``(wrong_result, message)`` pairs: the result of a known wrong
        formula, with the structure of the reference's result, and what to say
        about it. An entry ``None`` inside ``wrong_result`` (a whole result of a
        tuple, a value of a dict) matches anything: leave out what the mistake
        does not change. When the student's result differs from the reference's
        on a case, it is compared with each ``wrong_result`` (at ``rtol`` and
        ``atol``, dtypes aside) and the message of the first one that matches it
        and differs from the right result on this case is reported instead of
        the first differing entry. Results of a tuple (or values of a dict) that
        are right but in the wrong places are named without it.
    settings : dict, optional
        Arguments that switch a feature on, by name, with their neutral value,
        e.g. ``{"stride": 1, "pad": 0}``. When a case with ``stride=2`` fails
        (wrong values, shape or count, or an error) and the student's answer is
        right on every case with ``stride=1``, the message says so: "your
        my_im2col is right with stride=1 but not with stride=2".

    Returns
    -------
    Verdict
        True when every case matches; false (with ``attempted=False``) when
        the student's function still raises ``NotImplementedError``.

    Raises
    ------
    ExerciseFailed
        On the first case that does not match, with what is wrong and a hint.
    ExerciseNotAttempted
        Instead of returning "not attempted" when ``NBGRADER_EXECUTION`` is set.
    """
    if not callable(student):
        raise ExerciseFailed(
            f"{name}: pass your function itself, as in check_{name}(my_function), not "
            f"{_kind_of(student)}. Leave out the parentheses after its name.")
    shown = _shown_name(student, name)
    call = call or _call_plainly
    if _state.session is not None:  # grading: record the answers, or replay a record
        verdict = _state.session.check(name, student, cases, call, reference, results,
                                       rtol, atol)
        if verdict is not None:
            return verdict
    hints = hints or {}
    for number, case in enumerate(cases, 1):
        args = tuple(case.values())
        expected = call(reference, *_copy(args))
        where = f"{'hidden ' if hidden else ''}case {number} of {len(cases)}"
        try:
            try:
                received = _run_student(call, student, case)
            except NotImplementedError:
                return not_attempted(shown)
            with np.errstate(all="ignore"):
                try:
                    _compare(received, expected, "your result", results, case, rtol, atol)
                except _Mistake as mistake:
                    if mistake.kind != "dtype":  # a dtype is fixed first, whatever the formula
                        _diagnose(mistakes, args, received, expected, results, rtol, atol)
                    raise
        except _Mistake as mistake:
            setting = None
            if settings and mistake.kind in _KINDS_WITH_SETTING and not mistake.known:
                setting = _name_setting(shown, settings, cases, case, student, reference,
                                        call, results, rtol, atol)
            raise ExerciseFailed(_failure_message(shown, where, case, mistake, hint, hints,
                                                  setting)) from None
    print(f"{shown}: PASS ({len(cases)} cases)")
    return Verdict(True)


def _shown_name(student, name):
    """The name the student wrote (a function's or a class's), else the exercise's."""
    own = getattr(student, "__name__", None)
    return own if isinstance(own, str) and own.isidentifier() else name


def not_attempted(name):
    """Report an untouched skeleton: print and return, or raise under nbgrader."""
    message = (f"{name}: not attempted yet. Replace `raise NotImplementedError` "
               f"with your code and run the cell again.")
    if os.environ.get("NBGRADER_EXECUTION"):
        raise ExerciseNotAttempted(message)
    print(message)
    return Verdict(False, attempted=False)


# -- running the student's code ------------------------------------------------

def _call_plainly(function, *args):
    return function(*args)


def _run_student(call, student, case):
    """The student's result on copies of the case's arguments, or a :class:`_Mistake`.

    A time-out, an exception of the student's code and a change of an argument
    in place become mistakes; ``NotImplementedError`` passes through (the
    skeleton is not attempted yet).
    """
    if _state.session is not None and not _state.session.recording:
        return _state.session.outcome(case)  # replaying a record: the student's code never runs
    copies = _copy(tuple(case.values()))
    try:
        received = _with_time_limit(call, student, copies)
    except NotImplementedError:
        raise
    except _TimeUp:
        raise _Mistake(
            f"your code did not return within {TIME_LIMIT:g} s and was stopped. "
            f"Look for a loop whose condition never becomes false (a while loop "
            f"whose variable is not updated, or a step that never moves).", "timeout") from None
    except _Mistake:
        raise
    except Exception as error:  # the student's code raised: show where, in their code
        raise _Mistake(_describe_error(error), "error") from None
    _check_unchanged(case, copies)
    return received


def _with_time_limit(call, function, args):
    """``call(function, *args)``, stopped with :class:`_TimeUp` after ``TIME_LIMIT`` s.

    Uses SIGALRM, so only in the main thread of a system that has it; elsewhere
    the call runs without a limit. Ctrl-C (KeyboardInterrupt) passes through, and
    the previous handler and timer are always restored.
    """
    if (not TIME_LIMIT or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        return call(function, *args)

    def time_up(signum, frame):
        raise _TimeUp

    previous = signal.signal(signal.SIGALRM, time_up)
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT)
    try:
        try:
            return call(function, *args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)
        if outer_delay:  # someone else's timer was running: give it back (roughly)
            signal.setitimer(signal.ITIMER_REAL, outer_delay, outer_interval)


def _describe_error(error):
    """The exception's type and message, and the student's own lines (not the checker's)."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if not os.path.abspath(frame.filename).startswith((_HERE, _NUMPY))]
    lines = [f"your code raised {type(error).__name__}: {error}"]
    for frame in frames[-3:]:
        code = f": {frame.line.strip()}" if frame.line else ""
        lines.append(f"  in {frame.name}, line {frame.lineno}{code}")
    return "\n".join(lines)


def _copy(value):
    """A deep copy of arrays and of dicts, lists and tuples holding them."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, np.random.Generator):
        return _copy_generator(value)
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_copy(item) for item in value)
    return value


def _copy_generator(rng):
    bit_generator = type(rng.bit_generator)()
    bit_generator.state = rng.bit_generator.state
    return np.random.Generator(bit_generator)


def _check_unchanged(case, copies):
    """Raise if the student's call changed any array it was given."""
    for (name, before), after in zip(case.items(), copies, strict=True):
        changed = _first_change(before, after, name)
        if changed:
            label, detail = changed
            raise _Mistake(
                f"your code changed its argument {label} in place{detail}. The caller's arrays "
                f"must stay as they were: compute a new array (y = x * mask, p = p - ...) "
                f"or work on a copy (x.copy()) instead of writing into the argument "
                f"(x[...] = ..., x *= ..., p -= ..., np.maximum(x, 0, out=x)).", "inplace")


def _first_change(before, after, label):
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray) or after.shape != before.shape:
            return f"`{label}`", " (it was replaced or reshaped)"
        same = (before == after) | ((before != before) & (after != after))  # NaN == NaN
        if not same.all():
            index = tuple(int(i) for i in np.argwhere(~same)[0])
            return (f"`{label}`", f" (at index {index} it was {_number(before[index])}, "
                                  f"now {_number(after[index])})")
        return None
    if isinstance(before, dict):
        if not isinstance(after, dict) or after.keys() != before.keys():
            return f"`{label}`", " (its keys were changed)"
        for key in before:
            changed = _first_change(before[key], after[key], f"{label}['{key}']")
            if changed:
                return changed
    if isinstance(before, (list, tuple)):
        if not isinstance(after, type(before)) or len(after) != len(before):
            return f"`{label}`", " (its items were changed)"
        for k, (item_before, item_after) in enumerate(zip(before, after, strict=True)):
            changed = _first_change(item_before, item_after, f"{label}[{k}]")
            if changed:
                return changed
    return None


# -- naming a known mistake -------------------------------------------------------

def _diagnose(mistakes, args, received, expected, results, rtol, atol):
    """Raise :class:`_Mistake` naming what is wrong, when it is a known mistake.

    First the checker's known wrong formulas (``mistakes``), then right results
    in the wrong places; otherwise return, and the comparison's own message stands.
    """
    if mistakes is not None:
        try:
            known = list(mistakes(*_copy(args)))
        except Exception:  # a diagnosis that cannot run on this case must not hide the failure
            known = []
        for wrong, message in known:
            if (_matches(received, wrong, rtol, atol)
                    and not _matches(expected, wrong, rtol, atol)):  # on this case it shows
                raise _Mistake(message, "values", known=True)
    message = _wrong_places(received, expected, results, "your result", rtol, atol)
    if message:
        raise _Mistake(message, "values", known=True)


def _matches(got, wrong, rtol, atol):
    """Whether ``got`` has the structure and values of ``wrong`` (``None`` matches anything).

    Dtypes aside; float32 arrays at the float32 tolerances. Never raises: any
    result that cannot be compared simply does not match.
    """
    if wrong is None:
        return True
    try:
        if isinstance(wrong, (tuple, list)):
            return (isinstance(got, (tuple, list)) and len(got) == len(wrong)
                    and all(_matches(g, w, rtol, atol) for g, w in zip(got, wrong, strict=True)))
        if isinstance(wrong, Mapping):
            return (isinstance(got, Mapping) and got.keys() == wrong.keys()
                    and all(_matches(got[key], wrong[key], rtol, atol) for key in wrong))
        if isinstance(got, (bool, np.bool_, str, bytes, Mapping, tuple)) or _type_problem(got):
            return False
        got, wrong = np.asarray(got), np.asarray(wrong)
        if got.shape != wrong.shape or got.dtype.kind not in "iuf" or wrong.dtype.kind not in "iuf":
            return False
        if np.float32 in (got.dtype, wrong.dtype):
            rtol, atol = max(rtol, FLOAT32_RTOL), max(atol, FLOAT32_ATOL)
        with np.errstate(all="ignore"):
            return bool(np.allclose(got.astype(np.float64), wrong.astype(np.float64),
                                    rtol=rtol, atol=atol, equal_nan=True))
    except (TypeError, ValueError):
        return False


def _wrong_places(got, want, names, label, rtol, atol):
    """A message when every result is right but some sit in the wrong place, else None.

    For a tuple of results (by position) and a dict (by key), and for each
    part of a class's answer (``names`` a dict of parts).
    """
    if isinstance(names, dict) and isinstance(want, dict) and isinstance(got, Mapping):
        for part, part_names in names.items():
            if part in got and part in want:
                message = _wrong_places(got[part], want[part], part_names,
                                        f"the result of {part}", rtol, atol)
                if message:
                    return message
        return None
    if isinstance(want, tuple) and isinstance(got, (tuple, list)) and len(got) == len(want):
        keys = list(range(len(want)))
        labels = list(names) if names and len(names) == len(want) else None

        def moved_to(k, home):
            if labels:
                return f"result {k + 1} holds {labels[home]} (expected {labels[k]})"
            return f"result {k + 1} holds what belongs in result {home + 1}"

        order = (f" Return {', '.join(labels)} in that order." if labels else "")
    elif isinstance(want, dict) and isinstance(got, Mapping) and got.keys() == want.keys():
        keys = list(want)

        def moved_to(key, home):
            return f"[{key!r}] holds the value for {home!r}"

        order = " Store each new value under its own name."
    else:
        return None
    if len(keys) < 2:
        return None
    moved = []
    for key in keys:
        if _matches(got[key], want[key], rtol, atol):
            continue
        homes = [other for other in keys if other != key
                 and _matches(got[key], want[other], rtol, atol)]
        if not homes:
            return None  # a value that belongs nowhere: not just a matter of order
        moved.append(moved_to(key, homes[0]))
    if not moved:
        return None
    return f"{label} has the right values in the wrong places: " + "; ".join(moved) + "." + order


# -- naming the setting that breaks an answer ---------------------------------------

# Failures for which "right with stride=1 but not with stride=2" helps: the
# values, the shape or the count are wrong, or the code raised on that case.
_KINDS_WITH_SETTING = ("values", "shape", "count", "error")


def _name_setting(shown, settings, cases, case, student, reference, call, results, rtol, atol):
    """The line naming each setting of ``case`` that the answer gets wrong, or None.

    A setting is named when ``case`` has it switched on (not its neutral
    value) and the student's answer is right on every case that has it
    neutral (there must be one).
    """
    named, phrases = [], []
    for setting, neutral in settings.items():
        if setting not in case or _same(case[setting], neutral):
            continue
        plain = [other for other in cases
                 if setting in other and _same(other[setting], neutral)]
        if plain and all(_passes(student, reference, other, call, results, rtol, atol)
                         for other in plain):
            named.append(setting)
            phrases.append(f"with {setting}={neutral!r} but not with {setting}="
                           f"{case[setting]!r}")
    if not named:
        return None
    return (f"your {shown} is right " + ", and right ".join(phrases)
            + f": look at each place where {' and '.join(named)} should enter.")


def _same(value, neutral):
    try:
        return bool(value == neutral)
    except (TypeError, ValueError):
        return False


def _passes(student, reference, case, call, results, rtol, atol):
    """Whether the student's answer is right on ``case`` (quietly; never raises)."""
    try:
        expected = call(reference, *_copy(tuple(case.values())))
        received = _run_student(call, student, case)
        with np.errstate(all="ignore"):
            _compare(received, expected, "your result", results, case, rtol, atol)
    except (Exception, _TimeUp):
        return False
    return True


# -- comparing a result with the reference's ----------------------------------

def _compare(got, want, label, names, case, rtol, atol):
    """Raise :class:`_Mistake` when ``got`` differs from ``want`` in type, shape or value."""
    if isinstance(names, dict):  # parts of a class's answer, e.g. forward() and backward()
        for part, part_names in names.items():
            _compare(got[part], want[part], f"the result of {part}", part_names, case,
                     rtol, atol)
        return
    if isinstance(want, tuple):
        _compare_tuple(got, want, label, names, case, rtol, atol)
    elif isinstance(want, list):
        _compare_sequence(got, want, label, case, rtol, atol)
    elif isinstance(want, dict):
        _compare_dict(got, want, label, case, rtol, atol)
    elif isinstance(want, (int, np.integer)) and not isinstance(want, bool):
        _compare_int(got, want, label)
    elif isinstance(want, (float, np.floating)):
        _compare_number(got, want, label, case, rtol, atol)
    else:
        _compare_array(got, np.asarray(want), label, case, rtol, atol)


def _compare_tuple(got, want, label, names, case, rtol, atol):
    n = len(want)
    listing = ", ".join(names) if names else f"{n} results"
    statement = f"`return {listing}`" if names else "a tuple"
    if isinstance(got, list):
        raise _Mistake(f"{label} is a list of {len(got)}; return a tuple of {n} results "
                       f"instead: {statement}.", "type")
    if not isinstance(got, tuple):
        problem = _type_problem(got)
        if problem is None:
            shape = np.shape(got) if isinstance(got, np.ndarray) else None
            problem = (f"is one array of shape {shape}" if shape is not None
                       else f"is {_kind_of(got)}")
        raise _Mistake(f"{label} {problem}; expected a tuple of {n} results: {statement}.",
                       "type")
    if len(got) != n:
        raise _Mistake(f"{label} has {_count(len(got), 'result')}; expected {n}"
                       + (f": ({listing})" if names else "") + ".", "count")
    prefix = "" if label == "your result" else label.replace("the result of ", "") + " "
    for k, (got_k, want_k) in enumerate(zip(got, want, strict=True)):
        sub = f"{prefix}result {k + 1}" + (f" ({names[k]})" if names else "")
        _compare(got_k, want_k, sub, None, case, rtol, atol)


def _compare_sequence(got, want, label, case, rtol, atol):
    if not isinstance(got, (list, tuple)):
        problem = _type_problem(got) or f"is {_kind_of(got)}"
        raise _Mistake(f"{label} {problem}; expected a list of {len(want)} items.", "type")
    if len(got) != len(want):
        raise _Mistake(f"{label} has {_count(len(got), 'item')}; expected {len(want)}.",
                       "count")
    for k, (got_k, want_k) in enumerate(zip(got, want, strict=True)):
        _compare(got_k, want_k, f"{label}[{k}]", None, case, rtol, atol)


def _compare_dict(got, want, label, case, rtol, atol):
    if not isinstance(got, Mapping):
        problem = _type_problem(got) or f"is {_kind_of(got)}"
        raise _Mistake(f"{label} {problem}; expected a dict with the keys "
                       f"{', '.join(map(repr, want))}.", "type")
    missing = [key for key in want if key not in got]
    extra = [key for key in got if key not in want]
    if missing or extra:
        raise _Mistake(f"{label} is a dict "
                       + (f"without the keys {missing}" if missing else "")
                       + (" and " if missing and extra else "")
                       + (f"with unexpected keys {extra}" if extra else "")
                       + f"; expected exactly the keys {list(want)}.", "type")
    for key in want:
        _compare(got[key], want[key], f"{label}['{key}']", None, case, rtol, atol)


def _compare_int(got, want, label):
    if isinstance(got, np.ndarray) and got.ndim == 0:
        got = got[()]
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer, float,
                                                                  np.floating)):
        problem = _type_problem(got) or f"is {_kind_of(got)}"
        raise _Mistake(f"{label} {problem}; expected a whole number (an int) such as {want}.",
                       "type")
    if isinstance(got, (float, np.floating)):
        raise _Mistake(f"{label} is the float {_number(got)}; expected an int ({want}). Use "
                       f"integer division // (and int(...) where needed), not /.", "type")
    if got != want:
        raise _Mistake(f"{label} is {got}; expected {want}.")


def _compare_number(got, want, label, case, rtol, atol):
    if isinstance(got, np.ndarray):
        if got.ndim != 0:
            raise _Mistake(f"{label} is an array of shape {got.shape}; expected a single "
                           f"number. Return float(...) of the value (np.mean and np.sum "
                           f"without an axis give one).", "shape")
        got = got[()]
    if isinstance(got, (complex, np.complexfloating)):
        raise _Mistake(f"{label} is the complex number {got}; expected a real number.", "type")
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.integer,
                                                                  np.floating)):
        problem = _type_problem(got) or f"is {_kind_of(got)}"
        raise _Mistake(f"{label} {problem}; expected a single number (a float).", "type")
    want_dtype = want.dtype if isinstance(want, np.floating) else np.dtype(np.float64)
    if not isinstance(want, np.floating) and np.dtype(np.float32) in _float_dtypes(case):
        want_dtype = got.dtype if isinstance(got, np.floating) else want_dtype  # either is fine
    if isinstance(got, np.floating) and got.dtype != want_dtype:  # a Python float is fine
        if np.isfinite(got) and not np.isclose(float(got), want, rtol=FLOAT32_RTOL,
                                                atol=FLOAT32_ATOL):
            detail = f" (and {_number(got)} differs from {_number(want)} beyond that)"
        else:
            detail = ""
        raise _Mistake(_dtype_problem(label, got.dtype, want_dtype) + detail, "dtype")
    got = float(got)
    if not np.isfinite(got):
        raise _Mistake(f"{label} is {_number(got)}; expected {_number(want)}. "
                       f"{_NONFINITE_CAUSES}")
    if not np.isclose(got, want, rtol=rtol, atol=atol):
        raise _Mistake(f"{label} is {_number(got)}; expected {_number(want)} (difference "
                       f"{abs(got - want):.3g}; allowed rtol={rtol:g}, atol={atol:g}).")


def _float_dtypes(value):
    """The float dtypes of the arrays in a case (or in a dict, list or tuple of them)."""
    if isinstance(value, np.ndarray):
        return {value.dtype} if value.dtype.kind == "f" else set()
    items = value.values() if isinstance(value, Mapping) else (
        value if isinstance(value, (list, tuple)) else ())
    return set().union(*(_float_dtypes(item) for item in items))


_NONFINITE_CAUSES = ("NaN comes from 0/0, inf - inf or the log of a negative number; inf "
                     "from an overflowing np.exp or a division by zero.")


def _compare_array(got, want, label, case, rtol, atol):
    array = _as_array(got, label, want)
    if array.shape != want.shape:
        if array.ndim == 0:
            raise _Mistake(f"{label} is a single number ({_number(array[()])}); expected an "
                           f"array of shape {want.shape}.", "shape")
        if want.ndim == 0:
            raise _Mistake(f"{label} has shape {array.shape}; expected a single number.",
                           "shape")
        like = [name for name, value in case.items()
                if isinstance(value, np.ndarray) and value.shape == want.shape]
        like.sort(key=lambda name: f"(d{name})" not in label)  # dx is shaped like x
        raise _Mistake(f"{label} has shape {array.shape}; expected {want.shape}"
                       + (f", the shape of {like[0]}" if like else "") + ".", "shape")
    if want.dtype.kind in "iu" and array.dtype.kind not in "iu":
        raise _Mistake(f"{label} holds {array.dtype} numbers; expected integers "
                       f"({want.dtype}), as indices are.", "type")
    if want.dtype.kind == "f" and array.dtype.kind == "f" and array.dtype != want.dtype:
        raise _Mistake(_dtype_problem(label, array.dtype, want.dtype)
                       + _values_too(array, want), "dtype")
    if want.dtype.itemsize <= 4 and want.dtype.kind == "f":  # float32: rounding differs sooner
        rtol, atol = max(rtol, FLOAT32_RTOL), max(atol, FLOAT32_ATOL)
    bad = ~np.isfinite(array) & np.isfinite(want)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        kind = "NaN" if np.isnan(array[index]) else _number(array[index])
        raise _Mistake(f"{label} contains {kind} at index {index} (expected "
                       f"{_number(want[index])}). {_NONFINITE_CAUSES}")
    close = np.isclose(array, want, rtol=rtol, atol=atol, equal_nan=True)
    if not close.all():
        index = tuple(int(i) for i in np.argwhere(~close)[0])
        difference = np.abs(array.astype(np.float64) - want.astype(np.float64))
        where = f" at index {index}" if array.ndim else ""
        message = (f"{label} differs{where}: expected {_number(want[index])}, got "
                   f"{_number(array[index])} ({int((~close).sum())} of {array.size} "
                   f"entries differ, by up to {np.nanmax(difference):.3g}; allowed "
                   f"rtol={rtol:g}, atol={atol:g}).")
        raise _Mistake(message)


def _dtype_problem(label, got, want):
    """Why a float result of dtype ``got`` is wrong where the reference gives ``want``."""
    got, want = np.dtype(got), np.dtype(want)
    if got.itemsize < want.itemsize:
        return (f"{label} is {got}, but this case computes in {want}: {got} keeps only "
                f"about {7 if got.itemsize == 4 else 3} significant digits. Keep the inputs' "
                f"precision: do not convert with .astype(np.{got}) or create arrays with "
                f"dtype=np.{got}.")
    return (f"{label} is {got}, but this case's inputs are {want} and the result must stay "
            f"{want}. An array made with np.zeros(shape), np.ones(shape) or np.empty(shape), "
            f"or a {got} array or a numpy {got} number (np.sqrt or np.exp of a Python "
            f"number) mixed into the computation, turns the result into {got}: make arrays "
            f"with np.zeros_like(x) or dtype=x.dtype, and take roots of Python numbers with "
            f"** 0.5 or math.sqrt.")


def _values_too(array, want):
    """Where the values differ beyond float32 rounding too, a sentence saying so; else ''."""
    if array.shape != want.shape:
        return ""
    close = np.isclose(array, want, rtol=FLOAT32_RTOL, atol=FLOAT32_ATOL, equal_nan=True)
    if close.all():
        return ""
    index = tuple(int(i) for i in np.argwhere(~close)[0])
    where = f" at index {index}" if array.ndim else ""
    return (f" Its values differ too{where}: expected {_number(want[index])}, got "
            f"{_number(array[index])}.")


def _as_array(got, label, want):
    """``got`` as a real numeric ndarray, or a :class:`_Mistake` saying why it is not one."""
    expected = (f"expected an array of shape {want.shape}" if want.ndim
                else "expected a single number")
    problem = _type_problem(got)
    if problem:
        raise _Mistake(f"{label} {problem}; {expected}.", "type")
    if isinstance(got, tuple):
        raise _Mistake(f"{label} is a tuple of {_count(len(got), 'item')}; {expected} (one array, "
                       f"not a tuple: check for a trailing comma in your return).", "type")
    try:
        array = np.asarray(got)
    except Exception:  # ragged lists raise in recent numpy
        raise _Mistake(f"{label} is a ragged list (its rows have different lengths), "
                       f"which is not an array; {expected}.", "type") from None
    if array.dtype == object:
        ragged = isinstance(got, list)
        raise _Mistake(f"{label} " + ("is a ragged list (its rows have different lengths)"
                                      if ragged else "has dtype object (an array of Python "
                                      "objects)")
                       + f"; {expected} of {want.dtype} numbers.", "type")
    if array.dtype.kind == "c":
        raise _Mistake(f"{label} has the complex dtype {array.dtype}; expected real numbers "
                       f"({want.dtype}). Do not take np.sqrt or a power of negative numbers "
                       f"as complex, or mix in complex constants.", "type")
    if array.dtype.kind not in "biuf":
        raise _Mistake(f"{label} has dtype {array.dtype}, not numbers; {expected} of "
                       f"{want.dtype} numbers.", "type")
    return array


def _type_problem(got):
    """A phrase for results that are never right (None, a string, a generator...), else None."""
    if got is None:
        return "is None: did you forget the `return` statement"
    if isinstance(got, (str, bytes)):
        text = got if len(got) <= 30 else got[:27] + "..."
        return f"is the string {text!r}, not numbers"
    if isinstance(got, (types.GeneratorType, Iterator)):
        return ("is a generator (from `yield` or a (... for ...) expression), which "
                "computes nothing until it is read; build a list, tuple or array instead")
    if isinstance(got, (set, frozenset)):
        return "is a set, which has no order"
    if callable(got) and not isinstance(got, np.ndarray):
        return "is a function: return the result of calling it"
    if isinstance(got, Mapping):
        return "is a dict"
    return None


def _kind_of(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {_count(len(value), 'item')}"
    if isinstance(value, (bool, int, float, complex, np.number, np.bool_)):
        return f"the {type(value).__name__} {_short(value)}"
    return f"an object of type {type(value).__name__} ({_short(value)})"


def _count(n, noun):
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _short(value):
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(value):
    """A number with enough digits to see how it differs."""
    if isinstance(value, (bool, np.bool_, int, np.integer)):
        return str(value)
    value = float(value)
    if np.isnan(value):
        return "NaN"
    if np.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value.is_integer() and abs(value) < 1e15:
        return f"{value:.1f}"
    return f"{value:.8g}"


# -- the failure message --------------------------------------------------------

def _failure_message(name, where, case, mistake, hint, hints, setting=None):
    lines = [f"{name}: FAIL on {where} ({_describe_case(case)})"]
    if setting:
        lines.append(f"  {setting}")
    lines.append("  " + str(mistake).replace("\n", "\n  "))
    extra = hints.get(mistake.kind)
    first_line = str(mistake).split("\n")[0]
    for key, text in hints.items():
        if mistake.kind == "values" and not mistake.known and (f"({key})" in first_line
                                         or f"['{key}']" in first_line):
            extra = text
    if extra:
        lines.append(f"  {extra}")
    if mistake.kind in _KINDS_WITH_HINT:
        lines.append(f"  Hint: {hint}")
    return "\n".join(lines)


# The exercise's hint explains the computation: it fits wrong values, shapes,
# counts and errors; a wrong type, an in-place write or a time-out is fully
# explained by its own message.
_KINDS_WITH_HINT = ("values", "shape", "count", "error")


def _describe_case(case):
    parts = []
    for name, value in case.items():
        parts.append(_describe_argument(name, value))
    note = getattr(case, "note", "")
    return ", ".join(parts) + (f"; {note}" if note else "")


def _describe_argument(name, value):
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "iub" and value.size <= 8:
            return f"{name}={value.tolist()}"
        if value.ndim == 0 or value.size == 1 and value.ndim == 1:
            return f"{name}={value.tolist()}"
        return f"{name}: {value.shape}"
    if isinstance(value, dict):
        return f"{name}: dict of {len(value)} arrays"
    if isinstance(value, np.random.Generator):
        return f"{name}: a Generator"
    if isinstance(value, (float, np.floating)):
        return f"{name}={float(value)!r}"
    if callable(value):
        return f"{name}={getattr(value, '__name__', 'a function')}"
    return f"{name}={value!r}"
