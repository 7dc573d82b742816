"""Tests for tinynet.exercises.basics: a right answer passes, a wrong one fails with its hint."""

import numpy as np
import pytest

from tinynet.exercises import ExerciseFailed
from tinynet.exercises.basics import (
    check_add_batch_axes,
    check_channels_first,
    check_cross_entropy_gradient,
    check_cross_entropy_loss,
    check_fc_backward,
    check_fc_relu_fc_backward,
    check_gradient_descent,
    check_numerical_derivative,
    check_numerical_gradient_descent,
    check_relu_backward,
    check_softmax,
)


def not_attempted(*args):
    raise NotImplementedError


# -- right answers, written as a student would ------------------------------

def add_batch_axes(image):
    return image.reshape(1, 1, *image.shape)


def channels_first(x):
    return x.transpose(0, 3, 1, 2)


def gradient_descent_steps(gradient, start, learning_rate, steps):
    path = [start]
    w = start
    for _ in range(steps):
        w = w - learning_rate * gradient(w)
        path.append(w)
    return np.array(path)


def central_difference(f, w, eps):
    return (f(w + eps) - f(w - eps)) / (2 * eps)


def numerical_gradient_descent(f, start, learning_rate, steps, eps):
    return gradient_descent_steps(lambda w: central_difference(f, w, eps), start,
                                  learning_rate, steps)


def fc_backward_loops(dout, x, W):
    N = x.shape[0]
    x_flat = x.reshape(N, -1)
    D, M = W.shape
    dx = np.zeros_like(x_flat)
    dW = np.zeros_like(W)
    db = np.zeros(M, dtype=dout.dtype)
    for n in range(N):
        for d in range(D):
            for m in range(M):
                dx[n, d] += dout[n, m] * W[d, m]
                dW[d, m] += x_flat[n, d] * dout[n, m]
        db += dout[n]
    return dx.reshape(x.shape), dW, db


def relu_backward(dout, x):
    return dout * (x > 0)


def fc_relu_fc_backward(dout, x, W1, b1, W2, b2):
    a = x @ W1 + b1
    h = np.maximum(a, 0)
    dW2, db2 = h.T @ dout, dout.sum(axis=0)
    da = (dout @ W2.T) * (a > 0)
    return da @ W1.T, x.T @ da, da.sum(axis=0), dW2, db2


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy_loss(x, t):
    shifted = x - x.max(axis=1, keepdims=True)
    log_y = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_y[np.arange(len(x)), t].mean()


def cross_entropy_gradient(x, t):
    N, K = x.shape
    T = t if t.ndim == 2 else np.eye(K, dtype=x.dtype)[t]
    return (softmax(x) - T) / N


RIGHT = [
    (check_add_batch_axes, add_batch_axes),
    (check_channels_first, channels_first),
    (check_gradient_descent, gradient_descent_steps),
    (check_numerical_derivative, central_difference),
    (check_numerical_gradient_descent, numerical_gradient_descent),
    (check_fc_backward, fc_backward_loops),
    (check_relu_backward, relu_backward),
    (check_fc_relu_fc_backward, fc_relu_fc_backward),
    (check_softmax, softmax),
    (check_cross_entropy_loss, cross_entropy_loss),
    (check_cross_entropy_gradient, cross_entropy_gradient),
]
CHECKERS = [checker for checker, _ in RIGHT]


@pytest.mark.parametrize("checker, answer", RIGHT, ids=[c.__name__ for c, _ in RIGHT])
def test_a_right_answer_passes(checker, answer, capsys):
    assert checker(answer)
    assert "PASS" in capsys.readouterr().out


@pytest.mark.parametrize("checker", CHECKERS, ids=[c.__name__ for c in CHECKERS])
def test_the_skeleton_reports_not_attempted(checker, capsys):
    assert not checker(not_attempted) and not checker(not_attempted).attempted
    assert "not attempted yet" in capsys.readouterr().out


# -- wrong answers: the typical mistakes, each caught with its hint ---------

def test_add_batch_axes_with_one_axis_only_fails():
    with pytest.raises(ExerciseFailed, match=r"(?s)shape \(1, 8, 8\).*axis 1 the channel"):
        check_add_batch_axes(lambda image: image[None])


def test_channels_first_by_reshape_fails():
    def by_reshape(x):
        N, H, W, C = x.shape
        return x.reshape(N, C, H, W)

    with pytest.raises(ExerciseFailed, match="(?s)not a reshape"):
        check_channels_first(by_reshape)


def test_gradient_descent_with_the_gradient_at_start_fails():
    def frozen_gradient(gradient, start, learning_rate, steps):
        g = gradient(start)
        return np.array([start - k * learning_rate * g for k in range(steps + 1)])

    with pytest.raises(ExerciseFailed, match="(?s)gradient at the current w"):
        check_gradient_descent(frozen_gradient)


def test_gradient_descent_without_the_start_fails():
    with pytest.raises(ExerciseFailed, match=r"(?s)shape \(10,\); expected \(11,\)"):
        check_gradient_descent(lambda g, s, lr, n: gradient_descent_steps(g, s, lr, n)[1:])


def test_one_sided_difference_fails():
    with pytest.raises(ExerciseFailed, match="(?s)one-sided"):
        check_numerical_derivative(lambda f, w, eps: (f(w + eps) - f(w)) / eps)


def test_numerical_descent_with_a_forward_difference_fails():
    def forward_difference(f, start, learning_rate, steps, eps):
        slope = lambda w: (f(w + eps) - f(w)) / eps  # noqa: E731
        return gradient_descent_steps(slope, start, learning_rate, steps)

    with pytest.raises(ExerciseFailed, match=r"(?s)^forward_difference: FAIL.*central"):
        check_numerical_gradient_descent(forward_difference)


def test_fc_backward_without_the_batch_sum_fails():
    def db_of_first_sample(dout, x, W):
        dx, dW, _ = fc_backward_loops(dout, x, W)
        return dx, dW, dout[0]

    with pytest.raises(ExerciseFailed, match=r"(?s)result 3.*summed over the batch"):
        check_fc_backward(db_of_first_sample)


def test_fc_backward_with_flat_dx_fails():
    def flat_dx(dout, x, W):
        return dout @ W.T, x.reshape(len(x), -1).T @ dout, dout.sum(axis=0)

    with pytest.raises(ExerciseFailed, match=r"(?s)case 4 of 6.*result 1 \(dx\) has shape "
                                             r"\(2, 18\); expected \(2, 2, 3, 3\), the shape of x"):
        check_fc_backward(flat_dx)


def test_relu_backward_masked_by_dout_fails():
    with pytest.raises(ExerciseFailed, match="(?s)depends on\\s+x"):
        check_relu_backward(lambda dout, x: np.maximum(dout, 0))


def test_relu_backward_passing_the_gradient_at_zero_fails():
    with pytest.raises(ExerciseFailed, match="(?s)case 3"):
        check_relu_backward(lambda dout, x: dout * (x >= 0))


def test_fc_relu_fc_backward_without_the_mask_fails():
    def no_mask(dout, x, W1, b1, W2, b2):
        h = np.maximum(x @ W1 + b1, 0)
        da = dout @ W2.T
        return da @ W1.T, x.T @ da, da.sum(axis=0), h.T @ dout, dout.sum(axis=0)

    with pytest.raises(ExerciseFailed, match="(?s)ReLU keeps dh only where a > 0"):
        check_fc_relu_fc_backward(no_mask)


def test_naive_softmax_fails_on_large_scores():
    def naive(x):
        e = np.exp(x)
        return e / e.sum(axis=1, keepdims=True)

    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.raises(ExerciseFailed, match="(?s)case 2.*row's maximum"):
            check_softmax(naive)


def test_softmax_normalised_over_the_batch_fails():
    def whole_batch(x):
        e = np.exp(x - x.max())
        return e / e.sum()

    with pytest.raises(ExerciseFailed, match="(?s)its own sum"):
        check_softmax(whole_batch)


def test_log_of_softmax_fails_on_a_vanishing_probability():
    def log_of_softmax(x, t):
        return -np.log(softmax(x)[np.arange(len(x)), t]).mean()

    with np.errstate(divide="ignore"):
        with pytest.raises(ExerciseFailed, match="(?s)case 4.*log-sum-exp"):
            check_cross_entropy_loss(log_of_softmax)


def test_gradient_without_division_by_n_fails():
    with pytest.raises(ExerciseFailed, match="(?s)division by the batch size"):
        check_cross_entropy_gradient(lambda x, t: cross_entropy_gradient(x, t) * len(x))


def test_gradient_for_index_labels_only_fails_on_one_hot():
    def index_only(x, t):
        return (softmax(x) - np.eye(x.shape[1])[t]) / len(x)

    with pytest.raises(ExerciseFailed, match="(?s)case 2.*already one-hot"):
        check_cross_entropy_gradient(index_only)


def test_an_in_place_write_into_dout_fails_and_names_dout():
    """The textbook's in-place ReLU gives the right values but spoils the caller's dout."""
    def in_place(dout, x):
        dout[x <= 0] = 0
        return dout

    with pytest.raises(ExerciseFailed, match=r"changed its argument `dout`.*in place"):
        check_relu_backward(in_place)


def test_a_verdict_is_truthy_only_when_passed_and_displays_nothing(capsys):
    from tinynet.exercises import Verdict

    assert Verdict(True) and not Verdict(False) and not Verdict(False, attempted=False)
    assert Verdict(True)._ipython_display_() is None  # the printed line is the whole output
    assert "not attempted" in repr(Verdict(False, attempted=False))
