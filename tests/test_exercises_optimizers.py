"""Tests for tinynet.exercises.optimizers: right answers pass, typical wrong ones fail by name."""

import numpy as np
import pytest

from tinynet.exercises import ExerciseFailed, ExerciseNotAttempted
from tinynet.exercises.optimizers import (
    check_adagrad_step,
    check_adam_step,
    check_momentum_step,
)

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
    root = (1 - beta2 ** t) ** 0.5  # a Python float: np.sqrt would give a float64 number
    new = {k: params[k] - step * m[k] / (np.sqrt(v[k]) / root + eps) for k in params}
    return new, {"t": t, "m": m, "v": v}


def adagrad_step(params, grads, state, learning_rate, eps):
    new_params, new_h = {}, {}
    for name, p in params.items():
        g = grads[name]
        h = state["h"][name] + g * g
        new_h[name] = h
        new_params[name] = p - learning_rate * g / (np.sqrt(h) + eps)
    return new_params, {"h": new_h}


def adagrad_step_scaled(params, grads, state, learning_rate, eps):
    """The same step, written as a per-coordinate learning rate."""
    h = {k: state["h"][k] + np.square(grads[k]) for k in params}
    rate = {k: learning_rate / (h[k] ** 0.5 + eps) for k in params}
    return {k: params[k] - rate[k] * grads[k] for k in params}, {"h": h}


@pytest.mark.parametrize("hidden, cases", [(False, 4), (True, 7)])
@pytest.mark.parametrize("answer", [momentum_step, momentum_step_comprehensions],
                         ids=lambda f: f.__name__)
def test_right_momentum_answers_pass(answer, hidden, cases, capsys):
    assert check_momentum_step(answer, hidden=hidden)
    assert capsys.readouterr().out == f"{answer.__name__}: PASS ({cases} cases)\n"


@pytest.mark.parametrize("hidden, cases", [(False, 4), (True, 7)])
@pytest.mark.parametrize("answer", [adam_step, adam_step_folded_correction],
                         ids=lambda f: f.__name__)
def test_right_adam_answers_pass(answer, hidden, cases, capsys):
    assert check_adam_step(answer, hidden=hidden)
    assert capsys.readouterr().out == f"{answer.__name__}: PASS ({cases} cases)\n"


@pytest.mark.parametrize("hidden, cases", [(False, 4), (True, 7)])
@pytest.mark.parametrize("answer", [adagrad_step, adagrad_step_scaled], ids=lambda f: f.__name__)
def test_right_adagrad_answers_pass(answer, hidden, cases, capsys):
    assert check_adagrad_step(answer, hidden=hidden)
    assert capsys.readouterr().out == f"{answer.__name__}: PASS ({cases} cases)\n"


def test_the_adagrad_reference_is_the_formula():
    """The checker's reference against the rule written out, on a worked number."""
    from tinynet.exercises.optimizers import _adagrad_reference

    params, grads = {"w": np.array([1.0, -2.0])}, {"w": np.array([0.5, 3.0])}
    state = {"h": {"w": np.array([0.75, 0.0])}}
    new, new_state = _adagrad_reference(params, grads, state, 0.1, 1e-10)
    # h = 0.75 + 0.25 = 1 and 0 + 9 = 9; steps 0.1 * 0.5 / 1 and 0.1 * 3 / 3
    np.testing.assert_allclose(new_state["h"]["w"], [1.0, 9.0])
    np.testing.assert_allclose(new["w"], [0.95, -2.1])


@pytest.mark.parametrize("check, name", [(check_momentum_step, "momentum_step"),
                                         (check_adagrad_step, "adagrad_step"),
                                         (check_adam_step, "adam_step")])
def test_skeleton_is_not_attempted_yet(check, name, capsys, monkeypatch):
    def skeleton(*args):
        raise NotImplementedError()

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    verdict = check(skeleton)
    assert not verdict and not verdict.attempted
    assert "skeleton: not attempted yet" in capsys.readouterr().out
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ExerciseNotAttempted, match="skeleton: not attempted yet"):
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


def momentum_no_gradient(params, grads, state, learning_rate, momentum):
    v = {k: momentum * state["v"][k] for k in params}
    return {k: params[k] - learning_rate * v[k] for k in params}, {"v": v}


def momentum_old_state(params, grads, state, learning_rate, momentum):
    return momentum_step(params, grads, state, learning_rate, momentum)[0], state


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
    (momentum_no_gradient, "FAIL on case 1.*your velocity leaves out the gradient"),
    (momentum_old_state, "FAIL on case 1.*your new state holds the old velocities"),
    (momentum_damped, "FAIL on case 1.*damped the gradient with \\(1 - momentum\\)"),
    (momentum_in_place, "FAIL on case 1.*changed its argument `params\\['W_1'\\]` in place"),
    (momentum_params_only,
     "FAIL on case 1.*expected a tuple of 2 results: `return new_params, new_state`"),
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
    (adam_in_place_state,
     "FAIL on case 1.*changed its argument `state\\['m'\\]\\['W_1'\\]` in place"),
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


# -- typical AdaGrad mistakes ----------------------------------------------------------

def _adagrad(rule, new_h=lambda h, g: h + g * g):
    """An AdaGrad step with the student's ``rule(g, h_new, h_old, eps)`` and sum update."""
    def step(params, grads, state, learning_rate, eps):
        h = {k: new_h(state["h"][k], grads[k]) for k in params}
        with np.errstate(all="ignore"):
            new = {k: params[k] - learning_rate * rule(grads[k], h[k], state["h"][k], eps)
                   for k in params}
        return new, {"h": h}
    return step


def _named(step, name):
    step.__name__ = name
    return step


ADAGRAD_MISTAKES = [
    (_named(_adagrad(lambda g, h, h0, eps: g / np.sqrt(h + eps)), "eps_inside"),
     "FAIL on case 2.*you put eps inside the square root"),  # case 1: eps too small to show
    (_named(_adagrad(lambda g, h, h0, eps: g / (np.sqrt(h) + eps), lambda h, g: g * g),
            "replaced"), "FAIL on case 2.*your h holds only this step's g \\* g"),
    (_named(_adagrad(lambda g, h, h0, eps: g / (np.sqrt(h) + eps), lambda h, g: h + g),
            "not_squared"), "FAIL on case 1.*your h adds the gradient itself"),
    (_named(_adagrad(lambda g, h, h0, eps: g / (np.sqrt(h0) + eps)), "old_h"),
     "FAIL on case 1.*your step divides by the OLD h"),
    (_named(_adagrad(lambda g, h, h0, eps: g / (h + eps)), "no_root"),
     "FAIL on case 1.*you divided by h itself"),
]


@pytest.mark.parametrize("answer, match", ADAGRAD_MISTAKES,
                         ids=lambda v: getattr(v, "__name__", "m"))
@pytest.mark.parametrize("hidden", [False, True])
def test_adagrad_mistakes_fail_with_their_message(answer, match, hidden):
    if hidden:  # the hidden cases show the same mistakes, maybe on another case
        match = "FAIL on hidden case .*" + match.split(".*", 1)[1]
    with pytest.raises(ExerciseFailed, match=f"(?s)^{answer.__name__}: {match}"):
        check_adagrad_step(answer, hidden=hidden)


def test_adagrad_old_sums_returned_are_named():
    def old_state(params, grads, state, learning_rate, eps):
        return adagrad_step(params, grads, state, learning_rate, eps)[0], state

    with pytest.raises(ExerciseFailed, match="(?s)FAIL on case 1.*your new state holds the old "
                                             "sums"):
        check_adagrad_step(old_state)


# -- the wrong steps every optimizer exercise shares ---------------------------------------

RIGHT_STEPS = [(check_momentum_step, momentum_step), (check_adagrad_step, adagrad_step),
               (check_adam_step, adam_step)]


def _moved(answer, change):
    """The right new state, with new parameters ``change(p, p_right)`` for every name."""
    def student(params, grads, state, *rest):
        new, new_state = answer(params, grads, state, *rest)
        learning_rate = rest[0]
        return {k: change(params[k], new[k], learning_rate) for k in params}, new_state
    return student


SHARED = [
    # Momentum's first case starts from v = 0: unchanged parameters are also the step
    # with the old velocity, which is named first
    ("unchanged", lambda p, right, lr: p.copy(),
     "your new parameters are the old ones, unchanged|your parameters moved with the OLD "
     "velocity.*on this first step the old velocity is 0"),
    ("ascent", lambda p, right, lr: p + (p - right),
     r"your parameters moved uphill: p \+ learning_rate \* \.\.\. is gradient ascent"),
    ("learning rate twice", lambda p, right, lr: p - lr * (p - right),
     "your step is learning_rate times too small: the learning rate is applied twice"),
]


@pytest.mark.parametrize("check, answer", RIGHT_STEPS, ids=lambda v: getattr(v, "__name__", ""))
@pytest.mark.parametrize("label, change, words", SHARED, ids=[m[0] for m in SHARED])
def test_shared_step_mistakes_are_named(check, answer, label, change, words):
    with pytest.raises(ExerciseFailed, match=f"(?s)^student: FAIL on case 1 of 4 .*\\n  ({words})"):
        check(_moved(answer, change))


@pytest.mark.parametrize("check, answer", RIGHT_STEPS, ids=lambda v: getattr(v, "__name__", ""))
def test_params_and_state_swapped_are_named(check, answer):
    def swapped(*args):
        new_params, new_state = answer(*args)
        return new_state, new_params

    with pytest.raises(ExerciseFailed, match=r"(?s)^swapped: FAIL on case 1 of 4 .*\n  your "
                                             r"result has the right values in the wrong "
                                             r"places: result 1 holds new_state \(expected "
                                             r"new_params\); result 2 holds new_params "
                                             r"\(expected new_state\)"):
        check(swapped)


def _cast(value, dtype):
    if isinstance(value, dict):
        return {k: _cast(v, dtype) for k, v in value.items()}
    return np.asarray(value).astype(dtype) if isinstance(value, np.ndarray) else value


@pytest.mark.parametrize("check, answer", RIGHT_STEPS, ids=lambda v: getattr(v, "__name__", ""))
def test_each_step_keeps_the_dtype_of_its_case(check, answer):
    def in_float32(*args):
        new_params, new_state = answer(*args)
        return _cast(new_params, np.float32), _cast(new_state, np.float32)

    def in_float64(*args):
        new_params, new_state = answer(*args)
        return _cast(new_params, np.float64), _cast(new_state, np.float64)

    with pytest.raises(ExerciseFailed, match=r"(?s)^in_float32: FAIL on case 1 of 4 .*result 1 "
                                             r"\(new_params\)\['\w+'\] is float32, but this "
                                             r"case computes in float64"):
        check(in_float32)
    with pytest.raises(ExerciseFailed, match=r"(?s)^in_float64: FAIL on case 4 of 4 .*float32\)"
                                             r"\n  result 1 \(new_params\)\['\w+'\] is "
                                             r"float64, but this case's inputs are float32"):
        check(in_float64)


def test_a_numpy_float64_number_in_a_float32_step_is_named():
    """np.sqrt of a Python number is a numpy float64, which turns float32 arrays float64."""
    def adam_with_numpy_root(params, grads, state, learning_rate, beta1, beta2, eps):
        t = state["t"] + 1
        m = {k: beta1 * state["m"][k] + (1 - beta1) * grads[k] for k in params}
        v = {k: beta2 * state["v"][k] + (1 - beta2) * grads[k] * grads[k] for k in params}
        step = learning_rate / (1 - beta1 ** t)
        root = np.sqrt(1 - beta2 ** t)
        new = {k: params[k] - step * m[k] / (np.sqrt(v[k]) / root + eps) for k in params}
        return new, {"t": t, "m": m, "v": v}

    with pytest.raises(ExerciseFailed, match=r"(?s)FAIL on case 4 of 4 .*float32\)\n  result 1 "
                                             r"\(new_params\)\['W_1'\] is float64.*a numpy "
                                             r"float64 number"):
        check_adam_step(adam_with_numpy_root)
