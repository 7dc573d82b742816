"""Checkers for the exercises of notebook 09 (optimizers).

=================================  ===========================================
notebook                           checkers
=================================  ===========================================
``09_optimizers``                  :func:`check_momentum_step`,
                                   :func:`check_adam_step`
=================================  ===========================================

Both exercises are one optimizer step written as a pure function: it takes
the parameters, their gradients, the optimizer's state and the
hyperparameters, and returns the new parameters and the new state, leaving
every argument unchanged::

    new_params, new_state = momentum_step(params, grads, state, learning_rate, momentum)
    new_params, new_state = adam_step(params, grads, state, learning_rate, beta1, beta2, eps)

``params`` and ``grads`` are dicts of arrays by parameter name. The state:

* Momentum: ``{"v": {name: velocity}}``, zeros before the first step;
* Adam: ``{"t": steps taken so far, "m": {name: ...}, "v": {name: ...}}``,
  ``t = 0`` and zeros before the first step.

The references are :class:`tinynet.optim.Momentum` and
:class:`tinynet.optim.Adam` (no weight decay).
"""

import numpy as np

from ..optim import Adam, Momentum
from . import Case, check_function

__all__ = ["check_momentum_step", "check_adam_step"]


def _generator(seed, hidden=False):
    """The cases' random numbers: another stream for the hidden cases."""
    return np.random.default_rng(seed + 1000 * hidden)


def _arrays(rng, shapes, scale=1.0):
    return {name: scale * rng.standard_normal(shape) for name, shape in shapes.items()}


# Parameter names and shapes of the cases: an MLP's, TinyNet's, and single numbers.
_MLP = {"W_1": (4, 3), "b_1": (3,), "W_2": (3, 2), "b_2": (2,)}
_TINYNET = {"W_conv1": (2, 1, 3, 3), "b_conv1": (2,), "W_fc": (8, 3), "b_fc": (3,)}
_POINT = {"x": (), "y": ()}


# ---------------------------------------------------------------------------
# Momentum
# ---------------------------------------------------------------------------

def _momentum_reference(params, grads, state, learning_rate, momentum):
    optimizer = Momentum(learning_rate=learning_rate, momentum=momentum)
    optimizer.state = {name: {"velocity": np.array(v, dtype=float)}
                       for name, v in state["v"].items()}
    new = {name: np.array(p, dtype=float) for name, p in params.items()}
    optimizer.step(new, grads)
    return new, {"v": {name: optimizer.state[name]["velocity"] for name in params}}


def _momentum_variants(params, grads, state, learning_rate, momentum):
    """Typical wrong answers, with what to say when a student's matches one."""
    v_old = state["v"]
    book_v = {k: momentum * v_old[k] - learning_rate * g for k, g in grads.items()}
    no_memory = {k: g.copy() for k, g in grads.items()}
    scaled = {k: momentum * v_old[k] + (1 - momentum) * g for k, g in grads.items()}
    return [
        ({k: params[k] - learning_rate * v_old[k] for k in params},
         {"v": {k: momentum * v_old[k] + g for k, g in grads.items()}},
         "your parameters moved with the OLD velocity; update the velocity first, "
         "v = momentum * v + grad, then step with the new one: p - learning_rate * v."),
        ({k: params[k] + book_v[k] for k in params}, {"v": book_v},
         "you used the book's velocity v = momentum * v - learning_rate * grad, p = p + v. "
         "It gives the same parameters, but this exercise (like PyTorch) keeps the learning "
         "rate out of the velocity: v = momentum * v + grad, p = p - learning_rate * v."),
        ({k: params[k] - learning_rate * g for k, g in grads.items()}, {"v": no_memory},
         "your step forgets the previous velocity (plain SGD): v = momentum * v + grad "
         "keeps a share of every earlier step."),
        ({k: params[k] - learning_rate * scaled[k] for k in params}, {"v": scaled},
         "you damped the gradient with (1 - momentum); heavy-ball momentum adds the whole "
         "gradient: v = momentum * v + grad."),
    ]


def check_momentum_step(student, *, hidden=False):
    """``student(params, grads, state, learning_rate, momentum)`` -> ``(new_params, new_state)``.

    ``state = {"v": {name: velocity}}``. For every name::

        v_new = momentum * v + grads[name]
        p_new = p - learning_rate * v_new

    returned as ``(new_params, {"v": new_velocities})``; no argument may change.
    """
    rng = _generator(300, hidden)
    if hidden:
        settings = [(_TINYNET, 0.05, 0.9, True), (_POINT, 0.1, 0.5, True),
                    (_MLP, 0.3, 0.0, True), (_TINYNET, 0.01, 0.99, True),
                    (_MLP, 1.0, 0.8, False), (_POINT, 0.2, 0.95, False)]
    else:
        settings = [(_MLP, 0.1, 0.9, False), (_MLP, 0.05, 0.9, True), (_POINT, 0.1, 0.5, True)]
    cases = []
    for shapes, learning_rate, momentum, started in settings:
        params, grads = _arrays(rng, shapes), _arrays(rng, shapes)
        velocity = (_arrays(rng, shapes, 0.5) if started
                    else {k: np.zeros(s) for k, s in shapes.items()})
        cases.append(Case(params=params, grads=grads, state={"v": velocity},
                          learning_rate=learning_rate, momentum=momentum,
                          note="mid-training velocity" if started else "first step, v = 0"))
    hint = ("For every name: v_new = momentum * state['v'][name] + grads[name], then "
            "p_new = params[name] - learning_rate * v_new. Return (new_params, "
            "{'v': new_velocities}), two new dicts of new arrays.")
    return check_function("momentum_step", student, _momentum_reference, cases, hint,
                          results=("new_params", "new_state"), hidden=hidden,
                          mistakes=_pairs(_momentum_variants))


# ---------------------------------------------------------------------------
# Adam
# ---------------------------------------------------------------------------

def _adam_reference(params, grads, state, learning_rate, beta1, beta2, eps):
    optimizer = Adam(learning_rate=learning_rate, beta1=beta1, beta2=beta2, eps=eps)
    t = int(state["t"])
    if t:
        optimizer.state = {name: {"step": t, "m": np.array(state["m"][name], dtype=float),
                                  "v": np.array(state["v"][name], dtype=float)}
                           for name in params}
    new = {name: np.array(p, dtype=float) for name, p in params.items()}
    optimizer.step(new, grads)
    return new, {"t": t + 1,
                 "m": {name: optimizer.state[name]["m"] for name in params},
                 "v": {name: optimizer.state[name]["v"] for name in params}}


def _adam_variants(params, grads, state, learning_rate, beta1, beta2, eps):
    t = int(state["t"]) + 1
    m = {k: beta1 * state["m"][k] + (1 - beta1) * g for k, g in grads.items()}
    v = {k: beta2 * state["v"][k] + (1 - beta2) * g * g for k, g in grads.items()}

    def stepped(rule):
        return {k: params[k] - learning_rate * rule(m[k], v[k]) for k in params}

    correct = {"t": t, "m": m, "v": v}
    return [
        (stepped(lambda mk, vk: mk / (np.sqrt(vk) + eps)), correct,
         "your step has no bias correction: divide by (1 - beta1 ** t) and (1 - beta2 ** t) "
         "with t the NEW step count (state['t'] + 1), m_hat = m / (1 - beta1 ** t), "
         "v_hat = v / (1 - beta2 ** t)."),
        (stepped(lambda mk, vk: (mk / (1 - beta1 ** (t - 1) if t > 1 else mk))
                 / (np.sqrt(vk / (1 - beta2 ** (t - 1)) if t > 1 else vk) + eps)), None,
         "your bias correction uses the old step count; count this step first: "
         "t = state['t'] + 1, then m_hat = m / (1 - beta1 ** t)."),
        (stepped(lambda mk, vk: (mk / (1 - beta1 ** t))
                 / np.sqrt(vk / (1 - beta2 ** t) + eps)), correct,
         "you put eps inside the square root; Adam adds it outside: "
         "m_hat / (np.sqrt(v_hat) + eps)."),
        (None, {"t": t, "m": m, "v": {k: beta2 * state["v"][k] + (1 - beta2) * g
                                      for k, g in grads.items()}},
         "your v averages the gradients, not their squares: "
         "v = beta2 * v + (1 - beta2) * grad ** 2."),
        (None, {"t": state["t"], "m": m, "v": v},
         "your new state keeps the old step count; return t + 1 as the new state['t']."),
    ]


def check_adam_step(student, *, hidden=False):
    """``student(params, grads, state, learning_rate, beta1, beta2, eps)`` -> ``(new_params, new_state)``.

    ``state = {"t": steps so far, "m": {name: ...}, "v": {name: ...}}``. With
    ``t = state["t"] + 1``, for every name::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        p_new = p - learning_rate * (m / (1 - beta1 ** t)) / (sqrt(v / (1 - beta2 ** t)) + eps)

    returned as ``(new_params, {"t": t, "m": ..., "v": ...})``; no argument may change.
    """
    rng = _generator(400, hidden)
    if hidden:
        settings = [(_TINYNET, 0.001, 0.9, 0.999, 1e-8, 0), (_POINT, 0.3, 0.9, 0.999, 1e-8, 7),
                    (_MLP, 0.01, 0.8, 0.99, 1e-3, 1), (_TINYNET, 0.002, 0.5, 0.9, 1e-6, 3),
                    (_MLP, 0.1, 0.95, 0.9999, 1e-8, 250), (_POINT, 0.05, 0.0, 0.5, 1e-2, 0)]
    else:
        settings = [(_MLP, 0.01, 0.9, 0.999, 1e-8, 0), (_MLP, 0.01, 0.9, 0.999, 1e-8, 4),
                    (_POINT, 0.3, 0.8, 0.99, 1e-3, 19)]
    cases = []
    for shapes, learning_rate, beta1, beta2, eps, t in settings:
        params, grads = _arrays(rng, shapes), _arrays(rng, shapes)
        if t:
            m = _arrays(rng, shapes, 0.3)
            v = {k: 0.2 * rng.random(s) ** 2 for k, s in shapes.items()}  # v >= 0
        else:
            m = {k: np.zeros(s) for k, s in shapes.items()}
            v = {k: np.zeros(s) for k, s in shapes.items()}
        cases.append(Case(params=params, grads=grads, state={"t": t, "m": m, "v": v},
                          learning_rate=learning_rate, beta1=beta1, beta2=beta2, eps=eps,
                          note=f"state['t'] = {t}"))
    hint = ("t = state['t'] + 1; for every name: m = beta1 * m + (1 - beta1) * g, "
            "v = beta2 * v + (1 - beta2) * g ** 2, m_hat = m / (1 - beta1 ** t), "
            "v_hat = v / (1 - beta2 ** t), p_new = p - learning_rate * m_hat / "
            "(np.sqrt(v_hat) + eps). Return (new_params, {'t': t, 'm': new_m, 'v': new_v}).")
    return check_function("adam_step", student, _adam_reference, cases, hint,
                          results=("new_params", "new_state"), hidden=hidden,
                          mistakes=_pairs(_adam_variants))


# ---------------------------------------------------------------------------
# naming a typical mistake
# ---------------------------------------------------------------------------

def _pairs(variants):
    """``variants``' (params, state, message) triples as ``mistakes=`` pairs."""

    def mistakes(*args):
        return [((wrong_params, wrong_state), message)
                for wrong_params, wrong_state, message in variants(*args)]

    return mistakes
