"""Recording answers in the student's kernel and replaying them in the grader.

The grader's verdict must be the verdict the checker gives live: for every
checker, a right answer passes after the round trip, and each typical
mistake of ``tests/test_exercises_framework.py`` fails with exactly the live
message. A record that was tampered with, made on other cases or built to
attack the decoder never passes and never crashes the grader.
"""

import base64
import contextlib
import io
import json

import numpy as np
import pytest
from test_exercises_framework import CHECKERS, WRONG

from tinynet.exercises import ExerciseFailed, ExerciseNotAttempted, case_seed, recording
from tinynet.exercises.recording import _case_key

KEY = [11, 22, 33, 44, 55, 66, 77, 88]
OTHER_KEY = [11, 22, 33, 44, 55, 66, 77, 89]   # one number off


def _record(checker, student, tmp_path, key=KEY):
    path = tmp_path / "record.json"
    recording.record(checker.__name__, student, key, str(path))
    return path.read_bytes()


def _live(checker, student, key=KEY):
    """What the checker says live, visible then keyed hidden cases: (passed, text)."""
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            first = checker(student)
            with _case_key(key):
                second = checker(student, hidden=True)
    except (ExerciseFailed, ExerciseNotAttempted) as failure:
        return False, (printed.getvalue() + str(failure)).strip()
    return bool(first) and bool(second), printed.getvalue().strip()


def _named(answer, name="my_answer"):
    def student(*args):
        return answer(*args)
    student.__name__ = name
    return student


@pytest.mark.parametrize("checker, answer, returns", CHECKERS,
                         ids=[c.__name__ for c, _, _ in CHECKERS])
def test_a_right_answer_passes_after_the_round_trip(checker, answer, returns, tmp_path):
    student = answer
    data = _record(checker, student, tmp_path)
    passed, message = recording.replay(checker.__name__, student.__name__, KEY, data)
    assert passed, message
    assert message == _live(checker, student)[1]
    assert message.count("PASS") == 2


@pytest.mark.parametrize("checker, answer, label, make, pattern", WRONG,
                         ids=[f"{c.__name__}-{label}" for c, _, label, _, _ in WRONG])
def test_a_wrong_answer_gets_the_live_verdict(checker, answer, label, make, pattern, tmp_path):
    student = make(answer)
    live = _live(checker, student)
    data = _record(checker, student, tmp_path)
    replayed = recording.replay(checker.__name__, student.__name__, KEY, data)
    assert not replayed[0]
    assert replayed == live


def test_hidden_cases_follow_the_key_and_visible_cases_do_not():
    assert case_seed(7) == case_seed(7, hidden=True) - 0 == 7
    with _case_key(KEY):
        keyed = case_seed(7, hidden=True)
        visible = case_seed(7)
    with _case_key(OTHER_KEY):
        other = case_seed(7, hidden=True)
    assert visible == 7
    assert len({keyed, other, 7}) == 3


def test_a_record_made_with_another_key_does_not_pass(tmp_path):
    checker, answer, _ = CHECKERS[0]
    data = _record(checker, _named(answer), tmp_path, key=OTHER_KEY)
    passed, message = recording.replay(checker.__name__, "my_answer", KEY, data)
    assert not passed and "other cases" in message


def test_a_record_for_another_checker_does_not_pass(tmp_path):
    (checker, answer, _), (other, _, _) = CHECKERS[0], CHECKERS[1]
    data = _record(checker, _named(answer), tmp_path)
    passed, message = recording.replay(other.__name__, "my_answer", KEY, data)
    assert not passed and "another checker" in message


def _forge(data, change):
    record = json.loads(data)
    change(record)
    return json.dumps(record).encode()


def _first_result(record):
    return record["invocations"][0]["outcomes"][0]["result"]


def _array_case_record(tmp_path):
    checker, answer, _ = next(c for c in CHECKERS if c[0].__name__ == "check_relu_forward")
    return checker, _record(checker, _named(answer), tmp_path)


@pytest.mark.parametrize("label, change", [
    ("object dtype", lambda r: _first_result(r)["__array__"].update(dtype="|O")),
    ("data longer than the shape", lambda r: _first_result(r)["__array__"].update(
        data=base64.b64encode(b"\0" * 10_000).decode())),
    ("a huge shape", lambda r: _first_result(r)["__array__"].update(shape=[2**30, 2**30])),
    ("an unknown tag", lambda r: r["invocations"][0]["outcomes"][0].update(
        result={"__pickle__": "gASV"})),
    ("an unknown outcome", lambda r: r["invocations"][0]["outcomes"][0].update(kind="pass")),
    ("a made-up mistake kind", lambda r: r["invocations"][0]["outcomes"][0].update(
        kind="mistake", mistake="pass", message="x")),
    ("one outcome missing", lambda r: r["invocations"][0]["outcomes"].pop()),
    ("no invocations", lambda r: r.update(invocations=[])),
    ("invocations not a list", lambda r: r.update(invocations="all passed")),
    ("fingerprints swapped", lambda r: r["invocations"][0]["fingerprints"].reverse()),
    ("the hidden check dropped", lambda r: r["invocations"].pop()),
])
def test_a_tampered_record_never_passes(label, change, tmp_path):
    checker, data = _array_case_record(tmp_path)
    assert recording.replay(checker.__name__, "my_relu", KEY, data)[0]  # the untouched record
    passed, message = recording.replay(checker.__name__, "my_relu", KEY, _forge(data, change))
    assert not passed, label
    assert message.startswith("my_relu: ")


@pytest.mark.parametrize("data", [b"", b"not json", b"[]", b'{"checker": 1}', b"[" * 100_000,
                                  b"1" * (recording.MAX_RECORD_BYTES + 1)])
def test_garbage_is_not_a_record(data):
    passed, message = recording.replay("check_relu_forward", "my_relu", KEY, data)
    assert not passed and "no usable record" in message


def test_a_record_never_runs_code_in_the_grader(tmp_path, monkeypatch):
    """The stand-in for the student's function is a class that is never called."""
    checker, data = _array_case_record(tmp_path)
    calls = []
    monkeypatch.setattr(recording, "_decode", lambda value, depth=0: calls.append(value) or 0)
    passed, _ = recording.replay(checker.__name__, "my_relu", KEY, data)
    assert calls and not passed   # results come only from the decoder


def test_an_undefined_function_records_why(tmp_path):
    path = tmp_path / "record.json"
    recording.record("check_relu_forward", None, KEY, str(path))
    passed, message = recording.replay("check_relu_forward", "my_relu", KEY, path.read_bytes())
    assert not passed and "not defined" in message


def test_an_endless_function_is_called_once(tmp_path, monkeypatch):
    monkeypatch.setattr("tinynet.exercises.TIME_LIMIT", 0.2)
    calls = []

    def my_relu(x):
        calls.append(1)
        while True:
            pass

    path = tmp_path / "record.json"
    recording.record("check_relu_forward", my_relu, KEY, str(path))
    assert len(calls) == 1
    passed, message = recording.replay("check_relu_forward", "my_relu", KEY, path.read_bytes())
    assert not passed and "did not return" in message


def test_results_round_trip_exactly():
    values = [np.float32(1.5), np.arange(6, dtype=np.int32).reshape(2, 3), (1, 2.5, None),
              {"a": [True, "x"], 3: np.array(np.nan)}, 2**70, -0.0, float("inf"),
              np.random.default_rng(3)]
    for value in values:
        back = recording._decode(json.loads(json.dumps(recording._encode(value))))
        assert type(back) is type(value)
        if isinstance(value, np.random.Generator):
            assert back.bit_generator.state == value.bit_generator.state
        elif isinstance(value, np.ndarray):
            assert back.dtype == value.dtype and np.array_equal(back, value)
        elif isinstance(value, dict):
            assert back.keys() == value.keys()
        else:
            assert repr(back) == repr(value)
