"""Grading without trusting the student's kernel: record there, decide elsewhere.

While a class is graded, each student's notebooks run in a sandbox, and
anything that runs there (the checkers included) may have been tampered
with by the student's own code. So the kernel decides nothing. After a
graded cell, the grading runner calls :func:`record`. It runs the
exercise's checker in *record* mode. Every case is passed to the student's
function, as a check would pass it, and each outcome is written to a file:
the result, the error the code raised, an argument changed in place, or
"not attempted". Nothing is compared there.

The trusted grading process then calls :func:`replay`. It runs the same
checker again, with the same reference, the same comparisons and the same
messages, but each call of the student's function is answered from the
recorded file. The student's code never runs in that process. The file is
read with a strict decoder that builds only numbers, strings, arrays,
tuples, lists, dicts and generator states.

The hidden cases are drawn from a *case key*: 8 numbers derived from the
instructor's secret, the student and the graded cell (see
``tools/grading``). The key is known inside the sandbox only while that
student is graded. It is never in the package or in the notebooks, so the
hidden cases cannot be looked up or hard-coded in advance.

A kernel that lies can only write down results. To earn the points these
must be the right answers to cases it did not know before grading began.
"""

import base64
import contextlib
import hashlib
import importlib
import io
import json
import math
import pkgutil

import numpy as np

from . import (
    ExerciseFailed,
    ExerciseNotAttempted,
    Verdict,
    _compare,
    _copy,
    _Mistake,
    _run_student,
    _state,
)

__all__ = ["record", "replay", "find_checker", "KEY_WORDS", "MAX_RECORD_BYTES"]

KEY_WORDS = 8
"""A case key is this many unsigned 32-bit numbers."""

MAX_RECORD_BYTES = 32 * 2**20
"""A record larger than this is refused (a right answer is a few kB)."""

_MAX_RESULT_BYTES = 4 * 2**20
_MAX_MESSAGE_CHARS = 4000
_MISTAKE_KINDS = ("timeout", "error", "inplace", "type", "dtype", "values", "shape", "count")
_DTYPE_KINDS = "biufc"  # the array dtypes a record may hold: no objects, no strings
_GENERATORS = {"PCG64": np.random.PCG64, "PCG64DXSM": np.random.PCG64DXSM,
               "MT19937": np.random.MT19937, "Philox": np.random.Philox,
               "SFC64": np.random.SFC64}


class RecordError(ValueError):
    """A record that cannot be read or that does not belong to these cases."""


def find_checker(name):
    """The checker function ``name`` (``"check_relu_forward"``) of ``tinynet.exercises``."""
    if not (isinstance(name, str) and name.startswith("check_") and name.isidentifier()):
        raise ValueError(f"checker must be the name of a check_ function; got {name!r}")
    package = importlib.import_module(__package__)
    for module in pkgutil.iter_modules(package.__path__):
        if module.name.startswith("_") or module.name == "recording":
            continue
        checker = getattr(importlib.import_module(f"{__package__}.{module.name}"), name, None)
        if callable(checker):
            return checker
    raise ValueError(f"no checker named {name!r} in tinynet.exercises")


# -- the case key ------------------------------------------------------------------

@contextlib.contextmanager
def _case_key(key):
    """Draw the checkers' hidden cases from ``key`` (see :func:`tinynet.exercises.case_rng`)."""
    key = [int(word) for word in key]
    if len(key) != KEY_WORDS or not all(0 <= word < 2**32 for word in key):
        raise ValueError(f"a case key is {KEY_WORDS} numbers in [0, 2**32); got {key!r}")
    previous, _state.case_key = _state.case_key, tuple(key)
    try:
        yield
    finally:
        _state.case_key = previous


@contextlib.contextmanager
def _session(session):
    previous, _state.session = _state.session, session
    try:
        yield session
    finally:
        _state.session = previous


# -- recording, in the student's kernel ------------------------------------------------

class _Recorder:
    """Runs every case of each checker call on the student's function; compares nothing."""

    recording = True

    def __init__(self):
        self.invocations = []
        self.hung = None  # the outcome of a call that never returned: not called again

    def check(self, name, student, cases, call, reference, results, rtol, atol):
        outcomes = []
        for case in cases:
            if self.hung is not None:
                outcomes.append(self.hung)
                continue
            try:
                result = _run_student(call, student, case)
            except NotImplementedError:
                outcomes.append({"kind": "not attempted"})
            except _Mistake as mistake:
                outcomes.append({"kind": "mistake", "mistake": mistake.kind,
                                 "message": str(mistake)[:_MAX_MESSAGE_CHARS]})
                if mistake.kind == "timeout":
                    self.hung = outcomes[-1]
            else:
                try:
                    encoded = _encode(result)
                    size = len(json.dumps(encoded))
                except (TypeError, ValueError, OverflowError):
                    # Not data (a generator, a set, objects): never a right answer. Say
                    # here what the comparison says of it; a lie could only cost points.
                    outcomes.append(_unrecordable(result, case, call, reference, results,
                                                  rtol, atol))
                    continue
                if size > _MAX_RESULT_BYTES:
                    outcomes.append({"kind": "mistake", "mistake": "type",
                                     "message": f"your result is {size} bytes long, too large "
                                                f"to be a right answer."})
                else:
                    outcomes.append({"kind": "result", "result": encoded})
        self.invocations.append({"checker": name, "fingerprints": [_fingerprint(c) for c in cases],
                                 "outcomes": outcomes})
        return Verdict(False)


def _unrecordable(result, case, call, reference, results, rtol, atol):
    """The outcome for a result that is not data: the comparison's own message."""
    expected = call(reference, *_copy(tuple(case.values())))
    try:
        with np.errstate(all="ignore"):
            _compare(result, expected, "your result", results, case, rtol, atol)
    except _Mistake as mistake:
        return {"kind": "mistake", "mistake": mistake.kind,
                "message": str(mistake)[:_MAX_MESSAGE_CHARS]}
    return {"kind": "mistake", "mistake": "type",
            "message": f"your result is an object of type {type(result).__name__}, "
                       f"which is not numbers."}


def record(checker, student, key, path):
    """Run ``checker``'s visible and hidden cases on ``student``; write the outcomes to ``path``.

    Parameters
    ----------
    checker : str
        The checker's name, e.g. ``"check_train_one_iter"``.
    student : callable or None
        The student's function or class (None when the notebook does not define it).
    key : sequence of int
        The case key of this student and graded cell (:data:`KEY_WORDS` numbers).
    path : str
        Where the record goes (JSON). Nothing else is written, nothing printed.
    """
    recorder = _Recorder()
    problem = None
    if student is None:
        problem = "the function is not defined"
    else:
        function = find_checker(checker)
        with _session(recorder), contextlib.redirect_stdout(io.StringIO()):
            for hidden in (False, True):
                try:
                    with _case_key(key) if hidden else contextlib.nullcontext():
                        function(student, hidden=hidden)
                except (ExerciseFailed, ExerciseNotAttempted) as error:
                    problem = str(error)[:_MAX_MESSAGE_CHARS]
                    break
    data = {"checker": checker, "invocations": recorder.invocations, "problem": problem}
    with open(path, "w") as handle:
        json.dump(data, handle)


# -- replaying, in the trusted process --------------------------------------------------

class _Player:
    """Answers each call of the student's function from a record."""

    recording = False

    def __init__(self, invocations):
        self.invocations = list(invocations)
        self.cases = None
        self.outcomes = None

    def check(self, name, student, cases, call, reference, results, rtol, atol):
        if not self.invocations:
            raise RecordError("the record holds fewer checks than the checker makes")
        invocation = self.invocations.pop(0)
        fingerprints = [_fingerprint(case) for case in cases]
        if invocation.get("fingerprints") != fingerprints:
            raise RecordError("the record was made on other cases than these")
        outcomes = invocation.get("outcomes")
        if not isinstance(outcomes, list) or len(outcomes) != len(cases):
            raise RecordError("the record does not hold one outcome per case")
        self.cases, self.outcomes = cases, outcomes
        return None  # go on: check_function compares, asking outcome() for each result

    def outcome(self, case):
        index = next(k for k, known in enumerate(self.cases) if known is case)
        outcome = self.outcomes[index]
        kind = outcome.get("kind") if isinstance(outcome, dict) else None
        if kind == "not attempted":
            raise NotImplementedError
        if kind == "mistake":
            mistake, message = outcome.get("mistake"), outcome.get("message")
            if mistake not in _MISTAKE_KINDS or not isinstance(message, str):
                raise RecordError("a recorded mistake of an unknown kind")
            raise _Mistake(message[:_MAX_MESSAGE_CHARS], mistake)
        if kind == "result":
            return _decode(outcome.get("result"))
        raise RecordError("a recorded outcome of an unknown kind")


def replay(checker, name, key, data):
    """The verdict on a record: ``(passed, message)``, decided without the student's code.

    Parameters
    ----------
    checker : str
        The checker's name, as given to :func:`record`.
    name : str
        The name the student's function has in the notebook (from the
        instructor's notebook, not from the record), shown in the verdict.
    key : sequence of int
        The case key given to :func:`record`.
    data : bytes or str
        The record's JSON, as :func:`record` wrote it (or as a hostile kernel
        replaced it: anything that is not a faithful record fails).

    Returns
    -------
    passed : bool
        True when the visible and the hidden cases all pass.
    message : str
        The checker's verdict lines, as a student would see them.
    """
    if not name.isidentifier():
        raise ValueError(f"name must be a Python name; got {name!r}")
    try:
        if len(data) > MAX_RECORD_BYTES:
            raise RecordError(f"the record is larger than {MAX_RECORD_BYTES} bytes")
        record_ = json.loads(data)
        if not isinstance(record_, dict) or record_.get("checker") != checker:
            raise RecordError("the record is for another checker")
        invocations = record_.get("invocations")
        if not isinstance(invocations, list):
            raise RecordError("the record holds no checks")
    except (RecordError, ValueError, RecursionError) as error:
        return False, f"{name}: no usable record of your answers ({error})."
    if not invocations:
        problem = record_.get("problem")
        reason = problem if isinstance(problem, str) else "nothing was recorded"
        return False, f"{name}: not graded: {reason[:_MAX_MESSAGE_CHARS]}"
    student = type(name, (), {"__doc__": "stands for the student's function; never called"})
    function = find_checker(checker)
    printed = io.StringIO()
    verdicts = []
    try:
        with _session(_Player(invocations)), contextlib.redirect_stdout(printed):
            for hidden in (False, True):
                with _case_key(key) if hidden else contextlib.nullcontext():
                    verdicts.append(function(student, hidden=hidden))
    except (ExerciseFailed, ExerciseNotAttempted) as failure:
        return False, (printed.getvalue() + str(failure)).strip()
    except (RecordError, ValueError, RecursionError) as error:
        return False, f"{name}: no usable record of your answers ({error})."
    passed = len(verdicts) == 2 and all(isinstance(v, Verdict) and bool(v) for v in verdicts)
    return passed, printed.getvalue().strip()


# -- encoding results, and decoding them without trusting them --------------------------

def _encode(value):
    """``value`` as JSON data; raises TypeError for what a record cannot hold."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (np.generic, np.ndarray)):  # before float: np.float64 is a float
        array = np.asarray(value)
        if array.dtype.kind not in _DTYPE_KINDS:
            raise TypeError(f"an array of dtype {array.dtype}")
        encoded = {"dtype": array.dtype.str, "shape": list(array.shape),
                   "data": base64.b64encode(np.ascontiguousarray(array).tobytes()).decode()}
        return {"__scalar__" if isinstance(value, np.generic) else "__array__": encoded}
    if isinstance(value, int):
        return {"__int__": str(value)} if abs(value) >= 2**53 else value
    if isinstance(value, float):
        return {"__float__": repr(value)}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(item) for item in value]}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {"__dict__": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, np.random.Generator):
        return {"__generator__": _encode(value.bit_generator.state)}
    raise TypeError(f"an object of type {type(value).__name__}")


class _Unrecordable:
    """What a record says the student returned when it was not data (a function, a set...)."""

    def __init__(self, kind):
        self.kind = kind

    def __repr__(self):
        return f"<{self.kind}>"


def _decode(value, depth=0):
    """The value :func:`_encode` encoded; :class:`RecordError` for anything else."""
    if depth > 50:
        raise RecordError("a result nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, list):
        return [_decode(item, depth + 1) for item in value]
    if not isinstance(value, dict) or len(value) != 1:
        raise RecordError("an unknown value")
    (tag, content), = value.items()
    if tag == "__int__" and isinstance(content, str) and content.lstrip("-").isdigit():
        if len(content) > 400:
            raise RecordError("an integer too long")
        return int(content)
    if tag == "__float__" and isinstance(content, str):
        return float(content)
    if tag in ("__array__", "__scalar__"):
        return _decode_array(content, scalar=tag == "__scalar__")
    if tag == "__tuple__" and isinstance(content, list):
        return tuple(_decode(item, depth + 1) for item in content)
    if tag == "__dict__" and isinstance(content, list):
        pairs = {}
        for pair in content:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise RecordError("a broken dict")
            key = _decode(pair[0], depth + 1)
            if not isinstance(key, (str, int, float, tuple)):
                raise RecordError("a dict key that is not a name or number")
            pairs[key] = _decode(pair[1], depth + 1)
        return pairs
    if tag == "__generator__":
        state = _decode(content, depth + 1)
        kind = state.get("bit_generator") if isinstance(state, dict) else None
        if kind not in _GENERATORS:
            raise RecordError("an unknown random generator")
        bit_generator = _GENERATORS[kind]()
        try:
            bit_generator.state = state
        except (TypeError, ValueError, KeyError) as error:
            raise RecordError("a broken generator state") from error
        return np.random.Generator(bit_generator)
    if tag == "__object__" and isinstance(content, str):
        return _Unrecordable(f"an object of type {content[:60]}")
    raise RecordError("an unknown value")


def _decode_array(content, scalar):
    if not (isinstance(content, dict) and set(content) == {"dtype", "shape", "data"}):
        raise RecordError("a broken array")
    try:
        dtype = np.dtype(content["dtype"])
    except TypeError as error:
        raise RecordError("an array of an unknown dtype") from error
    shape = content["shape"]
    if (dtype.kind not in _DTYPE_KINDS or dtype.hasobject or not isinstance(shape, list)
            or not all(isinstance(n, int) and 0 <= n < 2**31 for n in shape)
            or len(shape) > 32 or not isinstance(content["data"], str)):
        raise RecordError("a broken array")
    raw = base64.b64decode(content["data"], validate=True)
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise RecordError("an array whose data does not fit its shape")
    array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    return array[()] if scalar else array


def _fingerprint(case):
    """A digest of a case's arguments, to tie a record to the cases it was made on."""
    digest = hashlib.sha256()

    def feed(value):
        if isinstance(value, np.ndarray):
            digest.update(f"a{value.dtype.str}{value.shape}".encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        elif isinstance(value, dict):
            digest.update(b"d")
            for key, item in value.items():
                feed(key)
                feed(item)
        elif isinstance(value, (list, tuple)):
            digest.update(f"l{len(value)}".encode())
            for item in value:
                feed(item)
        elif isinstance(value, np.random.Generator):
            feed(value.bit_generator.state)
        elif callable(value):
            digest.update(f"f{getattr(value, '__qualname__', type(value).__name__)}".encode())
        else:
            digest.update(f"v{type(value).__name__}:{value!r}".encode())

    feed(dict(case))
    return digest.hexdigest()

