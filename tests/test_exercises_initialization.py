"""Tests for tinynet.exercises.initialization: right answers pass, typical slips fail by name."""

import math

import numpy as np
import pytest

from tinynet.exercises import ExerciseFailed, ExerciseNotAttempted
from tinynet.exercises.initialization import check_init_std, check_init_weights

# -- right answers, written as a student would ----------------------------------------

def init_std(shape, weight_std):
    if weight_std == "xavier" or weight_std == "he":
        fan_in = shape[0] if len(shape) == 2 else shape[1] * shape[2] * shape[3]
        return np.sqrt((2.0 if weight_std == "he" else 1.0) / fan_in)
    return weight_std


def init_std_with_prod(shape, weight_std):
    fan_in = int(np.prod(shape[1:])) if len(shape) == 4 else shape[0]
    scales = {"xavier": 1 / math.sqrt(fan_in), "he": math.sqrt(2) / math.sqrt(fan_in)}
    return scales.get(weight_std, weight_std) if isinstance(weight_std, str) else float(weight_std)


def init_weights(shape, weight_std, rng):
    return rng.standard_normal(shape) * init_std(shape, weight_std)


def init_weights_with_normal(shape, weight_std, rng):
    return rng.normal(0.0, init_std(shape, weight_std), size=shape)


@pytest.mark.parametrize("answer", [init_std, init_std_with_prod], ids=lambda f: f.__name__)
@pytest.mark.parametrize("hidden", [False, True])
def test_right_std_answers_pass(answer, hidden, capsys):
    assert check_init_std(answer, hidden=hidden)
    assert f"{answer.__name__}: PASS ({9 if hidden else 7} cases)" in capsys.readouterr().out


@pytest.mark.parametrize("answer", [init_weights, init_weights_with_normal],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("hidden", [False, True])
def test_right_weights_answers_pass(answer, hidden, capsys):
    assert check_init_weights(answer, hidden=hidden)
    assert f"{answer.__name__}: PASS ({9 if hidden else 7} cases)" in capsys.readouterr().out


@pytest.mark.parametrize("checker", [check_init_std, check_init_weights])
def test_skeleton_is_not_attempted_yet(checker, capsys, monkeypatch):
    def skeleton(*args):
        raise NotImplementedError()

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    verdict = checker(skeleton)
    assert not verdict and not verdict.attempted
    assert "not attempted yet" in capsys.readouterr().out
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ExerciseNotAttempted, match="not attempted yet"):
        checker(skeleton, hidden=True)


# -- typical slips ----------------------------------------------------------------

def _fan_in(shape):
    return shape[0] if len(shape) == 2 else shape[1] * shape[2] * shape[3]


def _fan_out(shape):
    return shape[1] if len(shape) == 2 else shape[0] * shape[2] * shape[3]


def _named(fan, factor_he=2.0, factor_xavier=1.0, root=True):
    def std(shape, weight_std):
        if not isinstance(weight_std, str):
            return weight_std
        factor = factor_he if weight_std == "he" else factor_xavier
        value = factor / fan(shape)
        return math.sqrt(value) if root else value
    return std


fan_out_instead = _named(_fan_out)
missing_sqrt = _named(_fan_in, root=False)
swapped = _named(_fan_in, factor_he=1.0, factor_xavier=2.0)


def glorot(shape, weight_std):
    if not isinstance(weight_std, str):
        return weight_std
    return math.sqrt(2 / (_fan_in(shape) + _fan_out(shape)))


def conv_channels_only(shape, weight_std):
    fan = shape[0] if len(shape) == 2 else shape[1]
    return init_std((fan, 1), weight_std)


def conv_first_axis(shape, weight_std):
    return init_std((shape[0], 1), weight_std)


def variance_of_numbers(shape, weight_std):
    return init_std(shape, weight_std) if isinstance(weight_std, str) else weight_std ** 2


STD_SLIPS = [
    (fan_out_instead, 1, "you used fan_out = 50 instead of fan_in = 100"),
    (missing_sqrt, 1, "the square root is missing: 2 / fan_in is the variance"),
    (swapped, 1, "that is the scale for 'xavier', not for 'he'"),
    (glorot, 1, "Glorot and Bengio's sqrt\\(2 / \\(fan_in \\+ fan_out\\)\\)"),
    (conv_channels_only, 5, "you used fan_in = C = 3, without the kernel's KH \\* KW = 9"),
    (conv_first_axis, 5, "you used fan_in = F = shape\\[0\\] = 8, the number of filters"),
    (variance_of_numbers, 4, "you used its square, the variance"),
]


@pytest.mark.parametrize("answer, case, match", STD_SLIPS, ids=[s[0].__name__ for s in STD_SLIPS])
def test_wrong_std_fails_with_a_reason(answer, case, match):
    with pytest.raises(ExerciseFailed,
                       match=f"(?s)^{answer.__name__}: FAIL on case {case} of 7.*{match}"):
        check_init_std(answer)


@pytest.mark.parametrize("answer", [fan_out_instead, missing_sqrt, conv_channels_only],
                         ids=lambda f: f.__name__)
def test_wrong_std_fails_the_hidden_cases_too(answer):
    with pytest.raises(ExerciseFailed, match=f"^{answer.__name__}: FAIL on hidden case"):
        check_init_std(answer, hidden=True)


@pytest.mark.parametrize("std, match", [
    (fan_out_instead, "FAIL on case 1.*fan_out = 50 instead of fan_in = 100"),
    (missing_sqrt, "FAIL on case 1.*square root is missing"),
    (conv_channels_only, "FAIL on case 5.*fan_in = C = 3"),
    (variance_of_numbers, "FAIL on case 4.*its square, the variance"),
])
def test_wrong_scale_in_the_weights_is_named(std, match):
    def answer(shape, weight_std, rng):
        return rng.standard_normal(shape) * std(shape, weight_std)

    with pytest.raises(ExerciseFailed, match=f"(?s)^answer: {match}"):
        check_init_weights(answer)


def global_random(shape, weight_std, rng):
    return np.random.default_rng(0).standard_normal(shape) * init_std(shape, weight_std)


def transposed(shape, weight_std, rng):
    return rng.standard_normal(shape[::-1]) * init_std(shape, weight_std)


def uniform(shape, weight_std, rng):
    return rng.uniform(-1, 1, shape) * init_std(shape, weight_std) * math.sqrt(3)


def in_place_of_the_variance(shape, weight_std, rng):
    return rng.normal(0.0, init_std(shape, weight_std) ** 2, size=shape)


@pytest.mark.parametrize("answer, match", [
    (global_random, "drew nothing from rng"),
    (transposed, "the reverse of shape \\(100, 50\\)"),
    (uniform, "Hint: Draw rng.standard_normal\\(shape\\)"),
    (in_place_of_the_variance, "square root is missing"),
])
def test_wrong_draws_fail_with_a_reason(answer, match):
    with pytest.raises(ExerciseFailed,
                       match=f"(?s)^{answer.__name__}: FAIL on case 1 of 7.*{match}"):
        check_init_weights(answer)


def test_the_uniform_draws_have_the_right_spread():
    """A near miss: mean and standard deviation alone would not catch it."""
    W = uniform((400, 300), "he", np.random.default_rng(0))
    assert W.std() == pytest.approx(math.sqrt(2 / 400), rel=0.01)


def test_passing_a_call_result_is_explained():
    with pytest.raises(ExerciseFailed, match="pass your function itself"):
        check_init_std(init_std((10, 5), "he"))
