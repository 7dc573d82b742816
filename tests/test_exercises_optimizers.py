"""Tests for tinynet.exercises.optimizers: right answers pass, typical wrong ones fail by name."""

import numpy as np
import pytest

from tinynet.exercises import ExerciseFailed, ExerciseNotAttempted
from tinynet.exercises.optimizers import check_adam_step, check_momentum_step


# -- right answers, written as a student would ---------------------------------------

def momentum_step(params, grads, state, learning_rate, momentum):
    new_params, new_v = {}, {}
    for name, p in params.items():
        v = momentum * state["v"][name] + grads[name]
        new_v[name] = v
        new_params[name] = p - learning_rate * v
    return new_params, {"v": new_v}


def momentum_step_comprehensions(params, grads, state, learning_rate, momentum):
    v = {k: momentum * state["v"][k] + g for k, g in grads.items() if k in params}
    return {k: params[k] - learning_rate * v[k] for k in params}, {"v": v}


def adam_step(params, grads, state, learning_rate, beta1, beta2, eps):
    t = state["t"] + 1
    new_params, m_new, v_new = {}, {}, {}
    for name, p in params.items():
        g = grads[name]
        m = beta1 * state["m"][name] + (1 - beta1) * g
        v = beta2 * state["v"][name] + (1 - beta2) * g ** 2
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        new_params[name] = p - learning_rate * m_hat / (np.sqrt(v_hat) + eps)
        m_new[name], v_new[name] = m, v
    return new_params, {"t": t, "m": m_new, "v": v_new}


def adam_step_folded_correction(params, grads, state, learning_rate, beta1, beta2, eps):
    """PyTorch's arrangement: step size lr / (1 - beta1^t), sqrt(v) / sqrt(1 - beta2^t)."""
    t = state["t"] + 1
    m = {k: beta1 * state["m"][k] + (1 - beta1) * grads[k] for k in params}
    v = {k: beta2 * state["v"][k] + (1 - beta2) * grads[k] * grads[k] for k in params}
    step = learning_rate / (1 - beta1 ** t)
    root = np.sqrt(1 - beta2 ** t)
    new = {k: params[k] - step * m[k] / (np.sqrt(v[k]) / root + eps) for k in params}
    return new, {"t": t, "m": m, "v": v}


@pytest.mark.parametrize("hidden, cases", [(False, 3), (True, 6)])
@pytest.mark.parametrize("answer", [momentum_step, momentum_step_comprehensions],
                         ids=lambda f: f.__name__)
def test_right_momentum_answers_pass(answer, hidden, cases, capsys):
    assert check_momentum_step(answer, hidden=hidden)
    assert capsys.readouterr().out == f"momentum_step: PASS ({cases} cases)\n"


@pytest.mark.parametrize("hidden, cases", [(False, 3), (True, 6)])
@pytest.mark.parametrize("answer", [adam_step, adam_step_folded_correction],
                         ids=lambda f: f.__name__)
def test_right_adam_answers_pass(answer, hidden, cases, capsys):
    assert check_adam_step(answer, hidden=hidden)
    assert capsys.readouterr().out == f"adam_step: PASS ({cases} cases)\n"


@pytest.mark.parametrize("check, name", [(check_momentum_step, "momentum_step"),
                                         (check_adam_step, "adam_step")])
def test_skeleton_is_not_attempted_yet(check, name, capsys, monkeypatch):
    def skeleton(*args):
        raise NotImplementedError()

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    verdict = check(skeleton)
    assert not verdict and not verdict.attempted
    assert f"{name}: not attempted yet" in capsys.readouterr().out
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ExerciseNotAttempted, match=f"{name}: not attempted yet"):
        check(skeleton, hidden=True)


# -- typical Momentum mistakes ----------------------------------------------------------

def momentum_book_velocity(params, grads, state, learning_rate, momentum):
    v = {k: momentum * state["v"][k] - learning_rate * grads[k] for k in params}
    return {k: params[k] + v[k] for k in params}, {"v": v}


def momentum_old_velocity(params, grads, state, learning_rate, momentum):
    new = {k: params[k] - learning_rate * state["v"][k] for k in params}
    return new, {"v": {k: momentum * state["v"][k] + grads[k] for k in params}}


def momentum_forgetful(params, grads, state, learning_rate, momentum):
    return ({k: params[k] - learning_rate * grads[k] for k in params},
            {"v": {k: grads[k].copy() for k in params}})


def momentum_damped(params, grads, state, learning_rate, momentum):
    v = {k: momentum * state["v"][k] + (1 - momentum) * grads[k] for k in params}
    return {k: params[k] - learning_rate * v[k] for k in params}, {"v": v}


def momentum_in_place(params, grads, state, learning_rate, momentum):
    for k in params:
        state["v"][k] *= momentum
        state["v"][k] += grads[k]
        params[k] -= learning_rate * state["v"][k]
    return params, state


def momentum_params_only(params, grads, state, learning_rate, momentum):
    return momentum_step(params, grads, state, learning_rate, momentum)[0]


def momentum_nesterov(params, grads, state, learning_rate, momentum):
    v = {k: momentum * state["v"][k] + grads[k] for k in params}
    return ({k: params[k] - learning_rate * (grads[k] + momentum * v[k]) for k in params},
            {"v": v})


@pytest.mark.parametrize("answer, match", [
    (momentum_book_velocity, "FAIL on case 1.*the book's velocity.*keeps the learning rate out"),
    (momentum_old_velocity, "FAIL on case 1.*moved with the OLD velocity"),
    (momentum_forgetful, "FAIL on case 2.*forgets the previous velocity"),
    (momentum_damped, "FAIL on case 1.*damped the gradient with \\(1 - momentum\\)"),
    (momentum_in_place, "FAIL on case 1.*changed its argument `params\\['W_1'\\]` in place"),
    (momentum_params_only, "FAIL on case 1.*expected a tuple of 2 results: `return new_params, new_state`"),
    (momentum_nesterov, "FAIL on case 1.*Hint: For every name: v_new = momentum"),
], ids=lambda value: getattr(value, "__name__", "match"))
def test_momentum_mistakes_fail_with_their_message(answer, match):
    with pytest.raises(ExerciseFailed, match=f"(?s){match}"):
        check_momentum_step(answer)


# -- typical Adam mistakes ----------------------------------------------------------

def adam_no_bias_correction(params, grads, state, learning_rate, beta1, beta2, eps):
    new, new_state = adam_step(params, grads, state, learning_rate, beta1, beta2, eps)
    return {k: params[k] - learning_rate * new_state["m"][k] / (np.sqrt(new_state["v"][k]) + eps)
            for k in params}, new_state


def adam_eps_inside(params, grads, state, learning_rate, beta1, beta2, eps):
    _, s = adam_step(params, grads, state, learning_rate, beta1, beta2, eps)
    t = s["t"]
    return {k: params[k] - learning_rate * (s["m"][k] / (1 - beta1 ** t))
            / np.sqrt(s["v"][k] / (1 - beta2 ** t) + eps) for k in params}, s


def adam_old_t(params, grads, state, learning_rate, beta1, beta2, eps):
    _, s = adam_step(params, grads, state, learning_rate, beta1, beta2, eps)
    t = max(state["t"], 1)
    return {k: params[k] - learning_rate * (s["m"][k] / (1 - beta1 ** t))
            / (np.sqrt(s["v"][k] / (1 - beta2 ** t)) + eps) for k in params}, s


def adam_gradient_not_squared(params, grads, state, learning_rate, beta1, beta2, eps):
    t = state["t"] + 1
    m = {k: beta1 * state["m"][k] + (1 - beta1) * grads[k] for k in params}
    v = {k: beta2 * state["v"][k] + (1 - beta2) * grads[k] for k in params}
    with np.errstate(invalid="ignore"):
        new = {k: params[k] - learning_rate * (m[k] / (1 - beta1 ** t))
               / (np.sqrt(np.abs(v[k]) / (1 - beta2 ** t)) + eps) for k in params}
    return new, {"t": t, "m": m, "v": v}


def adam_t_not_advanced(params, grads, state, learning_rate, beta1, beta2, eps):
    new, s = adam_step(params, grads, state, learning_rate, beta1, beta2, eps)
    return new, {**s, "t": state["t"]}


def adam_in_place_state(params, grads, state, learning_rate, beta1, beta2, eps):
    new, s = adam_step(params, grads, state, learning_rate, beta1, beta2, eps)
    state["t"] += 1
    for k in params:
        state["m"][k][...] = s["m"][k]
    return new, s


def adam_swapped_betas(params, grads, state, learning_rate, beta1, beta2, eps):
    return adam_step(params, grads, state, learning_rate, beta2, beta1, eps)


@pytest.mark.parametrize("answer, match", [
    (adam_no_bias_correction, "FAIL on case 1.*no bias correction"),
    (adam_eps_inside, "FAIL on case 1.*eps inside the square root"),
    (adam_old_t, "FAIL on case 2.*uses the old step count"),
    (adam_gradient_not_squared, "FAIL on case 1.*averages the gradients, not their squares"),
    (adam_t_not_advanced, "FAIL on case 1.*keeps the old step count"),
    (adam_in_place_state, "FAIL on case 1.*changed its argument `state\\['m'\\]\\['W_1'\\]` in place"),
    (adam_swapped_betas, "FAIL on case 1.*Hint: t = state\\['t'\\] \\+ 1"),
], ids=lambda value: getattr(value, "__name__", "match"))
def test_adam_mistakes_fail_with_their_message(answer, match):
    with pytest.raises(ExerciseFailed, match=f"(?s){match}"):
        check_adam_step(answer)


def test_hidden_cases_differ_from_the_visible_ones():
    """A step that hard-codes the visible cases' settings fails the hidden ones."""
    def lr_fixed(params, grads, state, learning_rate, momentum):
        return momentum_step(params, grads, state, 0.1 if learning_rate == 0.1 else 0.05,
                             0.5 if momentum == 0.5 else 0.9)

    assert check_momentum_step(lr_fixed)
    with pytest.raises(ExerciseFailed, match="hidden case"):
        check_momentum_step(lr_fixed, hidden=True)


def test_checker_needs_the_function_itself():
    with pytest.raises(ExerciseFailed, match="pass your function itself"):
        check_adam_step(adam_step({}, {}, {"t": 0, "m": {}, "v": {}}, 0.1, 0.9, 0.999, 1e-8))
