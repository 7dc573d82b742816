"""Tests for tinynet.exercises.normalization: right answers pass, typical mistakes fail."""

import re

import numpy as np
import pytest
from notebook_cells import code_cell, run_cell

from tinynet.exercises import ExerciseFailed, ExerciseNotAttempted
from tinynet.exercises.normalization import (
    batchnorm_backward_reference,
    batchnorm_forward_reference,
    check_batchnorm_backward,
    check_batchnorm_forward,
)
from tinynet.gradcheck import GradientCheckError, numerical_gradient, relative_error
from tinynet.layers import BatchNormalization


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
    assert out == f"{answer.__name__}: PASS ({6 if hidden else 4} cases)\n"


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
    with pytest.raises(ExerciseFailed, match=f"(?s)^wrong: FAIL on {where}.*{match}"):
        check_batchnorm_backward(wrong, hidden=hidden)


def test_other_mistakes_fail():
    def forgets_gamma(dout, x, gamma, eps):
        return compact(dout, x, np.ones_like(gamma), eps)

    with pytest.raises(ExerciseFailed, match=r"result 1 \(dx\)"):
        check_batchnorm_backward(forgets_gamma)

    def dgamma_without_x_hat(dout, x, gamma, eps):
        dx, _, dbeta = compact(dout, x, gamma, eps)
        return dx, np.sum(dout * x, axis=0), dbeta

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


# -- the forward pass with running statistics ------------------------------------------

def batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum, eps, training):
    """A right answer, as the exercise states it."""
    if training:
        N = x.shape[0]
        mu, var = x.mean(axis=0), x.var(axis=0)
        out = gamma * (x - mu) / np.sqrt(var + eps) + beta
        new_mean = (1 - momentum) * running_mean + momentum * mu
        new_var = (1 - momentum) * running_var + momentum * var * N / (N - 1)
        return out, new_mean, new_var
    out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    return out, running_mean, running_var       # the arrays given, unchanged: also right


def batchnorm_forward_other_way(x, gamma, beta, running_mean, running_var, momentum, eps,
                                training):
    """A right answer written differently: feature by feature, ddof=1, the EMA as a nudge."""
    out = np.empty_like(x)
    new_mean, new_var = running_mean.copy(), running_var.copy()
    for d in range(x.shape[1]):
        column = x[:, d]
        if training:
            mean, var = np.mean(column), np.mean((column - np.mean(column)) ** 2)
            new_mean[d] = running_mean[d] + momentum * (mean - running_mean[d])
            new_var[d] = running_var[d] + momentum * (np.var(column, ddof=1) - running_var[d])
        else:
            mean, var = running_mean[d], running_var[d]
        out[:, d] = (column - mean) * (gamma[d] / np.sqrt(var + eps)) + beta[d]
    return out, new_mean, new_var


def bn_with(*, book_momentum=False, biased_running=False, eps_outside=False,
            unbiased_batch=False, skip_update=False, running_in_training=False,
            batch_in_evaluation=False, update_in_evaluation=False):
    """The right answer with one or more typical mistakes switched on."""

    def student(x, gamma, beta, running_mean, running_var, momentum, eps, training):
        N = x.shape[0]
        mu, var = x.mean(axis=0), x.var(axis=0)
        unbiased = x.var(axis=0, ddof=1) if N > 1 else np.zeros_like(var)
        if book_momentum:
            new_mean = momentum * running_mean + (1 - momentum) * mu
            new_var = momentum * running_var + (1 - momentum) * (var if biased_running
                                                                 else unbiased)
        else:
            new_mean = (1 - momentum) * running_mean + momentum * mu
            new_var = (1 - momentum) * running_var + momentum * (var if biased_running
                                                                 else unbiased)
        if training:
            mean, variance = ((running_mean, running_var) if running_in_training
                              else (mu, unbiased if unbiased_batch else var))
        else:
            mean, variance = (mu, var) if batch_in_evaluation else (running_mean, running_var)
        std = np.sqrt(variance) + eps if eps_outside else np.sqrt(variance + eps)
        out = gamma * (x - mean) / std + beta
        if (training and not skip_update) or (not training and update_in_evaluation):
            return out, new_mean, new_var
        return out, running_mean.copy(), running_var.copy()

    return student


@pytest.mark.parametrize("answer", [batchnorm_forward, batchnorm_forward_other_way],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("hidden, cases", [(False, 4), (True, 8)], ids=["visible", "hidden"])
def test_right_forward_answers_pass(answer, hidden, cases, capsys):
    assert check_batchnorm_forward(answer, hidden=hidden)
    assert capsys.readouterr().out == f"{answer.__name__}: PASS ({cases} cases)\n"


def test_the_forward_reference_is_the_formula_and_leaves_its_arguments(rng):
    x = 1 + 2 * rng.standard_normal((5, 3))
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    mean, var = rng.standard_normal(3), 0.5 + rng.random(3)
    kept = [a.copy() for a in (x, gamma, beta, mean, var)]
    out, new_mean, new_var = batchnorm_forward_reference(x, gamma, beta, mean, var, 0.2, 1e-5,
                                                         True)
    centred = x - x.mean(axis=0)
    std = np.sqrt(np.sum(centred ** 2, axis=0) / 5 + 1e-5)
    np.testing.assert_allclose(out, gamma * centred / std + beta, rtol=1e-12)
    np.testing.assert_allclose(new_mean, 0.8 * mean + 0.2 * x.sum(axis=0) / 5, rtol=1e-12)
    np.testing.assert_allclose(new_var, 0.8 * var + 0.2 * np.sum(centred ** 2, axis=0) / 4,
                               rtol=1e-12)
    out, same_mean, same_var = batchnorm_forward_reference(x, gamma, beta, mean, var, 0.2,
                                                           1e-5, False)
    np.testing.assert_allclose(out, gamma * (x - mean) / np.sqrt(var + 1e-5) + beta,
                               rtol=1e-12)
    np.testing.assert_array_equal(same_mean, mean)
    np.testing.assert_array_equal(same_var, var)
    for before, after in zip(kept, (x, gamma, beta, mean, var), strict=True):
        np.testing.assert_array_equal(before, after)


def test_forward_worked_example_of_the_notebook():
    """x = (1, 2, 3, 6), gamma 2, beta 0.5, from 0 and 1 with momentum 0.1."""
    x = np.array([[1.0], [2.0], [3.0], [6.0]])
    out, mean, var = batchnorm_forward_reference(x, np.array([2.0]), np.array([0.5]),
                                                 np.zeros(1), np.ones(1), 0.1, 1e-5, True)
    np.testing.assert_allclose(out[:, 0], [-1.6381, -0.5690, 0.5, 3.7071], atol=1e-4)
    np.testing.assert_allclose([mean[0], var[0]], [0.3, 1.3667], atol=1e-4)


def test_forward_skeleton_is_not_attempted(capsys, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    verdict = check_batchnorm_forward(not_attempted)
    assert not verdict and not verdict.attempted
    assert "not attempted yet" in capsys.readouterr().out
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ExerciseNotAttempted):
        check_batchnorm_forward(not_attempted, hidden=True)


# Each typical mistake, the case it first shows on (visible; hidden) and its message.
FORWARD_MISTAKES = [
    (dict(book_momentum=True, biased_running=True), 1, 1,
     r"follow the book: momentum weights the OLD value and the running variance takes "
     r"the biased"),
    (dict(book_momentum=True), 1, 1, r"weight the old value by momentum .*NEW batch"),
    (dict(biased_running=True), 1, 1, r"running variance takes the biased batch variance"),
    (dict(eps_outside=True), 1, 1, r"eps outside the square root"),
    (dict(unbiased_batch=True), 1, 1, r"normalised the batch with the unbiased variance"),
    (dict(skip_update=True), 1, 1, r"came back unchanged in training mode"),
    (dict(running_in_training=True), 1, 1, r"in training mode you normalised with running"),
    (dict(batch_in_evaluation=True), 2, 3, r"in evaluation mode you normalised with the "
                                           r"batch's own mean"),
    (dict(update_in_evaluation=True), 2, 3, r"running statistics changed in evaluation mode"),
    (dict(batch_in_evaluation=True, update_in_evaluation=True), 2, 3,
     r"does the same in both modes"),
]


@pytest.mark.parametrize("mistake, visible, hidden_case, message", FORWARD_MISTAKES,
                         ids=[",".join(m[0]) for m in FORWARD_MISTAKES])
@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_forward_mistakes_are_named(mistake, visible, hidden_case, message, hidden):
    student = bn_with(**mistake)
    where = f"hidden case {hidden_case}" if hidden else f"case {visible}"
    with pytest.raises(ExerciseFailed,
                       match=f"(?s)^student: FAIL on {where} of .*{message}"):
        check_batchnorm_forward(student, hidden=hidden)


def test_forward_float32_result_fails():
    def float32(*args):
        return tuple(a.astype(np.float32) for a in batchnorm_forward(*args))

    with pytest.raises(ExerciseFailed, match=r"(?s)^float32: FAIL on case 1 of 4 .*"
                                             r"result 1 \(out\) is float32"):
        check_batchnorm_forward(float32)


@pytest.mark.parametrize("argument", ["running_mean", "running_var", "x"])
def test_forward_in_place_update_is_caught(argument):
    def in_place(x, gamma, beta, running_mean, running_var, momentum, eps, training):
        result = batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum, eps,
                                   training)
        result = tuple(r.copy() for r in result)
        if argument == "running_mean":
            running_mean *= 1 - momentum
            running_mean += momentum * x.mean(axis=0)
        elif argument == "running_var":
            running_var[...] = result[2]
        else:
            x -= x.mean(axis=0)
        return result

    with pytest.raises(ExerciseFailed, match=f"changed its argument `{argument}` in place"):
        check_batchnorm_forward(in_place)


def test_forward_wrong_structure_is_named():
    def two_results(*args):
        return batchnorm_forward(*args)[:2]

    with pytest.raises(ExerciseFailed, match="has 2 results; expected 3"):
        check_batchnorm_forward(two_results)

    def forgets_beta(x, gamma, beta, *rest):
        return batchnorm_forward(x, gamma, np.zeros_like(beta), *rest)

    with pytest.raises(ExerciseFailed, match=r"(?s)case 1 of .*result 1 \(out\) differs"):
        check_batchnorm_forward(forgets_beta)


# -- notebook 11's numerical gradient check of the student's backward pass ------------

def run_numerical_check(backward):
    """Run that cell as the notebook does (its setup cell's names), with ``backward``."""
    namespace = {"np": np, "rng": np.random.default_rng(0),
                 "BatchNormalization": BatchNormalization, "GradientCheckError":
                 GradientCheckError, "numerical_gradient": numerical_gradient,
                 "relative_error": relative_error, "batchnorm_backward": backward}
    cell = code_cell("11_batch_normalization.ipynb", "numerical_gradient(", "batchnorm_backward(")
    return run_cell(cell, namespace)


@pytest.mark.parametrize("answer", [batchnorm_backward, compact], ids=["graph", "compact"])
def test_numerical_check_cell_passes_a_right_backward(answer):
    assert run_numerical_check(answer) == (
        "numerical gradient check of batchnorm_backward: PASS "
        "(dx, dgamma and dbeta within 1e-7 of the central differences)\n")


@pytest.mark.parametrize("mistake, names", [
    (dict(mean_terms=False), "dx"),
    (dict(x_hat_term=False), "dx"),
    (dict(ddof=1), "dx, dgamma"),
])
def test_numerical_check_cell_fails_a_wrong_backward(mistake, names):
    def wrong(dout, x, gamma, eps):
        return compact(dout, x, gamma, eps, **mistake)

    with pytest.raises(GradientCheckError) as caught:
        run_numerical_check(wrong)
    message = str(caught.value)
    assert message.startswith("numerical gradient check of batchnorm_backward: FAIL for ")
    failed = re.findall(r"(d\w+) \(relative error", message)
    assert ", ".join(failed) == names


def test_numerical_check_cell_names_only_the_wrong_gradient():
    def dbeta_as_mean(dout, x, gamma, eps):
        dx, dgamma, _ = compact(dout, x, gamma, eps)
        return dx, dgamma, dout.mean(axis=0)

    with pytest.raises(GradientCheckError, match=r"FAIL for dbeta \(relative error"):
        run_numerical_check(dbeta_as_mean)


def test_numerical_check_cell_waits_for_a_blank_exercise():
    assert run_numerical_check(not_attempted) == (
        "batchnorm_backward is not written yet: write it above, then run this cell again.\n")
