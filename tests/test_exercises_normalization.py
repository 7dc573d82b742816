"""Tests for tinynet.exercises.normalization: right answers pass, typical mistakes fail."""

import numpy as np
import pytest

from tinynet.exercises import ExerciseFailed, ExerciseNotAttempted
from tinynet.exercises.normalization import (batchnorm_backward_reference,
                                             check_batchnorm_backward)
from tinynet.gradcheck import numerical_gradient


def batchnorm_backward(dout, x, gamma, eps):
    """A right answer through the computational graph, step by step (the book's way)."""
    N = x.shape[0]
    mu = x.mean(axis=0)
    xc = x - mu
    var = np.mean(xc ** 2, axis=0)
    std = np.sqrt(var + eps)
    xn = xc / std
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(xn * dout, axis=0)
    dxn = gamma * dout
    dxc = dxn / std
    dstd = -np.sum((dxn * xc) / (std * std), axis=0)
    dvar = 0.5 * dstd / std
    dxc = dxc + (2.0 / N) * xc * dvar
    dmu = np.sum(dxc, axis=0)
    return dxc - dmu / N, dgamma, dbeta


def compact(dout, x, gamma, eps, ddof=0, mean_terms=True, x_hat_term=True):
    """The compact formula, with switches for the typical mistakes."""
    mu = x.mean(axis=0)
    std = np.sqrt(x.var(axis=0, ddof=ddof) + eps)
    x_hat = (x - mu) / std
    dx_hat = dout * gamma
    dx = dx_hat
    if mean_terms:
        dx = dx - dx_hat.mean(axis=0)
    if x_hat_term:
        dx = dx - x_hat * np.mean(dx_hat * x_hat, axis=0)
    return dx / std, np.sum(dout * x_hat, axis=0), dout.sum(axis=0)


def not_attempted(*args):
    raise NotImplementedError


@pytest.mark.parametrize("answer", [batchnorm_backward, compact], ids=["graph", "compact"])
@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_right_answers_pass(answer, hidden, capsys):
    assert check_batchnorm_backward(answer, hidden=hidden)
    out = capsys.readouterr().out
    assert out.startswith("batchnorm_backward: PASS (") and ("6 cases" if hidden else "4 cases") in out


def test_the_reference_is_the_numerical_gradient(rng):
    x = 2 + rng.standard_normal((5, 3))
    gamma = rng.standard_normal(3)
    beta = rng.standard_normal(3)
    dout = rng.standard_normal((5, 3))

    def loss():
        x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
        return float(np.sum((gamma * x_hat + beta) * dout))

    dx, dgamma, dbeta = batchnorm_backward_reference(dout, x, gamma, 1e-5)
    np.testing.assert_allclose(dx, numerical_gradient(loss, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dgamma, numerical_gradient(loss, gamma), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dbeta, numerical_gradient(loss, beta), rtol=1e-6, atol=1e-8)


def test_skeleton_is_not_attempted(capsys, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    verdict = check_batchnorm_backward(not_attempted)
    assert not verdict and not verdict.attempted
    assert "not attempted yet" in capsys.readouterr().out
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ExerciseNotAttempted):
        check_batchnorm_backward(not_attempted, hidden=True)


@pytest.mark.parametrize("mistake, match", [
    (dict(mean_terms=False), r"result 1 \(dx\).*dx has three terms"),
    (dict(x_hat_term=False), r"result 1 \(dx\).*dx has three terms"),
    (dict(mean_terms=False, x_hat_term=False), r"result 1 \(dx\)"),
    (dict(ddof=1), r"result 1 \(dx\).*divide by N, not N - 1"),
])
@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_typical_mistakes_fail(mistake, match, hidden):
    def wrong(dout, x, gamma, eps):
        return compact(dout, x, gamma, eps, **mistake)

    where = "hidden case 1" if hidden else "case 1"
    with pytest.raises(ExerciseFailed, match=f"(?s)batchnorm_backward: FAIL on {where}.*{match}"):
        check_batchnorm_backward(wrong, hidden=hidden)


def test_other_mistakes_fail():
    def forgets_gamma(dout, x, gamma, eps):
        return compact(dout, x, np.ones_like(gamma), eps)

    with pytest.raises(ExerciseFailed, match=r"result 1 \(dx\)"):
        check_batchnorm_backward(forgets_gamma)

    def dgamma_without_x_hat(dout, x, gamma, eps):
        dx, _, dbeta = compact(dout, x, gamma, eps)
        return dx, dout.sum(axis=0), dbeta

    with pytest.raises(ExerciseFailed, match=r"(?s)result 2 \(dgamma\).*dout \* x_hat"):
        check_batchnorm_backward(dgamma_without_x_hat)

    def mean_instead_of_sum(dout, x, gamma, eps):
        dx, dgamma, _ = compact(dout, x, gamma, eps)
        return dx, dgamma, dout.mean(axis=0)

    with pytest.raises(ExerciseFailed, match=r"result 3 \(dbeta\)"):
        check_batchnorm_backward(mean_instead_of_sum)

    def two_results(dout, x, gamma, eps):
        return compact(dout, x, gamma, eps)[:2]

    with pytest.raises(ExerciseFailed, match="has 2 results; expected 3"):
        check_batchnorm_backward(two_results)

    def in_place(dout, x, gamma, eps):
        result = compact(dout, x, gamma, eps)
        x -= x.mean(axis=0)
        return result

    with pytest.raises(ExerciseFailed, match="in place"):
        check_batchnorm_backward(in_place)
