"""Tests for tinynet.exercises.training: a right answer passes, a wrong one fails with its hint."""

import re

import numpy as np
import pytest

from tinynet import TinyNet
from tinynet.exercises import ExerciseFailed, check_function
from tinynet.exercises import training as training_checks
from tinynet.exercises.training import (
    check_fit_polynomial,
    check_l2_penalty,
    check_minibatches,
    check_predict_polynomial,
    check_sgd_step,
    check_sgd_step_weights_only,
    check_train_one_iter,
)
from tinynet.model import PARAM_NAMES


def not_attempted(*args):
    raise NotImplementedError


# -- right answers, written as a student would ------------------------------

def train_one_iter(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc, x, t, learning_rate,
                   weight_decay):
    params = (W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc)
    net = TinyNet(*params)
    net.forward(x, t)
    grads = net.backward()
    return tuple(p - learning_rate * (g + weight_decay * p)
                 for p, g in zip(params, grads, strict=True))


def minibatches(n_samples, batch_size, rng):
    order = rng.permutation(n_samples)
    return [order[i:i + batch_size] for i in range(0, n_samples, batch_size)]


def sgd_step_weights_only(params, grads, learning_rate, weight_decay):
    new = {}
    for name, p in params.items():
        g = grads[name] + (weight_decay * p if name.startswith("W") else 0)
        new[name] = p - learning_rate * g
    return new


def l2_penalty(params, weight_decay):
    return weight_decay / 2 * sum(np.sum(p ** 2) for p in params.values())


def fit_polynomial(x, y, degree, weight_decay):
    X = np.vander(x, degree + 1, increasing=True)
    P = np.eye(degree + 1)
    P[0, 0] = 0
    return np.linalg.solve(X.T @ X + len(x) * weight_decay / 2 * P, X.T @ y)


def predict_polynomial(coefficients, x):
    y = np.full(np.shape(x), coefficients[-1], dtype=float)
    for c in coefficients[-2::-1]:
        y = y * x + c
    return y


RIGHT = [
    (check_train_one_iter, train_one_iter),
    (check_minibatches, minibatches),
    (check_sgd_step_weights_only, sgd_step_weights_only),
    (check_l2_penalty, l2_penalty),
    (check_fit_polynomial, fit_polynomial),
    (check_predict_polynomial, predict_polynomial),
]


@pytest.mark.parametrize("check, answer", RIGHT, ids=lambda f: getattr(f, "__name__", ""))
def test_right_answer_passes(check, answer, capsys):
    assert check(answer)
    assert "PASS" in capsys.readouterr().out


@pytest.mark.parametrize("check", [c for c, _ in RIGHT], ids=lambda f: f.__name__)
def test_skeleton_is_not_attempted_yet(check, capsys):
    assert not check(not_attempted) and not check(not_attempted).attempted
    assert "not attempted yet" in capsys.readouterr().out


# -- typical mistakes ----------------------------------------------------------

def test_train_one_iter_not_decaying_biases_fails():
    def weights_only(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc, x, t, lr, wd):
        new = train_one_iter(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc, x, t, lr, wd)
        grads_step = train_one_iter(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc, x, t, lr, 0)
        return tuple(n if k % 2 == 0 else g
                     for k, (n, g) in enumerate(zip(new, grads_step, strict=True)))

    with pytest.raises(ExerciseFailed, match="biases included"):
        check_train_one_iter(weights_only)


def test_train_one_iter_updating_in_place_fails():
    def in_place(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc, x, t, lr, wd):
        params = (W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc)
        net = TinyNet(*params)
        net.forward(x, t)
        for p, g in zip(params, net.backward(), strict=True):
            p -= lr * (g + wd * p)
        return params

    with pytest.raises(ExerciseFailed, match="in place"):
        check_train_one_iter(in_place)


def test_minibatches_dropping_the_last_batch_fails():
    def drop_last(n_samples, batch_size, rng):
        order = rng.permutation(n_samples)
        return [order[i:i + batch_size] for i in range(0, n_samples - batch_size + 1, batch_size)]

    with pytest.raises(ExerciseFailed, match="Keep the last, shorter batch"):
        check_minibatches(drop_last)


def test_minibatches_without_shuffling_fails():
    def unshuffled(n_samples, batch_size, rng):
        order = np.arange(n_samples)
        return [order[i:i + batch_size] for i in range(0, n_samples, batch_size)]

    with pytest.raises(ExerciseFailed, match="rng.permutation"):
        check_minibatches(unshuffled)


def test_sgd_step_decaying_biases_fails():
    def decay_all(params, grads, learning_rate, weight_decay):
        return {k: p - learning_rate * (grads[k] + weight_decay * p) for k, p in params.items()}

    with pytest.raises(ExerciseFailed, match="no decay"):
        check_sgd_step_weights_only(decay_all)


def test_sgd_step_in_place_fails():
    def in_place(params, grads, learning_rate, weight_decay):
        for name, p in params.items():
            p -= learning_rate * (grads[name] + (weight_decay * p if name[0] == "W" else 0))
        return params

    with pytest.raises(ExerciseFailed, match="in place"):
        check_sgd_step_weights_only(in_place)


def test_sgd_step_returning_a_tuple_fails():
    def as_tuple(params, grads, learning_rate, weight_decay):
        return tuple(sgd_step_weights_only(params, grads, learning_rate, weight_decay).values())

    with pytest.raises(ExerciseFailed, match="is a tuple of 6 items; expected a dict"):
        check_sgd_step_weights_only(as_tuple)


def test_l2_penalty_without_the_half_fails():
    with pytest.raises(ExerciseFailed, match="weight_decay / 2"):
        check_l2_penalty(lambda params, wd: 2 * l2_penalty(params, wd))


def test_l2_penalty_weights_only_fails():
    def weights_only(params, weight_decay):
        return weight_decay / 2 * sum(np.sum(p ** 2) for k, p in params.items() if k[0] == "W")

    with pytest.raises(ExerciseFailed, match="biases included"):
        check_l2_penalty(weights_only)


def test_fit_polynomial_penalising_the_constant_fails():
    def penalise_all(x, y, degree, weight_decay):
        X = np.vander(x, degree + 1, increasing=True)
        return np.linalg.solve(X.T @ X + len(x) * weight_decay / 2 * np.eye(degree + 1), X.T @ y)

    with pytest.raises(ExerciseFailed, match="constant term is not"):
        check_fit_polynomial(penalise_all)


def test_fit_polynomial_wrong_scale_of_lambda_fails():
    def no_n(x, y, degree, weight_decay):
        X = np.vander(x, degree + 1, increasing=True)
        P = np.eye(degree + 1)
        P[0, 0] = 0
        return np.linalg.solve(X.T @ X + weight_decay * P, X.T @ y)

    with pytest.raises(ExerciseFailed, match="factor N / 2"):
        check_fit_polynomial(no_n)


def test_predict_polynomial_highest_power_first_fails():
    def reversed_order(coefficients, x):
        return np.polyval(coefficients, x)  # numpy's polyval wants the highest power first

    with pytest.raises(ExerciseFailed, match="constant"):
        check_predict_polynomial(reversed_order)


def test_train_one_iter_writing_into_the_callers_weights_fails():
    def in_place(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc, x, t, learning_rate,
                 weight_decay):
        params = (W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc)
        net = TinyNet(*params)
        net.forward(x, t)
        for p, g in zip(params, net.backward(), strict=True):
            p -= learning_rate * (g + weight_decay * p)
        return params

    with pytest.raises(ExerciseFailed, match="changed its argument `W_conv1` in place"):
        check_train_one_iter(in_place)


# -- the usual wrong SGD steps, each named by the checkers ---------------------------
# Every step below is a student's update rule rule(p, g, learning_rate, decay), decay being
# the weight decay this parameter should get (0 for the book's undecayed biases). The same
# rule is run as train_one_iter (gradients from TinyNet), sgd_step and sgd_step_weights_only.

def _as_train_one_iter(rule, decays=None):
    def my_train_one_iter(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc, x, t, learning_rate,
                          weight_decay):
        params = (W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc)
        net = TinyNet(*params)
        net.forward(x, t)
        return tuple(rule(p, g, learning_rate, (decays or _all)(name, weight_decay))
                     for name, p, g in zip(PARAM_NAMES, params, net.backward(), strict=True))
    return my_train_one_iter


def _as_sgd_step(rule, decays):
    def my_sgd_step(params, grads, learning_rate, weight_decay):
        return {name: rule(p, grads[name], learning_rate, decays(name, weight_decay))
                for name, p in params.items()}
    return my_sgd_step


def _all(name, weight_decay):
    return weight_decay


def _weights(name, weight_decay):
    return weight_decay if name.startswith("W") else 0.0


def _biases(name, weight_decay):
    return weight_decay if name.startswith("b") else 0.0


RIGHT_RULES = {
    "textbook": lambda p, g, lr, d: p - lr * (g + d * p),
    "shrink then step": lambda p, g, lr, d: (1 - lr * d) * p - lr * g,
    "two updates from the old p": lambda p, g, lr, d: p - lr * g - lr * d * p,
}

# (label, rule, the message's words): the rule applies the right decay per parameter
WRONG_RULES = [
    ("wrong sign", lambda p, g, lr, d: p - lr * (g - d * p),
     r"your step matches p - learning_rate \* \(grad - weight_decay \* p\): the decay term "
     r"has the wrong sign"),
    ("decay missing", lambda p, g, lr, d: p - lr * g,
     r"your step matches p - learning_rate \* grad: the weight decay is missing"),
    # the first visible case has weight_decay=0: no gradient and unchanged are one there;
    # the first hidden one has weight_decay > 0: they are told apart
    ("gradient missing", lambda p, g, lr, d: p - lr * d * p,
     r"your step returns the parameters unchanged: every new value equals the one passed "
     r"in\. On this case \(weight_decay=0\) that is also what a step without the gradient "
     r"gives|^  your step matches p - learning_rate \* weight_decay \* p: the gradient is "
     r"missing"),
    ("unchanged", lambda p, g, lr, d: p.copy(),
     r"your step returns the parameters unchanged.*only rebinds the loop variable"),
    ("gradient doubled", lambda p, g, lr, d: p - lr * (2 * g + d * p),
     r"the gradient is counted twice"),
    ("learning rate squared", lambda p, g, lr, d: p - lr * lr * (g + d * p),
     r"the learning rate is applied twice"),
    ("learning rate on the gradient twice", lambda p, g, lr, d: p - lr * (lr * g + d * p),
     r"the learning rate is applied twice|the gradient is multiplied by learning_rate twice"),
    ("learning rate on the decay twice", lambda p, g, lr, d: p - lr * (g + lr * d * p),
     r"the decay term is multiplied by learning_rate twice"),
    ("gradient ascent", lambda p, g, lr, d: p + lr * (g + d * p),
     r"that climbs the loss \(gradient ascent\)"),
    ("no learning rate", lambda p, g, lr, d: p - (g + d * p),
     r"the learning rate is missing"),
    ("decay halved", lambda p, g, lr, d: p - lr * (g + d * p / 2),
     r"the decay term is halved"),
    ("decay doubled", lambda p, g, lr, d: p - lr * (g + 2 * d * p),
     r"the decay term is doubled"),
    ("decay after the step", lambda p, g, lr, d: (p - lr * g) * (1 - lr * d),
     r"your step decays the parameter after the gradient step"),
]

STEPS = [  # (checker, how to run a rule as the student's function, which parameters decay)
    (check_train_one_iter, lambda rule: _as_train_one_iter(rule), _all),
    (check_sgd_step, lambda rule: _as_sgd_step(rule, _all), _all),
    (check_sgd_step_weights_only, lambda rule: _as_sgd_step(rule, _weights), _weights),
]


@pytest.mark.parametrize("checker, make, decays", STEPS, ids=lambda v: getattr(v, "__name__", ""))
@pytest.mark.parametrize("label", list(RIGHT_RULES))
@pytest.mark.parametrize("hidden", [False, True])
def test_right_steps_written_differently_pass(checker, make, decays, label, hidden, capsys):
    rule = RIGHT_RULES[label]
    student = (_as_train_one_iter(rule, decays) if checker is check_train_one_iter
               else _as_sgd_step(rule, decays))
    assert checker(student, hidden=hidden)
    assert capsys.readouterr().out.startswith(f"{student.__name__}: PASS (")


@pytest.mark.parametrize("checker, make, decays", STEPS, ids=lambda v: getattr(v, "__name__", ""))
@pytest.mark.parametrize("label, rule, words", WRONG_RULES, ids=[w[0] for w in WRONG_RULES])
@pytest.mark.parametrize("hidden", [False, True])
def test_each_wrong_step_is_named(checker, make, decays, label, rule, words, hidden):
    student = (_as_train_one_iter(rule, decays) if checker is check_train_one_iter
               else _as_sgd_step(rule, decays))
    with np.errstate(all="ignore"), pytest.raises(ExerciseFailed) as caught:
        checker(student, hidden=hidden)
    first, named = str(caught.value).splitlines()[:2]
    assert first.startswith(f"{student.__name__}: FAIL on {'hidden ' if hidden else ''}case ")
    assert re.search(words, named), named


def test_no_gradient_with_decay_is_named_apart_from_unchanged():
    """With weight_decay > 0 the step without gradient is not the unchanged one."""
    def no_gradient(params, grads, learning_rate, weight_decay):
        return {k: p - learning_rate * weight_decay * p for k, p in params.items()}

    cases = training_checks._sgd_cases(hidden=False)[1:]  # all with weight_decay > 0
    with pytest.raises(ExerciseFailed, match=r"(?s)case 1 of 3 .*\n  your step matches "
                                             r"p - learning_rate \* weight_decay \* p: the "
                                             r"gradient is missing"):
        check_function("sgd_step", no_gradient, training_checks._sgd_step, cases, "hint",
                       mistakes=training_checks._sgd_step_mistakes)


def test_unchanged_on_a_case_with_decay_does_not_mention_weight_decay_zero():
    def unchanged(params, grads, learning_rate, weight_decay):
        return {k: p.copy() for k, p in params.items()}

    cases = training_checks._sgd_cases(hidden=False)[1:]
    with pytest.raises(ExerciseFailed) as caught:
        check_function("sgd_step", unchanged, training_checks._sgd_step, cases, "hint",
                       mistakes=training_checks._sgd_step_mistakes)
    assert "returns the parameters unchanged" in str(caught.value)
    assert "(weight_decay=0)" not in str(caught.value)


@pytest.mark.parametrize("checker, student, words", [
    (check_train_one_iter, _as_train_one_iter(RIGHT_RULES["textbook"], _weights),
     r"your step decays the weights but not the biases \(b_conv1, b_conv2, b_fc\)"),
    (check_sgd_step, _as_sgd_step(RIGHT_RULES["textbook"], _weights),
     r"your step decays the weights but not the biases"),
    (check_sgd_step_weights_only, _as_sgd_step(RIGHT_RULES["textbook"], _all),
     r"your step decays the biases too: the book's weight decay leaves them alone"),
    (check_sgd_step_weights_only, _as_sgd_step(RIGHT_RULES["textbook"], _biases),
     r"your step decays the biases and not the weights"),
], ids=["train_one_iter", "sgd_step", "weights_only decays all", "weights_only swapped"])
def test_decaying_the_wrong_parameters_is_named(checker, student, words):
    with pytest.raises(ExerciseFailed, match=r"(?s)FAIL on case 2 of \d+ .*\n  " + words):
        checker(student)


def test_train_one_iter_results_in_the_wrong_order_say_where_each_went():
    def swapped(*args):
        out = _as_train_one_iter(RIGHT_RULES["textbook"])(*args)
        return (out[0], out[2], out[4], out[1], out[3], out[5])  # weights first, then biases

    with pytest.raises(ExerciseFailed, match=(
            r"(?s)^swapped: FAIL on case 1 of 5 .*\n  your result has the right values in the "
            r"wrong places: result 2 holds W_conv2 \(expected b_conv1\); result 3 holds W_fc "
            r"\(expected W_conv2\); result 4 holds b_conv1 \(expected b_conv2\); result 5 holds "
            r"b_conv2 \(expected W_fc\)\. Return W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc "
            r"in that order\.\n")) as caught:
        check_train_one_iter(swapped)
    assert "is a bias" not in str(caught.value)  # the bias hint is for wrong values only


def test_sgd_step_values_under_the_wrong_names_are_named():
    def swapped(params, grads, learning_rate, weight_decay):
        new = _as_sgd_step(RIGHT_RULES["textbook"], _all)(params, grads, learning_rate,
                                                          weight_decay)
        new["b_conv1"], new["b_fc"] = new["b_fc"], new["b_conv1"]
        return new

    with pytest.raises(ExerciseFailed, match=r"right values in the wrong places: \['b_conv1'\] "
                                             r"holds the value for 'b_fc'; \['b_fc'\] holds the "
                                             r"value for 'b_conv1'"):
        check_sgd_step(swapped)


@pytest.mark.parametrize("checker, make, decays", STEPS, ids=lambda v: getattr(v, "__name__", ""))
def test_an_unknown_decay_mistake_names_the_weight_decay_setting(checker, make, decays):
    def squared(p, g, lr, d):
        return p - lr * (g + d * p ** 2)

    student = (_as_train_one_iter(squared, decays) if checker is check_train_one_iter
               else _as_sgd_step(squared, decays))
    with pytest.raises(ExerciseFailed) as caught:
        checker(student)
    lines = str(caught.value).splitlines()
    decay = 0.01 if checker is check_train_one_iter else 0.05  # the second visible case's
    assert lines[0].startswith(f"{student.__name__}: FAIL on case 2 of ")
    assert lines[1] == (f"  your {student.__name__} is right with weight_decay=0.0 but not "
                        f"with weight_decay={decay}: look at each place where weight_decay "
                        f"should enter.")
    assert "differs at index" in lines[2]


@pytest.mark.parametrize("checker, make, decays", STEPS, ids=lambda v: getattr(v, "__name__", ""))
def test_dtypes_must_follow_the_inputs(checker, make, decays):
    right = RIGHT_RULES["textbook"]

    def to32(p, g, lr, d):
        return right(p, g, lr, d).astype(np.float32)

    def to64(p, g, lr, d):
        return right(p, g, lr, d).astype(np.float64)

    with pytest.raises(ExerciseFailed, match=r"(?s)FAIL on case 1 of .*is float32, but this "
                                             r"case computes in float64"):
        checker(make(to32))
    with pytest.raises(ExerciseFailed, match=r"(?s)FAIL on case \d of .*float32\)\n.*is "
                                             r"float64, but this case's inputs are float32"):
        checker(make(to64))
