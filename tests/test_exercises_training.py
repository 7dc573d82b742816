"""Tests for tinynet.exercises.training: a right answer passes, a wrong one fails with its hint."""

import numpy as np
import pytest

from tinynet import TinyNet
from tinynet.exercises import ExerciseFailed
from tinynet.exercises.training import (
    check_fit_polynomial,
    check_l2_penalty,
    check_minibatches,
    check_predict_polynomial,
    check_sgd_step_weights_only,
    check_train_one_iter,
)


def not_attempted(*args):
    raise NotImplementedError


# -- right answers, written as a student would ------------------------------

def train_one_iter(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc, x, t, learning_rate,
                   weight_decay):
    params = (W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc)
    net = TinyNet(*params)
    net.forward(x, t)
    grads = net.backward()
    return tuple(p - learning_rate * (g + weight_decay * p) for p, g in zip(params, grads))


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

def test_train_one_iter_forgetting_weight_decay_fails():
    def no_decay(*args):
        *rest, learning_rate, _ = args
        return train_one_iter(*rest, learning_rate, 0.0)

    with pytest.raises(ExerciseFailed, match="train_one_iter: FAIL on case 2.*weight_decay"):
        check_train_one_iter(no_decay)


def test_train_one_iter_not_decaying_biases_fails():
    def weights_only(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc, x, t, lr, wd):
        new = train_one_iter(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc, x, t, lr, wd)
        grads_step = train_one_iter(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc, x, t, lr, 0)
        return tuple(n if k % 2 == 0 else g for k, (n, g) in enumerate(zip(new, grads_step)))

    with pytest.raises(ExerciseFailed, match="biases included"):
        check_train_one_iter(weights_only)


def test_train_one_iter_updating_in_place_fails():
    def in_place(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc, x, t, lr, wd):
        params = (W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc)
        net = TinyNet(*params)
        net.forward(x, t)
        for p, g in zip(params, net.backward()):
            p -= lr * (g + wd * p)
        return params

    with pytest.raises(ExerciseFailed, match="in place"):
        check_train_one_iter(in_place)


def test_train_one_iter_wrong_order_fails():
    def swapped(*args):
        out = train_one_iter(*args)
        return (out[1], out[0]) + out[2:]

    with pytest.raises(ExerciseFailed, match="shape"):
        check_train_one_iter(swapped)


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


def test_train_one_iter_without_bias_decay_names_the_first_bias():
    """The grading suite's planted mistake: biases not decayed."""
    def biases_not_decayed(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc, x, t,
                           learning_rate, weight_decay):
        params = (W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc)
        net = TinyNet(*params)
        net.forward(x, t)
        return tuple(p - learning_rate * (g + (weight_decay * p if p.ndim > 1 else 0))
                     for p, g in zip(params, net.backward()))

    with pytest.raises(ExerciseFailed, match=r"(?s)case 2 of 4 .*one-hot labels\)\n"
                                             r"  result 2 \(b_conv1\) differs at index \(0,\).*"
                                             r"b_conv1 is a bias: it is decayed too"):
        check_train_one_iter(biases_not_decayed)


def test_train_one_iter_writing_into_the_callers_weights_fails():
    def in_place(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc, x, t, learning_rate,
                 weight_decay):
        params = (W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc)
        net = TinyNet(*params)
        net.forward(x, t)
        for p, g in zip(params, net.backward()):
            p -= learning_rate * (g + weight_decay * p)
        return params

    with pytest.raises(ExerciseFailed, match="changed its argument `W_conv1` in place"):
        check_train_one_iter(in_place)


def test_sgd_step_without_bias_decay_names_the_bias(capsys):
    from tinynet.exercises.training import check_sgd_step

    with pytest.raises(ExerciseFailed, match=r"your result\['b_conv1'\] differs.*\n"
                                             r"  b_conv1 is a bias"):
        check_sgd_step(sgd_step_weights_only)
