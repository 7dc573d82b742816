"""Tests for tinynet.exercises.search: right answers pass, wrong samplers fail with their hint."""

import numpy as np
import pytest

from tinynet.exercises import ExerciseFailed, ExerciseNotAttempted
from tinynet.exercises.search import check_log_uniform


# -- right answers, written as a student would ------------------------------------

def log_uniform(low, high, size, rng):
    return np.exp(rng.uniform(np.log(low), np.log(high), size))


def log_uniform_base_10(low, high, size, rng):
    return 10 ** rng.uniform(np.log10(low), np.log10(high), size)


def log_uniform_from_random(low, high, size, rng):
    return low * (high / low) ** rng.random(size)


def log_uniform_one_by_one(low, high, size, rng):
    shape = size if isinstance(size, tuple) else (size,)
    values = [np.exp(rng.uniform(np.log(low), np.log(high))) for _ in range(int(np.prod(shape)))]
    return np.array(values).reshape(shape)


@pytest.mark.parametrize("answer", [log_uniform, log_uniform_base_10, log_uniform_from_random,
                                    log_uniform_one_by_one], ids=lambda f: f.__name__)
@pytest.mark.parametrize("hidden", [False, True])
def test_right_answers_pass(answer, hidden, capsys):
    assert check_log_uniform(answer, hidden=hidden)
    cases = 7 if hidden else 6
    assert f"log_uniform: PASS ({cases} cases)" in capsys.readouterr().out


def test_skeleton_is_not_attempted_yet(capsys, monkeypatch):
    def skeleton(low, high, size, rng):
        raise NotImplementedError()

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    verdict = check_log_uniform(skeleton)
    assert not verdict and not verdict.attempted
    assert "log_uniform: not attempted yet" in capsys.readouterr().out
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ExerciseNotAttempted, match="log_uniform: not attempted yet"):
        check_log_uniform(skeleton, hidden=True)


# -- typical mistakes: each stays inside [low, high] on the first case ---------------

def uniform(low, high, size, rng):
    return rng.uniform(low, high, size)


def exp_of_log10(low, high, size, rng):
    return np.exp(rng.uniform(np.log10(low), np.log10(high), size))


def ten_to_ln(low, high, size, rng):
    return 10 ** rng.uniform(np.log(low), np.log(high), size)


def global_random(low, high, size, rng):
    return np.exp(np.random.default_rng(0).uniform(np.log(low), np.log(high), size))


def swapped_bounds(low, high, size, rng):
    return np.exp(rng.uniform(np.log(high), np.log(low), size))


def sorted_samples(low, high, size, rng):
    return np.sort(np.exp(rng.uniform(np.log(low), np.log(high), size)), axis=None)


@pytest.mark.parametrize("answer, match", [
    (uniform, "FAIL on case 1.*uniform on \\[low, high\\], not log-uniform"),
    (exp_of_log10, "FAIL on case 1.*np.log10.*np.exp: the bases differ"),
    (ten_to_ln, "FAIL on case 1.*10 \\*\\* u: the bases differ"),
    (global_random, "FAIL on case 1.*drew nothing from rng"),
    (swapped_bounds, "FAIL on case 1"),
    (sorted_samples, "FAIL on case 1.*Hint: Draw the exponent uniformly"),
])
@pytest.mark.parametrize("hidden", [False, True])
def test_wrong_answers_fail_with_a_reason(answer, match, hidden):
    if hidden:
        match = match.replace("case 1", "hidden case 1")
    with pytest.raises(ExerciseFailed, match=f"(?s)^log_uniform: {match}"):
        check_log_uniform(answer, hidden=hidden)


def test_the_wrong_samplers_really_stay_in_range():
    """They are near misses: a range check alone would not catch them."""
    rng = np.random.default_rng(0)
    low, high = 1e-3, 1.0
    for wrong in (uniform, exp_of_log10, global_random, sorted_samples):
        x = wrong(low, high, 1000, rng)
        assert np.all((x >= low) & (x <= high)), wrong.__name__


def test_out_of_range_samples_are_named():
    def too_big(low, high, size, rng):
        return 2 * log_uniform(low, high, size, rng)

    with pytest.raises(ExerciseFailed, match="outside \\[low, high\\] = \\[0.001, 1\\]"):
        check_log_uniform(too_big)


def test_a_wrong_shape_is_reported():
    def flat(low, high, size, rng):
        return log_uniform(low, high, size, rng).ravel()[:1]

    with pytest.raises(ExerciseFailed, match="shape"):
        check_log_uniform(flat)


def test_passing_a_call_result_is_explained():
    with pytest.raises(ExerciseFailed, match="pass your function itself"):
        check_log_uniform(log_uniform(1e-3, 1.0, 3, np.random.default_rng(0)))
